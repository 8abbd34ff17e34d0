package io.knowngood.node.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.knowngood.api.VmReport;

import io.knowngood.node.TestBundles;
import io.knowngood.node.TestNode;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Instant;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code POST /v1/reports} over real HTTP from distinct loopback source addresses: counted once per
 * VM, and every kind of bad report (malformed, oversized, unknown name or version, a flood from one
 * address, the wrong method or path) refused with its status while the bytes served stay the same.
 */
class ReportsTest {

    @TempDir
    Path dir;

    final TestBundles bundles = new TestBundles();
    TestNode node;

    @BeforeEach
    void start() throws Exception {
        node = TestNode.start(dir, bundles.writePublicKey(dir));
        assertThat(node.publish("desk", bundles.bundle("desk", 3, "three")).statusCode()).isEqualTo(201);
    }

    @AfterEach
    void stop() {
        node.close();
    }

    static String report(String name, long version, String result) {
        return "{\"name\":\"" + name + "\",\"version\":" + version + ",\"result\":\"" + result + "\",\"detail\":\"boot ok\"}";
    }

    @Test
    void aReportIsAcceptedAndCountedOncePerVm() throws Exception {
        TestNode.Raw r = node.report("127.0.0.21", report("desk", 3, "ok"));
        assertThat(r.status()).isEqualTo(202);
        assertThat(r.body()).contains("\"state\":\"good\"");
        assertThat(node.report("127.0.0.21", report("desk", 3, "failed")).status()).isEqualTo(202);
        assertThat(node.report("127.0.0.22", report("desk", 3, "ok")).status()).isEqualTo(202);
        String metrics = node.adminGet("/metrics").body();
        assertThat(metrics).contains("kgnode_vm_reports_total{result=\"ok\"} 2.0", "kgnode_vm_reports_total{result=\"failed\"} 1.0");
    }

    @Test
    void badReportsAreRefusedAndChangeNothing() throws Exception {
        HttpResponse<byte[]> before = node.get(node.vm("/v1/bundles/desk"));
        String from = "127.0.0.31";
        assertThat(node.report(from, "not json").status()).isEqualTo(400);
        assertThat(node.report(from, "{\"name\":\"desk\",\"version\":3}").status()).isEqualTo(400);
        assertThat(node.report(from, "{\"name\":\"desk\",\"version\":3,\"result\":\"maybe\"}").status()).isEqualTo(400);
        assertThat(node.report(from, "{\"name\":\"desk\",\"version\":-1,\"result\":\"ok\"}").status()).isEqualTo(400);
        for (String version : new String[] {"0", "3.5", "\"3\"", "99999999999999999999"}) {
            TestNode.Raw r = node.report(from, "{\"name\":\"desk\",\"version\":" + version + ",\"result\":\"ok\"}");
            assertThat(r.status()).as(version).isEqualTo(400);
            assertThat(r.body()).as(version).contains("version must be a whole number from 1 to 2^63-1");
        }
        assertThat(node.report(from, "{\"name\":\"../x\",\"version\":3,\"result\":\"ok\"}").status()).isEqualTo(400);
        assertThat(node.report(from, "{\"name\":\"desk\",\"version\":3,\"result\":\"ok\",\"extra\":1}").status()).isEqualTo(400);
        assertThat(node.report(from, "{\"name\":\"desk\",\"name\":\"x\",\"version\":3,\"result\":\"ok\"}").status()).isEqualTo(400);
        assertThat(node.report(from, "{\"name\":\"desk\",\"version\":3,\"result\":\"ok\",\"detail\":7}").status()).isEqualTo(400);
        TestNode.Raw big = node.report(from, "{\"name\":\"desk\",\"version\":3,\"result\":\"ok\",\"detail\":\"" + "d".repeat(5000) + "\"}");
        assertThat(big.status()).isEqualTo(413);
        TestNode.Raw unknownName = node.report(from, report("nosuch", 1, "ok"));
        assertThat(unknownName.status()).isEqualTo(404);
        assertThat(unknownName.body()).contains("no_such_version");
        assertThat(node.report(from, report("desk", 4, "ok")).status()).isEqualTo(404);
        assertThat(node.post(from, "/v1/bundles/desk", "{}".getBytes()).status()).isEqualTo(405);
        HttpResponse<byte[]> after = node.get(node.vm("/v1/bundles/desk"));
        assertThat(after.body()).isEqualTo(before.body());
        assertThat(after.headers().firstValue("X-Knowngood-Version")).hasValue("3");
    }

