package io.knowngood.node.http;

import io.knowngood.api.ErrorCode;
import io.knowngood.node.config.HttpLimits;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.HeaderValues;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;
import java.util.Deque;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The checks every request passes before any route sees it: allowed method, head and target size,
 * request-target form, query parameter count, and (on the VM endpoint) no body at all. Returns true when it has already
 * answered the request with an error.
 */
final class RequestGuard {

    /** More query parameters than any route reads (the most is two: {@code wait} and {@code after}). */
    static final int MAX_QUERY_PARAMETERS = 16;
    /** Header fields in one request head (a VM's curl sends 3-5). */
    static final int MAX_HEADER_FIELDS = 100;

    private final HttpLimits limits;
    /** By name: HttpString compares case-insensitively, but a method name is case-sensitive (RFC 9110 9.1). */
    private final Set<String> methods;
    private final String allowHeader;
    private final boolean bodyAllowed;

    RequestGuard(HttpLimits limits, Set<HttpString> methods, boolean bodyAllowed) {
        this.limits = limits;
        this.methods = methods.stream().map(HttpString::toString).collect(Collectors.toUnmodifiableSet());
        this.allowHeader = String.join(", ", this.methods.stream().sorted().toArray(String[]::new));
        this.bodyAllowed = bodyAllowed;
    }

    /** Returns true if the request was refused (an error has been sent). */
    boolean refuse(HttpServerExchange exchange) {
        String target = exchange.getRequestURI();
        String query = exchange.getQueryString();
        int targetLength = target.length() + (query == null || query.isEmpty() ? 0 : query.length() + 1);
        if (targetLength > limits.maxUriBytes()) {
            closeAfter(exchange);
            JsonResponses.error(exchange, 414, ErrorCode.URI_TOO_LONG, "request target is " + targetLength + " bytes; limit " + limits.maxUriBytes());
            return true;
        }
        int parameters = 0;
        if (query != null && !query.isEmpty()) { // getQueryParameters() makes a map for a request without any
            for (Deque<String> values : exchange.getQueryParameters().values()) {
                parameters += values.size();
            }
        }
        if (parameters > MAX_QUERY_PARAMETERS) {
            closeAfter(exchange);
            JsonResponses.error(exchange, 400, ErrorCode.BAD_QUERY, "the query has " + parameters + " parameters; at most " + MAX_QUERY_PARAMETERS);
            return true;
        }
        int headBytes = targetLength + exchange.getRequestMethod().length() + 12;
        int fields = 0;
        for (HeaderValues values : exchange.getRequestHeaders()) {
            for (String v : values) {
                headBytes += values.getHeaderName().length() + v.length() + 4;
                fields++;
            }
        }
        if (fields > MAX_HEADER_FIELDS) {
            closeAfter(exchange);
            JsonResponses.error(exchange, 431, ErrorCode.HEADER_TOO_LARGE, "request head has " + fields + " header fields; at most " + MAX_HEADER_FIELDS);
            return true;
        }
        if (headBytes > limits.maxHeaderBytes()) {
            closeAfter(exchange);
            JsonResponses.error(exchange, 431, ErrorCode.HEADER_TOO_LARGE, "request head is " + headBytes + " bytes; limit " + limits.maxHeaderBytes());
            return true;
        }
        if (exchange.isHostIncludedInRequestURI() || !target.startsWith("/")) {
            closeAfter(exchange);
            JsonResponses.error(exchange, 400, ErrorCode.BAD_REQUEST_TARGET, "only origin-form request targets (/path) are accepted");
            return true;
        }
        if (!methods.contains(exchange.getRequestMethod().toString())) { // "get" is not GET
            closeAfter(exchange);
            exchange.getResponseHeaders().put(Headers.ALLOW, allowHeader);
            JsonResponses.error(exchange, 405, ErrorCode.METHOD_NOT_ALLOWED, exchange.getRequestMethod() + " is not allowed here; allowed: " + allowHeader);
            return true;
        }
        if (!bodyAllowed && hasBody(exchange)) {
            closeAfter(exchange);
            JsonResponses.error(exchange, 413, ErrorCode.BODY_NOT_ALLOWED, "requests to this endpoint carry no body");
            return true;
        }
        return false;
    }

    private static boolean hasBody(HttpServerExchange exchange) {
        return exchange.getRequestHeaders().contains(Headers.TRANSFER_ENCODING) || exchange.getRequestContentLength() > 0;
    }

    /** An unread body must not be parsed as the next request: close the connection after answering. */
    private static void closeAfter(HttpServerExchange exchange) {
        exchange.setPersistent(false);
    }
}
