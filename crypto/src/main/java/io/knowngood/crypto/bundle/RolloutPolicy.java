package io.knowngood.crypto.bundle;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * The optional {@code rollout} object of a signed manifest: which hosts get a version first, and
 * what moves it on or back. {@code waves} are tried in order; a last wave covering every host is
 * implied (so {@code waves} may be empty: then the version waits in the all-hosts wave for K ok
 * reports and T seconds before it is {@code good}). Valid by construction. In manifest.json it is
 * written canonically with every default spelled out; {@link #parseJson} reads the same object
 * (defaults may be left out) with the manifest's own strict reader.
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
    /** A host in a hosts wave is a node id: {@code ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$}. */
    public static final String HOST_ID_RULE = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$";
    /** Label keys and values of a labels wave (matched against a node's {@code --host-label k=v}). */
    public static final String LABEL_RULE = "^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$";
    private static final Pattern HOST_ID = Pattern.compile(HOST_ID_RULE);
    private static final Pattern LABEL = Pattern.compile(LABEL_RULE);

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

    /** The policy a manifest gets when its {@code rollout} names only waves. */
    public static RolloutPolicy withDefaults(List<Wave> waves) {
        return new RolloutPolicy(waves, DEFAULT_PROMOTE_OK, DEFAULT_PROMOTE_AFTER_S, DEFAULT_REVERT_FAILED);
    }

    /**
     * Reads a policy from its JSON object, exactly as the manifest's {@code rollout} field holds it
     * (e.g. the file given to {@code kgctl bundle pack --rollout}); left-out counts take their
     * defaults. Bad input is {@link ParseResult.Invalid} with a one-line reason naming the field.
     */
    public static ParseResult parseJson(byte[] json) {
        return ManifestCodec.readRolloutPolicy(json);
    }

    /** What {@link #parseJson} found. */
    public sealed interface ParseResult {
        record Parsed(RolloutPolicy policy) implements ParseResult {
        }

        /** {@code reason} is one line, e.g. {@code waves[1].percent must be 1..100}. */
        record Invalid(String reason) implements ParseResult {
        }
    }

    /** True for a node id a hosts wave may name ({@link #HOST_ID_RULE}). */
    public static boolean isValidHostId(String host) {
        return host != null && HOST_ID.matcher(host).matches();
    }

    /** True for a label key or value a labels wave may hold ({@link #LABEL_RULE}). */
    public static boolean isValidLabel(String keyOrValue) {
        return keyOrValue != null && LABEL.matcher(keyOrValue).matches();
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
            HashSet<String> seen = new HashSet<>();
            for (String h : hosts) {
                if (!isValidHostId(h)) {
                    throw new IllegalArgumentException("host id " + h + " does not match " + HOST_ID_RULE);
                }
                if (!seen.add(h)) {
                    throw new IllegalArgumentException("host " + h + " named twice");
                }
            }
        }
    }

    public record Labels(Map<String, String> labels) implements Wave {
        public Labels {
            labels = Map.copyOf(new TreeMap<>(labels));
            if (labels.isEmpty() || labels.size() > MAX_LABELS_PER_WAVE) {
                throw new IllegalArgumentException("a labels wave has 1.." + MAX_LABELS_PER_WAVE + " labels");
            }
            labels.forEach((k, v) -> {
                if (!isValidLabel(k) || !isValidLabel(v)) {
                    throw new IllegalArgumentException("label " + k + "=" + v + " does not match " + LABEL_RULE);
                }
            });
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
