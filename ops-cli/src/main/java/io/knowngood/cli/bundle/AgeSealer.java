package io.knowngood.cli.bundle;

import com.exceptionfactory.jagged.EncryptingChannelFactory;
import com.exceptionfactory.jagged.RecipientStanzaWriter;
import com.exceptionfactory.jagged.framework.stream.StandardEncryptingChannelFactory;
import com.exceptionfactory.jagged.x25519.X25519RecipientStanzaWriterFactory;
import io.knowngood.crypto.bundle.BundlePacker;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.WritableByteChannel;
import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code bundle pack --encrypt GLOB --recipient AGE_RECIPIENT}: every file whose bundle path matches
 * one of the globs (java.nio {@link PathMatcher} glob syntax) becomes a binary age v1 file encrypted
 * to ALL the recipients, by jagged, before crypto hashes and signs it. It remembers which globs
 * matched, so a mistyped glob is refused instead of shipping a secret in the clear.
 */
final class AgeSealer implements BundlePacker.FileSealer {
    /** What age-keygen prints and age accepts for an X25519 recipient. */
    static final String RECIPIENT_PREFIX = "age1";

    private final Map<String, PathMatcher> globs;
    private final List<RecipientStanzaWriter> recipients;
    private final Set<String> matched = new LinkedHashSet<>();

    private AgeSealer(Map<String, PathMatcher> globs, List<RecipientStanzaWriter> recipients) {
        this.globs = globs;
        this.recipients = recipients;
    }

    /** A sealer built from the command line, or why the globs or recipients are not usable (one line). */
    sealed interface Built {
        record Ready(AgeSealer sealer) implements Built {
        }

        record Invalid(String reason) implements Built {
        }
    }

    static Built of(List<String> globs, List<String> recipients) {
        if (globs.isEmpty() || recipients.isEmpty()) {
            return new Built.Invalid(globs.isEmpty()
                    ? "--recipient needs --encrypt GLOB (which files to encrypt)"
                    : "--encrypt needs --recipient AGE_RECIPIENT (who can decrypt)");
        }
        Map<String, PathMatcher> matchers = new LinkedHashMap<>();
        for (String glob : globs) {
            try {
                matchers.put(glob, FileSystems.getDefault().getPathMatcher("glob:" + glob));
            } catch (IllegalArgumentException e) { // PatternSyntaxException is one
                return new Built.Invalid("--encrypt \"" + glob + "\" is not a glob: " + e.getMessage());
            }
        }
        List<RecipientStanzaWriter> writers = new ArrayList<>();
        for (String r : new LinkedHashSet<>(recipients)) {
            String problem = null;
            if (!r.startsWith(RECIPIENT_PREFIX)) {
                problem = "it does not start with " + RECIPIENT_PREFIX;
            } else {
                try {
                    writers.add(X25519RecipientStanzaWriterFactory.newRecipientStanzaWriter(r));
                } catch (GeneralSecurityException | RuntimeException e) { // bech32 errors are IllegalArgumentException
                    problem = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
                }
            }
            if (problem != null) {
                return new Built.Invalid("--recipient \"" + r + "\" is not an age X25519 recipient (age1..., as age-keygen "
                        + "or 'kgctl keys generate --age' prints it): " + problem);
            }
        }
        return new Built.Ready(new AgeSealer(matchers, List.copyOf(writers)));
    }

    @Override
    public boolean matches(String path) {
        boolean any = false;
        Path p = Path.of(path);
        for (Map.Entry<String, PathMatcher> g : globs.entrySet()) {
            if (g.getValue().matches(p)) {
                matched.add(g.getKey());
                any = true;
            }
        }
        return any;
    }

    @Override
    public byte[] seal(String path, byte[] plain) {
        EncryptingChannelFactory factory = new StandardEncryptingChannelFactory();
        ByteArrayOutputStream out = new ByteArrayOutputStream(plain.length + 256 + 128 * recipients.size());
        try (WritableByteChannel ch = factory.newEncryptingChannel(Channels.newChannel(out), recipients)) {
            ByteBuffer in = ByteBuffer.wrap(plain);
            while (in.hasRemaining()) {
                ch.write(in);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("encrypting " + path + " in memory", e);
        } catch (GeneralSecurityException e) {
            // the JDK 17 providers have X25519 and ChaCha20-Poly1305; without them kgctl cannot work at all
            throw new IllegalStateException("encrypting " + path + ": " + e.getMessage(), e);
        }
        return out.toByteArray();
    }

    /** Globs that matched no file of the bundle so far, in the order given. */
    List<String> unmatchedGlobs() {
        return globs.keySet().stream().filter(g -> !matched.contains(g)).toList();
    }

    /** How many distinct recipients every sealed file is encrypted to. */
    int recipientCount() {
        return recipients.size();
    }
}
