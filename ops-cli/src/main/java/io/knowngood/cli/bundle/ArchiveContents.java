package io.knowngood.cli.bundle;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.knowngood.crypto.bundle.Limits;
import io.knowngood.crypto.bundle.Rejection;
import io.knowngood.crypto.bundle.Sha256;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * What a bundle archive claims, read WITHOUT checking its signature: for {@code bundle inspect}
 * without trusted keys, and for {@code seed} comparing content with what the mesh holds. Nothing
 * here says a bundle is genuine; {@link io.knowngood.crypto.bundle.BundleVerifier} does that.
 * Files are hashed so a reader can tell whether they match the manifest.
 */
public record ArchiveContents(String name, long version, String created, Optional<String> expires, boolean retired,
                              Map<String, String> labels, List<FileClaim> files, List<String> signerKeyIds,
                              String manifestDigest, Optional<PolicyView> rollout, List<String> pools) {
    private static final ObjectMapper JSON = JsonMapper.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();

    /**
     * One file as the manifest lists it, and what the archive actually holds for it; {@code encrypted}
     * names the scheme ("age") of a file whose bytes are ciphertext.
     */
    public record FileClaim(String path, long size, String sha256, Optional<String> actualSha256, Optional<String> encrypted) {
        public boolean matches() {
            return actualSha256.isPresent() && actualSha256.get().equals(sha256);
        }
    }

    /** Reading an archive: its contents, or why it is not readable as a bundle. */
    public sealed interface Read {
        record Readable(ArchiveContents contents) implements Read {
        }

        record Unreadable(String reason) implements Read {
        }
    }

    public ArchiveContents {
        labels = Collections.unmodifiableMap(new TreeMap<>(labels));
        files = List.copyOf(files);
        signerKeyIds = List.copyOf(signerKeyIds);
        pools = List.copyOf(pools);
    }

    public boolean filesMatch() {
        return files.stream().allMatch(FileClaim::matches);
    }

    public long totalBytes() {
        return files.stream().mapToLong(FileClaim::size).sum();
    }

    /** Path to SHA-256 as the manifest claims it: the content, for comparing two versions. */
    public Map<String, String> claimedHashes() {
        Map<String, String> m = new TreeMap<>();
        files.forEach(f -> m.put(f.path(), f.sha256()));
        return m;
    }

    /** The manifest digest (the node's ETag) of an archive kgctl itself just packed, which is always readable. */
    public static String manifestDigestOf(byte[] packed) {
        if (read(packed) instanceof Read.Readable r) {
            return r.contents().manifestDigest();
        }
        throw new IllegalStateException("a freshly packed archive is unreadable");
    }

    /** The key ids a signatures.json names, in order, or why its bytes are not one. */
    public sealed interface Signers {
        record Listed(List<String> keyIds) implements Signers {
        }

        record Malformed(String detail) implements Signers {
        }
    }

    /** Reads the key ids of {@code signaturesJson} (an archive's signatures.json, or a node's copy of it). */
    public static Signers signers(byte[] signaturesJson) {
        List<String> keyIds = new ArrayList<>();
        try {
            for (JsonNode s : JSON.readTree(signaturesJson)) {
                keyIds.add(s.path("keyid").asText());
            }
        } catch (JsonProcessingException e) {
            return new Signers.Malformed(Rejection.ofJson("signatures.json", e).detail());
        } catch (IOException e) {
            return new Signers.Malformed("signatures.json: " + e.getMessage()); // reading bytes in memory: not expected
        }
        return new Signers.Listed(keyIds);
    }

    public static Read read(byte[] archive) {
        if (archive.length > Limits.defaults().maxBundleBytes()) {
            return new Read.Unreadable("archive is larger than " + Limits.defaults().maxBundleBytes() + " bytes");
        }
        try {
            return readTar(new ByteArrayInputStream(archive));
        } catch (IOException | RuntimeException e) {
            return new Read.Unreadable("not a readable tar archive: " + e.getMessage());
        }
    }

    private static Read readTar(InputStream in) throws IOException {
        byte[] manifest = null;
        byte[] signatures = null;
        Map<String, String> actual = new LinkedHashMap<>();
        try (TarArchiveInputStream tar = new TarArchiveInputStream(in)) {
            TarArchiveEntry e;
            while ((e = tar.getNextEntry()) != null) {
                if (!e.isFile()) {
                    continue;
                }
                byte[] content = tar.readAllBytes();
                if (e.getName().equals("manifest.json")) {
                    manifest = content;
                } else if (e.getName().equals("signatures.json")) {
                    signatures = content;
                } else if (e.getName().startsWith("files/")) {
                    actual.put(e.getName().substring("files/".length()), Sha256.hex(content));
                }
            }
        }
        if (manifest == null) {
            return new Read.Unreadable("the archive has no manifest.json");
        }
        JsonNode m;
        try {
            m = JSON.readTree(manifest);
        } catch (JsonProcessingException e) {
            return new Read.Unreadable(Rejection.ofJson("manifest.json", e).detail());
        }
        if (m == null || !m.isObject() || !m.path("name").isTextual() || !m.path("version").canConvertToLong()) {
            return new Read.Unreadable("manifest.json has no name or version");
        }
        List<FileClaim> files = new ArrayList<>();
        for (JsonNode f : m.path("files")) {
            String path = f.path("path").asText();
            files.add(new FileClaim(path, f.path("size").asLong(-1), f.path("sha256").asText(),
                    Optional.ofNullable(actual.get(path)),
                    f.hasNonNull("encrypted") ? Optional.of(f.get("encrypted").asText()) : Optional.empty()));
        }
        Map<String, String> labels = new TreeMap<>();
        Iterator<Map.Entry<String, JsonNode>> it = m.path("labels").fields();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> l = it.next();
            labels.put(l.getKey(), l.getValue().asText());
        }
        List<String> signers = List.of();
        if (signatures != null) {
            Signers read = signers(signatures);
            if (read instanceof Signers.Malformed bad) {
                return new Read.Unreadable(bad.detail());
            }
            signers = ((Signers.Listed) read).keyIds();
        }
        List<String> pools = new ArrayList<>();
        m.path("pools").forEach(p -> pools.add(p.asText()));
        Optional<String> expires = m.hasNonNull("expires") ? Optional.of(m.get("expires").asText()) : Optional.empty();
        return new Read.Readable(new ArchiveContents(m.get("name").asText(), m.get("version").asLong(),
                m.path("created").asText(""), expires, m.path("retired").asBoolean(false), labels, files, signers,
                Sha256.hex(manifest), PolicyView.of(m), pools));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ArchiveContents other && manifestDigest.equals(other.manifestDigest);
    }

    @Override
    public int hashCode() {
        return manifestDigest.hashCode();
    }

    @Override
    public String toString() {
        return name + "@" + version + " (" + manifestDigest.substring(0, 12) + ")";
    }
}
