package io.knowngood.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * bin/demo as a newcomer runs it (issue 12): it starts, every command of its "Try it" list works
 * against the live demo (the kill and the restart included), Ctrl-C stops everything it started;
 * and with one of its addresses taken it refuses at once, naming the address, instead of talking
 * to whatever listens there. Uses the demo's fixed addresses 127.0.0.11-13.
 */
class DemoScriptTest {

    private static final Duration READY = Duration.ofMinutes(5);

    @TempDir
    Path dir;

    @Test
    void demo_everyTryItCommandWorks_andCtrlCStopsEverything() throws Exception {
        Path demoDir = dir.resolve("demo");
        Path out = dir.resolve("demo.out");
        Process demo = startDemo(demoDir, out);
        try {
            await().atMost(READY).pollInterval(Duration.ofMillis(500)).until(() -> {
                assertThat(demo.isAlive()).as("bin/demo exited early:%n%s", read(out)).isTrue();
                return read(out).contains("Press Ctrl-C to stop the demo.");
            });
            List<String> commands = tryIt(read(out));
            assertThat(commands).as("the Try it list").hasSizeGreaterThanOrEqualTo(12)
                    .anyMatch(c -> c.contains(" seed ")).anyMatch(c -> c.startsWith("kill -9")).anyMatch(c -> c.endsWith(".start"));

            Process longPoll = null;
            Path longPollOut = dir.resolve("long-poll.out");
            String after = "";
            for (String c : commands) {
                if (c.contains("wait=60&after=1")) {
                    // returns when the seed below publishes version 2
                    longPoll = new ProcessBuilder("bash", "-c", c).redirectErrorStream(true).redirectOutput(longPollOut.toFile()).start();
                } else if (after.startsWith("kill -9")) {
                    // the demo notices (it polls every second): wait for that before anything restarts the
                    // node, or a quick restart would fall between two of its looks
                    await("the demo says node1 stopped").atMost(Duration.ofSeconds(30))
                            .until(() -> read(out).contains("node1 is not running; start it again with: "));
                    // the survivor keeps serving, and says it is no longer in touch once it notices
                    await().atMost(Duration.ofSeconds(60)).untilAsserted(() ->
                            assertThat(succeeds(c)).contains("X-Knowngood-In-Touch: false"));
                } else if (after.endsWith(".start")) {
                    // the restarted node serves (from disk) as soon as it is up
                    await().atMost(Duration.ofSeconds(90)).untilAsserted(() -> succeeds(c));
                } else {
                    String r = succeeds(c);
                    if (c.endsWith(".start")) {
                        assertThat(r).contains("node1 started");
                    }
                }
                after = c;
            }
            assertThat(longPoll).as("a long-poll command in the list").isNotNull();
            assertThat(longPoll.waitFor(90, TimeUnit.SECONDS)).as("the long-poll answered").isTrue();
            assertThat(read(longPollOut)).contains("HTTP/1.1 200").contains("X-Knowngood-Version: 2");
            String start = commands.stream().filter(c -> c.endsWith(".start")).findFirst().orElseThrow();
            assertThat(read(out)).as("the demo says how to restart the node it saw die")
                    .contains("node1 is not running; start it again with: " + start);
            await("the demo says node1 is back").atMost(Duration.ofSeconds(30))
                    .until(() -> read(out).contains("node1 is running again"));
        } finally {
            // also when an assertion failed: the demo must stop its nodes before the temp dir goes
            interrupt(demo);
            demo.waitFor(90, TimeUnit.SECONDS);
        }
        assertThat(demo.isAlive()).as("bin/demo still running 90 s after SIGINT").isFalse();
        assertThat(demo.exitValue()).isEqualTo(130);
        assertThat(read(out)).contains("demo: stopping nodes");
        assertThat(processesMentioning(demoDir)).as("processes still running from the demo dir").isEmpty();
    }

