package io.knowngood.node.store;

import io.knowngood.crypto.bundle.BundleName;
import io.knowngood.crypto.bundle.Rejection;
import io.knowngood.crypto.bundle.Sha256;
import io.knowngood.crypto.files.AtomicFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The store's files on disk: {@code <data-dir>/bundles/<name>/<version, 19 digits>.tar} holds the
 * exact signed archive, {@code .tar.sha256} beside it the archive's SHA-256 (so any changed byte is
 * caught, even where no signature or file hash reaches), and {@code <data-dir>/quarantine/} the
 * damaged copies, named {@code <name>@<version>-<time>.tar}: the durable evidence that a version
 * was lost to damage, not to a restored backup. Every write is atomic and fsynced ({@link
 * AtomicFile}). It also remembers which copies were verified since start, for the history listing.
 * Listing problems are reported to the {@link ProblemLog}; what to do about a copy is the caller's.
 */
final class BundleFiles {
    // One log name for everything the store reports, as operators know it.
    private static final Logger LOG = LoggerFactory.getLogger(BundleStore.class);
    private static final Pattern FILE = Pattern.compile("^(\\d{19})\\.tar$");
    private static final Pattern QUARANTINED = Pattern.compile("^(" + BundleName.REGEX + ")@(\\d{1,19})-.*\\.tar$");

    /** A copy found in quarantine/: that version of that name was damaged here once. */
    record Quarantined(String name, long version) {}

    private final Path bundlesDir;
    private final Path quarantineDir;
    private final Clock clock;
    private final ProblemLog problems;
    /** name -> version -> manifest digest, for copies verified since start. */
    private final Map<String, Map<Long, String>> verifiedDigests = new ConcurrentHashMap<>();

    BundleFiles(Path dataDir, Clock clock, ProblemLog problems) {
        this.bundlesDir = dataDir.resolve("bundles");
        this.quarantineDir = dataDir.resolve("quarantine");
        this.clock = clock;
        this.problems = problems;
    }

    Path bundlesDir() {
        return bundlesDir;
    }

    void createDirectories() throws IOException {
        Files.createDirectories(bundlesDir);
        Files.createDirectories(quarantineDir);
    }

    /** Removes what an interrupted write left in {@code name}'s directory (before anyone writes there). */
    void removeLeftovers(String name) throws IOException {
        AtomicFile.removeLeftovers(bundlesDir.resolve(name));
    }

    Path fileFor(String name, long version) {
        return bundlesDir.resolve(name).resolve(fileName(version));
    }

    /**
     * {@code <version, 19 digits>.tar} (a version is 1 or more). Padded by hand: a store names its file
     * several times, and {@code String.format} was an eighth of a receiver's ingest thread while the
     * publish path is not yet compiled (JFR, 5 nodes, issue 18).
     */
    static String fileName(long version) {
        String digits = Long.toString(version);
        return "0".repeat(Math.max(0, 19 - digits.length())) + digits + ".tar";
    }

