package io.knowngood.node.rollout;

import java.util.Comparator;

/**
 * Where one version of a bundle is in its rollout, as one member saw it: {@code rolling} in wave
 * {@code wave} (0-based) since {@code sinceMs}, {@code good}, or {@code reverted} (final; {@code wave}
 * is then the wave it had reached, for the operator: a revert in the canary wave reads differently from
 * one after every host had it). Members' views merge by {@link #furthest}: reverted over everything,
 * good over rolling, a later wave over an earlier one; between equals the earliest {@code since} wins,
 * then the reason, then the wave, so every member ends with the same state whatever order the views
 * arrive in.
 */
record VersionState(Phase phase, int wave, long sinceMs, String reason) {

    enum Phase {
        ROLLING, GOOD, REVERTED;

        String wire() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }

        static Phase fromWire(String s) {
            switch (s) {
                case "rolling": return ROLLING;
                case "good": return GOOD;
                case "reverted": return REVERTED;
                default: return null;
            }
        }
    }

    static final int MAX_REASON = 200;

    VersionState {
        reason = reason == null ? "" : reason.length() > MAX_REASON ? reason.substring(0, MAX_REASON) : reason;
        if (phase == Phase.GOOD) {
            wave = 0;
        }
    }

    static VersionState rolling(int wave, long sinceMs, String reason) {
        return new VersionState(Phase.ROLLING, wave, sinceMs, reason);
    }

    static VersionState good(long sinceMs, String reason) {
        return new VersionState(Phase.GOOD, 0, sinceMs, reason);
    }

    /** Reverted at {@code sinceMs}, having reached {@code wave} (the last wave for a version that was good). */
    static VersionState reverted(int wave, long sinceMs, String reason) {
        return new VersionState(Phase.REVERTED, wave, sinceMs, reason);
    }

    private static final Comparator<VersionState> ORDER = Comparator.comparingLong(VersionState::rank)
            .thenComparing(Comparator.comparingLong(VersionState::sinceMs).reversed())
            .thenComparing(VersionState::reason, Comparator.reverseOrder())
            .thenComparingInt(VersionState::wave);

    /** Higher is further along. */
    long rank() {
        switch (phase) {
            case REVERTED: return 2_000_000L;
            case GOOD: return 1_000_000L;
            default: return wave;
        }
    }

    /** The further of two views (null-tolerant); a commutative, associative, idempotent merge. */
    static VersionState furthest(VersionState a, VersionState b) {
        if (a == null) {
            return b;
        }
        if (b == null) {
            return a;
        }
        return ORDER.compare(a, b) >= 0 ? a : b;
    }

    boolean reverted() {
        return phase == Phase.REVERTED;
    }

    /** Whether a host whose first wave is {@code hostWave} may be served this version. */
    boolean reaches(int hostWave) {
        return phase == Phase.GOOD || (phase == Phase.ROLLING && hostWave <= wave);
    }
}
