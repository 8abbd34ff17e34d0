package io.knowngood.node.http;

import io.knowngood.api.ErrorCode;
import io.undertow.server.HttpServerExchange;
import java.util.Deque;
import java.util.Optional;

/**
 * A query parameter an admin route reads at most once ({@code ?limit=N}, {@code ?vm=IP}): its value, and
 * whether it was given more than once. Given twice, which value counts would be a guess, so the routes
 * answer 400 {@code bad_query} instead.
 */
record SingleParameter(String name, Optional<String> value, boolean repeated) {

    static SingleParameter of(HttpServerExchange exchange, String name) {
        Deque<String> values = exchange.getQueryParameters().get(name);
        if (values == null || values.isEmpty()) {
            return new SingleParameter(name, Optional.empty(), false);
        }
        return new SingleParameter(name, Optional.of(values.getFirst()), values.size() > 1);
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
