package io.knowngood.packaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.knowngood.testkit.Ci;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The .deb that {@code mvn package} builds (target/knowngood_VERSION_all.deb), checked with Debian's
 * own tools: dpkg-deb reads what it holds, lintian finds no errors or warnings, systemd-analyze accepts the unit
 * inside it, and, as root, the installed launchers run and dpkg installs, upgrades and purges it. The
 * host is never changed: the launchers run in a private mount namespace with the package's /usr laid
 * over the host's, and dpkg runs chrooted into an overlay of the host's root whose writes land in a
 * temporary directory.
 */
class DebianPackageIT {
    private static final Duration TIMEOUT = Duration.ofMinutes(2);

    private static Path deb;
    private static String mavenVersion;
    private static String debianVersion;

    @BeforeAll
    static void theDebWasBuilt() {
        deb = Path.of(System.getProperty("deb.file", "target/none.deb"));
        mavenVersion = System.getProperty("knowngood.version");
        debianVersion = System.getProperty("deb.version");
        assertThat(deb).as("'mvn package' builds the .deb before this test runs").isRegularFile();
        assertThat(deb.getFileName().toString()).isEqualTo("knowngood_" + mavenVersion + "_all.deb");
    }

    @Test
    void contents_holdBothPrograms_theirLaunchers_theUnit_theConfig_theDocs_theAlertRules_manPages_andKgctlsCompletion() throws Exception {
        needs(Ci.missingTools("dpkg-deb"));
        Result r = run(List.of("dpkg-deb", "-c", deb.toString()));
        assertThat(r.code()).as(r.out()).isZero();
        List<String[]> entries = r.out().lines().map(l -> l.trim().split("\\s+")).collect(Collectors.toList());
        List<String> all = entries.stream().filter(e -> !e[0].startsWith("d")).map(e -> e[5].substring(1)).collect(Collectors.toList());
        List<String> manPages = all.stream().filter(f -> f.startsWith("/usr/share/man/man1/")).toList();
        List<String> files = all.stream().filter(f -> !manPages.contains(f)).toList();

        assertThat(manPages).as("a page per command and subcommand").contains("/usr/share/man/man1/kgnode.1.gz",
                "/usr/share/man/man1/kgnode-run.1.gz", "/usr/share/man/man1/kgctl.1.gz", "/usr/share/man/man1/kgctl-audit.1.gz",
                "/usr/share/man/man1/kgctl-bundle-pack.1.gz", "/usr/share/man/man1/kgctl-mesh-cert-revoke.1.gz")
                .allMatch(f -> f.matches("/usr/share/man/man1/kg(ctl|node)(-[a-z]+)*\\.1\\.gz"));
        assertThat(files).containsExactlyInAnyOrder(
                "/usr/share/knowngood/kgnode.jar", "/usr/share/knowngood/kgctl.jar", "/usr/share/knowngood/kgnode-launcher",
                "/usr/share/knowngood/kgctl-launcher", "/usr/bin/kgnode", "/usr/bin/kgctl",
                "/lib/systemd/system/kgnode.service",
                "/etc/knowngood/kgnode.yaml",
                "/usr/share/doc/knowngood/copyright", "/usr/share/doc/knowngood/changelog.gz",
                "/usr/share/doc/knowngood/install.md", "/usr/share/doc/knowngood/kgnode.md", "/usr/share/doc/knowngood/kgctl.md",
                "/usr/share/doc/knowngood/examples/kgnode-alerts.yml",
                "/usr/share/bash-completion/completions/kgctl", "/usr/share/lintian/overrides/knowngood");
        assertThat(entries).allSatisfy(e -> assertThat(e[1]).as(e[5]).isEqualTo("root/root"));
        for (String[] e : entries) {
            String path = e[5].substring(1);
            boolean program = path.startsWith("/usr/bin/") || path.endsWith("-launcher");
            assertThat(e[0]).as(path).isEqualTo(e[0].startsWith("d") ? "drwxr-xr-x" : program ? "-rwxr-xr-x" : "-rw-r--r--");
        }
    }

