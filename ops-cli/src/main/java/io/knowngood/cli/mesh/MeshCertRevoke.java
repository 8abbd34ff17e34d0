package io.knowngood.cli.mesh;

import io.knowngood.cli.CliFailure;
import io.knowngood.cli.Environment;
import io.knowngood.cli.ExitCode;
import io.knowngood.cli.HelpOption;
import io.knowngood.cli.OutputOption;
import io.knowngood.crypto.meshca.MeshCa;
import io.knowngood.crypto.meshca.RevocationList;
import java.io.PrintWriter;
import java.math.BigInteger;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code kgctl mesh cert revoke}: puts node certificates on the mesh CA's revocation list (crl.pem). */
@Command(name = "revoke", mixinStandardHelpOptions = true,
        description = {"Revoke node certificates: add them to crl.pem, the revocation list in --ca DIR",
                "(created when missing, signed by ca.key, its list number raised by one).",
                "--node-id revokes every certificate issued to ID that kgctl kept in DIR/issued;",
                "--serial revokes one by its serial number, as for a certificate issued before",
                "kgctl kept copies: its node logs it at start, 'mesh TLS on: ... serial HEX'.",
                "Revoke before issuing a node id a new certificate, or revoke by --serial.",
                "Then copy crl.pem into any one node's --cluster-tls-dir (with sites: one node",
                "in each site): the mesh carries it to every other node within a second or two;",
                "each refuses the revoked certificates and closes its connections to them."},
        footerHeading = "%nExamples:%n",
        footer = {"  kgctl mesh cert revoke --ca /secure/kg-mesh-ca --node-id host-3",
                "  kgctl mesh cert revoke --ca /secure/kg-mesh-ca --serial 5C:0E:91:7A:3B:D2:44",
                "  scp /secure/kg-mesh-ca/crl.pem host-17:/etc/knowngood/mesh/crl.pem"})
public final class MeshCertRevoke implements Callable<Integer> {
    /** Hex digits, optionally in colon-separated groups as openssl prints serials. */
    private static final String SERIAL = "[0-9A-Fa-f]+(:[0-9A-Fa-f]+)*";
    /** RFC 5280: a serial number is at most 20 octets. */
    private static final int MAX_SERIAL_HEX_DIGITS = 40;

    private final Environment env;

    @Spec
    CommandSpec spec;

    @Mixin
    HelpOption help;

    @Mixin
    OutputOption output;

    @Option(names = "--ca", required = true, paramLabel = "DIR", description = "Directory holding ca.key and ca.crt (from 'kgctl mesh ca init'); crl.pem is written there.")
    Path ca;

    @Option(names = "--node-id", paramLabel = "ID", description = "Revoke every certificate issued to this node id (as kept under DIR/issued by 'kgctl mesh cert issue').")
    String nodeId;

    @Option(names = "--serial", paramLabel = "HEX", description = "Revoke the certificate with this serial number, repeatable: hex digits, any case, colons allowed (as openssl prints it).")
    List<String> serials = new ArrayList<>();

    MeshCertRevoke(Environment env) {
        this.env = env;
    }

    /** One certificate in {@code --output json}; {@code nodeId} and {@code notAfter} are null when no copy of it was kept. */
    public record Certificate(String serial, String nodeId, String notAfter) {
        static Certificate of(MeshCa.Issued i) {
            return new Certificate(RevocationList.hex(i.serial()), i.nodeId().orElse(null), i.notAfter().map(Object::toString).orElse(null));
        }
    }

    /** What {@code --output json} prints: the list now in {@code crlFile}, what this run added to it and what was on it already. */
    public record Revoked(String crlFile, BigInteger number, String thisUpdate, int entries, List<Certificate> revoked,
                          List<Certificate> alreadyRevoked) {
    }

