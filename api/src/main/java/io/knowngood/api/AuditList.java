package io.knowngood.api;

import java.util.List;

/**
 * Admin {@code GET /v1/audit[?limit=N]}: the newest entries of this node's audit log, oldest first.
 * Every publish and rollout control that reached the admin endpoint is one entry, whatever its outcome
 * (refused, unauthorized and forbidden attempts included).
 */
public record AuditList(List<Entry> entries) {
    public static final int DEFAULT_LIMIT = 100;
    public static final int MAX_LIMIT = 1000;

    public AuditList {
        entries = List.copyOf(entries);
    }

    /**
     * One audited request.
     *
     * @param time RFC 3339 UTC, when the answer was sent
     * @param token the token's name ({@code -} when no valid token was given)
     * @param source the client's address as the node saw it
     * @param action {@code publish} or {@code control:<action>} ({@code control} when the document was unreadable)
     * @param name the bundle name from the path
     * @param version the version (null when the request did not get far enough to tell)
     * @param digest the manifest digest for a publish, the SHA-256 of the signed document for a control (null when unknown)
     * @param status the HTTP status answered
     * @param outcome {@code created}, {@code applied} or the error code answered
     */
    public record Entry(String time, String token, String source, String action, String name, Long version,
                        String digest, int status, String outcome) {}
}
