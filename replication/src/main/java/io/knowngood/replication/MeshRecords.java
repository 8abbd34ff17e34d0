package io.knowngood.replication;

import java.util.Map;
import java.util.regex.Pattern;

/**
 * Small records each member keeps about shared state (a rollout's state, its hosts' report counts),
 * replicated to every member. Each member writes only its own records, so no two members ever write
 * the same entry and nothing needs a merge policy: readers combine the members' records themselves
 * (for rollouts: by taking the furthest state). A member writes all its records again once after
 * every view or topology change (a join, a split, a heal) and, every anti-entropy round, whatever of
 * them differs in its local copy (anti-entropy for records); records of members that left are kept,
 * since what they saw still counts.
 *
 * <p>Values are opaque bytes to replication and come from peers unverified: readers validate them.
 */
public interface MeshRecords {

    int MAX_VALUE_BYTES = 16 * 1024;
    int MAX_RECORDS_PER_MEMBER = 10_000;
    Pattern KEY = Pattern.compile("^[a-z0-9][a-z0-9._@/-]{0,255}$");

    /** Why a put was refused; nothing was changed. */
    enum PutResult { STORED, UNCHANGED, BAD_KEY, VALUE_TOO_LARGE, TOO_MANY_RECORDS }

    /** Sets this member's record under {@code key} and replicates it. Returns at once. */
    PutResult putOwn(String key, byte[] value);

    /** Removes this member's record under {@code key}, here and on every member. */
    void removeOwn(String key);

    /** key -> memberId -> value: every record known here, this member's own included. A copy. */
    Map<String, Map<String, byte[]>> snapshot();

    /**
     * memberId -> value: every member's record under {@code key} known here, this member's own included.
     * A copy of that one key's records, where {@link #snapshot} copies them all.
     */
    default Map<String, byte[]> of(String key) {
        return snapshot().getOrDefault(key, Map.of());
    }

    /** This member's id (the member id its own records are filed under). */
    String selfId();

    /**
     * Called after any record changes here, local or remote, on a replication thread: must not block.
     * Records from peers that break the limits above are dropped (and counted) before listeners hear of them.
     */
    void addListener(Listener listener);

    @FunctionalInterface
    interface Listener {
        void changed(String key, String memberId);
    }
}
