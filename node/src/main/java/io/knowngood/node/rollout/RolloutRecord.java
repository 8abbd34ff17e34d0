package io.knowngood.node.rollout;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * One member's record about one version ({@code r/<name>@<version>} in the mesh records): its view of
 * the version's state, the wave this host is in, its VMs' distinct ok/failed report counts, the
 * version it serves for the name, and the signed operator controls it knows (each verified again by
 * every reader: a member can claim counts for its own VMs, never forge a control).
 */
record RolloutRecord(VersionState state, int hostWave, int waves, int ok, int failed, long serving, List<String> controls) {

    static final int MAX_CONTROLS = 4;
    private static final ObjectMapper JSON = JsonMapper.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();

    RolloutRecord {
        controls = List.copyOf(controls);
    }

    /** This record, saying the host now serves {@code version} for the name. */
    RolloutRecord withServing(long version) {
        return new RolloutRecord(state, hostWave, waves, ok, failed, version, controls);
    }

    static String key(String name, long version) {
        return "r/" + name + "@" + version;
    }

    /** {@code name@version} of a record key, or null if the key is not a rollout record's. */
    static NameVersion parseKey(String key) {
        if (!key.startsWith("r/")) {
            return null;
        }
        int at = key.lastIndexOf('@');
        if (at < 3 || !key.substring(at + 1).matches("[1-9]\\d{0,18}")) {
            return null;
        }
        String name = key.substring(2, at);
        try {
            long v = Long.parseLong(key.substring(at + 1));
            return io.knowngood.crypto.bundle.BundleName.isValid(name) ? new NameVersion(name, v) : null;
        } catch (NumberFormatException e) {
            return null;
        }
    }

    byte[] encode() {
        ObjectNode o = JSON.createObjectNode();
        ArrayNode c = o.putArray("controls");
        controls.forEach(c::add);
        o.put("failed", failed);
        o.put("host_wave", hostWave);
        o.put("ok", ok);
        o.put("reason", state.reason());
        o.put("serving", serving);
        o.put("since", state.sinceMs());
        o.put("state", state.phase().wire());
        o.put("wave", state.wave());
        o.put("waves", waves);
        try {
            return JSON.writeValueAsBytes(o);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A record as read from a peer (or this node's own file): the record, or why it is ignored. */
    sealed interface Decoded {
        record Ok(RolloutRecord record) implements Decoded {}

        record Bad(String reason) implements Decoded {}
    }

    static Decoded decode(byte[] bytes) {
        JsonNode o;
        try {
            o = JSON.readTree(bytes);
        } catch (IOException e) {
            return new Decoded.Bad("not JSON");
        }
        if (o == null || !o.isObject()) {
            return new Decoded.Bad("not a JSON object");
        }
        VersionState.Phase phase = o.path("state").isTextual() ? VersionState.Phase.fromWire(o.get("state").textValue()) : null;
        if (phase == null) {
            return new Decoded.Bad("state must be rolling, good or reverted");
        }
        int waves = intIn(o, "waves", 1, 33);
        int wave = intIn(o, "wave", 0, 32);
        int hostWave = intIn(o, "host_wave", 0, 32);
        int ok = intIn(o, "ok", 0, Integer.MAX_VALUE);
        int failed = intIn(o, "failed", 0, Integer.MAX_VALUE);
        if (waves < 0 || wave < 0 || hostWave < 0 || ok < 0 || failed < 0 || wave >= waves || hostWave >= waves) {
            return new Decoded.Bad("waves, wave, host_wave, ok and failed must be small non-negative integers (wave < waves)");
        }
        JsonNode since = o.get("since");
        JsonNode serving = o.get("serving");
        if (since == null || !since.canConvertToLong() || since.longValue() < 0 || serving == null || !serving.canConvertToLong()
                || serving.longValue() < 0) {
            return new Decoded.Bad("since and serving must be non-negative integers");
        }
        JsonNode reason = o.get("reason");
        if (reason != null && !reason.isTextual()) {
            return new Decoded.Bad("reason must be a string");
        }
        JsonNode cs = o.get("controls");
        List<String> controls = new ArrayList<>();
        if (cs != null) {
            if (!cs.isArray() || cs.size() > MAX_CONTROLS) {
                return new Decoded.Bad("controls must be a list of at most " + MAX_CONTROLS);
            }
            for (JsonNode c : cs) {
                if (!c.isTextual() || c.textValue().length() > 8192 || !isBase64(c.textValue())) {
                    return new Decoded.Bad("controls must be base64 strings");
                }
                controls.add(c.textValue());
            }
        }
        VersionState st = new VersionState(phase, wave, since.longValue(), reason == null ? "" : reason.textValue());
        return new Decoded.Ok(new RolloutRecord(st, hostWave, waves, ok, failed, serving.longValue(), controls));
    }

    private static int intIn(JsonNode o, String field, int min, int max) {
        JsonNode n = o.get(field);
        if (n == null || !n.isIntegralNumber() || !n.canConvertToInt() || n.intValue() < min || n.intValue() > max) {
            return -1;
        }
        return n.intValue();
    }

    private static boolean isBase64(String s) {
        try {
            Base64.getDecoder().decode(s);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    record NameVersion(String name, long version) {
        @Override
        public String toString() {
            return name + "@" + version;
        }
    }
}
