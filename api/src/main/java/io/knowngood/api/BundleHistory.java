package io.knowngood.api;

import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * Admin {@code GET /v1/bundles/{name}/history}: the rollback floor and the versions kept on disk,
 * newest first.
 *
 * @param floor the highest version ever accepted, or null if none was
 */
public record BundleHistory(String name, Long floor, List<Version> versions) {

    public BundleHistory {
        Objects.requireNonNull(name, "name");
        versions = versions == null ? List.of() : List.copyOf(versions);
    }

    /**
     * One kept version.
     *
     * @param state {@code current} (served), {@code kept} (verified, for fallback) or {@code unverified}
     *     (not re-read since start); a string, so a newer node may add states
     * @param digest the manifest digest once this copy has been verified, else null
     * @param size archive bytes
     * @param rollout the version's rollout state as this node sees the mesh ({@code rolling}, {@code good},
     *     {@code reverted}), or null for a version with no rollout; a reverted one is never served, and
     *     {@code kgctl rollback} refuses it
     */
    public record Version(long version, String state, String digest, long size, Instant storedAt, String rollout) {
        public Version {
            state = state == null ? "" : state;
        }

        /** A version with no rollout known. */
        public Version(long version, String state, String digest, long size, Instant storedAt) {
            this(version, state, digest, size, storedAt, null);
        }
    }
}
