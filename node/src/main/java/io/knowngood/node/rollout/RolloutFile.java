package io.knowngood.node.rollout;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.knowngood.crypto.files.AtomicFile;
import io.knowngood.node.rollout.RolloutRecord.NameVersion;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;

/**
 * {@code <data-dir>/rollouts.json}: this host's own rollout records and its VMs' reports for versions
 * still rolling, written atomically, so a restarted node (even alone) knows what it had reverted or
 * promoted and what its VMs said. Peers' records come back from the mesh.
 */
final class RolloutFile {

    static final String NAME = "rollouts.json";
    private static final ObjectMapper JSON = JsonMapper.builder().build();

    record Contents(Map<NameVersion, RolloutRecord> own, Map<NameVersion, Map<String, VmReports.Report>> reports) {}

    /** What was read, or why the file was not usable (the node then starts with no rollout memory). */
    sealed interface Read {
        record Ok(Contents contents) implements Read {}

        record Unusable(String reason) implements Read {}
    }

    private final Path path;

    RolloutFile(Path dataDir) {
        this.path = dataDir.resolve(NAME);
    }

    Path path() {
        return path;
    }

    Read read() {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(path);
        } catch (NoSuchFileException e) {
            return new Read.Ok(new Contents(Map.of(), Map.of()));
        } catch (IOException e) {
            return new Read.Unusable("cannot read " + path + ": " + e.getMessage());
        }
        try {
            JsonNode root = JSON.readTree(bytes);
            Map<NameVersion, RolloutRecord> own = new HashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = root.path("own").fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                NameVersion nv = RolloutRecord.parseKey(e.getKey());
                RolloutRecord.Decoded d = RolloutRecord.decode(JSON.writeValueAsBytes(e.getValue()));
                if (nv != null && d instanceof RolloutRecord.Decoded.Ok ok) {
                    own.put(nv, ok.record());
                }
            }
            Map<NameVersion, Map<String, VmReports.Report>> reports = new HashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = root.path("reports").fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                NameVersion nv = RolloutRecord.parseKey("r/" + e.getKey());
                if (nv == null) {
                    continue;
                }
                Map<String, VmReports.Report> vms = new HashMap<>();
                for (Iterator<Map.Entry<String, JsonNode>> r = e.getValue().fields(); r.hasNext(); ) {
                    Map.Entry<String, JsonNode> vm = r.next();
                    JsonNode v = vm.getValue();
                    vms.put(vm.getKey(), new VmReports.Report(v.path("ok").asBoolean(), v.path("at").asLong(), v.path("detail").asText("")));
                }
                reports.put(nv, vms);
            }
            return new Read.Ok(new Contents(own, reports));
        } catch (IOException | RuntimeException e) {
            return new Read.Unusable(path + " is damaged (" + e.getMessage() + ")");
        }
    }

    void write(Map<NameVersion, RolloutRecord> own, Map<NameVersion, Map<String, VmReports.Report>> reports) throws IOException {
        ObjectNode root = JSON.createObjectNode();
        ObjectNode o = root.putObject("own");
        for (Map.Entry<NameVersion, RolloutRecord> e : own.entrySet()) {
            o.set(RolloutRecord.key(e.getKey().name(), e.getKey().version()), JSON.readTree(e.getValue().encode()));
        }
        ObjectNode r = root.putObject("reports");
        for (Map.Entry<NameVersion, Map<String, VmReports.Report>> e : reports.entrySet()) {
            ObjectNode vms = r.putObject(e.getKey().toString());
            e.getValue().forEach((addr, rep) -> vms.putObject(addr).put("ok", rep.ok()).put("at", rep.atMs()).put("detail", rep.detail()));
        }
        AtomicFile.write(path, JSON.writeValueAsBytes(root));
    }
}
