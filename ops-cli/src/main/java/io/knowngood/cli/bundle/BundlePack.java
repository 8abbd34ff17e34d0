package io.knowngood.cli.bundle;

import io.knowngood.cli.CliFailure;
import io.knowngood.cli.Environment;
import io.knowngood.cli.ExitCode;
import io.knowngood.cli.HelpOption;
import io.knowngood.cli.LocalFile;
import io.knowngood.cli.OutputOption;
import io.knowngood.crypto.bundle.BundleName;
import io.knowngood.crypto.bundle.BundlePacker;
import io.knowngood.crypto.bundle.FileEntry;
import io.knowngood.crypto.bundle.PoolName;
import io.knowngood.crypto.bundle.RolloutPolicy;
import io.knowngood.crypto.files.AtomicFile;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
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
                "  kgctl bundle pack ./printers --name printers --version 3 --key pub.key --out p.tar --label site=berlin --label tier=prod",
                "  kgctl bundle pack ./desktop-base --name desktop-base --version 8 --key pub.key --out d8.tar --expires 30d --rollout canary.json",
                "  kgctl bundle pack ./finance --name finance-desk --version 4 --key pub.key --out f4.tar --pool finance "
                        + "--encrypt 'secrets/**' --recipient age1...",
                "  # canary.json: {\"waves\":[{\"hosts\":[\"host-17\"]},{\"percent\":10}],\"promote_ok\":3,\"promote_after_s\":300,\"revert_failed\":2}"})
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

    @Option(names = "--key", required = true, paramLabel = "KEY", description = "Publisher private key (PKCS#8 PEM, from 'kgctl keys generate'). "
            + "Repeatable: each key signs (during a publisher key rotation, the old and the new key, so nodes and guests trusting either accept it).")
    List<Path> keys;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "Archive to write.")
    Path out;

    @Option(names = "--label", paramLabel = "KEY=VALUE", description = "A label in the manifest (repeatable).")
    List<String> labelArgs = new ArrayList<>();

    @Option(names = "--expires", paramLabel = "DURATION|RFC3339",
            description = "When this version goes stale: a duration from now (30d, 12h, 90m, 45s, PT36H) or an RFC 3339 time. "
                    + "Nodes keep serving it after that, marked expired.")
    String expires;

    @Option(names = "--rollout", paramLabel = "FILE.json",
            description = "Rollout policy (JSON: waves, promote_ok, promote_after_s, revert_failed), signed into the manifest.")
    Path rollout;

    @Option(names = "--pool", paramLabel = "NAME",
            description = "Only VMs in this pool may see the bundle (repeatable; signed into the manifest). "
                    + "Without --pool the bundle is for every VM.")
    List<String> pools = new ArrayList<>();

    @Option(names = "--encrypt", paramLabel = "GLOB",
            description = "Encrypt the files whose bundle path matches GLOB (java.nio glob: 'secrets/**', '*.pw', "
                    + "'**/*.pw'; repeatable) with age, to every --recipient. A GLOB that matches no file is an error.")
    List<String> encrypt = new ArrayList<>();

    @Option(names = "--recipient", paramLabel = "AGE_RECIPIENT",
            description = "An age X25519 recipient (age1..., from 'kgctl keys generate --age' or age-keygen) that can "
                    + "decrypt the --encrypt files (repeatable: each file is encrypted to all of them).")
    List<String> recipients = new ArrayList<>();

    BundlePack(Environment env) {
        this.env = env;
    }

    /** What {@code --output json} prints. {@code keyId}: the first key's; {@code keyIds}: every signing key's, in order. */
    public record Packed(String name, long version, int files, long bytes, long archiveBytes, String manifestDigest,
                         String keyId, String out, String expires, PolicyView rollout, List<String> pools,
                         List<String> encrypted, List<String> keyIds) {
    }

    /** A rollout file larger than this is not a policy (a policy has at most 32 waves of 1,000 hosts). */
    static final long MAX_ROLLOUT_FILE_BYTES = 1 << 20;

    @Override
    public Integer call() throws IOException {
        if (!BundleName.isValid(name)) {
            throw new ParameterException(spec.commandLine(), "--name \"" + name + "\" does not match " + BundleName.RULE);
        }
        if (version < 1) {
            throw new ParameterException(spec.commandLine(), "--version must be from 1 to 2^63-1, got " + version);
        }
        Map<String, String> labels = Packing.labels(spec, labelArgs);
        // else known only after packing, from the temp file's move, named after it
        LocalFile.file("--out", out, "give the archive's file name, e.g. " + out.resolve(name + "-" + version + ".tar"));
        if (!Files.exists(src)) {
            throw new NoSuchFileException(src.toString());
        }
        Optional<Instant> expiresAt = Optional.empty();
        if (expires != null) {
            Expiry.Parse e = Expiry.parse(expires, env.clock().instant());
            if (e instanceof Expiry.Parse.Invalid bad) {
                throw new ParameterException(spec.commandLine(), bad.reason());
            }
            expiresAt = Optional.of(((Expiry.Parse.At) e).expires());
        }
        for (String pool : pools) {
            if (!PoolName.isValid(pool)) {
                throw new ParameterException(spec.commandLine(), "--pool \"" + pool + "\" does not match " + PoolName.RULE);
            }
        }
        if (new TreeSet<>(pools).size() > PoolName.MAX_PER_MANIFEST) {
            throw new ParameterException(spec.commandLine(), "at most " + PoolName.MAX_PER_MANIFEST + " --pool names");
        }
        Optional<AgeSealer> sealer = Optional.empty();
        if (!encrypt.isEmpty() || !recipients.isEmpty()) {
            AgeSealer.Built built = AgeSealer.of(encrypt, recipients);
            if (built instanceof AgeSealer.Built.Invalid bad) {
                throw new ParameterException(spec.commandLine(), bad.reason());
            }
            sealer = Optional.of(((AgeSealer.Built.Ready) built).sealer());
        }
        Optional<RolloutPolicy> policy = rollout == null ? Optional.empty() : Optional.of(readPolicy(rollout));
        List<PrivateKey> privateKeys = Packing.readKeys(keys);
        BundlePacker.PackResult result = Packing.pack(src, name, version, labels, expiresAt, policy, pools,
                sealer.map(s -> (BundlePacker.FileSealer) s), privateKeys, env.clock());
        if (result instanceof BundlePacker.PackResult.Refused refused) {
            throw new CliFailure(ExitCode.INVALID, "cannot pack " + src + ": " + refused.reason());
        }
        if (sealer.isPresent() && !sealer.get().unmatchedGlobs().isEmpty()) {
            // a mistyped glob would otherwise ship the secret it meant in the clear
            throw new CliFailure(ExitCode.USAGE, "--encrypt " + String.join(", ", sealer.get().unmatchedGlobs().stream()
                    .map(g -> "\"" + g + "\"").toList()) + " matches no file under " + src + "; nothing written");
        }
        BundlePacker.PackResult.Packed packed = (BundlePacker.PackResult.Packed) result;
        AtomicFile.write(out, packed.archive());
        List<String> encrypted = packed.manifest().files().stream().filter(f -> f.encrypted().isPresent())
                .map(FileEntry::path).toList();

        List<String> keyIds = Packing.keyIds(privateKeys);
        String keyId = keyIds.get(0);
        ArchiveContents c = ((ArchiveContents.Read.Readable) ArchiveContents.read(packed.archive())).contents();
        Packed report = new Packed(name, version, packed.manifest().files().size(), packed.manifest().totalFileBytes(),
                packed.archive().length, c.manifestDigest(), keyId, out.toString(), c.expires().orElse(null), c.rollout().orElse(null),
                packed.manifest().pools(), encrypted, keyIds);
        PrintWriter w = spec.commandLine().getOut();
        if (output.json()) {
            output.printJson(w, report);
        } else {
            w.printf("packed %s version %d: %d files, %d bytes, signed by %s%n", name, version, report.files(),
                    report.bytes(), String.join(" and ", keyIds));
            if (report.expires() != null) {
                w.println("expires " + report.expires());
            }
            if (report.rollout() != null) {
                w.println("rollout: " + report.rollout().summary());
            }
            if (!report.pools().isEmpty()) {
                w.println("pools: " + String.join(", ", report.pools()) + " (only their VMs see it)");
            }
            if (!encrypted.isEmpty()) {
                w.printf("encrypted (age, to %d recipient%s): %s%n", sealer.get().recipientCount(),
                        sealer.get().recipientCount() == 1 ? "" : "s", String.join(", ", encrypted));
            }
            w.println("wrote " + out + " (" + report.archiveBytes() + " bytes)");
            w.flush();
        }
        return 0;
    }

    /** The policy in FILE; a file that is not one is a bad command line (exit 2), one that cannot be read is exit 3. */
    private RolloutPolicy readPolicy(Path file) throws IOException {
        if (!Files.exists(file)) {
            throw new NoSuchFileException(file.toString());
        }
        if (Files.size(file) > MAX_ROLLOUT_FILE_BYTES) {
            throw new CliFailure(ExitCode.USAGE, "--rollout " + file + ": larger than " + MAX_ROLLOUT_FILE_BYTES + " bytes, not a rollout policy");
        }
        Packing.PolicyRead r = Packing.parsePolicy(LocalFile.bytes(file));
        if (r instanceof Packing.PolicyRead.Invalid bad) {
            throw new CliFailure(ExitCode.USAGE, "--rollout " + file + ": " + bad.reason());
        }
        return ((Packing.PolicyRead.Parsed) r).policy();
    }
}
