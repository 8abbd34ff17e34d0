package io.knowngood.node.http;

import io.knowngood.api.ErrorCode;
import io.undertow.server.HttpServerExchange;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Deque;
import java.util.Optional;

/**
 * A query parameter an admin route reads at most once ({@code ?limit=N}, {@code ?vm=IP}): its value (decoded), and
 * whether it was given more than once. Given twice, which value counts would be a guess, so the routes
 * answer 400 {@code bad_query} instead.
 */
record SingleParameter(String name, Optional<String> value, boolean repeated) {

    static SingleParameter of(HttpServerExchange exchange, String name) {
        Deque<String> values = exchange.getQueryParameters().get(name);
        if (values == null || values.isEmpty()) {
            return new SingleParameter(name, Optional.empty(), false);
        }
        return new SingleParameter(name, Optional.of(decoded(values.getFirst())), values.size() > 1);
    }

    /**
     * The value percent-decoded, as every HTTP client encodes it (kgctl sends {@code vm=fd00%3A%3A5}):
     * the server leaves decoding to the routes (Undertow's is off). A malformed escape stays as it was
     * sent, and the route refuses it, naming it.
     */
    private static String decoded(String raw) {
        if (raw.indexOf('%') < 0 && raw.indexOf('+') < 0) {
            return raw;
        }
        try {
            return URLDecoder.decode(raw, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException malformed) {
            return raw;
        }
    }

    /** Sends the 400 for a repeated parameter; true when it did (the route then stops). */
    boolean refuseRepeated(HttpServerExchange exchange) {
        if (!repeated) {
            return false;
        }
        JsonResponses.error(exchange, 400, ErrorCode.BAD_QUERY, name + " given more than once");
        return true;
    }
}
