package io.knowngood.node.logs;

import io.knowngood.node.config.LogFormat;
import org.slf4j.ILoggerFactory;
import org.slf4j.LoggerFactory;

/**
 * The daemon's log output, chosen once its configuration is read. The kgnode jar logs through
 * logback, which {@link LogbackSetup} sets up in code at the first logger (text, before any line
 * is written); {@link #use} switches it to JSON when asked. Other programs that load node's
 * classes (in-process tests, kgctl's tests) keep their own SLF4J backend: then this does nothing,
 * and no logback class is touched (node declares logback optional, so they do not have it).
 */
public final class NodeLogging {

    private static final String LOGBACK_CONTEXT = "ch.qos.logback.classic.LoggerContext";

    private NodeLogging() {
    }

    /** Writes every later line in {@code format}; false (and nothing changed) when the backend is not logback. */
    public static boolean use(LogFormat format) {
        ILoggerFactory backend = LoggerFactory.getILoggerFactory();
        if (!backend.getClass().getName().equals(LOGBACK_CONTEXT)) {
            return false;
        }
        LogbackSetup.install(backend, format);
        return true;
    }
}
