package io.knowngood.cli.node;

import io.knowngood.api.ApiJson;
import io.knowngood.api.ErrorBody;
import io.knowngood.api.ErrorCode;
import io.knowngood.api.HeaderNames;
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
import javax.net.ssl.SSLContext;

/**
 * Plain HTTP to one node endpoint (admin or VM), with a short connect timeout. A node that cannot
 * be reached is an {@link Answer.Unreachable}, not an exception: trying the next node is normal.
 */
public final class NodeClient {

    private final URI base;
    private final Optional<String> token;
    private final HttpClient http;
    private final Duration requestTimeout;

    public NodeClient(URI base, Optional<String> token, Environment env) {
        this(base, token, env, Optional.empty());
    }

    /** {@code tls}: for https URLs, the context trusting the node's CA ({@code --ca}); else the JDK's default trust. */
    public NodeClient(URI base, Optional<String> token, Environment env, Optional<SSLContext> tls) {
        this.base = base;
        this.token = token;
        this.requestTimeout = env.requestTimeout();
        HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(env.connectTimeout())
                .followRedirects(HttpClient.Redirect.NEVER).version(HttpClient.Version.HTTP_1_1);
        tls.ifPresent(b::sslContext);
        this.http = b.build();
    }

    public URI base() {
        return base;
    }

    /** What a node said, or that it could not be asked. */
    public sealed interface Answer {
        record Reply(int status, byte[] body, Optional<String> etag, OptionalLong version, Optional<String> inTouch,
                     Optional<String> lastContact) implements Answer {
            /**
             * The body as the contract's record for this route; a node that does not answer that
             * JSON is a node error.
             */
            public <T> T body(Class<T> type, URI from) {
                ApiJson.Decoded<T> d = ApiJson.decode(body, type);
                if (d instanceof ApiJson.Decoded.Body<T> b) {
                    return b.value();
                }
                throw new CliFailure(ExitCode.NODE_ERROR, from + ": HTTP " + status + " with a body that is not the JSON the contract says ("
                        + ((ApiJson.Decoded.Malformed<T>) d).why() + ")");
            }

            /** The contract's error body, if the node sent one. */
            public Optional<ErrorBody> errorBody() {
                return ApiJson.decode(body, ErrorBody.class) instanceof ApiJson.Decoded.Body<ErrorBody> b
                        ? Optional.of(b.value()) : Optional.empty();
            }

            /** {@code error} and {@code detail} of the contract's error body as one line, else the start of the body. */
            public String error() {
                Optional<ErrorBody> e = errorBody();
                if (e.isPresent()) {
                    return e.get().line();
                }
                String text = new String(body, StandardCharsets.UTF_8).strip();
                String first = text.lines().findFirst().orElse("(no body)");
                return first.length() > 200 ? first.substring(0, 200) : first;
            }

            /** Whether the node answered the contract's error {@code code}. */
            public boolean errorIs(ErrorCode code) {
                return errorBody().flatMap(ErrorBody::code).filter(code::equals).isPresent();
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
        return put(path, body, "application/x-tar");
    }

    public Answer put(String path, byte[] body, String contentType) throws InterruptedException {
        return send(request(path, requestTimeout).header("Content-Type", contentType)
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
                    parseLong(r.headers().firstValue(HeaderNames.VERSION)), r.headers().firstValue(HeaderNames.IN_TOUCH),
                    r.headers().firstValue(HeaderNames.LAST_CONTACT));
        } catch (HttpConnectTimeoutException e) {
            return new Answer.Unreachable("no connection within " + seconds(http.connectTimeout().orElseThrow()));
        } catch (HttpTimeoutException e) {
            return new Answer.Unreachable("no answer within " + seconds(request.timeout().orElse(requestTimeout)));
        } catch (ConnectException e) {
            return new Answer.Unreachable("connection refused");
        } catch (javax.net.ssl.SSLException e) {
            String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            if (m.contains("plaintext connection")) {
                // the JDK's words when the other end answers a TLS hello with plain bytes
                return new Answer.Unreachable("TLS failed (" + m + "): the node answers plain HTTP on this port (it runs without "
                        + "--admin-tls-dir): use http://" + base.getRawAuthority());
            }
            return new Answer.Unreachable("TLS failed (" + m
                    + "): is --ca the CA that issued the node's --admin-tls-dir certificate, and does it name this address (--ip)?");
        } catch (IOException e) {
            String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            if ("http".equalsIgnoreCase(base.getScheme()) && m.contains("status line")) {
                // a TLS listener answers a plain request with a TLS alert, which is no HTTP status line
                return new Answer.Unreachable("the answer was not HTTP (" + m + "): the node serves HTTPS on this port (--admin-tls-dir)? "
                        + "use https://" + base.getRawAuthority() + " and --ca with its mesh CA's ca.crt");
            }
            return new Answer.Unreachable(m);
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
