package io.knowngood.node.http;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import java.nio.ByteBuffer;
import java.util.Arrays;

/** Writes JSON bodies and the project's {@code {"error","detail"}} errors. */
final class JsonResponses {

    static final ObjectMapper JSON = new ObjectMapper()
            .setSerializationInclusion(JsonInclude.Include.NON_ABSENT)
            .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS);

    /** Error body: a stable snake_case code and one readable line. */
    record ErrorBody(String error, String detail) {}

    private JsonResponses() {}

    static void send(HttpServerExchange exchange, int status, Object body) {
        sendEncoded(exchange, status, encode(body));
    }

    /** The body as sent: JSON and a final newline. */
    static byte[] encode(Object body) {
        byte[] bytes;
        try {
            bytes = JSON.writeValueAsBytes(body);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise response", e);
        }
        byte[] line = Arrays.copyOf(bytes, bytes.length + 1);
        line[bytes.length] = '\n';
        return line;
    }

    /** Sends a body from {@link #encode} (never modified, so it may be cached and sent again). */
    static void sendEncoded(HttpServerExchange exchange, int status, byte[] encoded) {
        exchange.setStatusCode(status);
        exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, "application/json");
        exchange.getResponseHeaders().put(Headers.CACHE_CONTROL, "no-store");
        exchange.getResponseHeaders().put(Headers.CONTENT_LENGTH, encoded.length);
        exchange.getResponseSender().send(ByteBuffer.wrap(encoded));
    }

    static void error(HttpServerExchange exchange, int status, String error, String detail) {
        send(exchange, status, new ErrorBody(error, detail));
    }
}
