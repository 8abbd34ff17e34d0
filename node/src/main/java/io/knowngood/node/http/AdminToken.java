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
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collections;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin tokens, read from their file. Either one bare line, the token alone (one token named
 * {@value #BARE_NAME} with every scope, as before scopes existed), or one token per line as
 * {@code NAME SCOPES TOKEN} ({@code ops publish 3f9a...}; scopes {@code read} and {@code publish},
 * comma-separated; {@code publish} includes {@code read}), with {@code #} comments and blank lines.
 * A token is at least {@value #MIN_LENGTH} printable ASCII characters; names and tokens are distinct.
 * The file is owner-only and the same on every node (kgctl sends its one token to whichever node
 * answers). {@link #read} says what is wrong with a file, and every refusal says how to make a good
 * one; {@link #load} also creates one (0600) in try-it mode. Tokens themselves are never logged.
 */
public final class AdminToken {

    private static final Logger LOG = LoggerFactory.getLogger(AdminToken.class);

    public static final int MIN_LENGTH = 16;
    /** At most this many tokens in one file. */
    public static final int MAX_TOKENS = 100;
    /** The name of the one token of a bare (single-token) file. */
    public static final String BARE_NAME = "admin";
    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9._-]{0,63}");
    private static final long MAX_FILE_BYTES = 64 * 1024;
    private static final Set<PosixFilePermission> TOO_OPEN = Set.of(PosixFilePermission.OTHERS_READ,
            PosixFilePermission.OTHERS_WRITE, PosixFilePermission.GROUP_WRITE);

    private AdminToken() {}

    /** What a token may do. {@code PUBLISH} (PUT bundles, rollout controls) includes {@code READ}. */
    public enum Scope {
        READ, PUBLISH;

        public String wire() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** One token: its name (for the audit log and the logs; the token itself never appears), scopes and value. */
    public record Grant(String name, Set<Scope> scopes, String token) {
        public Grant {
            scopes = scopes.contains(Scope.PUBLISH) ? EnumSet.allOf(Scope.class) : EnumSet.copyOf(scopes);
            scopes = Collections.unmodifiableSet(scopes);
        }

        public boolean may(Scope s) {
            return scopes.contains(s);
        }

        @Override
        public String toString() {
            return name + " " + scopes;
        }
    }

    /** What a token file gives: tokens (with a warning when its file is open to others), or why there are none. */
    public sealed interface Result permits Usable, Unusable {}

    /** Usable tokens; {@code warning} says what to fix about their file, when anything. */
    public record Usable(List<Grant> grants, Optional<String> warning) implements Result {
        public Usable {
            grants = List.copyOf(grants);
        }
    }

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
                return unusable(file, "admin token file " + file + " holds " + Files.size(file) + " bytes, more than "
                        + MAX_FILE_BYTES + " (at most " + MAX_TOKENS + " tokens)");
            }
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return unusable(file, "admin token file " + file + " does not exist");
        } catch (AccessDeniedException e) {
            return new Unusable("cannot read admin token file " + file + ": permission denied for user "
                    + System.getProperty("user.name") + " (kgnode runs as this user; give it the file: chown, then chmod 600)");
        } catch (IOException e) {
            return new Unusable("cannot read admin token file " + file + ": " + e);
        } catch (java.io.UncheckedIOException e) {
            return new Unusable("cannot read admin token file " + file + ": not UTF-8 text");
        }
        List<String[]> lines = new ArrayList<>();
        List<Integer> numbers = new ArrayList<>();
        List<String> all = text.lines().toList();
        for (int i = 0; i < all.size(); i++) {
            String line = all.get(i).strip();
            if (!line.isEmpty() && !line.startsWith("#")) {
                lines.add(line.split("[ \\t]+"));
                numbers.add(i + 1);
            }
        }
        if (lines.isEmpty()) {
            return unusable(file, "admin token in " + file + " is 0 characters long; it needs at least " + MIN_LENGTH);
        }
        if (lines.size() == 1 && lines.get(0).length == 1) {
            String token = lines.get(0)[0];
            String problem = tokenProblem(token);
            if (problem != null) {
                return unusable(file, "admin token in " + file + " " + problem);
            }
            return usable(file, List.of(new Grant(BARE_NAME, EnumSet.allOf(Scope.class), token)));
        }
        if (lines.size() > MAX_TOKENS) {
            return unusable(file, "admin token file " + file + " holds " + lines.size() + " tokens, more than " + MAX_TOKENS);
        }
        List<Grant> grants = new ArrayList<>();
        Set<String> names = new HashSet<>();
        Set<String> tokens = new HashSet<>();
        for (int i = 0; i < lines.size(); i++) {
            String[] f = lines.get(i);
            String where = "admin token file " + file + " line " + numbers.get(i);
            if (f.length != 3) {
                return unusable(file, where + ": expected NAME SCOPES TOKEN (e.g. \"ops publish <token>\"), found "
                        + f.length + " field" + (f.length == 1 ? "" : "s") + " (a bare token is allowed only as the file's one line)");
            }
            if (!NAME.matcher(f[0]).matches()) {
                return unusable(file, where + ": token name \"" + f[0] + "\" does not match ^" + NAME.pattern() + "$");
            }
            EnumSet<Scope> scopes = EnumSet.noneOf(Scope.class);
            for (String sc : f[1].split(",", -1)) {
                Optional<Scope> one = Arrays.stream(Scope.values()).filter(x -> x.wire().equals(sc)).findFirst();
                if (one.isEmpty()) {
                    return unusable(file, where + ": unknown scope \"" + sc + "\" (scopes: read, publish)");
                }
                scopes.add(one.get());
            }
            String problem = tokenProblem(f[2]);
            if (problem != null) {
                return unusable(file, where + ": the token " + problem);
            }
            if (!names.add(f[0])) {
                return unusable(file, where + ": token name " + f[0] + " is given twice");
            }
            if (!tokens.add(f[2])) {
                return unusable(file, where + ": this token is also given to an earlier name; each name needs its own token");
            }
            grants.add(new Grant(f[0], scopes, f[2]));
        }
        return usable(file, grants);
    }

    private static Usable usable(Path file, List<Grant> grants) {
        return new Usable(grants, openTo(file).map(mode -> "admin token file " + file + " is open to other users (mode " + mode
                + "): anyone on this host who reads it can publish to the mesh; make it owner-only: chmod 600 " + file));
    }

    /** What is wrong with a token's text, or null. */
    private static String tokenProblem(String token) {
        if (token.length() < MIN_LENGTH) {
            return "is " + token.length() + " characters long; it needs at least " + MIN_LENGTH;
        }
        if (!token.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
            return "holds characters outside printable ASCII (it travels in an HTTP header)";
        }
        return null;
    }

    /**
     * The tokens in {@code file}; when it does not exist and {@code createIfMissing} (try-it mode, the
     * default file in the data dir), a new random one is written there first (0600).
     *
     * @throws IOException with {@link Unusable#problem()} as its message when the file gives no usable token
     */
    public static List<Grant> load(Path file, boolean createIfMissing) throws IOException {
        if (createIfMissing && !Files.exists(file)) {
            create(file);
        }
        Result r = read(file);
        if (r instanceof Unusable u) {
            throw new IOException(u.problem());
        }
        Usable ok = (Usable) r;
        ok.warning().ifPresent(LOG::error);
        return ok.grants();
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
