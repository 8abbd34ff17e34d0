package io.knowngood.cli.node;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.knowngood.api.ErrorCode;
import io.knowngood.cli.CliFailure;
import io.knowngood.cli.Environment;
import io.knowngood.cli.ExitCode;
import io.knowngood.cli.HelpOption;
import io.knowngood.cli.OutputOption;
import io.knowngood.cli.bundle.ArchiveContents;
import io.knowngood.crypto.bundle.BundleName;
import java.io.IOException;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code kgctl watch NAME}: prints the version a node serves, then one line per new version, using
 * the VM endpoint's long-poll ({@code ?wait=S&after=V}) exactly as a VM would.
 */
@Command(name = "watch",
        description = {"Follow the version of a bundle a node serves (long-poll).", "Prints the version of NAME a node serves, then one line each time a newer version arrives "
                + "(long-poll on the VM endpoint: GET /v1/bundles/NAME?wait=S&after=V, as VMs do).",
                "Runs until interrupted, or until --count changes were seen. Exit 4 if the node cannot be reached. "
                        + "With -o json, prints one JSON object per line."},
        footerHeading = "%nExamples:%n",
        footer = {"  kgctl watch desktop-base --vm http://10.0.0.5:8780",
                "  kgctl watch desktop-base --node http://10.0.0.5:8780 --count 1 -o json   # wait for the next version"})
public final class WatchCommand implements Callable<Integer> {
    private static final ObjectMapper LINES = JsonMapper.builder()
            .defaultPropertyInclusion(JsonInclude.Value.construct(JsonInclude.Include.NON_NULL, JsonInclude.Include.USE_DEFAULTS)).build();

    /** Between polls while the name is absent (404 at once, no long-poll to wait in). */
    static final Duration ABSENT_PAUSE = Duration.ofSeconds(2);

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

    @Option(names = "--wait", paramLabel = "SECONDS", defaultValue = "30",
            description = "Long-poll wait per request (the node caps it). Default: ${DEFAULT-VALUE}.")
    int waitSeconds;

    @Option(names = "--count", paramLabel = "N", defaultValue = "0",
            description = "Stop after N new versions (0: run until interrupted). Default: ${DEFAULT-VALUE}.")
    int count;

    WatchCommand(Environment env) {
        this.env = env;
    }

    /** One line of {@code -o json}. {@code event}: current, changed, retired, absent. */
    public record Event(String time, String name, String event, Long version, String manifestDigest, String node,
                        String inTouch, String lastContact) {
    }

    @Override
    public Integer call() throws IOException, InterruptedException {
        if (!BundleName.isValid(name)) {
            throw new ParameterException(spec.commandLine(), "\"" + name + "\" is not a bundle name");
        }
        if (waitSeconds < 1 || count < 0) {
            throw new ParameterException(spec.commandLine(), "--wait must be at least 1 and --count at least 0");
        }
        List<NodeClient> vms = vm.clients(env, nodes);
        PrintWriter err = spec.commandLine().getErr();
        FirstAnswer reads = new FirstAnswer(vms, err, spec.qualifiedName());

        FirstAnswer.Answered first = reads.get("/v1/bundles/" + name);
        long after = emit(first, "current");
        boolean absent = first.reply().status() == 404;
        int seen = 0;
        Duration timeout = Duration.ofSeconds(waitSeconds + 15L);
        while (count == 0 || seen < count) {
            if (absent) {
                // a node answers a long-poll for a name it does not hold (or not for this client) with 404
                // at once: ask again after a pause rather than in a tight loop
                Thread.sleep(ABSENT_PAUSE.toMillis());
            }
            FirstAnswer.Answered a = reads.get("/v1/bundles/" + name + "?wait=" + waitSeconds + "&after=" + after, Optional.empty(), timeout);
            if (a.reply().status() == 304) {
                continue;
            }
            boolean nowAbsent = a.reply().status() == 404 && !a.reply().errorIs(ErrorCode.RETIRED);
            if (nowAbsent && absent) {
                continue; // said once already
            }
            absent = nowAbsent;
            long v = emit(a, "changed");
            if (v > after) {
                after = v;
                seen++;
            }
        }
        return 0;
    }

    /** Prints what one answer says and returns the version it names (0 if none). */
    private long emit(FirstAnswer.Answered a, String event) {
        NodeClient.Answer.Reply r = a.reply();
        VmOptions.requireVmEndpoint(a.node(), r);
        String node = a.node().base().toString();
        Event e;
        if (r.status() == 200) {
            ArchiveContents.Read read = ArchiveContents.read(r.body());
            if (read instanceof ArchiveContents.Read.Unreadable u) {
                throw new CliFailure(ExitCode.NODE_ERROR, node + " served an unreadable archive for " + name + ": " + u.reason());
            }
            ArchiveContents c = ((ArchiveContents.Read.Readable) read).contents();
            e = new Event(now(), name, event, c.version(), c.manifestDigest(), node, r.inTouch().orElse(null), r.lastContact().orElse(null));
        } else if (r.status() == 404 && r.errorIs(ErrorCode.RETIRED)) {
            e = new Event(now(), name, "retired", r.version().orElse(0L), null, node, r.inTouch().orElse(null), r.lastContact().orElse(null));
        } else if (r.status() == 404) {
            e = new Event(now(), name, "absent", null, null, node, r.inTouch().orElse(null), r.lastContact().orElse(null));
        } else {
            throw new CliFailure(ExitCode.NODE_ERROR, node + ": HTTP " + r.status() + " " + r.error());
        }
        print(e);
        return e.version() == null ? 0 : e.version();
    }

    private void print(Event e) {
        PrintWriter w = spec.commandLine().getOut();
        if (output.json()) {
            try {
                w.println(LINES.writeValueAsString(e));
            } catch (JsonProcessingException ex) {
                throw new IllegalStateException("cannot serialise a watch event", ex);
            }
        } else {
            String what = switch (e.event()) {
                case "absent" -> "not held by this node (waiting for a first version)";
                case "retired" -> "retired at version " + e.version();
                default -> "version " + e.version() + " (" + e.manifestDigest().substring(0, 12) + ")";
            };
            w.println(e.time() + "  " + e.name() + "  " + e.event() + ": " + what
                    + (e.inTouch() != null ? "  in touch: " + e.inTouch() : ""));
        }
        w.flush();
    }

    private String now() {
        return env.clock().instant().truncatedTo(ChronoUnit.MILLIS).toString();
    }
}
