package io.knowngood.cli.mesh;

import io.knowngood.cli.HelpOption;
import io.knowngood.cli.LocalFile;
import io.knowngood.cli.OutputOption;
import io.knowngood.crypto.bundle.Sha256;
import io.knowngood.crypto.meshca.MeshCa;
import java.io.PrintWriter;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code kgctl mesh ca init}: a new ECDSA P-256 mesh CA (ca.key, ca.crt). */
@Command(name = "init", mixinStandardHelpOptions = true,
        description = {"Create the mesh CA: ca.key (PKCS#8 PEM, owner-only) and ca.crt in DIR.",
                "Only hosts with a certificate from this CA can join the mesh or read its traffic.",
                "Keep ca.key offline; an existing CA is never overwritten."},
        footerHeading = "%nExamples:%n",
        footer = {"  kgctl mesh ca init --out /secure/kg-mesh-ca",
                "  kgctl mesh cert issue --ca /secure/kg-mesh-ca --node-id host-17 --out host-17-creds"})
public final class MeshCaInit implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    HelpOption help;

    @Mixin
    OutputOption output;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Directory for ca.key and ca.crt (created if missing).")
    Path out;

    /** What {@code --output json} prints. */
    public record Created(String caKey, String caCert, String subject, String sha256Fingerprint, String notAfter) {
    }

    @Override
    public Integer call() throws Exception {
        LocalFile.directory("--out", out, "the directory ca.key and ca.crt are written into");
        if (Files.exists(out.resolve(MeshCa.CA_KEY)) || Files.exists(out.resolve(MeshCa.CA_CERT))) {
            throw new FileAlreadyExistsException(out.resolve(MeshCa.CA_KEY) + " (a mesh CA already exists there)");
        }
        MeshCa ca = MeshCa.init(out);
        Created c = new Created(out.resolve(MeshCa.CA_KEY).toString(), out.resolve(MeshCa.CA_CERT).toString(),
                ca.certificate().getSubjectX500Principal().getName(), fingerprint(ca.certificate().getEncoded()),
                ca.certificate().getNotAfter().toInstant().toString());
        PrintWriter w = spec.commandLine().getOut();
        if (output.json()) {
            output.printJson(w, c);
        } else {
            w.println("mesh CA:     " + c.subject());
            w.println("certificate: " + c.caCert() + "  (sha256 " + c.sha256Fingerprint() + ", valid until " + c.notAfter() + ")");
            w.println("private key: " + c.caKey() + "  (keep it offline; needed only to issue node certificates)");
            w.flush();
        }
        return 0;
    }

    static String fingerprint(byte[] der) {
        return Sha256.hex(der);
    }
}
