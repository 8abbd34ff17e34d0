package io.knowngood.node.rollout;

import java.util.Comparator;

/**
 * Where one version of a bundle is in its rollout, as one member saw it: {@code rolling} in wave
 * {@code wave} (0-based) since {@code sinceMs}, {@code good}, or {@code reverted} (final). Members'
 * views merge by {@link #furthest}: reverted over everything, good over rolling, a later wave over an
 * earlier one; between equals the earliest {@code since} wins, so every member ends with the same
 * state whatever order the views arrive in.
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
        if (phase != Phase.ROLLING) {
            wave = 0;
        }
    }

    static VersionState rolling(int wave, long sinceMs, String reason) {
        return new VersionState(Phase.ROLLING, wave, sinceMs, reason);
    }

    static VersionState good(long sinceMs, String reason) {
        return new VersionState(Phase.GOOD, 0, sinceMs, reason);
    }

    static VersionState reverted(long sinceMs, String reason) {
        return new VersionState(Phase.REVERTED, 0, sinceMs, reason);
    }

    private static final Comparator<VersionState> ORDER = Comparator.comparingLong(VersionState::rank)
            .thenComparing(Comparator.comparingLong(VersionState::sinceMs).reversed())
            .thenComparing(VersionState::reason, Comparator.reverseOrder());

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
