package io.knowngood.cli.node;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.knowngood.crypto.bundle.Sha256;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The content of a bundle as {@code seed} compares it: sorted paths with their SHA-256, and labels.
 * Creation time and signature are left out, so re-packing the same files compares equal.
 */
record BundleContent(SortedMap<String, String> files, SortedMap<String, String> labels) {
    /** manifest.json is the bundle format's (crypto's), not one of the api's bodies: read as a plain tree. */
    private static final ObjectMapper MANIFEST = new ObjectMapper();

    BundleContent {
        files = new TreeMap<>(files);
        labels = new TreeMap<>(labels);
    }

    /** Regular files under {@code dir}; links and special files are left to the packer to refuse. */
    static BundleContent ofDirectory(Path dir, Map<String, String> labels) throws IOException {
        SortedMap<String, String> files = new TreeMap<>();
        List<Path> all;
        try (Stream<Path> walk = Files.walk(dir)) {
            all = walk.filter(p -> Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)).toList();
        }
        for (Path p : all) {
            StringBuilder rel = new StringBuilder();
            for (Path part : dir.relativize(p)) {
                rel.append(rel.length() == 0 ? "" : "/").append(part);
            }
            files.put(rel.toString(), Sha256.hex(Files.readAllBytes(p)));
        }
        return new BundleContent(files, new TreeMap<>(labels));
    }

    /** From the bytes of a manifest.json as a node serves it; empty if they are not a manifest's JSON. */
    static Optional<BundleContent> ofManifest(byte[] manifest) {
        JsonNode m;
        try {
            m = MANIFEST.readTree(manifest);
        } catch (IOException e) {
            return Optional.empty();
        }
        if (m == null || !m.isObject() || !m.path("files").isArray()) {
            return Optional.empty();
        }
        SortedMap<String, String> files = new TreeMap<>();
        for (JsonNode f : m.path("files")) {
            files.put(f.path("path").asText(), f.path("sha256").asText());
        }
        SortedMap<String, String> labels = new TreeMap<>();
        m.path("labels").properties().forEach(e -> labels.put(e.getKey(), e.getValue().asText()));
        return Optional.of(new BundleContent(files, labels));
    }

    /**
     * Why {@code seed} must leave the version with this manifest alone, or empty: seed packs plain
     * bundles for every VM, so republishing one with pools or encrypted files would widen who sees it
     * and put its secrets in the clear.
     */
    static Optional<String> notForSeed(byte[] manifest) {
        JsonNode m;
        try {
            m = MANIFEST.readTree(manifest);
        } catch (IOException e) {
            return Optional.empty(); // ofManifest says what is wrong with it
        }
        if (m == null || !m.isObject()) {
            return Optional.empty();
        }
        List<String> why = new ArrayList<>();
        if (m.path("pools").isArray() && !m.path("pools").isEmpty()) {
            List<String> pools = new ArrayList<>();
            m.path("pools").forEach(p -> pools.add(p.asText()));
            why.add("is only for pools " + String.join(", ", pools));
        }
        long encrypted = 0;
        for (JsonNode f : m.path("files")) {
            encrypted += f.has("encrypted") ? 1 : 0;
        }
        if (encrypted > 0) {
            why.add("has " + encrypted + " encrypted " + (encrypted == 1 ? "file" : "files"));
        }
        return why.isEmpty() ? Optional.empty() : Optional.of(String.join(" and ", why));
    }

    /** SHA-256 over "path NUL sha256 LF" for each file in path order, then "label NUL value LF" for each label. */
    String digest() {
        StringBuilder b = new StringBuilder();
        files.forEach((p, h) -> b.append(p).append('\0').append(h).append('\n'));
        b.append('\0');
        labels.forEach((k, v) -> b.append(k).append('\0').append(v).append('\n'));
        return Sha256.hex(b.toString().getBytes(StandardCharsets.UTF_8));
    }
}
