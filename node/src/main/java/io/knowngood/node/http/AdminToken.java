package io.knowngood.node.http;

import io.knowngood.crypto.files.AtomicFile;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin bearer token, read from its file: one line of at least {@value #MIN_LENGTH} printable
 * ASCII characters, owner-only, the same on every node (kgctl sends one token to whichever node
 * answers). {@link #read} says what is wrong with a file, and every refusal says how to make a good
 * one; {@link #load} also creates one (0600) in try-it mode. The token itself is never logged.
 */
public final class AdminToken {

    private static final Logger LOG = LoggerFactory.getLogger(AdminToken.class);

    public static final int MIN_LENGTH = 16;
    private static final long MAX_FILE_BYTES = 4096;
    private static final Set<PosixFilePermission> TOO_OPEN = Set.of(PosixFilePermission.OTHERS_READ,
            PosixFilePermission.OTHERS_WRITE, PosixFilePermission.GROUP_WRITE);

    private AdminToken() {}

    /** What a token file gives: a token (with a warning when its file is open to others), or why there is none. */
    public sealed interface Result permits Usable, Unusable {}

    /** A usable token; {@code warning} says what to fix about its file, when anything. */
    public record Usable(String token, Optional<String> warning) implements Result {}

    /** No usable token; {@code problem} is one line naming the file, the cause and how to make a good one. */
    public record Unusable(String problem) implements Result {}

    /** The shell line that makes a good token file at {@code file}. */
    public static String howToMake(Path file) {
        return "umask 077; head -c 32 /dev/urandom | base64 | tr -d '/+=\\n' > " + file;
    }

    /** Reads and checks {@code file}. */
    public static Result read(Path file) {
        String text;
        try {
            if (Files.isDirectory(file)) {
                return unusable(file, "admin token file " + file + " is a directory");
            }
            if (Files.size(file) > MAX_FILE_BYTES) {
                return unusable(file, "admin token file " + file + " holds " + Files.size(file) + " bytes, not one line");
            }
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return unusable(file, "admin token file " + file + " does not exist");
        } catch (AccessDeniedException e) {
            return new Unusable("cannot read admin token file " + file + ": permission denied for user "
                    + System.getProperty("user.name") + " (kgnode runs as this user; give it the file: chown, then chmod 600)");
        } catch (IOException e) {
            return new Unusable("cannot read admin token file " + file + ": " + e);
        }
        String token = text.strip();
        long lines = token.lines().count();
        if (lines > 1) {
            return unusable(file, "admin token file " + file + " holds " + lines + " lines; it must hold the token alone, on one line");
        }
        if (token.length() < MIN_LENGTH) {
            return unusable(file, "admin token in " + file + " is " + token.length() + " characters long; it needs at least " + MIN_LENGTH);
        }
        if (!token.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
            return unusable(file, "admin token in " + file + " holds spaces or characters outside printable ASCII "
                    + "(it travels in an HTTP header)");
        }
        return new Usable(token, openTo(file).map(mode -> "admin token file " + file + " is open to other users (mode " + mode
                + "): anyone on this host who reads it can publish to the mesh; make it owner-only: chmod 600 " + file));
    }

    /**
     * The token in {@code file}; when it does not exist and {@code createIfMissing} (try-it mode, the
     * default file in the data dir), a new random one is written there first (0600).
     *
     * @throws IOException with {@link Unusable#problem()} as its message when the file gives no usable token
     */
    public static String load(Path file, boolean createIfMissing) throws IOException {
        if (createIfMissing && !Files.exists(file)) {
            create(file);
        }
        Result r = read(file);
        if (r instanceof Unusable u) {
            throw new IOException(u.problem());
        }
        Usable ok = (Usable) r;
        ok.warning().ifPresent(LOG::error);
        return ok.token();
    }

    private static void create(Path file) throws IOException {
        byte[] random = new byte[32];
        new SecureRandom().nextBytes(random);
        String token = Base64.getUrlEncoder().withoutPadding().encodeToString(random);
        Files.createDirectories(file.toAbsolutePath().getParent());
        // whole or not at all: a crash never leaves an empty token file behind
        AtomicFile.writeOwnerOnly(file, (token + "\n").getBytes(StandardCharsets.US_ASCII));
        LOG.info("generated an admin token in {}", file);
    }

    private static Unusable unusable(Path file, String cause) {
        return new Unusable(cause + ". Make one (one line, at least " + MIN_LENGTH + " characters, owner-only, "
                + "the same file on every node): " + howToMake(file));
    }

    /** The file's mode (e.g. 644) when others may read it or others or the group may write it. */
    private static Optional<String> openTo(Path file) {
        try {
            Set<PosixFilePermission> p = Files.getPosixFilePermissions(file);
            if (p.stream().noneMatch(TOO_OPEN::contains)) {
                return Optional.empty();
            }
            int mode = 0;
            for (PosixFilePermission each : p) {
                mode |= 1 << (8 - each.ordinal());
            }
            return Optional.of(Integer.toOctalString(mode));
        } catch (UnsupportedOperationException | IOException notPosix) {
            return Optional.empty();
        }
    }
}
