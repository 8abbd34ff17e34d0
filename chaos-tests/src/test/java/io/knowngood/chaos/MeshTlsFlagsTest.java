package io.knowngood.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.knowngood.node.KgNode;
import io.knowngood.testkit.Ci;
import io.knowngood.testkit.Promtool;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The kgnode flags that {@code kgctl mesh cert issue} prints are flags kgnode has (issue 12: it
 * printed three that kgnode rejects), and they start a real TLS mesh: two kgnode processes started
 * with exactly the printed flags join each other and log "mesh TLS on: ...". A typo in the
 * directory is logged with its cause, and that node serves on its own. A host revoked with {@code kgctl
 * mesh cert revoke}, its list copied to one other host's directory, is cut off by both others (the mesh
 * carries the list) and keeps serving alone; a node restarted with an older list put back keeps the
 * newer one; a damaged list shows on the status page. Real bin/kgctl, real kgnode processes on
 * 127.0.0.141-143.
 */
class MeshTlsFlagsTest {

    private static final String TOKEN = "mesh-tls-flags-token-0123456789";
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private final List<Process> nodes = new ArrayList<>();
    private Path token;
    private Path trustKey;

    @BeforeEach
    void publisherKeyAndToken() throws Exception {
        kgctl("keys", "generate", "--out", dir.toString(), "--name", "publisher");
        trustKey = dir.resolve("publisher.pub");
        token = Files.writeString(dir.resolve("admin.token"), TOKEN + "\n");
        Files.setPosixFilePermissions(token, PosixFilePermissions.fromString("rw-------"));
    }

