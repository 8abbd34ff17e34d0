package io.knowngood.cli.guest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.knowngood.cli.KgctlRunner;
import io.knowngood.cli.bundle.BundleFixture;
import io.knowngood.crypto.bundle.BundlePacker;
import io.knowngood.crypto.bundle.Ed25519Keys;
import io.knowngood.node.TestNode;
import io.knowngood.testkit.Ci;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Base64;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

/**
 * A node as a cloud-init NoCloud seed: a bundle holding {@code meta-data} and {@code user-data} at its
 * root, read by cloud-init's own NoCloud network datasource (Debian package cloud-init) the way a
 * booting guest reads it: the kernel command line {@code ds=nocloud-net;s=URL} (or {@code ds=nocloud})
 * parsed by cloud-init, then {@code get_data()}, which fetches URL + meta-data, user-data and
 * vendor-data from the node's {@code /v1/bundles/NAME/files/} route. Fails under CI=true without
 * /usr/bin/python3 and its cloudinit module.
 */
@Execution(ExecutionMode.CONCURRENT) // see junit-platform.properties
class NoCloudSeedTest {
    private static final String PYTHON = "/usr/bin/python3";
    private static final String META_DATA = "instance-id: desk-0042\nlocal-hostname: desk-0042\n";
    private static final String USER_DATA = "#cloud-config\nhostname: desk-0042\nruncmd:\n  - [sh, -c, 'echo \"seeded by knowngood\" > /run/kg-seeded']\n";

    /** What a booting guest's cloud-init does with that command line, as JSON (the datasource's view). */
    private static final String DRIVER = """
            import base64, json, os, sys, time
            os.environ["DEBUG_PROC_CMDLINE"] = sys.argv[2]   # cloud-init reads this instead of /proc/cmdline
            from cloudinit import helpers, version
            from cloudinit.sources.DataSourceNoCloud import DataSourceNoCloudNet
            tmp = sys.argv[1]
            paths = helpers.Paths({"cloud_dir": os.path.join(tmp, "cloud"), "run_dir": os.path.join(tmp, "run")})
            # fs_label None: no scan of block devices for a cidata disk (none here)
            ds = DataSourceNoCloudNet(sys_cfg={"datasource": {"NoCloud": {"fs_label": None}}}, distro=None, paths=paths)
            out = {"version": version.version_string()}
            started = time.monotonic()
            try:
                out["found"] = bool(ds.get_data())
                out["dsmode"] = ds.dsmode
                out["metadata"] = ds.metadata
                b64 = lambda b: None if b is None else base64.b64encode(b if isinstance(b, bytes) else b.encode()).decode()
                out["userdata"] = b64(ds.userdata_raw)
                out["vendordata"] = b64(ds.vendordata_raw)
            except Exception as e:
                out["error"] = "%s: %s" % (type(e).__name__, e)
            out["seconds"] = round(time.monotonic() - started, 1)
            print(json.dumps(out, default=str))
            """;

    @TempDir
    Path dir;

    private BundleFixture bundles;
    private TestNode node;

