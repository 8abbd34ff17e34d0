package io.knowngood.node.store;

import io.knowngood.crypto.bundle.VerifiedBundle;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Whether the version held for a name may be served to VMs. At or above the name's rollback floor:
 * yes. Below it, only as last-known-good fallback: when the floor version's own copy was found
 * damaged here (quarantine/ keeps the evidence across restarts), and only once peers have had
 * {@code fallbackDelay} to supply that version again; or at once when the floor version's copy is
 * on disk but this configuration cannot load it (signed only by a publisher key no longer trusted:
 * no peer could supply a copy this node would take). Below the floor without such evidence (the
 * data dir was restored from an older backup, or lost its newest files) it is withheld until a peer
 * supplies the floor version. Thread-safe.
 */
final class ServePolicy {

    /** A damaged copy: the evidence that allows serving an older version below the floor (after the delay). */
    private record Damage(long version, Instant since) {}

    private final Clock clock;
    private final Duration fallbackDelay;
    /** name -> highest version whose copy was found damaged here, and since when. */
    private final Map<String, Damage> damaged = new ConcurrentHashMap<>();
    /** name -> highest version whose copy is on disk but cannot be loaded with this configuration. */
    private final Map<String, Long> unloadable = new ConcurrentHashMap<>();

    ServePolicy(Clock clock, Duration fallbackDelay) {
        this.clock = clock;
        this.fallbackDelay = fallbackDelay;
    }

    Duration fallbackDelay() {
        return fallbackDelay;
    }

    /** A copy of {@code name@version} was found damaged (now, or earlier: its quarantined copy was found at start). */
    void damaged(String name, long version) {
        damaged.merge(name, new Damage(version, clock.instant()), (a, b) -> a.version() >= b.version() ? a : b);
    }

    /**
     * A copy of {@code name@version} is on disk but this configuration cannot load it (an untrusted key,
     * over the limits): it is left in place, and a lower version may be served in its stead.
     */
    void unloadable(String name, long version) {
        unloadable.merge(name, version, Math::max);
    }

    /** True if {@code held} may not be served, given the name's {@code floor} (null: none yet). */
    boolean withheld(VerifiedBundle held, FloorFile.Entry floor) {
        if (floor == null || held.version() >= floor.version() || unloadableAt(held.name(), floor.version())) {
            return false;
        }
        Damage d = damaged.get(held.name());
        return d == null || d.version() < floor.version() || clock.instant().isBefore(d.since().plus(fallbackDelay));
    }

    /** True if {@code name}'s copy at or above {@code floor} is on disk but cannot be loaded with this configuration. */
    boolean unloadableAt(String name, long floor) {
        Long v = unloadable.get(name);
        return v != null && v >= floor;
    }

    /** True if {@code name}'s copy at or above {@code floor} was found damaged (so a wait for peers explains a withheld name). */
    boolean foundDamaged(String name, long floor) {
        Damage d = damaged.get(name);
        return d != null && d.version() >= floor;
    }
}
