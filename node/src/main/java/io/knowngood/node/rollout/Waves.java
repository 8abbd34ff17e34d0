package io.knowngood.node.rollout;

import io.knowngood.crypto.bundle.RolloutPolicy;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;
import java.util.Map;

/** Which wave of a rollout a host is in: the first wave that selects it, else the implied last (every host). */
final class Waves {

    private Waves() {
    }

    static int firstWave(RolloutPolicy policy, String nodeId, Map<String, String> hostLabels, String name, long version) {
        List<RolloutPolicy.Wave> waves = policy.waves();
        for (int i = 0; i < waves.size(); i++) {
            if (selects(waves.get(i), nodeId, hostLabels, name, version)) {
                return i;
            }
        }
        return waves.size();
    }

    static boolean selects(RolloutPolicy.Wave wave, String nodeId, Map<String, String> hostLabels, String name, long version) {
        if (wave instanceof RolloutPolicy.Hosts h) {
            return h.hosts().contains(nodeId);
        }
        if (wave instanceof RolloutPolicy.Labels l) {
            return l.labels().entrySet().stream().allMatch(e -> e.getValue().equals(hostLabels.get(e.getKey())));
        }
        return bucket(nodeId, name, version) < ((RolloutPolicy.Percent) wave).percent();
    }

    /**
     * A host's stable bucket 0..99 for one version: the first 8 bytes of SHA-256("nodeId\nname\nversion")
     * as an unsigned number, modulo 100. Every member computes the same bucket for every host, and a
     * new version reshuffles which hosts go first.
     */
    static int bucket(String nodeId, String name, long version) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256")
                    .digest((nodeId + "\n" + name + "\n" + version).getBytes(StandardCharsets.UTF_8));
            return (int) Long.remainderUnsigned(ByteBuffer.wrap(d).getLong(), 100);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java has SHA-256", e);
        }
    }
}
