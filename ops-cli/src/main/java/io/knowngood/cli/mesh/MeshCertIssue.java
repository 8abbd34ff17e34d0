package io.knowngood.cli.mesh;

import io.knowngood.cli.HelpOption;
import io.knowngood.cli.LocalFile;
import io.knowngood.cli.OutputOption;
import io.knowngood.crypto.meshca.MeshCa;
import io.knowngood.crypto.meshca.NodeCredentials;
import io.knowngood.crypto.meshca.RevocationList;
import java.io.PrintWriter;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code kgctl mesh cert issue}: a node's mesh TLS credentials, signed by the mesh CA. */
@Command(name = "issue", mixinStandardHelpOptions = true,
        description = {"Issue a node's mesh credentials from the CA in --ca: node.p12 (its P-256 key and certificate),",
                "truststore.p12 (the CA) and store.pass (their password), all owner-only, in DIR.",
                "Give DIR to kgnode with --cluster-tls-dir DIR (cluster-tls-dir in kgnode.yaml), on the host whose",
                "--node-id is ID; kgnode then logs 'mesh TLS on: certificate CN=ID ...'."},
        footerHeading = "%nExamples:%n",
        footer = {"  kgctl mesh cert issue --ca /secure/kg-mesh-ca --node-id host-17 --out /etc/knowngood/mesh",
                "  kgctl mesh cert issue --ca /secure/kg-mesh-ca --node-id host-17 --ip 10.0.0.17 --out /etc/knowngood/mesh"})
public final class MeshCertIssue implements Callable<Integer> {
    /** A node id, as kgnode takes it: also what {@link MeshCertRevoke} accepts. */
    static final String NODE_ID = "[A-Za-z0-9][A-Za-z0-9._-]{0,63}";

    @Spec
    CommandSpec spec;

    @Mixin
    HelpOption help;

    @Mixin
    OutputOption output;

    @Option(names = "--ca", required = true, paramLabel = "DIR", description = "Directory holding ca.key and ca.crt (from 'kgctl mesh ca init').")
    Path ca;

    @Option(names = "--node-id", required = true, paramLabel = "ID", description = "The node's id (its certificate's CN); letters, digits, '.', '_', '-'.")
    String nodeId;

    @Option(names = "--ip", paramLabel = "IP", description = "An IP address the certificate names (subjectAltName), repeatable: the admin address when the same directory serves --admin-tls-dir, so HTTPS clients (kgctl --ca, curl --cacert) accept it. IP literals only.")
    List<String> ips = new ArrayList<>();

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Directory for node.p12, truststore.p12 and store.pass (created if missing).")
    Path out;

    /**
     * What {@code --output json} prints; {@code serial} is the certificate's serial number in hex (what
     * {@code kgctl mesh cert revoke --serial} takes), {@code clusterTlsDir} the value for kgnode's --cluster-tls-dir.
     */
    public record Issued(String nodeId, String serial, String keyStore, String trustStore, String passwordFile, String sha256Fingerprint, String notAfter,
                         String clusterTlsDir) {
    }

    /** {@code --ca} names a directory holding ca.key and ca.crt (also for {@code mesh cert revoke}), or exit 3 saying which is missing. */
    static void requireCa(Path ca) throws java.io.IOException {
        LocalFile.directory("--ca", ca, "the CA's directory, holding ca.key and ca.crt, from 'kgctl mesh ca init'");
        for (String f : new String[] {MeshCa.CA_KEY, MeshCa.CA_CERT}) {
            if (!Files.isRegularFile(ca.resolve(f))) {
                throw new NoSuchFileException(ca.resolve(f) + " (create the CA with 'kgctl mesh ca init')");
            }
        }
    }

    @Override
    public Integer call() throws Exception {
        if (!nodeId.matches(NODE_ID)) {
            throw new ParameterException(spec.commandLine(), "--node-id must match " + NODE_ID + " (got \"" + nodeId + "\")");
        }
        requireCa(ca);
        LocalFile.directory("--out", out, "the directory node.p12, truststore.p12 and store.pass are written into");
        for (String f : new String[] {NodeCredentials.KEYSTORE_FILE, NodeCredentials.TRUSTSTORE_FILE, NodeCredentials.PASSWORD_FILE}) {
            if (Files.exists(out.resolve(f))) {
                throw new FileAlreadyExistsException(out.resolve(f).toString());
            }
        }
        List<InetAddress> addresses = new ArrayList<>();
        for (String ip : ips) {
            String literal = ip.startsWith("[") && ip.endsWith("]") ? ip.substring(1, ip.length() - 1) : ip;
            if (!literal.matches("[0-9.]+|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*") || literal.contains("%")) {
                throw new ParameterException(spec.commandLine(), "--ip takes an IP literal without zone (got \"" + ip + "\"); names are never resolved");
            }
            try {
                addresses.add(InetAddress.getByName(literal)); // a literal: parsed, never looked up
            } catch (java.net.UnknownHostException e) {
                throw new ParameterException(spec.commandLine(), "--ip: \"" + ip + "\" is not an IP address");
            }
        }
        NodeCredentials c = MeshCa.issue(ca, nodeId, addresses, out);
        // absolute: kgnode runs from another directory (systemd: /)
        Path dir = out.toAbsolutePath().normalize();
        Issued i = new Issued(nodeId, RevocationList.hex(c.certificate().getSerialNumber()), dir.resolve(NodeCredentials.KEYSTORE_FILE).toString(),
                dir.resolve(NodeCredentials.TRUSTSTORE_FILE).toString(), dir.resolve(NodeCredentials.PASSWORD_FILE).toString(),
                MeshCaInit.fingerprint(c.certificate().getEncoded()), c.certificate().getNotAfter().toInstant().toString(), dir.toString());
        PrintWriter w = spec.commandLine().getOut();
        if (output.json()) {
            output.printJson(w, i);
        } else {
            w.println("node " + nodeId + ": certificate serial " + i.serial() + ", sha256 " + i.sha256Fingerprint() + ", valid until " + i.notAfter());
            w.println("  wrote " + NodeCredentials.KEYSTORE_FILE + ", " + NodeCredentials.TRUSTSTORE_FILE + " and " + NodeCredentials.PASSWORD_FILE
                    + " (owner-only) to " + dir + "; copy them to that host and give them to the user kgnode runs as");
            w.println("  start kgnode with: --node-id " + nodeId + " --cluster-tls-dir " + dir);
            w.println("  or in kgnode.yaml: node-id: " + nodeId + " and cluster-tls-dir: " + dir);
            if (!addresses.isEmpty()) {
                w.println("  names " + ips + ": also usable as --admin-tls-dir " + dir + " (kgctl --ca " + ca.toAbsolutePath().normalize()
                        .resolve(MeshCa.CA_CERT) + ")");
            }
            w.flush();
        }
        return 0;
    }
}