    /**
     * Every man page, as man(1) renders it: the synopsis holds every option the page describes by a long
     * name only, and
     * no AsciiDoc markup is left in it (kgnode run's --pool once vanished from its synopsis, read as an
     * attribute list). The kgctl audit page says what --help says.
     */
    @Test
    void manPages_renderEveryOptionInTheSynopsis(@TempDir Path root) throws Exception {
        needs(Ci.missingTools("dpkg-deb", "man"));
        assertThat(run(List.of("dpkg-deb", "-x", deb.toString(), root.toString())).code()).isZero();
        List<Path> pages;
        try (Stream<Path> s = Files.list(root.resolve("usr/share/man/man1"))) {
            pages = s.sorted().toList();
        }
        assertThat(pages).hasSizeGreaterThan(20);

        Map<String, String> rendered = new HashMap<>();
        for (Path page : pages) {
            Result r = run(List.of("sh", "-c", "MANWIDTH=1000 man -l \"$1\"", "sh", page.toString()));
            assertThat(r.code()).as(page + ": " + r.out()).isZero();
            rendered.put(page.getFileName().toString(), r.out());
            List<String> lines = r.out().lines().toList();
            String synopsis = section(lines, "SYNOPSIS");
            // italics markup left over: an underscore not inside a name such as SRC_DIR
            assertThat(synopsis).as(page.toString()).isNotBlank().doesNotContain("*", "{startsb}", "{endsb}")
                    .doesNotContainPattern("(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])");
            // options with a long name only (the synopsis gives the short name where there is one, and
            // clusters short flags: [-hV])
            List<String> options = section(lines, "OPTIONS").lines().map(String::strip).filter(l -> l.startsWith("--"))
                    .map(l -> l.split("[=\\[, ]")[0]).toList();
            for (String option : options) {
                assertThat(synopsis).as("%s: %s in the synopsis", page.getFileName(), option).contains(option);
            }
        }
        assertThat(rendered.get("kgctl-audit.1.gz")).contains("kgctl-audit - Show a node's audit log", "--limit=N", "knowngood " + mavenVersion);
        assertThat(section(rendered.get("kgnode-run.1.gz").lines().toList(), "SYNOPSIS"))
                .contains("[--pool=NAME=PREFIX[,PREFIX...]]... [--site-peers=IP:PORT[,IP:PORT...]]...");
    }

    /** The text of a rendered man page's section: the lines after its heading, up to the next heading. */
    private static String section(List<String> lines, String heading) {
        StringBuilder b = new StringBuilder();
        boolean in = false;
        for (String l : lines) {
            if (!l.isEmpty() && !Character.isWhitespace(l.charAt(0))) {
                in = l.equals(heading);
            } else if (in) {
                b.append(l.strip()).append('\n');
            }
        }
        return b.toString();
    }

    @Test
    void control_namesTheConffile_theVersion_andAJava17Runtime() throws Exception {
        needs(Ci.missingTools("dpkg-deb"));
        Result conffiles = run(List.of("dpkg-deb", "-I", deb.toString(), "conffiles"));
        Result fields = run(List.of("dpkg-deb", "-f", deb.toString(), "Package", "Version", "Architecture", "Depends"));

        assertThat(conffiles.code()).as(conffiles.out()).isZero();
        assertThat(conffiles.out().lines()).containsExactly("/etc/knowngood/kgnode.yaml");
        assertThat(fields.out().lines()).containsExactly(
                "Package: knowngood",
                "Version: " + debianVersion,
                "Architecture: all",
                "Depends: default-jre-headless (>= 2:1.17) | java17-runtime-headless, adduser");
    }

    @Test
    void lintian_findsNoErrorsOrWarnings() throws Exception {
        needs(Ci.missingTools("lintian"));
        Result r = run(List.of("lintian", "--fail-on", "warning", "--tag-display-limit", "0", deb.toString()));

        assertThat(r.out().lines().filter(l -> l.startsWith("E: ") || l.startsWith("W: "))).as(r.out()).isEmpty();
        assertThat(r.code()).as(r.out()).isZero();
    }

    /**
     * systemd-analyze checks the unit as the package installs it: the .deb unpacked into a root that
     * also holds the host's own units (for the targets it names), so ExecStart's /usr/bin/kgnode is
     * the package's. It exits 0 even for an unknown key or a bad value, so any output fails too.
     */
    @Test
    void systemdAnalyzeVerify_acceptsTheUnit(@TempDir Path root) throws Exception {
        needs(Ci.missingTools("dpkg-deb", "systemd-analyze"));
        Path hostUnits = Stream.of(Path.of("/usr/lib/systemd/system"), Path.of("/lib/systemd/system"))
                .filter(p -> Files.isRegularFile(p.resolve("multi-user.target"))).findFirst().orElse(null);
        needs(hostUnits == null ? "no systemd units on this host (/usr/lib/systemd/system/multi-user.target)" : null);
        assertThat(run(List.of("dpkg-deb", "-x", deb.toString(), root.toString())).code()).isZero();
        Files.createDirectories(root.resolve("usr/lib/systemd"));
        assertThat(run(List.of("cp", "-a", hostUnits.toString(), root.resolve("usr/lib/systemd/system").toString())).code()).isZero();

        Result r = run(List.of("systemd-analyze", "verify", "--man=no", "--root=" + root, "/lib/systemd/system/kgnode.service"));

        assertThat(r.code()).as(r.out()).isZero();
        assertThat(r.out()).isEmpty();
        List<String> unit = Files.readAllLines(root.resolve("lib/systemd/system/kgnode.service"));
        assertThat(unit).contains("ExecStart=/usr/bin/kgnode run --config /etc/knowngood/kgnode.yaml", "User=knowngood",
                "StateDirectory=knowngood", "ProtectSystem=strict", "ReadWritePaths=/var/lib/knowngood", "NoNewPrivileges=true");
    }

