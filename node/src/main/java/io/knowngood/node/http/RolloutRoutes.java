package io.knowngood.node.http;

import io.knowngood.api.ErrorCode;
import io.knowngood.api.HeaderNames;
import io.knowngood.api.RolloutList;
import io.knowngood.crypto.bundle.BundleName;
import io.knowngood.crypto.bundle.Sha256;
import io.knowngood.crypto.bundle.VerifiedBundle;
import io.knowngood.crypto.rollout.ControlCodec;
import io.knowngood.node.rollout.Rollouts;
import io.knowngood.node.store.BundleStore;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;
import java.io.IOException;
import java.util.List;
import java.util.Optional;

/**
 * The admin endpoint's rollout routes: {@code GET /v1/rollouts[/{name}]}, {@code PUT
 * /v1/rollouts/{name}/{version}/controls} (a signed control) and {@code GET
 * /v1/bundles/{name}/versions/{version}} (a kept version's exact archive, for {@code kgctl rollback}).
 * Runs on a worker thread (the admin endpoint dispatches after authentication).
 */
final class RolloutRoutes {

    private static final HttpString VERSION = new HttpString(HeaderNames.VERSION);

    private final String nodeId;
    private final Rollouts rollouts;
    private final BundleStore store;

    RolloutRoutes(String nodeId, Rollouts rollouts, BundleStore store) {
        this.nodeId = nodeId;
        this.rollouts = rollouts;
        this.store = store;
    }

    /** True if {@code seg} is one of these routes (and it has been answered). */
    boolean handle(HttpServerExchange exchange, List<String> seg, boolean put) {
        if (seg.size() >= 2 && seg.get(0).equals("v1") && seg.get(1).equals("rollouts")) {
            if (seg.size() == 2 && !put) {
                JsonResponses.send(exchange, 200, new RolloutList(nodeId, rollouts.views(Optional.empty())));
            } else if (seg.size() == 3 && !put) {
                if (validName(exchange, seg.get(2))) {
                    List<RolloutList.Rollout> views = rollouts.views(Optional.of(seg.get(2)));
                    if (views.isEmpty() && store.keptVersions(seg.get(2)).isEmpty()) {
                        // a name nothing is known of (a typo, most often) is not a name without rollouts
                        JsonResponses.error(exchange, 404, ErrorCode.NO_SUCH_BUNDLE,
                                "no versions of " + seg.get(2) + " are kept here, and no member's rollout record names it");
                    } else {
                        JsonResponses.send(exchange, 200, new RolloutList(nodeId, views));
                    }
                }
            } else if (seg.size() == 5 && seg.get(4).equals("controls") && put) {
                control(exchange, seg.get(2), seg.get(3));
            } else {
                JsonResponses.error(exchange, 404, ErrorCode.NOT_FOUND, "no such resource");
            }
            return true;
        }
        if (seg.size() == 5 && seg.get(0).equals("v1") && seg.get(1).equals("bundles") && seg.get(3).equals("versions") && !put) {
            archive(exchange, seg.get(2), seg.get(4));
            return true;
        }
        return false;
    }

    private void control(HttpServerExchange exchange, String name, String versionText) {
        if (!validName(exchange, name)) {
            return;
        }
        long version = version(exchange, versionText);
        if (version < 1) {
            return;
        }
        byte[] body;
        try {
            exchange.startBlocking();
            body = AdminEndpoint.readAtMost(exchange.getInputStream(), ControlCodec.MAX_WIRE_BYTES);
        } catch (IOException e) {
            exchange.setPersistent(false);
            return;
        }
        if (body == null) {
            exchange.setPersistent(false);
            JsonResponses.error(exchange, 413, ErrorCode.TOO_LARGE, "a control is at most " + ControlCodec.MAX_WIRE_BYTES + " bytes");
            return;
        }
        AuditTrail audited = exchange.getAttachment(AuditTrail.KEY);
        if (audited != null) {
            audited.digest(Sha256.hex(body));
        }
        Rollouts.ControlOutcome out = rollouts.control(body, name, version);
        if (audited != null && out instanceof Rollouts.ControlOutcome.Applied applied) {
            audited.action("control:" + applied.action());
        } else if (audited != null && out instanceof Rollouts.ControlOutcome.Reverted refused) {
            audited.action("control:" + refused.action());
        }
        if (out instanceof Rollouts.ControlOutcome.Invalid bad) {
            JsonResponses.error(exchange, 422, ErrorCode.BAD_CONTROL, bad.reason());
        } else if (out instanceof Rollouts.ControlOutcome.NotHeld n) {
            JsonResponses.error(exchange, 404, ErrorCode.NO_SUCH_VERSION, n.detail());
        } else if (out instanceof Rollouts.ControlOutcome.Reverted r) {
            JsonResponses.error(exchange, 409, ErrorCode.VERSION_REVERTED, r.detail());
        } else {
            List<RolloutList.Rollout> now = rollouts.views(Optional.of(name));
            Optional<RolloutList.Rollout> r = now.stream().filter(x -> x.version() == version).findFirst();
            if (r.isPresent()) {
                JsonResponses.send(exchange, 202, r.get());
            } else {
                JsonResponses.send(exchange, 202, new RolloutList(nodeId, now));
            }
        }
    }

    private void archive(HttpServerExchange exchange, String name, String versionText) {
        if (!validName(exchange, name)) {
            return;
        }
        long version = version(exchange, versionText);
        if (version < 1) {
            return;
        }
        Optional<VerifiedBundle> b = store.kept(name, version);
        if (b.isEmpty()) {
            List<Long> kept = store.keptVersions(name);
            if (kept.isEmpty()) {
                AdminViews.noneKept(exchange, name);
            } else {
                JsonResponses.error(exchange, 404, ErrorCode.NO_SUCH_VERSION, name + "@" + version + " is not kept here; kept: " + kept);
            }
            return;
        }
        exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, "application/x-tar");
        exchange.getResponseHeaders().put(VERSION, version);
        exchange.getResponseHeaders().put(Headers.CONTENT_LENGTH, b.get().archiveSize());
        exchange.getResponseSender().send(b.get().archive());
    }

    private static boolean validName(HttpServerExchange exchange, String name) {
        if (!BundleName.isValid(name)) {
            JsonResponses.error(exchange, 400, ErrorCode.BAD_NAME, "bundle names match " + BundleName.RULE);
            return false;
        }
        return true;
    }

    /** The version in the path, or 0 with a 400 sent. */
    private static long version(HttpServerExchange exchange, String text) {
        try {
            if (text.matches("[1-9]\\d{0,18}")) {
                return Long.parseLong(text);
            }
        } catch (NumberFormatException e) {
            // over 2^63-1: refused below
        }
        JsonResponses.error(exchange, 400, ErrorCode.BAD_PATH, "version must be an integer from 1 to 2^63-1");
        return 0;
    }

}
