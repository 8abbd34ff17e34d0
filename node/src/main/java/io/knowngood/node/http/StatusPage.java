package io.knowngood.node.http;

import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;
import io.undertow.util.Methods;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The admin endpoint's status page at {@code GET /}: one self-contained HTML file (inline style and
 * script, nothing fetched from elsewhere) that holds no data itself, so it is served without a token;
 * the page asks for the token and reads the authenticated JSON views with it. The Content-Security-Policy
 * allows exactly the page's own inline style and script (by their SHA-256, computed when loaded) and
 * requests to this endpoint.
 */
final class StatusPage {

    static final String RESOURCE = "status.html";
    private static final HttpString CSP = new HttpString("Content-Security-Policy");
    private static final HttpString NOSNIFF = new HttpString("X-Content-Type-Options");
    private static final HttpString REFERRER = new HttpString("Referrer-Policy");

    private final byte[] body;
    private final String policy;

    private StatusPage(byte[] body, String policy) {
        this.body = body;
        this.policy = policy;
    }

    /** The page from the classpath, read once. */
    static StatusPage load() {
        try (InputStream in = StatusPage.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("resource " + RESOURCE + " missing from the node's jar");
            }
            byte[] body = in.readAllBytes();
            String html = new String(body, StandardCharsets.UTF_8);
            return new StatusPage(body, "default-src 'none'; script-src " + hash(html, "script") + "; style-src " + hash(html, "style")
                    + "; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Only {@code /} and {@code /index.html}, with GET or HEAD, are the page. */
    static boolean matches(HttpServerExchange exchange) {
        String path = exchange.getRequestPath();
        return (path.equals("/") || path.equals("/index.html"))
                && (exchange.getRequestMethod().equals(Methods.GET) || exchange.getRequestMethod().equals(Methods.HEAD));
    }

    void send(HttpServerExchange exchange) {
        exchange.setStatusCode(200);
        exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, "text/html; charset=utf-8");
        exchange.getResponseHeaders().put(Headers.CACHE_CONTROL, "no-store");
        exchange.getResponseHeaders().put(CSP, policy);
        exchange.getResponseHeaders().put(NOSNIFF, "nosniff");
        exchange.getResponseHeaders().put(REFERRER, "no-referrer");
        exchange.getResponseHeaders().put(Headers.CONTENT_LENGTH, body.length);
        exchange.getResponseSender().send(ByteBuffer.wrap(body)); // Undertow drops the body of a HEAD answer
    }

    String policy() {
        return policy;
    }

    /** The CSP source for the one inline {@code <tag>} element: {@code 'sha256-...'} of its exact text. */
    static String hash(String html, String tag) {
        Matcher m = Pattern.compile("<" + tag + ">(.*?)</" + tag + ">", Pattern.DOTALL).matcher(html);
        if (!m.find()) {
            throw new IllegalStateException(RESOURCE + " has no <" + tag + "> element");
        }
        if (m.find()) {
            throw new IllegalStateException(RESOURCE + " has more than one <" + tag + "> element; the policy allows one");
        }
        m.reset().find();
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(m.group(1).getBytes(StandardCharsets.UTF_8));
            return "'sha256-" + Base64.getEncoder().encodeToString(digest) + "'";
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every Java runtime", e);
        }
    }
}
