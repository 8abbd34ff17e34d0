package io.knowngood.node.http;

import io.knowngood.api.ApiJson;
import io.knowngood.api.ErrorBody;
import io.knowngood.api.ErrorCode;
import io.knowngood.crypto.bundle.Rejection;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import java.nio.ByteBuffer;

/** Writes the api's records as JSON bodies, and the contract's {@code {"error","detail"}} errors. */
final class JsonResponses {

    private JsonResponses() {}

    static void send(HttpServerExchange exchange, int status, Object body) {
        AuditTrail audited = exchange.getAttachment(AuditTrail.KEY);
        if (audited != null) {
            audited.answer(status, body); // on record before the client hears the outcome
        }
        sendEncoded(exchange, status, ApiJson.encode(body));
    }

    /** Sends a body from {@link ApiJson#encode} (never modified, so it may be cached and sent again). */
    static void sendEncoded(HttpServerExchange exchange, int status, byte[] encoded) {
        exchange.setStatusCode(status);
        exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, "application/json");
        exchange.getResponseHeaders().put(Headers.CACHE_CONTROL, "no-store");
        exchange.getResponseHeaders().put(Headers.CONTENT_LENGTH, encoded.length);
        exchange.getResponseSender().send(ByteBuffer.wrap(encoded));
    }

    static void error(HttpServerExchange exchange, int status, ErrorCode code, String detail) {
        send(exchange, status, ErrorBody.of(code, detail));
    }

    /** The contract's code for a verifier rejection; node's tests prove every rejection has one. */
    static ErrorCode codeOf(Rejection reason) {
        return ErrorCode.fromWire(reason.code()).orElseThrow(() ->
                new IllegalStateException("rejection code " + reason.code() + " is missing from api's ErrorCode"));
    }
}
