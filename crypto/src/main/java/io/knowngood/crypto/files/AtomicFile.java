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
import java.util.EnumSet;
import java.util.Set;
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
        Path dir = abs.getParent();
        if (dir == null) {
            throw new IOException("cannot write " + abs + ": it has no parent directory");
        }
        Files.createDirectories(dir);
        String name = abs.getFileName().toString();
        Path temp = dir.resolve(TEMP_PREFIX + name.substring(0, Math.min(name.length(), NAME_KEPT)) + "-"
                + Long.toHexString(ThreadLocalRandom.current().nextLong()));
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
            try {
                Files.move(temp, abs, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException("cannot replace " + abs + " atomically: its file system cannot rename within " + dir, e);
            }
            fsyncDirectory(dir);
        } finally {
            Files.deleteIfExists(temp);
        }
    }
}
