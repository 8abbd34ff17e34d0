package io.knowngood.node;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.stream.Collectors;
import picocli.CommandLine;

/** {@code kgnode run ARGS} in this JVM, as the launcher runs it: the exit code and the lines written to stderr. */
record KgNodeRun(int code, List<String> errLines) {

    static KgNodeRun of(String... args) {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream old = System.err;
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            String[] all = new String[args.length + 1];
            all[0] = "run";
            System.arraycopy(args, 0, all, 1, args.length);
            int code = new CommandLine(new KgNode()).execute(all);
            return new KgNodeRun(code, err.toString(StandardCharsets.UTF_8).lines().map(String::trim)
                    .filter(l -> !l.isEmpty()).collect(Collectors.toList()));
        } finally {
            System.setErr(old);
        }
    }

    /** The exit code, a space, and the command's own lines ("kgnode: ..."; log lines left out), joined by " | ". */
    String summary() {
        return code + " " + errLines.stream().filter(l -> l.startsWith("kgnode:")).collect(Collectors.joining(" | "));
    }
}
