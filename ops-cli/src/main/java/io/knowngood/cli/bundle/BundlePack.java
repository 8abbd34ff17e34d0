package io.knowngood.cli.bundle;

import io.knowngood.cli.CliFailure;
import io.knowngood.cli.Environment;
import io.knowngood.cli.ExitCode;
import io.knowngood.cli.HelpOption;
import io.knowngood.cli.OutputOption;
import io.knowngood.crypto.bundle.BundleName;
import io.knowngood.crypto.bundle.BundlePacker;
import io.knowngood.crypto.bundle.Ed25519Keys;
import io.knowngood.crypto.bundle.KeyId;
import io.knowngood.crypto.bundle.Limits;
import io.knowngood.crypto.files.AtomicFile;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code kgctl bundle pack}: every regular file under SRC_DIR becomes one signed bundle archive. */
@Command(name = "pack", mixinStandardHelpOptions = true,
        description = {"Build and sign a bundle archive from a directory.", "Builds and signs a bundle archive from every regular file under SRC_DIR (recursively).",
                "Symbolic links and special files are refused. The output is written atomically."},
        footerHeading = "%nExamples:%n",
        footer = {"  kgctl bundle pack ./desktop-base --name desktop-base --version 7 --key ~/.kg/publisher.key --out desktop-base-7.tar",
                "  kgctl bundle pack ./printers --name printers --version 3 --key pub.key --out p.tar --label site=berlin --label tier=prod"})
public final class BundlePack implements Callable<Integer> {
    private final Environment env;

    @Spec
    CommandSpec spec;

    @Mixin
    HelpOption help;

    @Mixin
    OutputOption output;

    @Parameters(index = "0", paramLabel = "SRC_DIR", description = "Directory whose files become the bundle.")
    Path src;

    @Option(names = "--name", required = true, paramLabel = "NAME", description = "Bundle name: " + BundleName.RULE + ".")
    String name;

    @Option(names = "--version", required = true, paramLabel = "V", description = "Version, 1 .. 2^63-1, higher than any the mesh has seen for NAME.")
    long version;

    @Option(names = "--key", required = true, paramLabel = "KEY", description = "Publisher private key (PKCS#8 PEM, from 'kgctl keys generate').")
    Path key;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "Archive to write.")
    Path out;

    @Option(names = "--label", paramLabel = "KEY=VALUE", description = "A label in the manifest (repeatable).")
    Map<String, String> labels = new LinkedHashMap<>();

    BundlePack(Environment env) {
        this.env = env;
    }

    /** What {@code --output json} prints. */
    public record Packed(String name, long version, int files, long bytes, long archiveBytes, String manifestDigest,
                         String keyId, String out) {
    }

    @Override
    public Integer call() throws IOException {
        if (!BundleName.isValid(name)) {
            throw new ParameterException(spec.commandLine(), "--name \"" + name + "\" does not match " + BundleName.RULE);
        }
        if (version < 1) {
            throw new ParameterException(spec.commandLine(), "--version must be from 1 to 2^63-1, got " + version);
        }
        if (!Files.exists(src)) {
            throw new NoSuchFileException(src.toString());
        }
        PrivateKey privateKey = Ed25519Keys.readPrivatePem(key);
        BundlePacker.PackResult result = BundlePacker.pack(src, name, version, labels, privateKey, env.clock(), Limits.defaults());
        if (result instanceof BundlePacker.PackResult.Refused refused) {
            throw new CliFailure(ExitCode.INVALID, "cannot pack " + src + ": " + refused.reason());
        }
        BundlePacker.PackResult.Packed packed = (BundlePacker.PackResult.Packed) result;
        AtomicFile.write(out, packed.archive());

        String keyId = KeyId.of(Ed25519Keys.publicKeyOf(privateKey)).hex();
        Packed report = new Packed(name, version, packed.manifest().files().size(), packed.manifest().totalFileBytes(),
                packed.archive().length, ArchiveContents.manifestDigestOf(packed.archive()), keyId, out.toString());
        PrintWriter w = spec.commandLine().getOut();
        if (output.json()) {
            output.printJson(w, report);
        } else {
            w.printf("packed %s version %d: %d files, %d bytes, signed by %s%n", name, version, report.files(),
                    report.bytes(), keyId);
            w.println("wrote " + out + " (" + report.archiveBytes() + " bytes)");
            w.flush();
        }
        return 0;
    }

}
