package io.knowngood.cli.node;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * What the mesh holds, as an admin endpoint's {@code GET /v1/bundles} reports it: per name the
 * node's current version, its rollback floor, and the version each member holds.
 */
record MeshBundles(URI from, Map<String, Entry> byName) {
    /** One name. {@code version} is empty when this node holds none (only members do). */
    record Entry(String name, Optional<Long> version, Optional<String> digest, boolean retired, Optional<String> created,
                 Optional<Long> floor, Map<String, Long> members) {
        /** The highest version of this name anyone has seen: the next publish must be above it. */
        long highest() {
            long h = Math.max(version.orElse(0L), floor.orElse(0L));
            for (long v : members.values()) {
                h = Math.max(h, v);
            }
            return h;
        }
    }

    static MeshBundles read(URI from, JsonNode body) {
        Map<String, Entry> m = new LinkedHashMap<>();
        for (JsonNode b : body.path("bundles")) {
            Map<String, Long> members = new TreeMap<>();
            Iterator<Map.Entry<String, JsonNode>> it = b.path("members").fields();
            while (it.hasNext()) {
                Map.Entry<String, JsonNode> e = it.next();
                members.put(e.getKey(), e.getValue().isObject() ? e.getValue().path("version").asLong() : e.getValue().asLong());
            }
            String name = b.path("name").asText();
            m.put(name, new Entry(name, optLong(b, "version"), optText(b, "digest"), b.path("retired").asBoolean(false),
                    optText(b, "created"), optLong(b, "floor"), members));
        }
        return new MeshBundles(from, m);
    }

    Optional<Entry> get(String name) {
        return Optional.ofNullable(byName.get(name));
    }

    private static Optional<Long> optLong(JsonNode n, String field) {
        return n.hasNonNull(field) && n.get(field).canConvertToLong() ? Optional.of(n.get(field).asLong()) : Optional.empty();
    }

    private static Optional<String> optText(JsonNode n, String field) {
        return n.hasNonNull(field) ? Optional.of(n.get(field).asText()) : Optional.empty();
    }
}
