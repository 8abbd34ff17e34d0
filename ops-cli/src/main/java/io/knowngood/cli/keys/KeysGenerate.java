package io.knowngood.cli.keys;

import io.knowngood.cli.Environment;
import io.knowngood.cli.HelpOption;
import io.knowngood.cli.LocalFile;
import io.knowngood.cli.OutputOption;
import io.knowngood.crypto.bundle.Ed25519Keys;
import io.knowngood.crypto.bundle.KeyId;
import io.knowngood.crypto.files.AtomicFile;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code kgctl keys generate}: a new Ed25519 publisher key pair as PEM files openssl can read, or with
 * {@code --age} a pool's age identity file that the stock {@code age} reads.
 */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = {"Generate an Ed25519 publisher key pair (NAME.key, NAME.pub), or an age identity (--age).",
                "Writes NAME.key (PKCS#8 PEM, mode 0600) and NAME.pub (SubjectPublicKeyInfo PEM) into DIR "
                + "and prints the key id (hex SHA-256 of the public key's DER encoding).",
                "With --age: writes NAME.agekey (an age X25519 identity file as age-keygen writes it, mode 0600) "
                + "and prints its recipient (age1...), the value for 'bundle pack --recipient'.",
                "Existing files are never overwritten."},
        footerHeading = "%nExamples:%n",
        footer = {"  kgctl keys generate --out ~/.kg --name publisher",
                "  kgctl keys generate --out keys --output json",
                "  kgctl keys generate --age --out ~/.kg/pools --name finance   # then: age -d -i finance.agekey FILE"})
public final class KeysGenerate implements Callable<Integer> {
    private final Environment env;

    KeysGenerate(Environment env) {
        this.env = env;
    }

    @Spec
    CommandSpec spec;

    @Mixin
    HelpOption help;

    @Mixin
    OutputOption output;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Directory to write the key files into (created if missing).")
    Path out;

    @Option(names = "--name", paramLabel = "NAME",
            description = "File name stem: NAME.key and NAME.pub (with --age: NAME.agekey). Default: publisher (with --age: pool).")
    String name;

    @Option(names = "--age", description = "Generate an age X25519 identity (NAME.agekey) for a pool's VMs instead of a publisher key.")
    boolean age;

    /** What {@code --output json} prints. */
    public record Generated(String keyId, String privateKey, String publicKey) {
    }

    /** What {@code --output json} prints with {@code --age}. */
    public record GeneratedAge(String recipient, String identity) {
    }

    @Override
    public Integer call() throws IOException {
        if (name == null) {
            name = age ? "pool" : "publisher";
        }
        if (!name.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,127}")) {
            throw new ParameterException(spec.commandLine(), "--name must be letters, digits, '.', '_' or '-' (got \"" + name + "\")");
        }
        Files.createDirectories(LocalFile.directory("--out", out, "the directory the key files are written into"));
        if (age) {
            return generateAge(out.resolve(name + ".agekey"));
        }
        Path priv = out.resolve(name + ".key");
        Path pub = out.resolve(name + ".pub");
        for (Path p : new Path[] {priv, pub}) {
            if (Files.exists(p)) {
                throw new FileAlreadyExistsException(p.toString());
            }
        }
        KeyPair pair = Ed25519Keys.generate();
        Ed25519Keys.writePrivatePem(pair.getPrivate(), priv);
        Ed25519Keys.writePublicPem(pair.getPublic(), pub);
        String keyId = KeyId.of(pair.getPublic()).hex();

        PrintWriter w = spec.commandLine().getOut();
        if (output.json()) {
            output.printJson(w, new Generated(keyId, priv.toString(), pub.toString()));
        } else {
            w.println("key id:      " + keyId);
            w.println("private key: " + priv + "  (keep it secret; only publishers need it)");
            w.println("public key:  " + pub + "  (give it to nodes with --trust-key and to VMs)");
            w.flush();
        }
        return 0;
    }

    private int generateAge(Path identity) throws IOException {
        if (Files.exists(identity, LinkOption.NOFOLLOW_LINKS)) {
            throw new FileAlreadyExistsException(identity.toString());
        }
        AgeIdentity id = AgeIdentity.generate();
        AtomicFile.writeOwnerOnly(identity, id.fileText(env.clock().instant()).getBytes(StandardCharsets.US_ASCII));

        PrintWriter w = spec.commandLine().getOut();
        if (output.json()) {
            output.printJson(w, new GeneratedAge(id.recipient(), identity.toString()));
        } else {
            w.println("recipient: " + id.recipient() + "  (for 'kgctl bundle pack --recipient')");
            w.println("identity:  " + identity + "  (keep it secret; only the pool's VMs need it: age -d -i " + identity.getFileName() + ")");
            w.flush();
        }
        return 0;
    }
}