    @BeforeAll
    static void needsCloudInit() throws Exception {
        String missing = null;
        if (!Files.isExecutable(Path.of(PYTHON))) {
            missing = PYTHON + " is not installed";
        } else {
            Process p = new ProcessBuilder(PYTHON, "-c", "import cloudinit.sources.DataSourceNoCloud").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                missing = "cloud-init's python module is not installed (Debian package cloud-init): " + out;
            }
        }
        assumeTrue(Ci.available(missing), missing);
    }

    @BeforeEach
    void setUp() throws Exception {
        bundles = new BundleFixture(dir);
        node = TestNode.start(dir.resolve("node"), bundles.pub);
    }

    @AfterEach
    void tearDown() {
        node.close();
    }

    private void publishSeed(Map<String, String> files) throws Exception {
        SortedMap<String, byte[]> content = new TreeMap<>();
        files.forEach((k, v) -> content.put(k, v.getBytes(StandardCharsets.UTF_8)));
        byte[] archive = BundlePacker.pack("desk-seed", 1, content, BundlePacker.PackOptions.none(),
                Ed25519Keys.readPrivatePem(bundles.key), Clock.systemUTC());
        assertThat(node.publish("desk-seed", archive).statusCode()).isEqualTo(201);
    }

    private String seedUrl(int port) {
        return "http://127.0.0.1:" + port + "/v1/bundles/desk-seed/files/";
    }

    private JsonNode boot(String cmdline) throws IOException, InterruptedException {
        Path run = Files.createDirectories(dir.resolve("guest-" + System.nanoTime()));
        Process p = new ProcessBuilder(PYTHON, "-c", DRIVER, run.toString(), cmdline).redirectErrorStream(false).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("cloud-init's reader finished").isTrue();
        assertThat(p.exitValue()).as(err).isZero();
        return new ObjectMapper().readTree(out);
    }

    private static String decoded(JsonNode b64) {
        return b64.isNull() ? null : new String(Base64.getDecoder().decode(b64.asText()), StandardCharsets.UTF_8);
    }

    private static boolean atLeast(String version, int major, int minor) {
        String[] v = version.split("\\.");
        int ma = Integer.parseInt(v[0]);
        int mi = v.length > 1 ? Integer.parseInt(v[1].replaceAll("\\D.*", "")) : 0;
        return ma > major || (ma == major && mi >= minor);
    }

    @Test
    void nocloudNet_getsMetaDataAndUserDataExactly_fromTheNodesFilesRoute() throws Exception {
        publishSeed(Map.of("meta-data", META_DATA, "user-data", USER_DATA, "vendor-data", ""));
        String url = seedUrl(node.vmPort());

        JsonNode r = boot("root=/dev/vda1 ro quiet ds=nocloud-net;s=" + url);

        assertThat(r.has("error")).as(r.toString()).isFalse();
        assertThat(r.get("found").asBoolean()).isTrue();
        assertThat(r.get("dsmode").asText()).as("applied in cloud-init's network stage").isEqualTo("net");
        assertThat(decoded(r.get("userdata"))).isEqualTo(USER_DATA);
        assertThat(decoded(r.get("vendordata"))).isEmpty();
        assertThat(r.get("metadata")).isEqualTo(new ObjectMapper().valueToTree(Map.of(
                "instance-id", "desk-0042", "local-hostname", "desk-0042", "seedfrom", url, "dsmode", "net")));
    }

    @Test
    void workedExample_docsExamplesDeskSeed_packedByKgctl_readByCloudInit() throws Exception {
        Path example = Path.of("..", "docs", "examples", "cloud-init", "desk-seed").toAbsolutePath().normalize();
        Path archive = dir.resolve("desk-seed-1.tar");
        KgctlRunner.Run packed = bundles.kgctl.run("bundle", "pack", example.toString(), "--name", "desk-seed", "--version", "1",
                "--key", bundles.key.toString(), "--out", archive.toString());
        assertThat(packed.exitCode()).as(packed.err()).isZero();
        assertThat(node.publish("desk-seed", Files.readAllBytes(archive)).statusCode()).isEqualTo(201);

        JsonNode r = boot("BOOT_IMAGE=/vmlinuz ro ds=nocloud-net;s=" + seedUrl(node.vmPort()));

        assertThat(r.has("error")).as(r.toString()).isFalse();
        assertThat(decoded(r.get("userdata"))).isEqualTo(Files.readString(example.resolve("user-data")));
        assertThat(r.get("metadata").get("instance-id").asText()).isEqualTo("desk-seed-v1");
        assertThat(decoded(r.get("vendordata"))).isEmpty();
    }

    @Test
    void dsNocloud_withAnHttpSeed_readsTheSame_networkStageOnlyFromCloudInit24_1() throws Exception {
        publishSeed(Map.of("meta-data", META_DATA, "user-data", USER_DATA, "vendor-data", ""));

        JsonNode r = boot("ro ds=nocloud;s=" + seedUrl(node.vmPort()));

        assertThat(r.has("error")).as(r.toString()).isFalse();
        assertThat(decoded(r.get("userdata"))).isEqualTo(USER_DATA);
        assertThat(r.get("metadata").get("instance-id").asText()).isEqualTo("desk-0042");
        // Before 24.1, "ds=nocloud" means local mode whatever the seed: the network stage finds the
        // data and then exits ("datasource in local mode"), so such images need ds=nocloud-net.
        String expected = atLeast(r.get("version").asText(), 24, 1) ? "net" : "local";
        assertThat(r.get("dsmode").asText()).as("cloud-init " + r.get("version").asText()).isEqualTo(expected);
    }

    @Test
    void noVendorDataInTheBundle_theNodes404IsOptional_metaAndUserDataStillRead() throws Exception {
        publishSeed(Map.of("meta-data", META_DATA, "user-data", USER_DATA));

        JsonNode r = boot("ro ds=nocloud-net;s=" + seedUrl(node.vmPort()));

        assertThat(r.has("error")).as(r.toString()).isFalse();
        assertThat(r.get("found").asBoolean()).isTrue();
        assertThat(decoded(r.get("userdata"))).isEqualTo(USER_DATA);
        assertThat(r.get("vendordata").isNull()).as("vendor-data 404: none, not an error").isTrue();
    }

    @Test
    void nodeDown_cloudInitGetsNoDatasource() throws Exception {
        publishSeed(Map.of("meta-data", META_DATA, "user-data", USER_DATA, "vendor-data", ""));
        int port = node.vmPort();
        node.close();

        JsonNode r = boot("ro ds=nocloud-net;s=" + seedUrl(port));

        assertThat(r.has("found")).as(r.toString()).isFalse();
        assertThat(r.get("error").asText()).startsWith("UrlError").contains("/v1/bundles/desk-seed/files/meta-data", "Connection refused");
    }
}
