package io.knowngood.cli.node;

import io.knowngood.api.ErrorCode;
import io.knowngood.api.MeshBundleList;
import io.knowngood.cli.CliFailure;
import io.knowngood.cli.Environment;
import io.knowngood.cli.ExitCode;
import io.knowngood.cli.HelpOption;
import io.knowngood.cli.OutputOption;
import io.knowngood.cli.bundle.ArchiveContents;
import io.knowngood.cli.bundle.Packing;
import io.knowngood.crypto.bundle.BundleName;
import io.knowngood.crypto.bundle.BundlePacker;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code kgctl seed}: makes the mesh hold what SRC_ROOT holds, idempotently (for cron). Each
 * subfolder is a bundle named after it; it is packed and published at version current+1 only if its
 * files or labels differ from the version the mesh serves.
 */
@Command(name = "seed",
        description = {"Publish every changed subfolder of SRC_ROOT as a bundle (idempotent).", "Every subfolder of SRC_ROOT is a bundle named after it. For each, compares the content "
                + "(sorted paths with their SHA-256, and labels) with the manifest the mesh serves, and publishes "
                + "only what differs, at version current+1, signed with KEY.",
                "A second run with no change publishes nothing and says so. Hidden entries (.name) are skipped without a word; "
                        + "a file or a symbolic link at the top of SRC_ROOT is skipped with a warning.",
                "Needs only the admin endpoint (--node) and its token: it reads the versions and the manifest of the "
                        + "version held from there. --vm is used only with nodes too old to serve manifests on the admin endpoint.",
                "After a publisher key rotation, --resign also publishes each unchanged folder whose held version lacks the "
                        + "signature of a KEY: the same content, signed with every KEY, at version current+1."},
        footerHeading = "%nExamples:%n",
        footer = {"  kgctl seed /srv/kg/bundles --key ~/.kg/publisher.key --node http://10.0.0.5:8781 --token-file ~/.kg/admin.token",
                "  # cron, every 5 minutes, JSON report:",
                "  */5 * * * * kgctl seed /srv/kg/bundles --key /etc/kg/publisher.key --node http://10.0.0.5:8781 --token-file /etc/kg/admin.token -o json",
                "  # after trusting a new publisher key on every node: sign what the mesh holds with the new and the old key",
                "  kgctl seed /srv/kg/bundles --key ~/.kg/publisher-2027.key --key /etc/kg/publisher.key --resign --node http://10.0.0.5:8781 "
                        + "--token-file ~/.kg/admin.token"})
public final class SeedCommand implements Callable<Integer> {
    private final Environment env;

    @Spec
    CommandSpec spec;

    @Mixin
    HelpOption help;

    @Mixin
    OutputOption output;

    @Mixin
    NodeOptions nodes;

    @Mixin
    VmOptions vm;

    @Parameters(index = "0", paramLabel = "SRC_ROOT", description = "Folder whose subfolders are bundles.")
    Path root;

    @Option(names = "--key", required = true, paramLabel = "KEY", description = "Publisher private key (PKCS#8 PEM). Repeatable: each "
            + "key signs (during a publisher key rotation, the old and the new key, so nodes and guests trusting either accept it).")
    List<Path> keys;

    @Option(names = "--label", paramLabel = "KEY=VALUE", description = "A label put on every bundle (repeatable); part of the comparison.")
    List<String> labelArgs = new ArrayList<>();

    /** {@code --label}s, read once the command line is. */
    private Map<String, String> labels = Map.of();

    @Option(names = "--dry-run", description = "Say what would be published, publish nothing.")
    boolean dryRun;

    @Option(names = "--resign", description = "Also publish a folder whose content is unchanged when the version held lacks "
            + "the signature of a KEY (after a publisher key rotation): the same content signed with every KEY, at version current+1.")
    boolean resign;

    /** The KEYs' key ids (lower-case hex), in order, read with the keys. */
    private List<String> keyIds = List.of();

    SeedCommand(Environment env) {
        this.env = env;
    }

    /**
     * One subfolder's fate. {@code action}: published, unchanged, would_publish, failed; {@code detail}: why it failed,
     * or why unchanged content is published (--resign).
     */
    public record Item(String name, String action, Long version, Long previous, String contentDigest, Integer membersHolding,
                       Integer membersInView, String code, String detail) {
    }

    /** What {@code --output json} prints. */
    public record Report(int published, int unchanged, int failed, List<Item> bundles, List<String> skipped) {
    }