    @Override
    public Integer call() throws Exception {
        if (nodeId == null && serials.isEmpty()) {
            throw new ParameterException(spec.commandLine(), "say what to revoke: --node-id ID, --serial HEX, or both");
        }
        if (nodeId != null && !nodeId.matches(MeshCertIssue.NODE_ID)) {
            throw new ParameterException(spec.commandLine(), "--node-id must match " + MeshCertIssue.NODE_ID + " (got \"" + nodeId + "\")");
        }
        List<BigInteger> numbers = new ArrayList<>();
        for (String s : serials) {
            numbers.add(serial(s));
        }
        MeshCertIssue.requireCa(ca);
        Path dir = ca.toAbsolutePath().normalize();
        MeshCa.Revocation r = MeshCa.revoke(dir, Optional.ofNullable(nodeId), numbers, env.clock());
        if (r instanceof MeshCa.NoSuchCertificate none) {
            throw new CliFailure(ExitCode.NOT_FOUND, "no certificate issued to node " + none.nodeId() + " is kept in " + none.issuedDir()
                    + " (kgctl keeps a copy of each one it issues there); one issued before kgctl kept copies must be revoked with"
                    + " --serial HEX: the node logs it at start, 'mesh TLS on: certificate CN=" + none.nodeId() + ",O=knowngood serial HEX ...'");
        }
        if (r instanceof MeshCa.UnusableList bad) {
            throw new CliFailure(ExitCode.IO, "cannot use " + bad.file() + ": " + bad.reason()
                    + "; left it as it is (restore the list this CA wrote, e.g. from a node's --cluster-tls-dir, or move the file away"
                    + " to start a new list that names only what is revoked from now on)");
        }
        MeshCa.Revoked done = (MeshCa.Revoked) r;
        Revoked out = new Revoked(done.file().toString(), done.list().number(), done.list().thisUpdate().toString(), done.list().size(),
                done.added().stream().map(Certificate::of).toList(), done.already().stream().map(Certificate::of).toList());
        PrintWriter w = spec.commandLine().getOut();
        if (output.json()) {
            output.printJson(w, out);
            return 0;
        }
        for (Certificate c : out.revoked()) {
            w.println("revoked " + describe(c, dir));
        }
        for (Certificate c : out.alreadyRevoked()) {
            w.println("already revoked " + describe(c, dir));
        }
        String list = "list number " + out.number() + ", " + out.entries() + (out.entries() == 1 ? " certificate" : " certificates") + " revoked";
        if (out.revoked().isEmpty()) {
            w.println("nothing new to revoke: " + out.crlFile() + " unchanged (" + list + ")");
        } else {
            w.println("wrote " + out.crlFile() + ": " + list);
        }
        w.println("  copy " + RevocationList.FILE + " into any one node's --cluster-tls-dir (cluster-tls-dir in kgnode.yaml; with sites,"
                + " one node in each site), readable by the"
                + " user kgnode runs as: the mesh carries it to the others");
        w.println("  each node has it within a second or two, refuses the revoked certificates and closes its connections to them;"
                + " a revoked host then serves alone from its disk");
        w.flush();
        return 0;
    }

    private static String describe(Certificate c, Path caDir) {
        if (c.nodeId() == null) {
            return "?: serial " + c.serial() + " (serial only: no copy under " + caDir.resolve(MeshCa.ISSUED_DIR)
                    + ", so its node id and expiry are unknown)";
        }
        return c.nodeId() + ": serial " + c.serial() + ", was valid until " + c.notAfter();
    }

    private BigInteger serial(String value) {
        if (!value.matches(SERIAL)) {
            throw new ParameterException(spec.commandLine(), "--serial takes a certificate serial number in hex, colons allowed (got \""
                    + value + "\")");
        }
        BigInteger n = new BigInteger(value.replace(":", ""), 16);
        if (n.signum() == 0 || n.toString(16).length() > MAX_SERIAL_HEX_DIGITS) {
            throw new ParameterException(spec.commandLine(), "--serial " + value + ": a certificate serial number is 1 to "
                    + MAX_SERIAL_HEX_DIGITS + " hex digits and not zero");
        }
        return n;
    }
}