    /**
     * /usr/bin/kgnode and /usr/bin/kgctl run the jars where the package puts them, with no checkout and no Maven;
     * kgctl keeps its AppCDS archive in the user's ~/.cache/knowngood (here a temporary HOME), and prints the
     * same with it. The installed bash completion completes a command and an option in a real bash.
     */
    @Test
    void installedLaunchers_printTheVersion_andKgctlCompletes(@TempDir Path root, @TempDir Path home) throws Exception {
        needs(Ci.missingTools("dpkg-deb", "unshare", "mount"));
        needs(asRoot());
        assertThat(run(List.of("dpkg-deb", "-x", deb.toString(), root.toString())).code()).isZero();

        Result r = run(List.of("unshare", "-m", "--propagation", "private", "sh", "-ec",
                "mount -t overlay overlay -o lowerdir=\"$1/usr\":/usr /usr\n"
                        + "cd /\n"
                        + "PATH=/usr/bin:/bin; HOME=$2; export PATH HOME; unset XDG_CACHE_HOME KGCTL_CACHE_DIR\n"
                        + "kgnode --version; kgctl --version; kgctl --version\n"
                        + "echo \"kgctl cache: $(ls \"$HOME/.cache/knowngood\")\"\n"
                        // as bash-completion loads it on the first <TAB> after "kgctl", then two <TAB>s (called
                        // directly, outside a completion, compopt complains on stderr: not this test's business)
                        + "bash -c '. /usr/share/bash-completion/completions/kgctl; f=$(complete -p kgctl | sed -n \"s/.*-F \\([^ ]*\\).*/\\1/p\");"
                        + " COMP_WORDS=(kgctl au); COMP_CWORD=1; $f 2>/dev/null; echo \"complete kgctl au: ${COMPREPLY[*]}\";"
                        + " COMP_WORDS=(kgctl audit --li); COMP_CWORD=2; $f 2>/dev/null; echo \"complete kgctl audit --li: ${COMPREPLY[*]}\"'\n",
                        "sh", root.toString(), home.toString()));

        assertThat(r.code()).as(r.out()).isZero();
        assertThat(r.out().lines()).containsExactly("knowngood " + mavenVersion, "knowngood " + mavenVersion, "knowngood " + mavenVersion,
                "kgctl cache: kgctl.jsa", "complete kgctl au: audit", "complete kgctl audit --li: --limit");
    }

