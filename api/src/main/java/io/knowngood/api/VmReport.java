package io.knowngood.api;

/**
 * VM endpoint {@code POST /v1/reports} body (at most {@link #MAX_BODY_BYTES}): whether {@code name} at
 * {@code version} works on the reporting VM. Answered 202 with {@link Accepted}.
 *
 * @param result {@code ok} or {@code failed}
 * @param detail optional (a health command's last line); the node keeps its first {@link #MAX_DETAIL_CHARS} characters
 */
public record VmReport(String name, Long version, String result, String detail) {

    public static final int MAX_BODY_BYTES = 4096;
    public static final int MAX_DETAIL_CHARS = 512;

    /** The 202 answer: what was counted, and the version's state after it. */
    public record Accepted(String name, long version, String result, String state) {}
}
