package io.knowngood.cli.node;

import io.knowngood.api.ApiJson;
import io.knowngood.api.BundleHistory;
import io.knowngood.api.MeshBundleList;
import io.knowngood.api.RolloutList;
import io.knowngood.cli.CliFailure;
import io.knowngood.cli.Environment;
import io.knowngood.cli.ExitCode;
import io.knowngood.cli.HelpOption;
import io.knowngood.cli.OutputOption;
import io.knowngood.cli.bundle.ArchiveContents;
import io.knowngood.cli.bundle.Packing;
import io.knowngood.crypto.bundle.BundleName;
import io.knowngood.crypto.bundle.BundleVerifier;
import io.knowngood.crypto.bundle.Ed25519Keys;
import io.knowngood.crypto.bundle.Limits;
import io.knowngood.crypto.bundle.Sha256;
import io.knowngood.crypto.bundle.TrustedKeys;
import io.knowngood.crypto.bundle.VerifyResult;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code kgctl rollback NAME --to V}: publishes the files, labels and pools of kept version V again (encrypted
 * files as the same ciphertext), signed
 * with KEY, as a new version current+1. Rollback protection is never bypassed: going back in content
 * is going forward in version. The new version has no rollout policy and no expiry, so it is good
 * as soon as it is held.
 */
@Command(name = "rollback",
        description = {"Publish the content of an earlier kept version again, as version current+1.",
                "Fetches version V of NAME from a node's admin endpoint (GET /v1/bundles/NAME/versions/V: only versions the "
                        + "node keeps), checks its name, version and every file's hash, and publishes its files, labels and pools again (encrypted files as the same ciphertext), "
                        + "signed with KEY, at the mesh's highest version + 1. The new version has no rollout and no expiry: it "
                        + "takes effect on every host at once.",
                "A V whose rollout was reverted (its VMs reported it failed, or it was aborted) is refused, exit 1, unless "
                        + "--even-if-reverted.",
                "Exit 7 when no node keeps V (the error names the kept versions); otherwise as publish."},
        footerHeading = "%nExamples:%n",
        footer = {"  kgctl rollback desktop-base --to 7 --key ~/.kg/publisher.key --node http://10.0.0.5:8781 --token-file ~/.kg/admin.token"})
public final class RollbackCommand implements Callable<Integer> {
    private final Environment env;

    @Spec
    CommandSpec spec;

    @Mixin
    HelpOption help;

    @Mixin
    OutputOption output;

    @Mixin
    NodeOptions nodes;

    @Parameters(index = "0", paramLabel = "NAME", description = "Bundle name.")
    String name;

    @Option(names = "--to", required = true, paramLabel = "V", description = "The kept version whose content to publish again.")
    long to;

    @Option(names = "--key", required = true, paramLabel = "KEY", description = "Publisher private key (PKCS#8 PEM). Repeatable: "
            + "each key signs (during a publisher key rotation, the old and the new key).")
    List<Path> keys;

    @Option(names = "--even-if-reverted", description = "Roll back to V even though its rollout was reverted (its VMs "
            + "reported it failed, or it was aborted). Without it such a V is refused: a rollback reaches every host at once.")
    boolean evenIfReverted;

    RollbackCommand(Environment env) {
        this.env = env;
    }

    /** What {@code --output json} prints. */
    public record RolledBack(String name, long from, long version, long previous, int files, String node, String digest,
                             int membersHolding, int membersInView, boolean complete, List<Publisher.Attempt> attempts) {
    }

    @Override
    public Integer call() throws IOException, InterruptedException {
        if (!BundleName.isValid(name)) {
            throw new ParameterException(spec.commandLine(), "\"" + name + "\" is not a bundle name");
        }
        if (to < 1) {
            throw new ParameterException(spec.commandLine(), "--to must be from 1 to 2^63-1, got " + to);
        }
        List<PrivateKey> privateKeys = Packing.readKeys(keys);
        PrivateKey privateKey = privateKeys.get(0);
        List<NodeClient> admins = nodes.admins(env);
        PrintWriter err = spec.commandLine().getErr();
        String cmd = spec.qualifiedName();

        KeptVersion.Fetched kept = KeptVersion.fetch(admins, name, to, err, cmd, "; nothing to roll back to");
        Optional<BundleHistory> history = KeptVersion.history(kept.node(), name);
        byte[] archive = kept.archive();
        ArchiveContents old = check(kept.node(), archive, privateKey);
        if (!evenIfReverted) {
            refuseIfReverted(kept.node());
        }
        SortedMap<String, byte[]> files = files(archive, old);

        MeshBundleList.Entry mesh = MeshBundles.fetch(admins, err, cmd).list().get(name)
                .orElse(MeshBundleList.Entry.membersOnly(name, null, Map.of()));
        long current = highestKnown(mesh, history);
        long next = current + 1;
        // pools and encrypted files carry over: a rollback must never widen who sees a bundle or mark ciphertext plain
        Set<String> encrypted = old.files().stream().filter(f -> f.encrypted().isPresent()).map(ArchiveContents.FileClaim::path)
                .collect(Collectors.toSet());
        byte[] packed = Packing.packAgain(name, next, files, old.labels(), old.pools(), encrypted, privateKeys, env.clock());
        Publisher.Outcome o = new Publisher(admins, err, cmd).publish(name, next, ArchiveContents.manifestDigestOf(packed), packed);
        if (o instanceof Publisher.Outcome.Failed f) {
            throw new CliFailure(f.exitCode(), f.message());
        }
        Publisher.Outcome.Stored s = (Publisher.Outcome.Stored) o;
        PrintWriter w = spec.commandLine().getOut();
        if (output.json()) {
            output.printJson(w, new RolledBack(name, to, s.version(), current, files.size(), s.node(), s.digest(), s.membersHolding(),
                    s.membersInView(), s.complete(), s.attempts()));
        } else {
            w.println("rolled back " + name + " to the content of version " + to + " as version " + s.version());
            w.println(PublishCommand.describe(s));
            w.flush();
        }
        return 0;
    }

