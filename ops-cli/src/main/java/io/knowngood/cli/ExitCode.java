package io.knowngood.cli;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * kgctl's exit codes. They are part of the public contract (docs/kgctl.md, every --help footer):
 * scripts branch on them, so a code never changes meaning.
 */
public enum ExitCode {
    OK(0, "success"),
    INVALID(1, "bundle or rollout control invalid or rejected (locally or by the node); the reason is printed"),
    USAGE(2, "bad command line (unknown option, missing argument, bad value)"),
    IO(3, "a local file cannot be read or written (missing bundle, key, token file, ...)"),
    UNREACHABLE(4, "no node could be reached (connection refused, timeout)"),
    AUTH(5, "the node refused the admin token (401/403)"),
    NODE_ERROR(6, "a node answered, but not as the contract says (5xx, malformed reply)"),
    NOT_FOUND(7, "the node holds no such bundle or version (mesh cert revoke: no certificate kept for that node id)"),
    INTERNAL(9, "bug in kgctl (please report)");

    private final int code;
    private final String meaning;

    ExitCode(int code, String meaning) {
        this.code = code;
        this.meaning = meaning;
    }

    public int code() {
        return code;
    }

    public String meaning() {
        return meaning;
    }

    /** For picocli's "Exit Codes:" section of every --help. */
    static Map<String, String> helpList() {
        Map<String, String> m = new LinkedHashMap<>();
        for (ExitCode c : values()) {
            m.put(String.format("%3d", c.code), c.meaning);
        }
        return m;
    }
}
