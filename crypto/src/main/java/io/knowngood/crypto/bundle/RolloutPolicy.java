package io.knowngood.crypto.bundle;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The optional {@code rollout} object of a signed manifest: which hosts get a version first, and
 * what moves it on or back. {@code waves} are tried in order; a last wave covering every host is
 * implied (so {@code waves} may be empty: then the version waits in the all-hosts wave for K ok
 * reports and T seconds before it is {@code good}). Valid by construction.
 */
public record RolloutPolicy(List<Wave> waves, int promoteOk, long promoteAfterSeconds, int revertFailed) {

    public static final int DEFAULT_PROMOTE_OK = 3;
    public static final long DEFAULT_PROMOTE_AFTER_S = 300;
    public static final int DEFAULT_REVERT_FAILED = 2;
    public static final int MAX_WAVES = 32;
    public static final int MAX_HOSTS_PER_WAVE = 1_000;
    public static final int MAX_LABELS_PER_WAVE = 16;
    public static final int MAX_COUNT = 1_000_000;
    public static final long MAX_PROMOTE_AFTER_S = 366L * 24 * 3600;

    public RolloutPolicy {
        waves = List.copyOf(waves);
        if (waves.size() > MAX_WAVES) {
            throw new IllegalArgumentException("at most " + MAX_WAVES + " waves");
        }
        if (promoteOk < 1 || promoteOk > MAX_COUNT) {
            throw new IllegalArgumentException("promote_ok must be 1.." + MAX_COUNT);
        }
        if (promoteAfterSeconds < 0 || promoteAfterSeconds > MAX_PROMOTE_AFTER_S) {
            throw new IllegalArgumentException("promote_after_s must be 0.." + MAX_PROMOTE_AFTER_S);
        }
        if (revertFailed < 1 || revertFailed > MAX_COUNT) {
            throw new IllegalArgumentException("revert_failed must be 1.." + MAX_COUNT);
        }
    }

    /** Number of waves including the implied last one that covers every host. */
    public int waveCount() {
        return waves.size() + 1;
    }

    /** One wave: by node id, by host label, or by a stable hash of (node id, name, version). */
    public sealed interface Wave permits Hosts, Labels, Percent {
    }

    public record Hosts(List<String> hosts) implements Wave {
        public Hosts {
            hosts = List.copyOf(hosts);
            if (hosts.isEmpty() || hosts.size() > MAX_HOSTS_PER_WAVE) {
                throw new IllegalArgumentException("a hosts wave names 1.." + MAX_HOSTS_PER_WAVE + " hosts");
            }
        }
    }

    public record Labels(Map<String, String> labels) implements Wave {
        public Labels {
            labels = Map.copyOf(new TreeMap<>(labels));
            if (labels.isEmpty() || labels.size() > MAX_LABELS_PER_WAVE) {
                throw new IllegalArgumentException("a labels wave has 1.." + MAX_LABELS_PER_WAVE + " labels");
            }
        }
    }

    public record Percent(int percent) implements Wave {
        public Percent {
            if (percent < 1 || percent > 100) {
                throw new IllegalArgumentException("percent must be 1..100");
            }
        }
    }
}