    /** A failure with a long message still counts: the detail is cut to its first 512 characters, not refused. */
    @Test
    void aLongDetail_isCutNotRefused() throws Exception {
        TestNode.Raw r = node.report("127.0.0.33", "{\"name\":\"desk\",\"version\":3,\"result\":\"failed\",\"detail\":\""
                + "d".repeat(600) + "\"}");
        assertThat(r.status()).isEqualTo(202);
        assertThat(r.body()).contains("\"result\":\"failed\"");
        assertThat(ReportsRoute.cut("d".repeat(600))).isEqualTo("d".repeat(VmReport.MAX_DETAIL_CHARS));
        assertThat(ReportsRoute.cut("short")).isEqualTo("short");
        String pairAcrossTheEnd = "d".repeat(VmReport.MAX_DETAIL_CHARS - 1) + "\uD83D\uDE00" + "d";
        assertThat(ReportsRoute.cut(pairAcrossTheEnd)).isEqualTo("d".repeat(VmReport.MAX_DETAIL_CHARS - 1));
    }

    @Test
    void aFloodFromOneAddressGets429WithRetryAfterAndOthersStillReport() throws Exception {
        int accepted = 0;
        TestNode.Raw last = null;
        for (int i = 0; i < 60; i++) {
            last = node.report("127.0.0.41", report("desk", 3, i % 2 == 0 ? "ok" : "failed"));
            if (last.status() == 202) {
                accepted++;
            } else {
                break;
            }
        }
        assertThat(last.status()).isEqualTo(429);
        assertThat(accepted).isBetween(25, 40);
        assertThat(Long.parseLong(last.headers().get("retry-after"))).isPositive();
        assertThat(node.report("127.0.0.42", report("desk", 3, "ok")).status()).isEqualTo(202);
        assertThat(node.adminGet("/metrics").body()).contains("kgnode_vm_reports_refused_total{reason=\"rate\"}");
    }

    @Test
    void bundleResponsesSayTheStateAndLatestAndExpiry() throws Exception {
        HttpResponse<byte[]> r = node.get(node.vm("/v1/bundles/desk"));
        assertThat(r.headers().firstValue("X-Knowngood-State")).hasValue("good");
        assertThat(r.headers().firstValue("X-Knowngood-Latest")).hasValue("3");
        assertThat(r.headers().firstValue("X-Knowngood-Expired")).isEmpty();
        assertThat(node.publish("desk", bundles.bundle("desk", 4, "four", null, Instant.parse("2026-11-26T00:00:00Z"))).statusCode())
                .isEqualTo(201);
        HttpResponse<byte[]> expired = node.get(node.vm("/v1/bundles/desk"));
        assertThat(expired.statusCode()).as("an expired version is still served").isEqualTo(200);
        assertThat(expired.headers().firstValue("X-Knowngood-Expired")).hasValue("true");
        assertThat(node.get(node.vm("/v1/bundles/desk/manifest.json")).headers().firstValue("X-Knowngood-Expired")).hasValue("true");
        assertThat(new String(node.get(node.vm("/v1/health")).body())).contains("\"expired\":[\"desk\"]");
        assertThat(node.adminGet("/v1/cluster").body()).contains("\"expired\":[\"desk\"]");
        assertThat(node.adminGet("/metrics").body()).contains("kgnode_bundles_expired 1.0");
    }
}