    /**
     * A V whose rollout was reverted is refused: its VMs said it fails (or an operator aborted it), and a
     * rollback has no rollout, so it would reach every host at once. A typo in --to must not do that.
     * The node that kept V says (its view of the mesh's rollout records); one that cannot is a failure too.
     */
    private void refuseIfReverted(NodeClient node) throws InterruptedException {
        NodeClient.Answer a = node.get("/v1/rollouts/" + name, Optional.empty());
        if (a instanceof NodeClient.Answer.Reply r && r.status() == 200
                && ApiJson.decode(r.body(), RolloutList.class) instanceof ApiJson.Decoded.Body<RolloutList> b) {
            Optional<RolloutList.Rollout> v = b.value().rollouts().stream().filter(x -> x.name().equals(name) && x.version() == to).findFirst();
            if (v.isPresent() && v.get().state().equals("reverted")) {
                throw new CliFailure(ExitCode.INVALID, name + " version " + to + " was reverted (" + v.get().reason() + ", says " + node.base()
                        + "): a rollback reaches every host at once, with no canary; roll back to a good version (see kgctl rollout status "
                        + name + "), or pass --even-if-reverted");
            }
            return;
        }
        if (a instanceof NodeClient.Answer.Reply r && r.status() == 404) {
            return; // a node from before rollouts: no version of it can be reverted
        }
        String why = a instanceof NodeClient.Answer.Reply r ? "HTTP " + r.status() + " " + r.error() : ((NodeClient.Answer.Unreachable) a).why();
        throw new CliFailure(ExitCode.NODE_ERROR, node.base() + " could not say whether " + name + " version " + to + " was reverted (GET /v1/rollouts/"
                + name + ": " + why + "); pass --even-if-reverted to roll back without knowing");
    }

    /** The highest version the mesh knows of the name: members' and this node's versions, its rollback floor, its kept versions. */
    static long highestKnown(MeshBundleList.Entry mesh, Optional<BundleHistory> history) {
        long h = mesh.highest();
        if (history.isPresent()) {
            if (history.get().floor() != null) {
                h = Math.max(h, history.get().floor());
            }
            for (BundleHistory.Version v : history.get().versions()) {
                h = Math.max(h, v.version());
            }
        }
        return h;
    }

    /**
     * The archive is NAME at version V, not a tombstone, and every file matches the manifest. If KEY's
     * own public key signed it, the signature is checked too; an archive signed by another publisher
     * key was verified by the node against its trusted keys before it kept it.
     */
    private ArchiveContents check(NodeClient node, byte[] archive, PrivateKey privateKey) {
        ArchiveContents.Read read = ArchiveContents.read(archive);
        if (read instanceof ArchiveContents.Read.Unreadable u) {
            throw new CliFailure(ExitCode.NODE_ERROR, node.base() + " sent version " + to + " of " + name + " as something that is not "
                    + "a bundle: " + u.reason());
        }
        ArchiveContents c = ((ArchiveContents.Read.Readable) read).contents();
        if (!c.name().equals(name) || c.version() != to) {
            throw new CliFailure(ExitCode.INVALID, node.base() + " sent " + c.name() + " version " + c.version() + " when asked for "
                    + name + " version " + to);
        }
        if (c.retired()) {
            throw new CliFailure(ExitCode.INVALID, name + " version " + to + " is a retirement tombstone: it has no content to roll back to");
        }
        if (!c.filesMatch()) {
            throw new CliFailure(ExitCode.INVALID, name + " version " + to + " from " + node.base() + ": files do not match its manifest: "
                    + String.join(", ", c.files().stream().filter(f -> !f.matches()).map(ArchiveContents.FileClaim::path).toList()));
        }
        TrustedKeys own = TrustedKeys.of(List.of(Ed25519Keys.publicKeyOf(privateKey)));
        VerifyResult v = new BundleVerifier(own, Limits.defaults()).verify(archive);
        if (v instanceof VerifyResult.Rejected rej && !rej.reason().code().equals("untrusted_key")) {
            throw new CliFailure(ExitCode.INVALID, name + " version " + to + " from " + node.base() + ": rejected: " + rej.reason().code()
                    + ": " + rej.reason().detail());
        }
        return c;
    }

    /** The files of the archive that its manifest lists, with their bytes (hashes re-checked on the bytes kept). */
    private SortedMap<String, byte[]> files(byte[] archive, ArchiveContents c) throws IOException {
        SortedMap<String, String> claimed = new TreeMap<>(c.claimedHashes());
        SortedMap<String, byte[]> files = new TreeMap<>();
        try (TarArchiveInputStream tar = new TarArchiveInputStream(new ByteArrayInputStream(archive))) {
            TarArchiveEntry e;
            while ((e = tar.getNextEntry()) != null) {
                if (!e.isFile() || !e.getName().startsWith("files/")) {
                    continue;
                }
                String path = e.getName().substring("files/".length());
                byte[] content = tar.readAllBytes();
                if (content != null && Sha256.hex(content).equals(claimed.get(path))) {
                    files.put(path, content);
                }
            }
        }
        if (!files.keySet().equals(claimed.keySet())) {
            throw new CliFailure(ExitCode.INVALID, name + " version " + to + ": the archive does not hold every file its manifest lists");
        }
        return files;
    }
}
