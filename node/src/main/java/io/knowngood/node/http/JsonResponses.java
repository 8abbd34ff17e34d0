package io.knowngood.node.http;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import java.nio.ByteBuffer;

/** Writes JSON bodies and the project's {@code {"error","detail"}} errors. */
final class JsonResponses {

    static final ObjectMapper JSON = new ObjectMapper()
            .setSerializationInclusion(JsonInclude.Include.NON_ABSENT)
            .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS);

    /** Error body: a stable snake_case code and one readable line. */
    record ErrorBody(String error, String detail) {}

    private JsonResponses() {}

    static void send(HttpServerExchange exchange, int status, Object body) {
        byte[] bytes;
        try {
            bytes = JSON.writeValueAsBytes(body);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise response", e);
        }
        exchange.setStatusCode(status);
        exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, "application/json");
        exchange.getResponseHeaders().put(Headers.CACHE_CONTROL, "no-store");
        exchange.getResponseHeaders().put(Headers.CONTENT_LENGTH, bytes.length + 1L);
        ByteBuffer buf = ByteBuffer.allocate(bytes.length + 1);
        buf.put(bytes).put((byte) '\n').flip();
        exchange.getResponseSender().send(buf);
    }

    static void error(HttpServerExchange exchange, int status, String error, String detail) {
        send(exchange, status, new ErrorBody(error, detail));
    }
}
