package io.knowngood.cli.node;

import io.knowngood.cli.CliFailure;
import io.knowngood.cli.Environment;
import io.knowngood.cli.ExitCode;
import io.knowngood.cli.HelpOption;
import io.knowngood.cli.LocalFile;
import io.knowngood.cli.OutputOption;
import io.knowngood.cli.bundle.ArchiveContents;
import io.knowngood.crypto.bundle.BundleName;
import io.knowngood.crypto.bundle.Limits;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code kgctl bundles diff NAME A B}: which files and labels differ between two versions. Each side is
 * a version number or an archive file. By number: with an admin URL and its token, any version the
 * node keeps on disk ({@code GET /v1/bundles/NAME/versions/V}, as rollback reads it); without, the
 * version its VM endpoint serves, the only one it gives there.
 */
@Command(name = "diff",
        description = {"Compare the files of two versions of a bundle.", "Shows which files were added, removed or changed, and which labels differ, between A and B.",
                "A and B are each a version number or the path of an archive file. A number is fetched from the node: with "
                        + "--node and --token-file (or KGCTL_NODE and KGCTL_TOKEN_FILE), any version it keeps on disk ('kgctl bundles "
                        + "history' lists them); with only a VM endpoint (--vm), the version it serves, the only one it gives there.",
                "Exit 7 if the node does not keep (or, without a token, does not serve) a version asked for by number; the "
                        + "error names the versions it keeps."},
        footerHeading = "%nExamples:%n",
        footer = {"  kgctl bundles diff desktop-base 6 7 --node http://10.0.0.5:8781 --token-file ~/.kg/admin.token",
                "  kgctl bundles diff desktop-base desktop-base-6.tar 7 --vm http://10.0.0.5:8780",
                "  kgctl bundles diff desktop-base old.tar new.tar -o json"})
public final class BundlesDiff implements Callable<Integer> {
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

    @Parameters(index = "0", paramLabel = "NAME", description = "Bundle name.")
    String name;

    @Parameters(index = "1", paramLabel = "A", description = "Version number or archive file.")
    String from;

    @Parameters(index = "2", paramLabel = "B", description = "Version number or archive file.")
    String to;

    BundlesDiff(Environment env) {
        this.env = env;
    }

    /** What {@code --output json} prints. */
    public record Diff(String name, long fromVersion, long toVersion, List<String> added, List<String> removed,
                       List<Changed> changed, int unchanged, Map<String, List<String>> labels) {
    }

    public record Changed(String path, long fromSize, long toSize, String fromSha256, String toSha256) {
    }

    @Override
    public Integer call() throws IOException, InterruptedException {
        if (!BundleName.isValid(name)) {
            throw new ParameterException(spec.commandLine(), "\"" + name + "\" is not a bundle name");
        }
        ArchiveContents a = side(from);
        ArchiveContents b = side(to);
        for (ArchiveContents c : List.of(a, b)) {
            if (!c.name().equals(name)) {
                throw new CliFailure(ExitCode.INVALID, "archive of version " + c.version() + " is bundle " + c.name() + ", not " + name);
            }
        }
        Diff d = diff(a, b);
        PrintWriter w = spec.commandLine().getOut();
        if (output.json()) {
            output.printJson(w, d);
            return 0;
        }
        w.printf("%s: version %d -> %d: %d added, %d removed, %d changed, %d unchanged%n", name, d.fromVersion(), d.toVersion(),
                d.added().size(), d.removed().size(), d.changed().size(), d.unchanged());
        d.added().forEach(p -> w.println("  + " + p));
        d.removed().forEach(p -> w.println("  - " + p));
        d.changed().forEach(c -> w.println("  ~ " + c.path() + " (" + c.fromSize() + " -> " + c.toSize() + " bytes)"));
        d.labels().forEach((k, v) -> w.println("  label " + k + ": " + Objects.requireNonNullElse(v.get(0), "(none)") + " -> "
                + Objects.requireNonNullElse(v.get(1), "(none)")));
        w.flush();
        return 0;
    }

