package io.knowngood.crypto.files;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Crash-safe replacement of one file, the one way the project writes a file that must be whole: a
 * temp file in the target's own directory (so the rename never crosses a file system), written and
 * fsynced, renamed atomically over the target, then the directory fsynced so the rename itself
 * survives a power cut. After a crash the target holds the old content or the new one, never a mix;
 * a leftover temp file's name starts with {@link #TEMP_PREFIX}. There is no fallback to a plain
 * copy: where an atomic rename is impossible the call fails with an {@link IOException} that says so.
 */
public final class AtomicFile {

    /** Every temp file this class creates starts with this, so a loader can tell leftovers from data. */
    public static final String TEMP_PREFIX = ".tmp-";

    /** Temp names keep at most this much of the target's name, so they stay under NAME_MAX (255 bytes). */
    private static final int NAME_KEPT = 64;

    private static final FileAttribute<?> OWNER_ONLY = PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"));

    /**
     * Runs the fsyncs of a {@link #writeInGroups} batch beside the caller's own, so the file system
     * can commit them in one journal transaction; threads end after a minute idle.
     */
    private static final ExecutorService SYNCS = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "kg-fsync");
        t.setDaemon(true);
        return t;
    });

    /** One file of a {@link #writeInGroups} batch: the remaining bytes of {@code content} become {@code target}. */
    public record Content(Path target, ByteBuffer content) {
        public Content(Path target, byte[] content) {
            this(target, ByteBuffer.wrap(content));
        }
    }

    private AtomicFile() {
    }

    /** Replaces {@code target} with {@code content}; a new file gets the default permissions (umask). */
    public static void write(Path target, byte[] content) throws IOException {
        write(target, ByteBuffer.wrap(content));
    }

    /** As {@link #write(Path, byte[])}, from the remaining bytes of {@code content} (its position is not moved). */
    public static void write(Path target, ByteBuffer content) throws IOException {
        replace(target, content, false);
    }

    /**
     * As {@link #write(Path, byte[])} for secrets: the file is owner read/write only ({@code rw-------})
     * from the moment it exists, where the file system has POSIX permissions.
     */
    public static void writeOwnerOnly(Path target, byte[] content) throws IOException {
        replace(target, ByteBuffer.wrap(content), true);
    }

    /**
     * Replaces several files, group after group, with the guarantees of calling {@link #write} for each
     * file in order, but fewer waits for the disk: every file of every group is first written to its temp
     * file and all of them are fsynced at once (concurrently); then, group by group, the group's files are
     * renamed over their targets in order and each directory they are in is fsynced once, before the next
     * group is renamed. So a later group is never in place without every earlier one being durable (e.g. a
     * copy, then the record that it was accepted); within a group, each file holds its old content or its
     * new one after a crash, never a mix. Nothing is renamed unless every temp file was written and
     * fsynced; a failure leaves no temp file behind.
     */
    public static void writeInGroups(List<List<Content>> groups) throws IOException {
        writeInGroups(groups, () -> { });
    }

    /**
     * As {@link #writeInGroups(List)}, running {@code written} once every temp file holds its bytes
     * (the file system has taken them, so a full disk has already failed the call) and before the first
     * fsync: a caller can start work that need not wait for the disk (e.g. sending the bytes to peers)
     * while the fsyncs run. Not run if a temp file could not be written; an exception it throws
     * propagates with nothing renamed and the temp files removed.
     */
    public static void writeInGroups(List<List<Content>> groups, Runnable written) throws IOException {
        List<List<Path>> temps = new ArrayList<>();
        List<FileChannel> open = new ArrayList<>();
        try {
            for (List<Content> group : groups) {
                List<Path> groupTemps = new ArrayList<>();
                temps.add(groupTemps);
                for (Content c : group) {
                    Path dir = parentOf(c.target().toAbsolutePath());
                    Files.createDirectories(dir);
                    Path temp = tempFor(dir, c.target().toAbsolutePath());
                    groupTemps.add(temp);
                    FileChannel ch = FileChannel.open(temp, EnumSet.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE));
                    open.add(ch);
                    ByteBuffer b = c.content().duplicate();
                    while (b.hasRemaining()) {
                        ch.write(b);
                    }
                }
            }
            written.run();
            forceAll(open);
            for (int g = 0; g < groups.size(); g++) {
                Set<Path> dirs = new LinkedHashSet<>();
                for (int i = 0; i < groups.get(g).size(); i++) {
                    Path abs = groups.get(g).get(i).target().toAbsolutePath();
                    renameOver(temps.get(g).get(i), abs);
                    dirs.add(abs.getParent());
                }
                syncAll(new ArrayList<>(dirs));
            }
        } finally {
            for (FileChannel ch : open) {
                try {
                    ch.close();
                } catch (IOException ignored) {
                    // the write already failed or succeeded; closing a written temp file changes neither
                }
            }
            for (List<Path> groupTemps : temps) {
                for (Path t : groupTemps) {
                    Files.deleteIfExists(t);
                }
            }
        }
    }

    /** Forces every channel, the first on this thread and the others beside it. */
    private static void forceAll(List<FileChannel> channels) throws IOException {
        List<CompletableFuture<Void>> others = new ArrayList<>();
        for (int i = 1; i < channels.size(); i++) {
            FileChannel ch = channels.get(i);
            others.add(CompletableFuture.runAsync(() -> force(ch), SYNCS));
        }
        IOException first = null;
        try {
            if (!channels.isEmpty()) {
                channels.get(0).force(true);
            }
        } catch (IOException e) {
            first = e;
        }
        first = awaitAll(others, first);
        if (first != null) {
            throw first;
        }
    }

    /** Fsyncs every directory, the first on this thread and the others beside it. */
    private static void syncAll(List<Path> dirs) throws IOException {
        List<CompletableFuture<Void>> others = new ArrayList<>();
        for (int i = 1; i < dirs.size(); i++) {
            Path d = dirs.get(i);
            others.add(CompletableFuture.runAsync(() -> {
                try {
                    fsyncDirectory(d);
                } catch (IOException e) {
                    throw new CompletionException(e);
                }
            }, SYNCS));
        }
        IOException first = null;
        try {
            fsyncDirectory(dirs.get(0));
        } catch (IOException e) {
            first = e;
        }
        first = awaitAll(others, first);
        if (first != null) {
            throw first;
        }
    }

    private static void force(FileChannel ch) {
        try {
            ch.force(true);
        } catch (IOException e) {
            throw new CompletionException(e);
        }
    }

    /** Waits for every future; returns {@code first}, or else the first failure among them. */
    private static IOException awaitAll(List<CompletableFuture<Void>> futures, IOException first) {
        IOException failure = first;
        for (CompletableFuture<Void> f : futures) {
            try {
                f.join();
            } catch (CompletionException e) {
                if (failure == null) {
                    failure = e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
                }
            }
        }
        return failure;
    }

    /**
     * Renames {@code source} to {@code target} atomically, replacing it, and makes the rename durable
     * in both directories. Fails (never copies) when the two are on different file systems.
     */
    public static void move(Path source, Path target) throws IOException {
        Path to = target.toAbsolutePath();
        try {
            Files.move(source, to, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("cannot move " + source + " to " + to + " atomically: they are on different file systems", e);
        }
        Path from = source.toAbsolutePath().getParent();
        fsyncDirectory(to.getParent());
        if (!from.equals(to.getParent())) {
            fsyncDirectory(from);
        }
    }

    /** Makes a rename or delete in {@code dir} durable. */
    public static void fsyncDirectory(Path dir) throws IOException {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException e) {
            // Some platforms refuse to open a directory; the rename is still atomic there. Linux never does.
            if (!System.getProperty("os.name", "").toLowerCase().contains("linux")) {
                return;
            }
            throw e;
        }
    }

    /** Deletes the temp files an interrupted write left in {@code dir} (call before anyone writes there). */
    public static void removeLeftovers(Path dir) throws IOException {
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, TEMP_PREFIX + "*")) {
            for (Path p : ds) {
                Files.deleteIfExists(p);
            }
        }
    }

    private static void replace(Path target, ByteBuffer content, boolean ownerOnly) throws IOException {
        Path abs = target.toAbsolutePath();
        Path dir = parentOf(abs);
        Files.createDirectories(dir);
        Path temp = tempFor(dir, abs);
        Set<StandardOpenOption> options = EnumSet.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        boolean posix = dir.getFileSystem().supportedFileAttributeViews().contains("posix");
        try {
            try (FileChannel ch = ownerOnly && posix ? FileChannel.open(temp, options, OWNER_ONLY) : FileChannel.open(temp, options)) {
                ByteBuffer b = content.duplicate();
                while (b.hasRemaining()) {
                    ch.write(b);
                }
                ch.force(true);
            }
            renameOver(temp, abs);
            fsyncDirectory(dir);
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    private static Path parentOf(Path abs) throws IOException {
        Path dir = abs.getParent();
        if (dir == null) {
            throw new IOException("cannot write " + abs + ": it has no parent directory");
        }
        return dir;
    }

    private static Path tempFor(Path dir, Path abs) {
        String name = abs.getFileName().toString();
        return dir.resolve(TEMP_PREFIX + name.substring(0, Math.min(name.length(), NAME_KEPT)) + "-"
                + Long.toHexString(ThreadLocalRandom.current().nextLong()));
    }

    private static void renameOver(Path temp, Path abs) throws IOException {
        try {
            Files.move(temp, abs, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("cannot replace " + abs + " atomically: its file system cannot rename within " + abs.getParent(), e);
        }
    }
}