    @Override
    public Integer call() throws IOException, InterruptedException {
        labels = Packing.labels(spec, labelArgs);
        if (!Files.exists(root)) {
            throw new NoSuchFileException(root.toString());
        }
        if (!Files.isDirectory(root)) {
            throw new CliFailure(ExitCode.IO, "not a directory: " + root);
        }
        List<PrivateKey> privateKeys = Packing.readKeys(keys);
        keyIds = Packing.keyIds(privateKeys);
        List<NodeClient> admins = nodes.admins(env);
        List<NodeClient> vms = vm.given() ? vm.clients(env, List.of(), Optional.empty()) : List.of();
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        String cmd = spec.qualifiedName();

        MeshBundleList mesh = MeshBundles.fetch(admins, err, cmd).list();

        Map<Boolean, List<Path>> entries;
        try (Stream<Path> list = Files.list(root)) {
            entries = list.filter(p -> !p.getFileName().toString().startsWith(".")).sorted()
                    .collect(Collectors.partitioningBy(p -> Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)));
        }
        List<Path> folders = entries.get(true);
        // Before, a file or a link at the top was passed over without a word: only folders are bundles.
        List<String> skipped = entries.get(false).stream().map(p -> p.getFileName().toString()).toList();
        for (Path p : entries.get(false)) {
            err.println(cmd + ": skipped " + p.getFileName() + ": " + (Files.isSymbolicLink(p)
                    ? "a symbolic link (seed reads folders only, not links to them)" : "not a folder (every bundle is a subfolder of " + root + ")"));
        }
        err.flush();
        List<Item> items = new ArrayList<>();
        ExitCode firstFailure = null;
        for (Path folder : folders) {
            Item item;
            try {
                item = seedOne(folder, mesh, vms, admins, privateKeys, err, cmd);
            } catch (CliFailure f) {
                item = new Item(folder.getFileName().toString(), "failed", null, null, null, null, null,
                        f.exitCode().name().toLowerCase(Locale.ROOT), f.getMessage());
                if (f.exitCode() == ExitCode.UNREACHABLE || f.exitCode() == ExitCode.AUTH) {
                    items.add(item);
                    report(out, items, skipped);
                    throw f; // the mesh is gone or refuses us: the rest would fail the same way
                }
                firstFailure = firstFailure == null ? f.exitCode() : firstFailure;
                err.println(cmd + ": " + item.name() + ": " + f.getMessage());
                err.flush();
            }
            items.add(item);
            if (!output.json()) {
                out.println(line(item));
                out.flush();
            }
        }
        report(out, items, skipped);
        if (firstFailure != null) {
            throw new CliFailure(firstFailure, items.stream().filter(i -> i.action().equals("failed")).count()
                    + " of " + items.size() + " bundles failed");
        }
        return 0;
    }

    private Item seedOne(Path folder, MeshBundleList mesh, List<NodeClient> vms, List<NodeClient> admins, List<PrivateKey> privateKeys,
                         PrintWriter err, String cmd) throws IOException, InterruptedException {
        String name = folder.getFileName().toString();
        if (!BundleName.isValid(name)) {
            throw new CliFailure(ExitCode.INVALID, "folder name is not a bundle name (" + BundleName.RULE + ")");
        }
        BundleContent local = BundleContent.ofDirectory(folder, labels);
        Optional<MeshBundleList.Entry> held = mesh.get(name);
        long current = held.map(MeshBundleList.Entry::highest).orElse(0L);
        // Compared only with the highest version seen: below it (a node restored from an older backup,
        // or one behind its peers) the mesh's content is not known here, and publishing above it is safe.
        String why = null;
        if (held.isPresent() && held.get().heldHere() && !held.get().retiredHere() && held.get().version() == current) {
            Optional<BundleContent> served = heldContent(name, admins, vms, err, cmd);
            if (served.isPresent() && served.get().equals(local)) {
                List<String> missing = resign ? unsignedKeys(name, admins, err, cmd) : List.of();
                if (missing.isEmpty()) {
                    return new Item(name, "unchanged", held.get().version(), null, local.digest(), null, null, null, null);
                }
                why = "same content, signed again with " + (keyIds.size() == 1 ? "key " : "keys ") + shortIds(keyIds) + ": version " + current
                        + " carries no signature by " + (keyIds.size() == 1 ? "it" : shortIds(missing));
            }
        }
        long next = current + 1;
        if (dryRun) {
            return new Item(name, "would_publish", next, current == 0 ? null : current, local.digest(), null, null, null, why);
        }
        BundlePacker.PackResult packed = Packing.pack(folder, name, next, labels, Optional.empty(), Optional.empty(), privateKeys,
                env.clock());
        if (packed instanceof BundlePacker.PackResult.Refused r) {
            throw new CliFailure(ExitCode.INVALID, "cannot pack: " + r.reason());
        }
        byte[] archive = ((BundlePacker.PackResult.Packed) packed).archive();
        Publisher.Outcome o = new Publisher(admins, err, cmd).publish(name, next, ArchiveContents.manifestDigestOf(archive), archive);
        if (o instanceof Publisher.Outcome.Failed f) {
            throw new CliFailure(f.exitCode(), f.message());
        }
        Publisher.Outcome.Stored s = (Publisher.Outcome.Stored) o;
        return new Item(name, "published", s.version(), current == 0 ? null : current, local.digest(), s.membersHolding(),
                s.membersInView(), null, why);
    }

    private static String shortIds(List<String> ids) {
        return String.join(", ", ids.stream().map(k -> k.substring(0, 16) + "...").toList());
    }

    /**
     * The KEYs whose signature the version of {@code name} the node holds lacks, from its signatures.json
     * on the admin endpoint (a node that holds none: every KEY).
     */
    private List<String> unsignedKeys(String name, List<NodeClient> admins, PrintWriter err, String cmd) throws InterruptedException {
        FirstAnswer.Answered a = new FirstAnswer(admins, err, cmd).get("/v1/bundles/" + name + "/signatures.json");
        NodeClient.Answer.Reply r = a.reply();
        if (r.status() == 404 && r.errorIs(ErrorCode.NOT_FOUND)) {
            throw new CliFailure(ExitCode.NODE_ERROR, a.node().base() + " serves no signatures on its admin endpoint (a node older "
                    + "than this kgctl): --resign needs a node that says which keys signed the version it holds");
        }
        if (r.status() == 404) {
            return keyIds;
        }
        if (r.status() != 200) {
            throw new CliFailure(ExitCode.NODE_ERROR, a.node().base() + ": GET signatures of " + name + ": HTTP " + r.status() + " " + r.error());
        }
        if (!(ArchiveContents.signers(r.body()) instanceof ArchiveContents.Signers.Listed signed)) {
            throw new CliFailure(ExitCode.NODE_ERROR, a.node().base() + ": the signatures of " + name + " are not signatures.json");
        }
        return keyIds.stream().filter(k -> !signed.keyIds().contains(k)).toList();
    }


    /**
     * The content of the version the node holds, from the manifest on its admin endpoint; empty if
     * it holds none. A node too old to serve manifests there is asked on its VM endpoint (--vm).
     */
    private Optional<BundleContent> heldContent(String name, List<NodeClient> admins, List<NodeClient> vms, PrintWriter err,
                                                String cmd) throws InterruptedException {
        String path = "/v1/bundles/" + name + "/manifest.json";
        FirstAnswer.Answered a = new FirstAnswer(admins, err, cmd).get(path);
        if (a.reply().status() == 404 && a.reply().errorIs(ErrorCode.NOT_FOUND)) {
            if (vms.isEmpty()) {
                throw new CliFailure(ExitCode.NODE_ERROR, a.node().base() + " serves no manifests on its admin endpoint (a node older "
                        + "than this kgctl): give its VM endpoint with --vm URL or " + Environment.VM);
            }
            a = new FirstAnswer(vms, err, cmd).get(path);
            VmOptions.requireVmEndpoint(a.node(), a.reply());
        }
        NodeClient.Answer.Reply r = a.reply();
        if (r.status() == 404) {
            return Optional.empty();
        }
        if (r.status() != 200) {
            throw new CliFailure(ExitCode.NODE_ERROR, a.node().base() + ": GET manifest of " + name + ": HTTP " + r.status() + " " + r.error());
        }
        Optional<String> notForSeed = BundleContent.notForSeed(r.body());
        if (notForSeed.isPresent()) {
            throw new CliFailure(ExitCode.INVALID, "the version held " + notForSeed.get() + ", and seed publishes plain bundles "
                    + "for every VM: left alone (publish it with 'kgctl bundle pack --pool/--encrypt' and 'kgctl publish')");
        }
        Optional<BundleContent> content = BundleContent.ofManifest(r.body());
        if (content.isEmpty()) {
            throw new CliFailure(ExitCode.NODE_ERROR, a.node().base() + ": the manifest of " + name + " is not a manifest's JSON");
        }
        return content;
    }

    /** The summary; {@code skipped}: what SRC_ROOT holds besides hidden entries and bundle folders. */
    private void report(PrintWriter out, List<Item> items, List<String> skipped) {
        int published = (int) items.stream().filter(i -> i.action().equals("published") || i.action().equals("would_publish")).count();
        int unchanged = (int) items.stream().filter(i -> i.action().equals("unchanged")).count();
        int failed = (int) items.stream().filter(i -> i.action().equals("failed")).count();
        if (output.json()) {
            output.printJson(out, new Report(published, unchanged, failed, items, skipped));
            return;
        }
        if (published == 0 && failed == 0) {
            out.println("nothing to publish: " + (items.isEmpty() ? "no bundle folders in " + root
                    : unchanged + (unchanged == 1 ? " bundle" : " bundles") + " unchanged"));
        } else {
            out.println((dryRun ? "would publish " : "published ") + published + ", unchanged " + unchanged + ", failed " + failed);
        }
        out.flush();
    }

    private static String line(Item i) {
        return switch (i.action()) {
            case "unchanged" -> "unchanged  " + i.name() + " (version " + i.version() + ")";
            case "would_publish" -> "would publish " + i.name() + " version " + i.version() + (i.detail() == null ? "" : " (" + i.detail() + ")");
            case "published" -> "published  " + i.name() + " version " + i.version() + (i.detail() == null ? "" : " (" + i.detail() + ")")
                    + ": " + i.membersHolding() + " of " + i.membersInView() + " members hold it";
            default -> "FAILED     " + i.name() + ": " + i.detail();
        };
    }
}
