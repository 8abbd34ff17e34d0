package io.knowngood.node.config;

import java.time.Duration;

/**
 * How the HTTP endpoints defend themselves. The VM endpoint is treated like a cloud metadata
 * service: many small, idle, untrusted clients, none of which may hold resources for long.
 *
 * @param maxHeaderBytes request line plus headers above this get 431 (Undertow itself drops the
 *     connection at 8x this, so a huge head is never buffered)
 * @param maxUriBytes request targets longer than this get 414
 * @param headerTimeout a request head must arrive completely within this (cuts slowloris)
 * @param idleTimeout keep-alive connections with no request in progress close after this
 * @param bodyTimeout an admin publish body must arrive completely within this (minimum data rate)
 * @param longPollMaxWait cap on {@code ?wait=S}
 * @param maxConnectionsPerClient open connections per client IP (VM endpoint)
 * @param maxConnections open connections in total (VM endpoint)
 * @param ioThreads non-blocking I/O threads
 * @param workerThreads threads for blocking work (verifying a publish)
 */
public record HttpLimits(
        int maxHeaderBytes,
        int maxUriBytes,
        Duration headerTimeout,
        Duration idleTimeout,
        Duration bodyTimeout,
        Duration longPollMaxWait,
        int maxConnectionsPerClient,
        int maxConnections,
        int ioThreads,
        int workerThreads) {

    public HttpLimits {
        positive("max-header-bytes", maxHeaderBytes);
        positive("max-uri-bytes", maxUriBytes);
        positive("max-connections-per-client", maxConnectionsPerClient);
        positive("max-connections", maxConnections);
        positive("io-threads", ioThreads);
        positive("worker-threads", workerThreads);
        positive("header-timeout", headerTimeout);
        positive("idle-timeout", idleTimeout);
        positive("body-timeout", bodyTimeout);
        positive("long-poll-max-wait", longPollMaxWait);
    }

    public static HttpLimits defaults() {
        return new HttpLimits(16 * 1024, 2048, Duration.ofSeconds(10), Duration.ofSeconds(60), Duration.ofSeconds(60),
                Duration.ofSeconds(300), 32, 20_000, 2, 4);
    }

    private static void positive(String name, int v) {
        if (v <= 0) {
            throw new IllegalArgumentException(name + " must be > 0, got " + v);
        }
    }

    private static void positive(String name, Duration d) {
        if (d == null || d.isZero() || d.isNegative()) {
            throw new IllegalArgumentException(name + " must be > 0, got " + d);
        }
    }
}
