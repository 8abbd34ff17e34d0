package io.knowngood.cli.bundle;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;
import io.knowngood.crypto.bundle.RolloutPolicy;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * A manifest's {@code rollout} as a reader shows it (waves, K, T, F), read from the JSON without
 * judging it: crypto's verifier decides whether a policy is valid, this only displays what is there.
 * Values a manifest leaves out show as the defaults nodes apply.
 */
public record PolicyView(List<Wave> waves, int promoteOk, long promoteAfterSeconds, int revertFailed) {
    public PolicyView {
        waves = List.copyOf(waves);
    }

    /** One wave as written: exactly one of hosts, labels, percent is set. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Wave(List<String> hosts, Map<String, String> labels, Integer percent) {
        public String describe() {
            if (hosts != null) {
                return "hosts " + String.join(", ", hosts);
            }
            if (labels != null) {
                return "labels " + String.join(", ", labels.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).toList());
            }
            if (percent != null) {
                return percent + " percent of hosts";
            }
            return "(a wave this kgctl cannot read)";
        }
    }

    /** The manifest's rollout, if it has one. */
    static Optional<PolicyView> of(JsonNode manifest) {
        JsonNode r = manifest.path("rollout");
        if (!r.isObject()) {
            return Optional.empty();
        }
        List<Wave> waves = new ArrayList<>();
        for (JsonNode w : r.path("waves")) {
            List<String> hosts = null;
            Map<String, String> labels = null;
            Integer percent = null;
            if (w.path("hosts").isArray()) {
                hosts = new ArrayList<>();
                for (JsonNode h : w.path("hosts")) {
                    hosts.add(h.asText());
                }
            } else if (w.path("labels").isObject()) {
                labels = new TreeMap<>();
                for (Map.Entry<String, JsonNode> e : w.path("labels").properties()) {
                    labels.put(e.getKey(), e.getValue().asText());
                }
            } else if (w.path("percent").canConvertToInt()) {
                percent = w.path("percent").asInt();
            }
            waves.add(new Wave(hosts, labels, percent));
        }
        return Optional.of(new PolicyView(waves, r.path("promote_ok").asInt(RolloutPolicy.DEFAULT_PROMOTE_OK),
                r.path("promote_after_s").asLong(RolloutPolicy.DEFAULT_PROMOTE_AFTER_S),
                r.path("revert_failed").asInt(RolloutPolicy.DEFAULT_REVERT_FAILED)));
    }

    /** The policy in one line: {@code 2 waves then all hosts; promote at 3 ok and 300 s; revert at 2 failed}. */
    public String summary() {
        return (waves.isEmpty() ? "all hosts at once" : waves.size() + (waves.size() == 1 ? " wave" : " waves") + " then all hosts")
                + "; promote at " + promoteOk + " ok and " + promoteAfterSeconds + " s in a wave; revert at " + revertFailed + " failed";
    }

    /** One line per wave, the implied all-hosts wave last. */
    public List<String> waveLines() {
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < waves.size(); i++) {
            lines.add("wave " + (i + 1) + ": " + waves.get(i).describe());
        }
        lines.add("wave " + (waves.size() + 1) + ": all hosts (implied)");
        return lines;
    }
}
