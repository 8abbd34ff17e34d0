package io.knowngood.packaging;

import io.knowngood.cli.Environment;
import io.knowngood.cli.Kgctl;
import io.knowngood.node.KgNode;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.codegen.docgen.manpage.ManPageGenerator;

/**
 * Writes the man pages of kgnode and kgctl, one AsciiDoc file per command and subcommand, into the
 * directory given; the build turns them into troff (asciidoctor's manpage backend) for the package's
 * /usr/share/man/man1. picocli's generator reads the command trees the programs themselves run (kgctl's
 * as {@link Kgctl#commandLine} builds it, with its exit codes), so a page says what --help says.
 */
public final class ManPages {
    private ManPages() {
    }

    /**
     * Synopses on one line each, for man to wrap: picocli wraps them at the usage width, and a break
     * inside an option's parameter (e.g. _IP:_ / _PORT_) is AsciiDoc that renders garbled.
     */
    private static void unwrapped(CommandLine line) {
        line.setUsageHelpWidth(SYNOPSIS_WIDTH);
        line.getSubcommands().values().forEach(ManPages::unwrapped);
    }

    private static final int SYNOPSIS_WIDTH = 10_000;

    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            System.err.println("usage: ManPages OUTDIR");
            System.exit(2);
        }
        // no environment variables: the build's own KGCTL_NODE or KGCTL_TOKEN_FILE must not reach a page
        CommandLine kgctl = Kgctl.commandLine(new Environment(Map.of(), Clock.systemUTC(), Duration.ofSeconds(3), Duration.ofSeconds(60)));
        CommandLine kgnode = new CommandLine(new KgNode());
        unwrapped(kgctl);
        unwrapped(kgnode);
        int code = ManPageGenerator.generateManPage(new File(args[0]), null, new boolean[0], true,
                kgctl.getCommandSpec(), kgnode.getCommandSpec());
        if (code != 0) {
            System.err.println("ManPages: picocli's generator exited " + code);
            System.exit(code);
        }
        try (Stream<Path> pages = Files.list(Path.of(args[0]))) {
            for (Path page : pages.filter(p -> p.toString().endsWith(".adoc")).toList()) {
                Files.write(page, literalBracketsInSynopsis(Files.readAllLines(page)));
            }
        }
    }

    /** An italic parameter label of a synopsis, e.g. {@code _NAME=PREFIX[,PREFIX...]_}. */
    private static final Pattern ITALIC = Pattern.compile("_[^_\\s]+_");

    /**
     * Square brackets inside the synopsis's italic parameter labels as AsciiDoc's {startsb} and
     * {endsb}: in {@code _NAME=PREFIX[,PREFIX...]_} the brackets read as an attribute list, and the
     * option, with part of the next one, vanished from kgnode run's page.
     */
    static List<String> literalBracketsInSynopsis(List<String> lines) {
        List<String> out = new ArrayList<>(lines.size());
        boolean synopsis = false;
        for (String line : lines) {
            if (line.equals("== Synopsis")) {
                synopsis = true;
            } else if (line.startsWith("// end::picocli-generated-man-section-synopsis")) {
                synopsis = false;
            } else if (synopsis) {
                line = ITALIC.matcher(line).replaceAll(m -> Matcher.quoteReplacement(
                        m.group().replace("[", "{startsb}").replace("]", "{endsb}")));
            }
            out.add(line);
        }
        return out;
    }
}
