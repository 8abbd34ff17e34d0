package io.knowngood.node.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.knowngood.node.TestBundles;
import io.knowngood.node.TestNode;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The status page at {@code GET /} of the admin endpoint: served without a token, with a strict CSP
 * that allows exactly its own inline script and style; every other admin path still needs the token.
 * (What the page shows is tested in a real browser against a real mesh: chaos-tests StatusPageBrowserTest.)
 */
class StatusPageTest {

    static final TestBundles BUNDLES = new TestBundles();
    static TestNode node;

    @BeforeAll
    static void start(@TempDir Path dir) throws Exception {
        node = TestNode.start(dir, BUNDLES.writePublicKey(dir));
    }

    @AfterAll
    static void stop() {
        node.close();
    }

    static HttpResponse<String> noToken(String method, String path) throws Exception {
        return node.http.send(HttpRequest.newBuilder(node.admin(path)).method(method, HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    static String inlineHash(String html, String tag) throws Exception {
        Matcher m = Pattern.compile("<" + tag + ">(.*?)</" + tag + ">", Pattern.DOTALL).matcher(html);
        assertThat(m.find()).as("one <" + tag + "> in the page").isTrue();
        byte[] d = MessageDigest.getInstance("SHA-256").digest(m.group(1).getBytes(StandardCharsets.UTF_8));
        return "'sha256-" + Base64.getEncoder().encodeToString(d) + "'";
    }

    @Test
    void getRoot_withoutToken_isThePageWithAStrictPolicy() throws Exception {
        for (String path : new String[] {"/", "/index.html"}) {
            HttpResponse<String> r = noToken("GET", path);
            assertThat(r.statusCode()).as(path).isEqualTo(200);
            assertThat(r.headers().firstValue("Content-Type")).hasValue("text/html; charset=utf-8");
            assertThat(r.headers().firstValue("Cache-Control")).hasValue("no-store");
            assertThat(r.headers().firstValue("X-Content-Type-Options")).hasValue("nosniff");
            assertThat(r.headers().firstValue("Referrer-Policy")).hasValue("no-referrer");
            String html = r.body();
            assertThat(html).startsWith("<!DOCTYPE html>").contains("sessionStorage").contains("history.replaceState");
            String csp = r.headers().firstValue("Content-Security-Policy").orElseThrow();
            assertThat(csp).isEqualTo("default-src 'none'; script-src " + inlineHash(html, "script") + "; style-src "
                    + inlineHash(html, "style") + "; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; "
                    + "frame-ancestors 'none'");
        }
    }

    @Test
    void page_isSelfContained_andNeverWritesMarkupFromData() throws Exception {
        String html = noToken("GET", "/").body();
        assertThat(html).doesNotContainPattern("(?i)(src|href)\\s*=").doesNotContain("http:").doesNotContain("https:")
                .doesNotContain("@import").doesNotContain("url(");
        assertThat(html).doesNotContain("innerHTML").doesNotContain("outerHTML").doesNotContain("insertAdjacentHTML")
                .doesNotContain("document.write").doesNotContain("localStorage").doesNotContain("document.cookie");
        assertThat(html.getBytes(StandardCharsets.UTF_8).length).isLessThan(20 * 1024);
    }

    @Test
    void headRoot_withoutToken_is200WithTheHeadersOnly() throws Exception {
        HttpResponse<String> r = noToken("HEAD", "/");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Security-Policy")).isPresent();
        assertThat(r.body()).isEmpty();
    }

    @Test
    void everythingElse_stillNeedsTheToken() throws Exception {
        for (String path : new String[] {"/v1/cluster", "/v1/bundles", "/v1/health", "/v1/audit", "/v1/rollouts", "/metrics",
                "/index.htm", "/status.html", "//", "/x/"}) {
            HttpResponse<String> r = noToken("GET", path);
            assertThat(r.statusCode()).as(path).isEqualTo(401);
            assertThat(r.headers().firstValue("Content-Security-Policy")).as(path).isEmpty();
        }
        assertThat(noToken("PUT", "/").statusCode()).isEqualTo(401);
        assertThat(node.adminGet("/v1/cluster").statusCode()).isEqualTo(200);
        assertThat(new String(node.node.metrics().scrape(), StandardCharsets.UTF_8))
                .contains("kgnode_http_requests_total{endpoint=\"admin\",route=\"status_page\",status=\"200\"}");
    }
}
