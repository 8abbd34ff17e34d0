package io.knowngood.node.config;

/**
 * How kgnode writes its log lines on stderr: {@code text} (the default, one readable line per event,
 * as journald and people read it) or {@code json} (one JSON object per line, for log shippers).
 */
public enum LogFormat {
    TEXT, JSON;

    /** The environment variable read when neither a flag nor the config file sets {@code log-format}. */
    public static final String ENV = "KGNODE_LOG_FORMAT";

    /** {@code text} or {@code json}; anything else names {@code setting} (the key, or the variable) in the error. */
    public static LogFormat parse(String setting, String text) {
        switch (text) {
            case "text": return TEXT;
            case "json": return JSON;
            default: throw new IllegalArgumentException(setting + ": expected text or json, got '" + text + "'");
        }
    }
}
