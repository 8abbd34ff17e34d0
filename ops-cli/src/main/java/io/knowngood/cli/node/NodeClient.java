package io.knowngood.cli.node;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.knowngood.cli.CliFailure;
import io.knowngood.cli.Environment;
import io.knowngood.cli.ExitCode;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Plain HTTP to one node endpoint (admin or VM), with a short connect timeout. A node that cannot
 * be reached is an {@link Answer.Unreachable}, not an exception: trying the next node is normal.
 */
public final class NodeClient {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String VERSION_HEADER = "X-Knowngood-Version";
    static final String IN_TOUCH_HEADER = "X-Knowngood-In-Touch";
    static final String LAST_CONTACT_HEADER = "X-Knowngood-Last-Contact";

    private final URI base;
    private final Optional<String> token;
    private final HttpClient http;
    private final Duration requestTimeout;

    public NodeClient(URI base, Optional<String> token, Environment env) {
        this.base = base;
        this.token = token;
        this.requestTimeout = env.requestTimeout();
        this.http = HttpClient.newBuilder().connectTimeout(env.connectTimeout())
                .followRedirects(HttpClient.Redirect.NEVER).version(HttpClient.Version.HTTP_1_1).build();
    }

    public URI base() {
        return base;
    }

    /** What a node said, or that it could not be asked. */
    public sealed interface Answer {
        record Reply(int status, byte[] body, Optional<String> etag, OptionalLong version, Optional<String> inTouch,
                     Optional<String> lastContact) implements Answer {
            /** The JSON body; a node that does not answer JSON where the contract says it does is a node error. */
            public JsonNode json(URI from) {
                try {
                    JsonNode n = JSON.readTree(body);
                    if (n == null || n.isMissingNode()) {
                        throw new IOException("empty body");
                    }
                    return n;
                } catch (IOException e) {
                    throw new CliFailure(ExitCode.NODE_ERROR, from + ": HTTP " + status + " with a body that is not JSON");
                }
            }

            /** {@code error} and {@code detail} of the contract's error body, as one line. */
            public String error() {
                try {
                    JsonNode n = JSON.readTree(body);
                    if (n != null && n.has("error")) {
                        return n.path("error").asText() + (n.hasNonNull("detail") ? ": " + n.path("detail").asText() : "");
                    }
                } catch (IOException e) {
                    // not JSON: fall through to the raw text
                }
                String text = new String(body, StandardCharsets.UTF_8).strip();
                String first = text.lines().findFirst().orElse("(no body)");
                return first.length() > 200 ? first.substring(0, 200) : first;
            }

            public String errorCode() {
                try {
                    JsonNode n = JSON.readTree(body);
                    return n == null ? "" : n.path("error").asText("");
                } catch (IOException e) {
                    return "";
                }
            }
        }

        record Unreachable(String why) implements Answer {
        }
    }

    public Answer get(String path, Optional<String> ifNoneMatch) throws InterruptedException {
        return get(path, ifNoneMatch, requestTimeout);
    }

    public Answer get(String path, Optional<String> ifNoneMatch, Duration timeout) throws InterruptedException {
        HttpRequest.Builder b = request(path, timeout).GET();
        ifNoneMatch.ifPresent(etag -> b.header("If-None-Match", "\"" + etag + "\""));
        return send(b.build());
    }

    public Answer put(String path, byte[] body) throws InterruptedException {
        return send(request(path, requestTimeout).header("Content-Type", "application/x-tar")
                .PUT(HttpRequest.BodyPublishers.ofByteArray(body)).build());
    }

    private HttpRequest.Builder request(String path, Duration timeout) {
        HttpRequest.Builder b = HttpRequest.newBuilder(resolve(path)).timeout(timeout)
                .header("User-Agent", "kgctl").header("Accept", "application/json, application/x-tar");
        token.ifPresent(t -> b.header("Authorization", "Bearer " + t));
        return b;
    }

    private URI resolve(String path) {
        String s = base.toString();
        return URI.create((s.endsWith("/") ? s.substring(0, s.length() - 1) : s) + path);
    }

    private Answer send(HttpRequest request) throws InterruptedException {
        try {
            HttpResponse<byte[]> r = http.send(request, HttpResponse.BodyHandlers.ofByteArray());
            return new Answer.Reply(r.statusCode(), r.body(), r.headers().firstValue("ETag").map(NodeClient::unquote),
                    parseLong(r.headers().firstValue(VERSION_HEADER)), r.headers().firstValue(IN_TOUCH_HEADER),
                    r.headers().firstValue(LAST_CONTACT_HEADER));
        } catch (HttpConnectTimeoutException e) {
            return new Answer.Unreachable("no connection within " + seconds(http.connectTimeout().orElseThrow()));
        } catch (HttpTimeoutException e) {
            return new Answer.Unreachable("no answer within " + seconds(request.timeout().orElse(requestTimeout)));
        } catch (ConnectException e) {
            return new Answer.Unreachable("connection refused");
        } catch (IOException e) {
            return new Answer.Unreachable(e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage());
        }
    }

    private static String seconds(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() + " ms";
    }

    private static OptionalLong parseLong(Optional<String> v) {
        try {
            return v.map(s -> OptionalLong.of(Long.parseLong(s.strip()))).orElse(OptionalLong.empty());
        } catch (NumberFormatException e) {
            return OptionalLong.empty();
        }
    }

    private static String unquote(String etag) {
        String e = etag.startsWith("W/") ? etag.substring(2) : etag;
        return e.length() >= 2 && e.startsWith("\"") && e.endsWith("\"") ? e.substring(1, e.length() - 1) : e;
    }
}
