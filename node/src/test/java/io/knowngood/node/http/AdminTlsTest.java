package io.knowngood.node.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.knowngood.crypto.meshca.MeshCa;
import io.knowngood.node.TestBundles;
import io.knowngood.node.TestNode;
import io.knowngood.node.config.ClusterTlsDir;
import io.knowngood.testkit.Ci;
import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --admin-tls-dir}: the admin endpoint speaks HTTPS with a certificate from the mesh CA
 * ({@code kgctl mesh cert issue --ip}); a client trusting that CA (Java's HttpClient, which checks
 * the dialled IP against the certificate, and curl) gets answers; one that does not is refused; plain
 * HTTP gets nothing; the VM endpoint stays plain HTTP; an unusable directory stops the start naming the flag.
 */
class AdminTlsTest {

    @TempDir
    Path dir;

    private final TestBundles bundles = new TestBundles();

    private Path issue(List<InetAddress> ips) throws Exception {
        MeshCa ca = MeshCa.generate(Clock.systemUTC());
        ca.writeTo(dir.resolve("ca"));
        Path tls = dir.resolve("admin-tls");
        ca.issue("test-node", ips).writeTo(tls);
        return tls;
    }

    private SSLContext trusting(Path caCert) throws Exception {
        X509Certificate cert;
        try (var in = Files.newInputStream(caCert)) {
            cert = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        ks.setCertificateEntry("mesh-ca", cert);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
        tmf.init(ks);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        return ctx;
    }

    private static HttpResponse<String> get(HttpClient client, URI uri, String token) throws Exception {
        return client.send(HttpRequest.newBuilder(uri).header("Authorization", "Bearer " + token).timeout(Duration.ofSeconds(5)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void adminOverHttps_forAClientTrustingTheMeshCa_andNothingElse() throws Exception {
        Path tls = issue(List.of(InetAddress.getByName("127.0.0.1")));
        try (TestNode n = TestNode.start(dir, bundles.writePublicKey(dir), s -> s.adminTlsDir = tls.toString())) {
            URI https = URI.create("https://127.0.0.1:" + n.node.adminAddress().getPort() + "/v1/cluster");
            HttpClient trusting = HttpClient.newBuilder().sslContext(trusting(dir.resolve("ca").resolve(MeshCa.CA_CERT)))
                    .connectTimeout(Duration.ofSeconds(5)).build();

            HttpResponse<String> r = get(trusting, https, n.token);
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).contains("\"self\":\"test-node\"");
            assertThat(get(trusting, https, "wrong-token-0123456789").statusCode()).isEqualTo(401);

            HttpClient defaults = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
            assertThatThrownBy(() -> get(defaults, https, n.token)).isInstanceOf(SSLHandshakeException.class);
            assertThatThrownBy(() -> get(defaults, URI.create("http://127.0.0.1:" + n.node.adminAddress().getPort() + "/v1/cluster"), n.token))
                    .isInstanceOf(IOException.class);
            assertThat(n.get(n.vm("/v1/health")).statusCode()).as("the VM endpoint stays plain HTTP").isEqualTo(200);

            // the certificate's expiry, for alerting (no mesh TLS here: no mesh row)
            String metrics = get(trusting, URI.create("https://127.0.0.1:" + n.node.adminAddress().getPort() + "/metrics"), n.token).body();
            java.util.regex.Matcher expiry = java.util.regex.Pattern
                    .compile("kgnode_tls_certificate_expiry_timestamp_seconds\\{endpoint=\"admin\"} (\\S+)").matcher(metrics);
            assertThat(expiry.find()).as(metrics).isTrue();
            Instant notAfter = ClusterTlsDir.check(tls, "test-node", Clock.systemUTC(), "--admin-tls-dir").usableOrThrow().notAfter();
            assertThat((long) Double.parseDouble(expiry.group(1))).isEqualTo(notAfter.getEpochSecond());
            assertThat(metrics).doesNotContain("endpoint=\"mesh\"");

            String missing = Ci.missingTools("curl");
            Assumptions.assumeTrue(Ci.available(missing), missing);
            Process curl = new ProcessBuilder("curl", "-sS", "--cacert", dir.resolve("ca").resolve(MeshCa.CA_CERT).toString(),
                    "-H", "Authorization: Bearer " + n.token, https.toString()).redirectErrorStream(true).start();
            String out = new String(curl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(curl.waitFor(20, TimeUnit.SECONDS)).isTrue();
            assertThat(curl.exitValue()).as(out).isZero();
            assertThat(out).contains("\"self\":\"test-node\"");
        }
    }

    @Test
    void aCertificateWithoutTheDialledIp_isRefusedByAClientThatChecksIt() throws Exception {
        Path tls = issue(List.of(InetAddress.getByName("10.9.9.9")));
        try (TestNode n = TestNode.start(dir, bundles.writePublicKey(dir), s -> s.adminTlsDir = tls.toString())) {
            HttpClient trusting = HttpClient.newBuilder().sslContext(trusting(dir.resolve("ca").resolve(MeshCa.CA_CERT))).build();
            assertThatThrownBy(() -> get(trusting, URI.create("https://127.0.0.1:" + n.node.adminAddress().getPort() + "/v1/cluster"), n.token))
                    .isInstanceOf(SSLHandshakeException.class);
        }
    }

    @Test
    void anUnusableDirectory_stopsTheStart_namingTheFlag() {
        Path nowhere = dir.resolve("no-such-dir");
        assertThatThrownBy(() -> TestNode.start(dir, bundles.writePublicKey(dir), s -> s.adminTlsDir = nowhere.toString()))
                .isInstanceOf(IOException.class).hasMessageStartingWith("--admin-tls-dir " + nowhere + ": no such directory");
    }
}