    @Test
    void demo_withItsVmAddressTaken_exitsAtOnce_namingTheAddress() throws Exception {
        Path demoDir = dir.resolve("demo");
        Path out = dir.resolve("demo.out");
        try (ServerSocket taken = new ServerSocket()) {
            taken.bind(new InetSocketAddress("127.0.0.11", 8711));
            long t0 = System.nanoTime();
            Process demo = startDemo(demoDir, out);
            assertThat(demo.waitFor(30, TimeUnit.SECONDS)).as("bin/demo exited").isTrue();
            long ms = (System.nanoTime() - t0) / 1_000_000;

            assertThat(demo.exitValue()).as(read(out)).isNotZero();
            assertThat(read(out)).contains("demo: 127.0.0.11:8711 is already in use");
            assertThat(ms).as("ms until it gave up").isLessThan(10_000);
            assertThat(demoDir).as("nothing started, nothing written").doesNotExist();
        }
    }

    private static Process startDemo(Path demoDir, Path out) throws IOException {
        // The demo ignores SIGINT when its parent does (a background job of a script): start it with
        // the default disposition, as a terminal does, so this test's SIGINT is a Ctrl-C.
        ProcessBuilder pb = new ProcessBuilder("env", "--default-signal=INT", Checkout.bin("demo").toString())
                .redirectErrorStream(true).redirectOutput(out.toFile());
        pb.environment().put("KG_DEMO_DIR", demoDir.toString());
        return pb.start();
    }

    /** The commands of the "Try it" list: indented lines between its heading and "Press Ctrl-C", comments left out. */
    static List<String> tryIt(String output) {
        List<String> commands = new ArrayList<>();
        boolean in = false;
        for (String line : output.split("\n")) {
            if (line.startsWith("Try it")) {
                in = true;
            } else if (line.startsWith("Press Ctrl-C")) {
                break;
            } else if (in && line.startsWith("  ") && !line.isBlank() && !line.trim().startsWith("#")) {
                commands.add(line.trim().replaceAll("\\s+#.*$", ""));
            }
        }
        return commands;
    }

    /** Runs {@code command} with bash; it must exit 0, and any HTTP answer in its output must be a 200 without an error body. */
    private String succeeds(String command) throws Exception {
        Path o = Files.createTempFile(dir, "cmd", ".out");
        Process p = new ProcessBuilder("bash", "-c", command).redirectErrorStream(true).redirectOutput(o.toFile()).start();
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("finished: %s", command).isTrue();
        String r = read(o);
        assertThat(p.exitValue()).as("exit code of: %s%n%s", command, r).isZero();
        if (r.startsWith("HTTP/")) {
            assertThat(r).as(command).startsWith("HTTP/1.1 200");
        }
        assertThat(r).as(command).doesNotContain("\"error\"");
        return r;
    }

    private static void interrupt(Process demo) throws Exception {
        if (demo.isAlive()) {
            new ProcessBuilder("kill", "-INT", Long.toString(demo.pid())).inheritIO().start().waitFor(10, TimeUnit.SECONDS);
        }
    }

    /** Pids of live processes whose command line names {@code d} (the demo's nodes all do). */
    static List<Long> processesMentioning(Path d) throws IOException {
        List<Long> pids = new ArrayList<>();
        byte[] needle = d.toString().getBytes(StandardCharsets.UTF_8);
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            for (Path p : (Iterable<Path>) procs::iterator) {
                String name = p.getFileName().toString();
                if (!name.chars().allMatch(Character::isDigit) || Long.parseLong(name) == ProcessHandle.current().pid()) {
                    continue;
                }
                try {
                    if (indexOf(Files.readAllBytes(p.resolve("cmdline")), needle) >= 0) {
                        pids.add(Long.parseLong(name));
                    }
                } catch (IOException gone) {
                    // exited while we looked
                }
            }
        }
        return pids;
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    private static String read(Path f) throws IOException {
        return Files.exists(f) ? Files.readString(f) : "";
    }
}
