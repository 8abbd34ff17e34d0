package io.knowngood.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import io.knowngood.cli.Environment;
import io.knowngood.cli.Kgctl;
import io.knowngood.node.KgNode;
import io.knowngood.node.config.NodeConfig;
import io.knowngood.node.config.Settings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * What the docs tell a newcomer to run is what kgnode takes (issue 12: docs/kgctl.md named three
 * kgnode flags that do not exist): every {@code kgnode run ...} line in README.md, docs/ and the
 * systemd unit parses against kgnode's own command line spec, and the sample packaging/kgnode.yaml
 * loads with kgnode's own config reader (unknown keys are an error there).
 */
class DocumentedFlagsTest {

    private static final Pattern KGNODE_RUN = Pattern.compile("(?:^|[\\s=/])kgnode run((?: [^#`\\n]*)?)");

    @Test
    void everyDocumentedKgnodeCommandLine_parses() throws Exception {
        List<String> checked = new ArrayList<>();
        for (Path f : documents()) {
            for (String line : Files.readAllLines(f)) {
                Matcher m = KGNODE_RUN.matcher(line);
                if (!m.find()) {
                    continue;
                }
                List<String> args = new ArrayList<>(List.of("run"));
                Arrays.stream(m.group(1).trim().split("\\s+"))
                        .filter(a -> !a.isEmpty() && !a.equals("...") && !a.equals("\\")).forEach(args::add);
                try {
                    new CommandLine(new KgNode()).parseArgs(args.toArray(String[]::new));
                } catch (CommandLine.ParameterException e) {
                    throw new AssertionError(Checkout.root().relativize(f) + ": '" + line.trim() + "': " + e.getMessage(), e);
                }
                checked.add(Checkout.root().relativize(f) + ": " + String.join(" ", args));
            }
        }
        assertThat(checked).as("documented kgnode command lines found")
                .anyMatch(c -> c.startsWith("docs/kgctl.md") && c.contains("--cluster-tls-dir"))
                .anyMatch(c -> c.startsWith("packaging/kgnode.service"));
    }

    /**
     * Every kgctl command line in a code block of README.md and docs/ (a line that starts with
     * {@code kgctl } or {@code $ kgctl }, continued over lines ending in a backslash, a trailing
     * {@code # comment} dropped, {@code ...} placeholders skipped) parses against kgctl's own command
     * line: its subcommands, option names, arity, value types and required options.
     */
    @Test
    void everyDocumentedKgctlCommandLine_parses() throws Exception {
        List<String> checked = new ArrayList<>();
        for (Path f : documents()) {
            List<String> lines = Files.readAllLines(f);
            for (int i = 0; i < lines.size(); i++) {
                String line = lines.get(i).strip();
                line = line.startsWith("$ ") ? line.substring(2).strip() : line;
                if (!line.startsWith("kgctl ") || line.matches("kgctl( [a-z-]+)+: .*")) { // not kgctl, or its error output
                    continue;
                }
                StringBuilder command = new StringBuilder(line);
                while (command.toString().endsWith("\\") && i + 1 < lines.size()) {
                    command.setLength(command.length() - 1);
                    command.append(' ').append(lines.get(++i).strip());
                }
                String text = command.toString().replaceAll("\\s+#.*$", "").replaceAll("\\s*(\\||;|&&|>).*$", ""); // the shell's part
                List<String> args = new ArrayList<>();
                boolean elided = false;
                for (String a : text.substring("kgctl ".length()).trim().split("\\s+")) {
                    boolean optionValue = !args.isEmpty() && args.get(args.size() - 1).startsWith("--") && !args.get(args.size() - 1).contains("=");
                    if (a.equals("...") && !optionValue) {
                        elided = true; // "kgctl seed /srv/kg/bundles ...": the rest as before
                    } else if (!a.isEmpty()) { // "--node ..." stands for a value
                        args.add(a.replaceAll("^'(.*)'$", "$1"));
                    }
                }
                try {
                    Kgctl.commandLine(new Environment(Map.of(), Clock.systemUTC(), Duration.ofSeconds(1), Duration.ofSeconds(1)))
                            .parseArgs(args.toArray(String[]::new));
                } catch (CommandLine.MissingParameterException e) {
                    if (!elided) { // options elided may be the required ones; the names and values given still parsed
                        throw new AssertionError(Checkout.root().relativize(f) + ": '" + text + "': " + e.getMessage(), e);
                    }
                } catch (CommandLine.ParameterException e) {
                    throw new AssertionError(Checkout.root().relativize(f) + ": '" + text + "': " + e.getMessage(), e);
                }
                checked.add(Checkout.root().relativize(f) + ": " + String.join(" ", args));
            }
        }
        assertThat(checked).as("documented kgctl command lines found")
                .anyMatch(c -> c.startsWith("README.md") && c.contains("bundles diff desktop-base 7 8"))
                .anyMatch(c -> c.startsWith("docs/kgctl.md") && c.contains("seed /srv/kg/bundles"));
    }

    @Test
    void theSampleConfig_loads() throws Exception {
        NodeConfig c = NodeConfig.load(Optional.of(Checkout.root().resolve("packaging/kgnode.yaml")), new Settings());

        assertThat(c.clusterTlsDir()).hasValue(Path.of("/etc/knowngood/mesh"));
        assertThat(c.adminTokenFile()).isEqualTo(Path.of("/etc/knowngood/admin.token"));
        // no fixed id: a file copied to every host must not give them all one (docs/kgnode.md, "One id per host")
        assertThat(NodeConfig.readYaml(Checkout.root().resolve("packaging/kgnode.yaml")).nodeId).isNull();
    }

    private static List<Path> documents() throws Exception {
        Path root = Checkout.root();
        List<Path> docs = new ArrayList<>(List.of(root.resolve("README.md"), root.resolve("packaging/kgnode.service")));
        try (Stream<Path> s = Files.list(root.resolve("docs"))) {
            docs.addAll(s.filter(p -> p.toString().endsWith(".md")).sorted().collect(Collectors.toList()));
        }
        return docs;
    }
}
