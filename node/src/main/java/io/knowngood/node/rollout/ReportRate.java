package io.knowngood.node.rollout;

import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Per VM source address, a token bucket for {@code POST /v1/reports}: {@code burst} reports at once,
 * then one per {@code refillMs}. A boot reports each bundle once or twice; a loop is cut off with 429.
 * At most {@code maxAddresses} buckets are kept (least recently used dropped: a dropped address starts
 * again with a full bucket, which is harmless). Thread-safe.
 */
final class ReportRate {

    static final int DEFAULT_BURST = 30;
    static final long DEFAULT_REFILL_MS = 1_000;
    static final int MAX_ADDRESSES = 100_000;

    private record Bucket(double tokens, long atMs) {}

    private final Clock clock;
    private final int burst;
    private final long refillMs;
    private final Map<String, Bucket> buckets = new LinkedHashMap<>(1024, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Bucket> eldest) {
            return size() > MAX_ADDRESSES;
        }
    };

    ReportRate(Clock clock, int burst, long refillMs) {
        this.clock = clock;
        this.burst = burst;
        this.refillMs = refillMs;
    }

    /** 0 if {@code address} may report now (and a token is taken), else the seconds to wait (>= 1). */
    synchronized long take(String address) {
        long now = clock.millis();
        Bucket b = buckets.get(address);
        double tokens = b == null ? burst : Math.min(burst, b.tokens() + (double) Math.max(0, now - b.atMs()) / refillMs);
        if (tokens >= 1) {
            buckets.put(address, new Bucket(tokens - 1, now));
            return 0;
        }
        buckets.put(address, new Bucket(tokens, now));
        return Math.max(1, (long) Math.ceil((1 - tokens) * refillMs / 1000.0));
    }
}