    /**
     * dpkg in a throwaway root (an overlay of this host's, chrooted, its own /run so no systemd of the
     * host is told anything): install makes the user and /var/lib/knowngood (0750, owned by it); the
     * node, started as the unit starts it, keeps its AppCDS archive in /var/cache/knowngood; a
     * reinstall (the upgrade path) keeps an edited conffile; remove keeps data and config; purge
     * deletes both, and the link "systemctl enable" made. Depends are not checked (--force-depends):
     * whether this host's Java came from a Debian package is not this test's business.
     */
    @Test
    void dpkg_installs_keepsAnEditedConffileOnUpgrade_andPurges(@TempDir Path dir) throws Exception {
        needs(Ci.missingTools("unshare", "mount", "chroot", "dpkg"));
        needs(asRoot());
        for (String d : List.of("upper", "work", "root")) {
            Files.createDirectories(dir.resolve(d));
        }
        Files.copy(deb, dir.resolve("k.deb"));
        String inRoot = String.join("\n",
                "set -e",
                "dpkg -i --force-depends /k.deb >/dev/null",
                "echo \"user $(getent passwd knowngood | cut -d: -f1,6,7)\"",
                "echo \"data $(stat -c '%U:%G %a' /var/lib/knowngood)\"",
                "echo \"version $(kgnode --version)\"",
                // as the unit runs it: the service user, its CacheDirectory=; the sample config names a
                // publisher key not there yet (exit 1), and the JVM still writes its AppCDS archive at exit,
                // which the second start adopts
                "install -d -o knowngood -g knowngood -m 0750 /var/cache/knowngood",
                "for i in 1 2; do code=0; timeout 60 runuser -u knowngood -- kgnode run --config /etc/knowngood/kgnode.yaml >/run/kgnode.log 2>&1 || code=$?;"
                        + " echo \"run as knowngood: exit $code, $(grep -q publisher.pub /run/kgnode.log && echo names publisher.pub || cat /run/kgnode.log)\"; done",
                "echo \"cache: $(ls /var/cache/knowngood | tr '\\n' ' ')\"",
                "echo \"share: $(ls /usr/share/knowngood | tr '\\n' ' ')\"",
                "echo '# edited by the admin' >> /etc/knowngood/kgnode.yaml",
                "dpkg -i --force-depends /k.deb >/dev/null",
                "echo \"upgrade kept edit: $(grep -c 'edited by the admin' /etc/knowngood/kgnode.yaml)\"",
                "touch /var/lib/knowngood/held",
                "dpkg --remove knowngood >/dev/null",
                "echo \"after remove: $(ls /var/lib/knowngood) $(ls /etc/knowngood) $(test -e /usr/bin/kgnode && echo binary-left || echo no-binary)\"",
                "mkdir -p /etc/systemd/system/multi-user.target.wants",
                "ln -sf /lib/systemd/system/kgnode.service /etc/systemd/system/multi-user.target.wants/kgnode.service",
                "dpkg --purge knowngood >/dev/null",
                "echo \"after purge: $(test -e /var/lib/knowngood && echo data-left || echo no-data) $(test -e /etc/knowngood/kgnode.yaml && echo config-left || echo no-config)"
                        + " $(test -L /etc/systemd/system/multi-user.target.wants/kgnode.service && echo link-left || echo no-link)\"");
        Files.writeString(dir.resolve("in-root.sh"), inRoot + "\n");

        Result r = run(List.of("unshare", "-m", "--propagation", "private", "sh", "-ec", String.join("\n",
                "d=$1",
                "mount -t overlay overlay -o lowerdir=/,upperdir=\"$d/upper\",workdir=\"$d/work\" \"$d/root\"",
                "mount --bind /proc \"$d/root/proc\"",
                "mount --bind /dev \"$d/root/dev\"",
                "mount -t tmpfs tmpfs \"$d/root/run\"",
                "mount -t tmpfs tmpfs \"$d/root/tmp\"",
                "cp \"$d/k.deb\" \"$d/in-root.sh\" \"$d/root/\"",
                "PATH=/usr/sbin:/usr/bin:/sbin:/bin chroot \"$d/root\" sh /in-root.sh"), "sh", dir.toString()));

        assertThat(r.code()).as(r.out()).isZero();
        assertThat(r.out().lines()).containsExactly(
                "user knowngood:/var/lib/knowngood:/usr/sbin/nologin",
                "data knowngood:knowngood 750",
                "version knowngood " + mavenVersion,
                "run as knowngood: exit 1, names publisher.pub",
                "run as knowngood: exit 1, names publisher.pub",
                "cache: kgnode.cds-lock kgnode.jar.trim-ok kgnode.jsa ",
                "share: kgctl-launcher kgctl.jar kgnode-launcher kgnode.jar ",
                "upgrade kept edit: 1",
                "after remove: held kgnode.yaml no-binary",
                "after purge: no-data no-config no-link");
        assertThat(Path.of("/usr/share/knowngood")).as("the host is untouched").doesNotExist();
    }

    private static String asRoot() throws Exception {
        Result id = run(List.of("id", "-u"));
        return id.out().strip().equals("0") ? null : "not root (unshare -m and overlay mounts need it)";
    }

    private static void needs(String missing) {
        assumeTrue(Ci.available(missing), missing);
    }

    private record Result(int code, String out) {
    }

    /** Runs a command with stdout and stderr together (through a file, so a hung command cannot block the read); fails the test if it outlives {@link #TIMEOUT}. */
    private static Result run(List<String> command) throws IOException, InterruptedException {
        Path log = Files.createTempFile("knowngood-deb-it", ".log");
        try {
            Process p = new ProcessBuilder(new ArrayList<>(command)).redirectErrorStream(true)
                    .redirectOutput(log.toFile()).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
            if (!p.waitFor(TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("timed out after " + TIMEOUT + ": " + command);
            }
            return new Result(p.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(log);
        }
    }
}
