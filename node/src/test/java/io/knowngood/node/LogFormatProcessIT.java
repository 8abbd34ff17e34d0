package io.knowngood.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.knowngood.testkit.Ci;
import io.knowngood.testkit.process.NodeProcess;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the kgnode jar writes on stderr: by default the text lines it always wrote (tests, docs and
 * operators match them), with {@code --log-format json} one JSON object per line and nothing else.
 * A node with a (one-member, plaintext) mesh, so the mesh's threads and libraries log too.
 */
class LogFormatProcessIT {

    /** kgnode's text line, as slf4j-simple wrote it before logback: {@code 2026-12-01T16:00:00.123Z [main] INFO Node - ...}. */
    static final Pattern TEXT_LINE = Pattern.compile(
            "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}(Z|[+-]\\d\\d) \\[[^\\]]+\\] (ERROR|WARN|INFO|DEBUG|TRACE) [A-Za-z0-9_$]+ - .*");

    @BeforeAll
    static void jarBuilt() {
        Assumptions.assumeTrue(Ci.available(NodeProcess.jarMissing()), NodeProcess.jarMissing());
    }

    @Test
    void defaultFormat_isTheTextLineKgnodeAlwaysWrote(@TempDir Path dir) throws Exception {
        List<String> lines = runUntilMeshReadyThenStop(dir);
        assertThat(lines).allSatisfy(l -> assertThat(l).matches(TEXT_LINE));
        assertThat(lines).anySatisfy(l -> assertThat(l).contains(" [main] INFO Node - node proc-log serving 0 bundles from "))
                .anySatisfy(l -> assertThat(l).contains(" WARN InfinispanMesh - proc-log: PLAINTEXT cluster transport on "))
                .anySatisfy(l -> assertThat(l).contains(" [kgnode-shutdown] INFO Node - node proc-log stopping"));
    }

    @Test
    void jsonFormat_everyLineIsOneJsonObjectWithTheFieldsShippersRead(@TempDir Path dir) throws Exception {
        List<String> lines = runUntilMeshReadyThenStop(dir, "--log-format", "json");
        ObjectMapper json = new ObjectMapper();
        List<JsonNode> events = new ArrayList<>();
        for (String l : lines) {
            JsonNode e = json.readTree(l);
            assertThat(e.isObject()).as(l).isTrue();
            assertThat(e.path("message").isTextual()).as(l).isTrue();
            assertThat(e.path("level").asText()).as(l).isIn("ERROR", "WARN", "INFO");
            assertThat(e.path("logger_name").asText()).as(l).isNotBlank();
            assertThat(e.path("thread_name").asText()).as(l).isNotBlank();
            assertThat(Instant.parse(e.path("@timestamp").asText())).as(l).isNotNull(); // RFC 3339, UTC
            events.add(e);
        }
        assertThat(events).anySatisfy(e -> {
            assertThat(e.path("logger_name").asText()).isEqualTo("io.knowngood.node.Node");
            assertThat(e.path("thread_name").asText()).isEqualTo("main");
            assertThat(e.path("level").asText()).isEqualTo("INFO");
            assertThat(e.path("message").asText()).startsWith("node proc-log serving 0 bundles from ");
        }).anySatisfy(e -> assertThat(e.path("message").asText()).startsWith("proc-log: PLAINTEXT cluster transport on "))
                .anySatisfy(e -> assertThat(e.path("message").asText()).isEqualTo("node proc-log stopping"));
        // the libraries stay at WARN, as before (Infinispan and JGroups would otherwise say a dozen things at INFO)
        assertThat(events).filteredOn(e -> e.path("logger_name").asText().matches("(org\\.jgroups|org\\.infinispan|io\\.undertow|org\\.xnio)\\..*"))
                .allSatisfy(e -> assertThat(e.path("level").asText()).as(e.toString()).isIn("WARN", "ERROR"));
    }

    @Test
    void badLogFormatInTheEnvironment_exits2WithOneLineNamingTheVariable(@TempDir Path dir) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar", NodeProcess.jar().toString(), "run", "--data-dir", dir.resolve("data").toString())
                .redirectOutput(ProcessBuilder.Redirect.DISCARD);
        pb.environment().put("KGNODE_LOG_FORMAT", "xml");
        Process p = pb.start();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isEqualTo(2);
        assertThat(err).isEqualTo("kgnode: bad configuration: KGNODE_LOG_FORMAT: expected text or json, got 'xml'\n");
    }

    /** Starts a node with a mesh of one, waits until the mesh is ready, stops it (SIGTERM); its output lines after the harness's header. */
    private static List<String> runUntilMeshReadyThenStop(Path dir, String... extra) throws IOException, InterruptedException {
        NodeProcess n = NodeProcess.builder("proc-log", dir).jvmFlags(NodeProcessIT.LAUNCHER_JVM).clusterPort(NodeProcess.freePort())
                .args("--floor-file", dir.resolve("floor").toString(), "--mesh-timings", "local-testing", "--scrub-interval", "0")
                .args(extra).build();
        try (n) {
            n.start();
            await().atMost(NodeProcessIT.START).pollInterval(Duration.ofMillis(100))
                    .until(() -> Files.readString(n.log()).contains("mesh ready on "));
            n.stop();
        }
        List<String> lines = Files.readAllLines(n.log());
        assertThat(lines.get(0)).startsWith("---- start #1: ");
        return lines.subList(1, lines.size());
    }
}
