package io.knowngood.node.http;

import io.knowngood.api.AuditList;
import io.knowngood.api.ErrorBody;
import io.knowngood.api.Published;
import io.knowngood.replication.IpText;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.AttachmentKey;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.temporal.ChronoUnit;

/**
 * The audit entry of one admin PUT (a publish or a control), attached to its exchange: the routes fill
 * in what they learn (version, digest, action), and {@link JsonResponses} hands it the answer just
 * before sending it, so the entry is on disk before the client hears the outcome. A request that ends
 * without an answer (its body never arrived) is recorded when the exchange completes.
 */
final class AuditTrail {

    static final AttachmentKey<AuditTrail> KEY = AttachmentKey.create(AuditTrail.class);

    private final AuditLog log;
    private final Clock clock;
    private final String token;
    private final String source;
    private final String name;
    private String action;
    private Long version;
    private String digest;
    private boolean recorded;

    private AuditTrail(AuditLog log, Clock clock, String token, String source, String action, String name, Long version) {
        this.log = log;
        this.clock = clock;
        this.token = token;
        this.source = source;
        this.action = action;
        this.name = name;
        this.version = version;
    }

    /** Starts the entry of {@code exchange} and attaches it; recorded at the answer, or at completion when there is none. */
    static AuditTrail attach(HttpServerExchange exchange, AuditLog log, Clock clock, String token, String action, String name, Long version) {
        InetSocketAddress peer = exchange.getSourceAddress();
        String source = peer == null ? "-" : IpText.of(peer.getAddress());
        AuditTrail t = new AuditTrail(log, clock, token, source, action, name, version);
        exchange.putAttachment(KEY, t);
        exchange.addExchangeCompleteListener((ex, next) -> {
            t.answered(ex.getStatusCode(), "no_answer");
            next.proceed();
        });
        return t;
    }

    synchronized void version(long v) {
        version = v;
    }

    synchronized void digest(String d) {
        digest = d;
    }

    synchronized void action(String a) {
        action = a;
    }

    /** Called by {@link JsonResponses} with the answer about to be sent. */
    void answer(int status, Object body) {
        String outcome;
        if (body instanceof ErrorBody e) {
            outcome = e.error();
        } else if (body instanceof Published p) {
            synchronized (this) {
                version = p.version();
                digest = p.digest();
            }
            outcome = "created";
        } else {
            outcome = "applied";
        }
        answered(status, outcome);
    }

    private void answered(int status, String outcome) {
        AuditList.Entry e;
        synchronized (this) {
            if (recorded) {
                return;
            }
            recorded = true;
            e = new AuditList.Entry(clock.instant().truncatedTo(ChronoUnit.MILLIS).toString(), token, source, action, name,
                    version, digest, status, outcome);
        }
        log.record(e);
    }
}