    static Diff diff(ArchiveContents a, ArchiveContents b) {
        Map<String, ArchiveContents.FileClaim> fa = new TreeMap<>();
        a.files().forEach(f -> fa.put(f.path(), f));
        Map<String, ArchiveContents.FileClaim> fb = new TreeMap<>();
        b.files().forEach(f -> fb.put(f.path(), f));
        List<String> added = new ArrayList<>();
        List<String> removed = new ArrayList<>();
        List<Changed> changed = new ArrayList<>();
        int same = 0;
        TreeSet<String> all = new TreeSet<>(fa.keySet());
        all.addAll(fb.keySet());
        for (String p : all) {
            ArchiveContents.FileClaim x = fa.get(p);
            ArchiveContents.FileClaim y = fb.get(p);
            if (x == null) {
                added.add(p);
            } else if (y == null) {
                removed.add(p);
            } else if (!x.sha256().equals(y.sha256())) {
                changed.add(new Changed(p, x.size(), y.size(), x.sha256(), y.sha256()));
            } else {
                same++;
            }
        }
        Map<String, List<String>> labels = new TreeMap<>();
        TreeSet<String> keys = new TreeSet<>(a.labels().keySet());
        keys.addAll(b.labels().keySet());
        for (String k : keys) {
            if (!Objects.equals(a.labels().get(k), b.labels().get(k))) {
                labels.put(k, Arrays.asList(a.labels().get(k), b.labels().get(k)));
            }
        }
        return new Diff(b.name(), a.version(), b.version(), added, removed, changed, same, labels);
    }

    /**
     * A version number names a version the node keeps (with an admin URL and a token) or the one its VM
     * endpoint serves (without); anything else is an archive file.
     */
    private ArchiveContents side(String arg) throws IOException, InterruptedException {
        if (arg.matches("[0-9]{1,19}") && !Files.exists(Path.of(arg))) {
            long version = Long.parseLong(arg);
            if (nodes.given() && nodes.tokenFileGiven()) {
                return kept(version);
            }
            ServedBundle served = ServedBundle.fetch(vm.clients(env, nodes), name, spec.commandLine().getErr(), spec.qualifiedName());
            if (served instanceof ServedBundle.Archive a && a.contents().version() == version) {
                return a.contents();
            }
            String serves = served instanceof ServedBundle.Archive a ? "serves version " + a.contents().version()
                    : served instanceof ServedBundle.Retired r ? "serves " + name + " as retired at version " + r.version()
                    : "holds no " + name;
            throw new CliFailure(ExitCode.NOT_FOUND, "version " + version + " is not available: the node " + serves
                    + "; give an archive file, or the admin endpoint with --node and --token-file for any version it keeps");
        }
        Path file = Path.of(arg);
        if (Files.exists(file) && Files.size(file) > Limits.defaults().maxBundleBytes()) {
            throw new CliFailure(ExitCode.INVALID, file + " is larger than a bundle may be");
        }
        ArchiveContents.Read read = ArchiveContents.read(LocalFile.bytes(file));
        if (read instanceof ArchiveContents.Read.Unreadable u) {
            throw new CliFailure(ExitCode.INVALID, file + ": " + u.reason());
        }
        return ((ArchiveContents.Read.Readable) read).contents();
    }

    /** Version V as a node keeps it on disk (admin endpoint): any of the versions 'kgctl bundles history' lists. */
    private ArchiveContents kept(long version) throws IOException, InterruptedException {
        KeptVersion.Fetched f = KeptVersion.fetch(nodes.admins(env), name, version, spec.commandLine().getErr(), spec.qualifiedName(), "");
        ArchiveContents.Read read = ArchiveContents.read(f.archive());
        if (read instanceof ArchiveContents.Read.Unreadable u) {
            throw new CliFailure(ExitCode.NODE_ERROR, f.node().base() + " sent version " + version + " of " + name
                    + " as something that is not a bundle: " + u.reason());
        }
        ArchiveContents c = ((ArchiveContents.Read.Readable) read).contents();
        if (c.version() != version) {
            throw new CliFailure(ExitCode.NODE_ERROR, f.node().base() + " sent " + c.name() + " version " + c.version() + " when asked for "
                    + name + " version " + version);
        }
        return c;
    }
}
