package io.knowngood.crypto.bundle;

import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * The signed description of one bundle version (manifest.json). Immutable and valid by
 * construction; the exact bytes that were signed are kept by {@link VerifiedBundle}, never
 * re-created from this record.
 */
public record Manifest(int schema, String name, long version, Instant created, Optional<Instant> expires,
                       List<FileEntry> files, Map<String, String> labels, boolean retired,
                       Optional<RolloutPolicy> rollout) {
    public static final int SCHEMA = 1;

    public Manifest {
        if (schema != SCHEMA) {
            throw new IllegalArgumentException("unknown schema " + schema);
        }
        if (!BundleName.isValid(name)) {
            throw new IllegalArgumentException("bad bundle name: " + name);
        }
        if (version < 1) {
            throw new IllegalArgumentException("version must be >= 1: " + version);
        }
        if (created == null) {
            throw new IllegalArgumentException("created is required");
        }
        expires = expires == null ? Optional.empty() : expires;
        rollout = rollout == null ? Optional.empty() : rollout;
        files = List.copyOf(files);
        labels = labels == null ? Map.of() : Map.copyOf(new TreeMap<>(labels));
        if (retired && !files.isEmpty()) {
            throw new IllegalArgumentException("a retired version has no files");
        }
        if (retired && rollout.isPresent()) {
            throw new IllegalArgumentException("a retired version has no rollout");
        }
        Set<String> seen = new HashSet<>();
        for (FileEntry f : files) {
            if (!seen.add(f.path())) {
                throw new IllegalArgumentException("duplicate path " + f.path());
            }
        }
    }

    /** A manifest without a rollout policy (good as soon as held). */
    public Manifest(int schema, String name, long version, Instant created, Optional<Instant> expires,
                    List<FileEntry> files, Map<String, String> labels, boolean retired) {
        this(schema, name, version, created, expires, files, labels, retired, Optional.empty());
    }

    public long totalFileBytes() {
        long sum = 0;
        for (FileEntry f : files) {
            sum += f.size();
        }
        return sum;
    }

    public Optional<FileEntry> file(String path) {
        for (FileEntry f : files) {
            if (f.path().equals(path)) {
                return Optional.of(f);
            }
        }
        return Optional.empty();
    }
}
