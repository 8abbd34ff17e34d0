package io.knowngood.node.http;

import io.knowngood.crypto.bundle.Sha256;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Who a bearer token is: the admin tokens of {@link AdminToken}'s file, re-read when the file changes
 * (checked at most once per {@link #RECHECK}, by modification time, size and file key, on the request
 * that finds it due). A changed file that is not usable keeps the tokens read before (logged as an
 * ERROR each time it is seen), so a typo never locks every operator out. A token is compared with
 * every known one in constant time (SHA-256 of both, {@link MessageDigest#isEqual}), without stopping
 * at the first match.
 */
public final class AdminAccess {

    private static final Logger LOG = LoggerFactory.getLogger(AdminAccess.class);
    /** How often at most the token file is looked at. */
    public static final Duration RECHECK = Duration.ofSeconds(1);

    private record Known(AdminToken.Grant grant, byte[] hash) {
    }

    private final Path file;
    private final Clock clock;
    private volatile List<Known> known;
    private Instant nextCheck;
    private Object stamp;
    private Object refusedStamp;

    /** {@code file} may be null (tokens given in memory, never re-read). */
    public AdminAccess(Path file, List<AdminToken.Grant> initial, Clock clock) {
        this.file = file;
        this.clock = clock;
        this.known = hashed(initial);
        this.nextCheck = clock.instant().plus(RECHECK);
        this.stamp = stampOf(file);
    }

    /** The grant whose token is {@code bearer}'s, or empty. {@code bearer} may be null. */
    public Optional<AdminToken.Grant> authenticate(String bearer) {
        recheck();
        if (bearer == null) {
            return Optional.empty();
        }
        byte[] given = Sha256.newDigest().digest(bearer.getBytes(StandardCharsets.UTF_8));
        AdminToken.Grant match = null;
        for (Known k : known) {
            if (MessageDigest.isEqual(given, k.hash()) && match == null) {
                match = k.grant();
            }
        }
        return Optional.ofNullable(match);
    }

    /** The names of the tokens in force (for logs and views; never the tokens). */
    public List<String> names() {
        return known.stream().map(k -> k.grant().name()).toList();
    }

    private void recheck() {
        if (file == null) {
            return;
        }
        synchronized (this) {
            Instant now = clock.instant();
            if (now.isBefore(nextCheck)) {
                return;
            }
            nextCheck = now.plus(RECHECK);
            Object current = stampOf(file);
            if (Objects.equals(current, stamp)) {
                return;
            }
            AdminToken.Result r = AdminToken.read(file);
            if (r instanceof AdminToken.Usable ok) {
                known = hashed(ok.grants());
                stamp = current;
                refusedStamp = null;
                ok.warning().ifPresent(LOG::error);
                LOG.info("admin tokens re-read from {}: {}", file, names());
            } else if (!Objects.equals(current, refusedStamp)) {
                refusedStamp = current;
                LOG.error("admin token file changed but is not usable, keeping the {} tokens read before ({}): {}",
                        known.size(), names(), ((AdminToken.Unusable) r).problem());
            }
        }
    }

    private static List<Known> hashed(List<AdminToken.Grant> grants) {
        List<Known> out = new ArrayList<>(grants.size());
        for (AdminToken.Grant g : grants) {
            out.add(new Known(g, Sha256.newDigest().digest(g.token().getBytes(StandardCharsets.UTF_8))));
        }
        return List.copyOf(out);
    }

    /** What tells a changed file: modification time, size and file key (a file replaced by rename has a new key). */
    private static Object stampOf(Path file) {
        if (file == null) {
            return null;
        }
        try {
            BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
            return List.of(a.lastModifiedTime(), a.size(), String.valueOf(a.fileKey()));
        } catch (IOException e) {
            return "unreadable: " + e.getClass().getSimpleName();
        }
    }
}