    @AfterEach
    void stopNodes() throws Exception {
        for (Process p : nodes) {
            p.destroy();
        }
        for (Process p : nodes) {
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void theFlagsCertIssuePrints_startATlsMesh_andAHostRevokedWithKgctl_isCutOffAndServesAlone() throws Exception {
        String ca = dir.resolve("ca").toString();
        kgctl("mesh", "ca", "init", "--out", ca);
        List<String> n1 = printedKgnodeFlags(kgctl("mesh", "cert", "issue", "--ca", ca, "--node-id", "n1", "--out", dir.resolve("n1-tls").toString()));
        List<String> n2 = printedKgnodeFlags(kgctl("mesh", "cert", "issue", "--ca", ca, "--node-id", "n2", "--out", dir.resolve("n2-tls").toString()));
        List<String> n3 = printedKgnodeFlags(kgctl("mesh", "cert", "issue", "--ca", ca, "--node-id", "n3", "--out", dir.resolve("n3-tls").toString()));

        assertThat(n1).containsExactly("--node-id", "n1", "--cluster-tls-dir", dir.resolve("n1-tls").toString());
        // kgnode's own command line spec takes them (an unknown flag throws here)
        CommandLine.ParseResult parsed = new CommandLine(new KgNode()).parseArgs(concat(List.of("run"), n1).toArray(String[]::new));
        assertThat(parsed.subcommand().matchedOptionValue("--cluster-tls-dir", (String) null)).isEqualTo(dir.resolve("n1-tls").toString());

        start("127.0.0.141", "127.0.0.142", n1);
        start("127.0.0.142", "127.0.0.141", n2);
        start("127.0.0.143", "127.0.0.141", n3);

        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(500)).ignoreExceptionsInstanceOf(IOException.class).untilAsserted(() -> {
            for (String ip : List.of("127.0.0.141", "127.0.0.142", "127.0.0.143")) {
                assertThat(nodes.stream().allMatch(Process::isAlive)).as("nodes alive; logs:%n%s", logs()).isTrue();
                String cluster = get("http://" + ip + ":18681/v1/cluster", true);
                assertThat(cluster).contains("\"state\":\"CLUSTERED\"").contains("\"n1\"").contains("\"n2\"").contains("\"n3\"");
            }
        });
        for (String id : List.of("n1", "n2", "n3")) {
            assertThat(Files.readString(dir.resolve(id + ".log"))).as(id + ".log")
                    .containsPattern("mesh TLS on: certificate CN=" + id + ",O=knowngood serial [0-9a-f]+ issued by CN=knowngood mesh CA ")
                    .doesNotContain("plaintext", "NOT joining the mesh");
        }

        // n3 leaves for good: revoked as docs/kgnode.md says, the list copied to one host; the mesh carries it to n2
        assertThat(kgctl("mesh", "cert", "revoke", "--ca", ca, "--node-id", "n3")).contains("revoked n3: serial ");
        Files.copy(dir.resolve("ca").resolve("crl.pem"), dir.resolve("n1-tls").resolve("crl.pem"));

        await("n1 and n2 go on without n3").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
                .ignoreExceptionsInstanceOf(IOException.class).untilAsserted(() -> {
                    for (String ip : List.of("127.0.0.141", "127.0.0.142")) {
                        JsonNode members = JSON.readTree(get("http://" + ip + ":18681/v1/cluster", true)).get("members");
                        assertThat(members.findValuesAsText("id")).as(ip).containsExactlyInAnyOrder("n1", "n2");
                    }
                });
        await("n3 coming back is refused as revoked").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
                .untilAsserted(() -> assertThat(get("http://127.0.0.141:18681/metrics", true))
                        .contains("kgnode_mesh_tls_revoked_certificates 1")
                        .contains("kgnode_mesh_tls_revocation_list_number 1")
                        .containsPattern("kgnode_mesh_tls_refused_total\\{kind=\"revoked\"\\} [1-9]")
                        .contains("kgnode_mesh_tls_revocation_list_unused 0")
                        // the mesh certificate's expiry, for alerting: kgctl mesh cert issue makes it valid for years
                        .containsPattern("kgnode_tls_certificate_expiry_timestamp_seconds\\{endpoint=\"mesh\"} [0-9.E]+"));
        // the revocation gauges are well-formed (promtool, Debian package prometheus)
        Assumptions.assumeTrue(Ci.available(Promtool.missing()), Promtool.missing());
        Promtool.Result lint = Promtool.checkMetrics(get("http://127.0.0.141:18681/metrics", true));
        assertThat(lint.output()).as("promtool findings").isBlank();
        assertThat(lint.exitCode()).isZero();
        assertThat(Files.readString(dir.resolve("n1.log")))
                .contains("mesh revocation list number 1 in force (from " + dir.resolve("n1-tls").resolve("crl.pem") + "): 1 certificate(s) revoked")
                .containsPattern("closing the mesh connection with 127\\.0\\.0\\.143: its certificate CN=n3 \\(serial [0-9a-f]+\\) was revoked");
        assertThat(Files.readString(dir.resolve("n2.log"))).contains("mesh revocation list number 1 in force (from member n1 through the mesh)");
        JsonNode list = JSON.readTree(get("http://127.0.0.142:18681/v1/cluster", true)).get("revocationList");
        assertThat(list.get("number").asLong()).isEqualTo(1);
        assertThat(list.get("revoked").asInt()).isEqualTo(1);
        assertThat(JSON.readTree(get("http://127.0.0.142:18681/v1/cluster", true)).get("members").findValuesAsText("revocationList"))
                .as("each member's list number, as the mesh carries it").containsExactly("1", "1");
        assertThat(kgctl("status", "--node", "http://127.0.0.142:18681", "--token-file", token.toString()))
                .contains("mesh revocation list: number 1, 1 certificate revoked (written ").contains("; the same on every member in view");
        assertThat(get("http://127.0.0.142:18681/v1/explain/desk", true)).as("explain's certificate line")
                .containsPattern("\"kind\":\"certificate\",\"name\":\"mesh\",\"status\":\"ok\",\"detail\":\"CN=n2,O=knowngood expires [^\"]*"
                        + "; revocation list number 1 kept in " + Pattern.quote(dir.resolve("n2-data").resolve("mesh-crl.pem").toString())
                        + ", the newest this node has seen: 1 certificate revoked\"");
        // the removed host still serves its own VMs from what it holds
        assertThat(get("http://127.0.0.143:18680/v1/health", false)).contains("\"serving\":true");

        // a second list, again copied to n1 only, reaches n2, which keeps it in its data dir: an old copy put in n2's
        // directory while it is down takes nothing back at its restart
        byte[] numberOne = Files.readAllBytes(dir.resolve("ca").resolve("crl.pem"));
        assertThat(kgctl("mesh", "cert", "revoke", "--ca", ca, "--serial", "5c0e91")).contains("revoked ?: serial 5c0e91");
        Files.copy(dir.resolve("ca").resolve("crl.pem"), dir.resolve("n1-tls").resolve("crl.pem"), StandardCopyOption.REPLACE_EXISTING);
        await("n2 has list number 2 through the mesh").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(300)).untilAsserted(() ->
                assertThat(JSON.readTree(get("http://127.0.0.142:18681/v1/cluster", true)).get("revocationList").get("number").asLong()).isEqualTo(2));
        assertThat(dir.resolve("n2-data").resolve("mesh-crl.pem")).hasBinaryContent(Files.readAllBytes(dir.resolve("ca").resolve("crl.pem")));
        nodes.get(1).destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        Files.write(dir.resolve("n2-tls").resolve("crl.pem"), numberOne);
        start("127.0.0.142", "127.0.0.141", n2);
        await("n2 back in the mesh, list number 2 in force").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(300))
                .ignoreExceptionsInstanceOf(IOException.class).untilAsserted(() -> {
                    JsonNode cluster = JSON.readTree(get("http://127.0.0.142:18681/v1/cluster", true));
                    assertThat(cluster.get("members").findValuesAsText("id")).containsExactlyInAnyOrder("n1", "n2");
                    assertThat(cluster.get("revocationList").get("number").asLong()).isEqualTo(2);
                    assertThat(cluster.get("revocationList").get("revoked").asInt()).isEqualTo(2);
                    assertThat(cluster.get("revocationList").has("problem")).as("an older crl.pem is not in force, and no problem").isFalse();
                });
        assertThat(Files.readString(dir.resolve("n2.log"))).containsPattern("mesh TLS on: .*; revocation list number 2 kept in "
                + Pattern.quote(dir.resolve("n2-data").resolve("mesh-crl.pem").toString()) + ", the newest this node has seen \\(crl.pem holds the older number 1\\)");

