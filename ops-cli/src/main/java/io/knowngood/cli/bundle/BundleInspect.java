package io.knowngood.cli.bundle;

import io.knowngood.cli.CliFailure;
import io.knowngood.cli.ExitCode;
import io.knowngood.cli.HelpOption;
import io.knowngood.cli.LocalFile;
import io.knowngood.cli.OutputOption;
import io.knowngood.crypto.bundle.BundleVerifier;
import io.knowngood.crypto.bundle.Limits;
import io.knowngood.crypto.bundle.TrustedKeys;
import io.knowngood.crypto.bundle.VerifyResult;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code kgctl bundle inspect}: shows what an archive claims. Without {@code --trust} the signature is
 * not checked (and the output says so); file hashes are always checked against the manifest.
 */
@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = {"Print what a bundle archive claims (signature checked only with --trust).", "Prints the manifest of FILE in readable form: name, version, dates (created, expires), rollout policy "
                        + "(waves, promote_ok, promote_after_s, revert_failed), pools, labels, files (encrypted ones "
                        + "marked), signer key ids.",
                "File sizes and hashes are always compared with the manifest. The signature is checked only "
                        + "with --trust; otherwise the output says \"signature not checked\".",
                "Exit 1 if the archive is unreadable, a file does not match, or (with --trust) verification fails."},
        footerHeading = "%nExamples:%n",
        footer = {"  kgctl bundle inspect desktop-base-7.tar",
                "  kgctl bundle inspect desktop-base-7.tar --trust ~/.kg/publisher.pub --output json"})
public final class BundleInspect implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    HelpOption help;

    @Mixin
    OutputOption output;

    @Parameters(index = "0", paramLabel = "FILE", description = "Bundle archive.")
    Path file;

    @Option(names = "--trust", paramLabel = "PUB", description = "Trusted public key (PEM) to also check the signature; repeatable.")
    List<Path> trust = new ArrayList<>();

    /** What {@code --output json} prints. {@code signature} is "not_checked", "valid" or a rejection code. */
    public record Inspection(String name, long version, String created, String expires, boolean retired,
                             Map<String, String> labels, String manifestDigest, List<String> signerKeyIds,
                             String signature, String signatureDetail, boolean filesMatch, int fileCount, long bytes,
                             List<FileLine> files, PolicyView rollout, List<String> pools) {
    }

    /** {@code encrypted} is "age" for a file whose bytes are an age file, null for a plain one. */
    public record FileLine(String path, long size, String sha256, boolean matches, String encrypted) {
    }

    @Override
    public Integer call() throws IOException {
        TrustedKeys keys = trust.isEmpty() ? null : TrustedKeys.fromPemFiles(trust);
        if (Files.size(file) > Limits.defaults().maxBundleBytes()) {
            throw new CliFailure(ExitCode.INVALID, file + " is larger than a bundle may be (" + Limits.defaults().maxBundleBytes() + " bytes)");
        }
        byte[] archive = LocalFile.bytes(file);
        ArchiveContents.Read read = ArchiveContents.read(archive);
        if (read instanceof ArchiveContents.Read.Unreadable u) {
            throw new CliFailure(ExitCode.INVALID, file + ": " + u.reason());
        }
        ArchiveContents c = ((ArchiveContents.Read.Readable) read).contents();

        Inspection view = inspection(c, keys, archive);
        PrintWriter w = spec.commandLine().getOut();
        if (output.json()) {
            output.printJson(w, view);
        } else {
            printText(w, view);
        }
        failIfBad(view);
        return 0;
    }

    /** What an archive claims, with file hashes compared and, if {@code keys} is not null, the signature checked. */
    public static Inspection inspection(ArchiveContents c, TrustedKeys keys, byte[] archive) {
        String signature = "not_checked";
        String signatureDetail = "signature not checked (no --trust given)";
        if (keys != null) {
            VerifyResult r = new BundleVerifier(keys, Limits.defaults()).verify(archive);
            if (r instanceof VerifyResult.Rejected rej) {
                signature = rej.reason().code();
                signatureDetail = "verification failed: " + rej.reason().code() + ": " + rej.reason().detail();
            } else {
                signature = "valid";
                signatureDetail = "valid: signed by a trusted key, every file matches";
            }
        }
        List<FileLine> files = c.files().stream().map(f -> new FileLine(f.path(), f.size(), f.sha256(), f.matches(),
                f.encrypted().orElse(null))).toList();
        return new Inspection(c.name(), c.version(), c.created(), c.expires().orElse(null), c.retired(),
                c.labels(), c.manifestDigest(), c.signerKeyIds(), signature, signatureDetail, c.filesMatch(),
                files.size(), c.totalBytes(), files, c.rollout().orElse(null), c.pools());
    }

    /** Exit 1 when a file does not match or a requested signature check failed. */
    public static void failIfBad(Inspection v) {
        if (!v.filesMatch()) {
            throw new CliFailure(ExitCode.INVALID, "files do not match the manifest: "
                    + String.join(", ", v.files().stream().filter(f -> !f.matches()).map(FileLine::path).toList()));
        }
        if (!v.signature().equals("valid") && !v.signature().equals("not_checked")) {
            throw new CliFailure(ExitCode.INVALID, "rejected: " + v.signature() + ": " + v.signatureDetail());
        }
    }

    public static void printText(PrintWriter w, Inspection v) {
        w.println("name:      " + v.name());
        w.println("version:   " + v.version() + (v.retired() ? "  (RETIRED: this version withdraws the bundle)" : ""));
        w.println("created:   " + v.created());
        if (v.expires() != null) {
            w.println("expires:   " + v.expires());
        }
        if (v.rollout() != null) {
            w.println("rollout:   " + v.rollout().summary());
            for (String line : v.rollout().waveLines()) {
                w.println("           " + line);
            }
        }
        w.println("pools:     " + (v.pools().isEmpty() ? "- (every VM)" : String.join(", ", v.pools())));
        w.println("labels:    " + (v.labels().isEmpty() ? "-" : String.join(", ",
                v.labels().entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).toList())));
        w.println("manifest:  sha256 " + v.manifestDigest());
        w.println("signers:   " + (v.signerKeyIds().isEmpty() ? "none" : String.join(", ", v.signerKeyIds())));
        w.println("signature: " + v.signatureDetail());
        w.printf("files:     %d, %d bytes%s%n", v.fileCount(), v.bytes(), v.filesMatch() ? ", all match the manifest" : "");
        for (FileLine f : v.files()) {
            w.printf("  %10d  %s  %s%s%s%n", f.size(), f.sha256().length() >= 16 ? f.sha256().substring(0, 16) : f.sha256(),
                    f.path(), f.encrypted() == null ? "" : "  (encrypted: " + f.encrypted() + ")", f.matches() ? "" : "  MISMATCH");
        }
        w.flush();
    }
}
