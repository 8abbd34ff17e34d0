package io.knowngood.cli.bundle;

import io.knowngood.cli.CliFailure;
import io.knowngood.cli.ExitCode;
import io.knowngood.cli.HelpOption;
import io.knowngood.cli.LocalFile;
import io.knowngood.cli.OutputOption;
import io.knowngood.crypto.bundle.BundleVerifier;
import io.knowngood.crypto.bundle.KeyId;
import io.knowngood.crypto.bundle.Limits;
import io.knowngood.crypto.bundle.Rejection;
import io.knowngood.crypto.bundle.TrustedKeys;
import io.knowngood.crypto.bundle.VerifiedBundle;
import io.knowngood.crypto.bundle.VerifyResult;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code kgctl bundle verify}: the same strict check a node makes before accepting a bundle (rollback aside). */
@Command(name = "verify", mixinStandardHelpOptions = true,
        description = {"Verify a bundle archive as a node would (exit 1 with the reason if not).", "Verifies FILE exactly as a node does on publish: archive layout, manifest syntax, a signature "
                + "by one of the trusted keys over the exact manifest.json bytes, every file's size and SHA-256, "
                + "and the default limits (16 MiB a file, 64 MiB a bundle, 10,000 files).",
                "Exit 0 if valid; exit 1 and the reason code (e.g. bad_signature, hash_mismatch) if not."},
        footerHeading = "%nExamples:%n",
        footer = {"  kgctl bundle verify desktop-base-7.tar --trust ~/.kg/publisher.pub",
                "  kgctl bundle verify b.tar --trust old.pub --trust new.pub --output json"})
public final class BundleVerify implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    HelpOption help;

    @Mixin
    OutputOption output;

    @Parameters(index = "0", paramLabel = "FILE", description = "Bundle archive.")
    Path file;

    @Option(names = "--trust", required = true, paramLabel = "PUB", description = "Trusted publisher public key (PEM); repeatable.")
    List<Path> trust;

    @Option(names = "--name", paramLabel = "NAME", description = "Also require the bundle to be named NAME.")
    String expectedName;

    /** What {@code --output json} prints: either the bundle's identity or the rejection. */
    public record Verdict(boolean valid, String name, Long version, String manifestDigest, List<String> signerKeyIds,
                          Integer files, String code, String detail) {
        static Verdict of(VerifiedBundle b) {
            return new Verdict(true, b.name(), b.version(), b.manifestDigest(),
                    b.signerKeyIds().stream().map(KeyId::hex).toList(), b.manifest().files().size(), null, null);
        }

        static Verdict of(Rejection r) {
            return new Verdict(false, null, null, null, null, null, r.code(), r.detail());
        }
    }

    @Override
    public Integer call() throws IOException {
        TrustedKeys keys = TrustedKeys.fromPemFiles(trust);
        BundleVerifier verifier = new BundleVerifier(keys, Limits.defaults());
        VerifyResult result;
        try (InputStream in = LocalFile.open(file)) {
            result = verifier.verify(in);
        }
        if (result instanceof VerifyResult.Verified v && expectedName != null && !v.bundle().name().equals(expectedName)) {
            result = verifier.verifyAs(expectedName, v.bundle().archiveBytes());
        }
        PrintWriter w = spec.commandLine().getOut();
        if (result instanceof VerifyResult.Rejected r) {
            if (output.json()) {
                output.printJson(w, Verdict.of(r.reason()));
            }
            throw new CliFailure(ExitCode.INVALID, "rejected: " + r.reason().code() + ": " + r.reason().detail());
        }
        VerifiedBundle b = ((VerifyResult.Verified) result).bundle();
        if (output.json()) {
            output.printJson(w, Verdict.of(b));
        } else {
            w.printf("valid: %s version %d%s, %d files, %d bytes, signed by %s%n", b.name(), b.version(),
                    b.retired() ? " (retired)" : "", b.manifest().files().size(), b.manifest().totalFileBytes(),
                    String.join(", ", b.signerKeyIds().stream().map(KeyId::hex).toList()));
            w.flush();
        }
        return 0;
    }
}