        // a damaged crl.pem is not used, and says so: in /v1/cluster, and on the status page (headless Chromium)
        Files.writeString(dir.resolve("n2-tls").resolve("crl.pem"), "-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n");
        await("n2 reports crl.pem not used").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(300)).untilAsserted(() ->
                assertThat(JSON.readTree(get("http://127.0.0.142:18681/v1/cluster", true)).get("revocationList").path("problem").asText())
                        .startsWith("it is not a list signed by this mesh's CA"));
        String chromium = Ci.missingTools("chromium");
        Assumptions.assumeTrue(Ci.available(chromium), chromium);
        String page = HeadlessChromium.run(dir, "--dump-dom", "http://127.0.0.142:18681/#token=" + TOKEN);
        assertThat(StatusPageBrowserTest.text(page, "crl")).as(page).isEqualTo("number 2, 2 revoked; crl.pem NOT USED");
        assertThat(page).contains("mesh revocation list crl.pem not used: it is not a list signed by this mesh's CA");
    }

    @Test
    void aTypoInTheTlsDir_isLoggedWithItsCause_andTheNodeServesAlone() throws Exception {
        Path typo = dir.resolve("mseh");
        start("127.0.0.143", "127.0.0.141", List.of("--node-id", "n3", "--cluster-tls-dir", typo.toString()));

        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(300)).ignoreExceptionsInstanceOf(IOException.class).untilAsserted(() ->
                assertThat(get("http://127.0.0.143:18680/v1/health", false)).contains("\"serving\":true").contains("\"state\":\"STOPPED\""));
        assertThat(Files.readString(dir.resolve("n3.log"))).contains("NOT joining the mesh: --cluster-tls-dir " + typo
                + ": no such directory (a typo? 'kgctl mesh cert issue --ca CA_DIR --node-id ID --out DIR' writes node.p12, truststore.p12 and store.pass there)");
    }

    /** The flags on the "start kgnode with:" line of kgctl's output. */
    private static List<String> printedKgnodeFlags(String kgctlOut) {
        String marker = "start kgnode with: ";
        String line = kgctlOut.lines().filter(l -> l.contains(marker)).findFirst()
                .orElseThrow(() -> new AssertionError("no '" + marker + "' line in:\n" + kgctlOut));
        return Arrays.asList(line.substring(line.indexOf(marker) + marker.length()).trim().split("\\s+"));
    }

    private void start(String ip, String peer, List<String> printed) throws IOException {
        String id = printed.get(printed.indexOf("--node-id") + 1);
        List<String> cmd = new ArrayList<>(List.of(javaBin(), "-Xmx96m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-jar", LauncherRaceTest.kgnodeJar().toString(), "run"));
        cmd.addAll(printed);
        cmd.addAll(List.of("--cluster-name", "tls-flags", "--cluster-bind", ip + ":18640", "--peers", peer + ":18640",
                "--vm-bind", ip + ":18680", "--admin-bind", ip + ":18681", "--data-dir", dir.resolve(id + "-data").toString(),
                "--admin-token-file", token.toString(), "--trust-key", trustKey.toString(), "--mesh-timings", "local-testing",
                "--scrub-interval", "0"));
        nodes.add(new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve(id + ".log").toFile()).start());
    }

    private String kgctl(String... args) throws Exception {
        List<String> cmd = concat(List.of(Checkout.bin("kgctl").toString()), List.of(args));
        Path out = Files.createTempFile(dir, "kgctl", ".out");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("kgctl finished").isTrue();
        assertThat(p.exitValue()).as("%s%n%s", cmd, Files.readString(out)).isZero();
        return Files.readString(out);
    }

    private String get(String url, boolean admin) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5));
        if (admin) {
            b.header("Authorization", "Bearer " + TOKEN);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString()).body();
    }

    private String logs() throws IOException {
        StringBuilder s = new StringBuilder();
        for (String id : List.of("n1", "n2", "n3")) {
            if (Files.exists(dir.resolve(id + ".log"))) {
                s.append("== ").append(id).append('\n').append(Files.readString(dir.resolve(id + ".log")));
            }
        }
        return s.toString();
    }

    private static String javaBin() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    private static <T> List<T> concat(List<T> a, List<T> b) {
        List<T> out = new ArrayList<>(a);
        out.addAll(b);
        return out;
    }
}
