package io.knowngood.node.cluster;

import java.time.Duration;
import java.util.function.Supplier;

/**
 * The cluster status as the hot VM path reads it: recomputed at most every {@code ttl} (asking the
 * mesh walks its view), so freshness headers cost nothing per request and are at most ttl old.
 */
public final class StatusCache implements Supplier<ClusterStatus> {

    private record Snapshot(ClusterStatus status, long atNanos) {}

    private volatile ClusterLink link;
    private final long ttlNanos;
    private volatile Snapshot last;

    public StatusCache(ClusterLink link, Duration ttl) {
        this.link = link;
        this.ttlNanos = ttl.toNanos();
    }

    /**
     * From now on the status is {@code link}'s: the node serves from disk before its mesh link exists
     * (a link not started yet reports STARTING until then).
     */
    public void use(ClusterLink link) {
        this.link = link;
        last = null;
    }

    @Override
    public ClusterStatus get() {
        Snapshot s = last;
        long now = System.nanoTime();
        if (s == null || now - s.atNanos() > ttlNanos) {
            s = new Snapshot(link.status(), now);
            last = s;
        }
        return s.status();
    }
}
