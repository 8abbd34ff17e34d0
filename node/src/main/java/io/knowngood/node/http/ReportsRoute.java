package io.knowngood.node.http;

import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.knowngood.api.ErrorCode;
import io.knowngood.api.VmReport;
import io.knowngood.crypto.bundle.BundleName;
import io.knowngood.node.pools.PoolMap;
import io.knowngood.node.rollout.Rollouts;
import io.knowngood.replication.IpText;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.Iterator;
import java.util.Set;

/**
 * VM endpoint {@code POST /v1/reports}: the one request from a VM that the node records. At most
 * {@link VmReport#MAX_BODY_BYTES} of JSON {@code {"name","version","result":"ok"|"failed","detail"}},
 * counted once per (name, version, VM source address). It never changes which bytes are held. A
 * report on a name or version not for the VM's pools is refused exactly as one on a name not held.
 */
final class ReportsRoute {

    private static final ObjectMapper JSON = JsonMapper.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();
    private static final Set<String> FIELDS = Set.of("name", "version", "result", "detail");

    private final Rollouts rollouts;
    private final PoolMap pools;
    private final Runnable hidden;

    ReportsRoute(Rollouts rollouts, PoolMap pools, Runnable hidden) {
        this.rollouts = rollouts;
        this.pools = pools;
        this.hidden = hidden;
    }

    void handle(HttpServerExchange exchange) {
        long declared = exchange.getRequestContentLength();
        if (declared > VmReport.MAX_BODY_BYTES) {
            exchange.setPersistent(false);
            JsonResponses.error(exchange, 413, ErrorCode.TOO_LARGE, "a report is at most " + VmReport.MAX_BODY_BYTES + " bytes");
            return;
        }
        exchange.setMaxEntitySize(VmReport.MAX_BODY_BYTES);
        // counting may move a rollout and load the fallback copy from disk: not on the I/O thread
        exchange.getRequestReceiver().receiveFullBytes((ex, body) -> ex.dispatch(() -> answer(ex, body)), (ex, e) -> {
            ex.setPersistent(false);
            if (!ex.isResponseStarted()) {
                JsonResponses.error(ex, 413, ErrorCode.TOO_LARGE, "a report is at most " + VmReport.MAX_BODY_BYTES + " bytes");
            }
        });
    }

    private void answer(HttpServerExchange exchange, byte[] body) {
        Parsed p = parse(body);
        if (p.problem != null) {
            JsonResponses.error(exchange, 400, ErrorCode.BAD_REPORT, p.problem);
            return;
        }
        String address = vmAddress(exchange.getSourceAddress());
        Set<String> vmPools = pools.poolsOf(exchange.getSourceAddress().getAddress());
        Rollouts.ReportOutcome out = rollouts.report(address, vmPools, p.name, p.version, p.ok, p.detail);
        if (out instanceof Rollouts.ReportOutcome.TooMany t) {
            exchange.getResponseHeaders().put(Headers.RETRY_AFTER, Long.toString(t.retryAfterSeconds()));
            JsonResponses.error(exchange, 429, ErrorCode.TOO_MANY_REPORTS, "too many reports from " + address + "; retry after "
                    + t.retryAfterSeconds() + " s");
        } else if (out instanceof Rollouts.ReportOutcome.NotHeld n) {
            JsonResponses.error(exchange, 404, ErrorCode.NO_SUCH_VERSION, n.detail());
        } else if (out instanceof Rollouts.ReportOutcome.Hidden h) {
            hidden.run();
            JsonResponses.error(exchange, 404, ErrorCode.NO_SUCH_VERSION, h.detail());
        } else {
            Rollouts.ReportOutcome.Counted c = (Rollouts.ReportOutcome.Counted) out;
            JsonResponses.send(exchange, 202, new VmReport.Accepted(p.name, p.version, p.ok ? "ok" : "failed", c.state()));
        }
    }

    /**
     * The VM's identity for counting: its source address as text, an IPv4-mapped IPv6 address as the
     * IPv4 address, without a zone (one VM is one address, whichever interface it came in on).
     */
    static String vmAddress(InetSocketAddress source) {
        return IpText.withoutZone(source.getAddress());
    }

    private record Parsed(String name, long version, boolean ok, String detail, String problem) {
        static Parsed bad(String why) {
            return new Parsed(null, 0, false, null, why);
        }
    }

    private static Parsed parse(byte[] body) {
        JsonNode o;
        try {
            o = JSON.readTree(body);
        } catch (IOException e) {
            return Parsed.bad("not JSON: " + String.valueOf(e.getMessage()).lines().findFirst().orElse(""));
        }
        if (o == null || !o.isObject()) {
            return Parsed.bad("a report is a JSON object {\"name\",\"version\",\"result\",\"detail\"}");
        }
        for (Iterator<String> it = o.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!FIELDS.contains(f)) {
                return Parsed.bad("unknown field " + f);
            }
        }
        JsonNode name = o.get("name");
        if (name == null || !name.isTextual() || !BundleName.isValid(name.textValue())) {
            return Parsed.bad("name must be a bundle name (" + BundleName.RULE + ")");
        }
        JsonNode version = o.get("version");
        if (version == null || !version.isIntegralNumber() || !version.canConvertToLong() || version.longValue() < 1) {
            return Parsed.bad("version must be a whole number from 1 to 2^63-1, as in the manifest");
        }
        JsonNode result = o.get("result");
        if (result == null || !result.isTextual() || !(result.textValue().equals("ok") || result.textValue().equals("failed"))) {
            return Parsed.bad("result must be \"ok\" or \"failed\"");
        }
        JsonNode detail = o.get("detail");
        if (detail != null && !detail.isNull() && !detail.isTextual()) {
            return Parsed.bad("detail must be a string");
        }
        // a longer detail is cut, not refused: a refused "failed" report would never count toward a revert
        String d = detail == null || detail.isNull() ? "" : cut(detail.textValue()).replaceAll("[\\p{Cntrl}]", " ");
        return new Parsed(name.textValue(), version.longValue(), result.textValue().equals("ok"), d, null);
    }

    /** The first {@link VmReport#MAX_DETAIL_CHARS} characters of {@code detail}, never half a surrogate pair. */
    static String cut(String detail) {
        if (detail.length() <= VmReport.MAX_DETAIL_CHARS) {
            return detail;
        }
        int end = VmReport.MAX_DETAIL_CHARS;
        return detail.substring(0, Character.isHighSurrogate(detail.charAt(end - 1)) ? end - 1 : end);
    }
}