    /** Names with a directory on disk, sorted. */
    List<String> names() {
        List<String> names = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(bundlesDir)) {
            for (Path p : ds) {
                String n = p.getFileName().toString();
                if (Files.isDirectory(p) && BundleName.isValid(n)) {
                    names.add(n);
                }
            }
        } catch (IOException e) {
            problems.record("read_failed", "cannot list " + bundlesDir + ": " + e.getMessage());
        }
        names.sort(null);
        return names;
    }

    /** Versions on disk for {@code name}, newest first. */
    List<Long> versions(String name) {
        List<Long> versions = new ArrayList<>();
        Path dir = bundlesDir.resolve(name);
        if (!Files.isDirectory(dir)) {
            return versions;
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                Matcher m = FILE.matcher(p.getFileName().toString());
                if (m.matches()) {
                    versions.add(Long.parseLong(m.group(1)));
                }
            }
        } catch (IOException | NumberFormatException e) {
            problems.record("read_failed", "cannot list " + dir + ": " + e.getMessage());
        }
        versions.sort(Comparator.reverseOrder());
        return versions;
    }

    byte[] read(String name, long version) throws IOException {
        return Files.readAllBytes(fileFor(name, version));
    }

    /** Writes the archive, then its SHA-256 beside it, each atomically. */
    void write(String name, long version, ByteBuffer archive) throws IOException {
        Path file = fileFor(name, version);
        AtomicFile.write(file, archive);
        AtomicFile.write(sidecar(file), archiveDigest(archive).getBytes(StandardCharsets.US_ASCII));
    }

    /**
     * Writes a version not on disk yet: the archive and its SHA-256 beside it, then {@code then} (the
     * rollback floor), with the outcomes after a crash of {@link #write} followed by the floor's own
     * write (the floor never names a copy that is not durable yet) but one wait for the disk for all
     * the files and one per directory ({@link AtomicFile#writeInGroups}) instead of one per file and
     * one per rename. {@code written} runs once the file system holds every byte, before the first
     * fsync ({@link AtomicFile#writeInGroups(List, Runnable)}).
     */
    void writeNew(String name, long version, ByteBuffer archive, Optional<AtomicFile.Content> then, Runnable written)
            throws IOException {
        Path file = fileFor(name, version);
        List<AtomicFile.Content> copy = List.of(new AtomicFile.Content(file, archive),
                new AtomicFile.Content(sidecar(file), archiveDigest(archive).getBytes(StandardCharsets.US_ASCII)));
        AtomicFile.writeInGroups(then.isPresent() ? List.of(copy, List.of(then.get())) : List.of(copy), written);
    }

    /**
     * Replaces the copy of a version already on disk with another bundle of the same version (a
     * tie won by a peer's bundle). The recorded SHA-256 goes first, so a crash in between leaves
     * either copy with no record, which verification alone then judges, never a good copy that
     * looks damaged because its record belongs to the other.
     */
    void replace(String name, long version, ByteBuffer archive) throws IOException {
        Path file = fileFor(name, version);
        Files.deleteIfExists(sidecar(file));
        AtomicFile.fsyncDirectory(file.getParent());
        write(name, version, archive);
    }

    /** Remembers that the copy of {@code name@version} on disk verified, with this manifest digest. */
    void verified(String name, long version, String manifestDigest) {
        verifiedDigests.computeIfAbsent(name, k -> new ConcurrentHashMap<>()).put(version, manifestDigest);
    }

    /**
     * The archive's SHA-256, recorded beside it when accepted, catches changes verification cannot
     * see (tar padding, bytes after the end marker): a copy must be the exact bytes accepted.
     */
    Optional<Rejection> alteredSinceAccepted(String name, long version, byte[] bytes) {
        Path side = sidecar(fileFor(name, version));
        try {
            String recorded = Files.readString(side, StandardCharsets.US_ASCII).trim();
            if (!recorded.equals(archiveDigest(ByteBuffer.wrap(bytes)))) {
                return Optional.of(new Rejection.MalformedArchive("archive bytes differ from those accepted (sha256 mismatch)"));
            }
        } catch (NoSuchFileException e) {
            return Optional.empty(); // written before the archive's own sidecar (crash in between): verification decides
        } catch (IOException e) {
            return Optional.of(new Rejection.MalformedArchive("unreadable " + side.getFileName() + ": " + e.getMessage()));
        }
        return Optional.empty();
    }

    /** Records the SHA-256 of a copy that verified but had none recorded (a crash between the two writes). */
    void writeSidecarIfMissing(String name, long version, byte[] bytes) {
        Path side = sidecar(fileFor(name, version));
        if (!Files.exists(side)) {
            try {
                AtomicFile.write(side, archiveDigest(ByteBuffer.wrap(bytes)).getBytes(StandardCharsets.US_ASCII));
            } catch (IOException e) {
                problems.record("write_failed", "cannot write " + side + ": " + e.getMessage());
            }
        }
    }

    /** Moves a damaged copy to quarantine/, where it stays as evidence; failures are reported, not thrown. */
    void quarantine(String name, long version) {
        Path p = fileFor(name, version);
        try {
            Files.deleteIfExists(sidecar(p));
        } catch (IOException e) {
            problems.record("write_failed", "cannot remove " + sidecar(p) + ": " + e.getMessage());
        }
        String stamp = DateTimeFormatter.ISO_INSTANT.format(clock.instant()).replace(':', '-');
        Path target = quarantineDir.resolve(name + "@" + version + "-" + stamp + ".tar");
        try {
            AtomicFile.move(p, target);
            LOG.warn("moved damaged copy {}@{} to {}", name, version, target);
        } catch (IOException e) {
            problems.record("write_failed", "cannot quarantine " + name + "@" + version + ": " + e.getMessage());
        }
        forget(name, version);
    }

    /** Every copy in quarantine/ this store put there. */
    List<Quarantined> quarantined() {
        List<Quarantined> out = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(quarantineDir)) {
            for (Path p : ds) {
                Matcher m = QUARANTINED.matcher(p.getFileName().toString());
                if (m.matches()) {
                    try {
                        out.add(new Quarantined(m.group(1), Long.parseLong(m.group(2))));
                    } catch (NumberFormatException ignored) {
                        // not one of ours
                    }
                }
            }
        } catch (IOException e) {
            problems.record("read_failed", "cannot list " + quarantineDir + ": " + e.getMessage());
        }
        return out;
    }

    /**
     * Deletes all but the newest {@code keep} versions of {@code name}, never {@code served} and never a
     * version at or above {@code keepFrom} (0: no such floor): keep-versions is a floor for the copies a
     * rollout may fall back to, not a cap that drops the known-good one.
     */
    void prune(String name, int keep, long served, long keepFrom) {
        List<Long> versions = versions(name);
        for (int i = keep; i < versions.size(); i++) {
            long v = versions.get(i);
            if (v == served || (keepFrom > 0 && v >= keepFrom)) {
                continue;
            }
            try {
                Files.deleteIfExists(fileFor(name, v));
                Files.deleteIfExists(sidecar(fileFor(name, v)));
                forget(name, v);
            } catch (IOException e) {
                problems.record("write_failed", "cannot prune " + name + "@" + v + ": " + e.getMessage());
            }
        }
    }

    /** Versions of {@code name} kept on disk, newest first; {@code served} (0: none) is the one served. */
    List<HistoryEntry> history(String name, long served) throws IOException {
        if (!BundleName.isValid(name)) {
            return List.of();
        }
        Map<Long, String> digests = verifiedDigests.getOrDefault(name, Map.of());
        List<HistoryEntry> out = new ArrayList<>();
        for (long v : versions(name)) {
            Path p = fileFor(name, v);
            long size;
            Instant at;
            try {
                size = Files.size(p);
                at = Files.getLastModifiedTime(p).toInstant();
            } catch (NoSuchFileException e) {
                continue;
            }
            String state = v == served ? "current" : digests.containsKey(v) ? "kept" : "unverified";
            out.add(new HistoryEntry(v, Optional.ofNullable(digests.get(v)), size, at, state));
        }
        return out;
    }

    private void forget(String name, long version) {
        Map<Long, String> d = verifiedDigests.get(name);
        if (d != null) {
            d.remove(version);
        }
    }

    private static Path sidecar(Path archive) {
        return archive.resolveSibling(archive.getFileName() + ".sha256");
    }

    private static String archiveDigest(ByteBuffer archive) {
        MessageDigest md = Sha256.newDigest();
        md.update(archive.duplicate());
        return Sha256.hex(md);
    }
}
