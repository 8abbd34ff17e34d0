package io.knowngood.node.metrics;

import io.knowngood.crypto.bundle.Rejection;
import io.knowngood.crypto.bundle.VerifiedBundle;
import io.knowngood.node.cluster.ClusterStatus;
import io.knowngood.node.store.StoreHealth;
import io.knowngood.node.store.StoreObserver;
import io.knowngood.replication.MeshStats;
import io.knowngood.replication.SiteInfo;
import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.instrumentation.jvm.JvmBufferPoolMetrics;
import io.prometheus.metrics.instrumentation.jvm.JvmClassLoadingMetrics;
import io.prometheus.metrics.instrumentation.jvm.JvmCompilationMetrics;
import io.prometheus.metrics.instrumentation.jvm.JvmGarbageCollectorMetrics;
import io.prometheus.metrics.instrumentation.jvm.JvmMemoryMetrics;
import io.prometheus.metrics.instrumentation.jvm.JvmNativeMemoryMetrics;
import io.prometheus.metrics.instrumentation.jvm.JvmRuntimeInfoMetric;
import io.prometheus.metrics.instrumentation.jvm.JvmThreadsMetrics;
import io.prometheus.metrics.instrumentation.jvm.ProcessMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.IntSupplier;
import java.util.function.Supplier;

/**
 * The node's Prometheus metrics, in a registry of its own (so several nodes can live in one test
 * JVM). Names are prefixed {@code kgnode_}; docs/kgnode.md lists them.
 */
public final class NodeMetrics implements StoreObserver {

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final Counter requests;
    private final Histogram fetchSeconds;
    private final Counter rejections;
    private final Counter storeErrors;
    private final Counter stored;
    private final Counter publishes;
    private final Counter tieReplaced;
    private final Counter reports;
    private final Counter reportsRefused;
    private final Counter controlsRejected;
    private final Counter rolloutStates;
    private final Counter poolRefusals;
    private final PrometheusTextFormatWriter writer = PrometheusTextFormatWriter.create();
    /** Data points of {@link #requests} by endpoint, route and status - 100 (label values come from code, never from a request). */
    private final Map<String, Map<String, CounterDataPoint[]>> requestPoints = new ConcurrentHashMap<>();
    private final Map<String, DistributionDataPoint> fetchPoints = new ConcurrentHashMap<>();

    /**
     * Every counter ({@link #counter}) and the histogram are built without exemplars: the client samples
     * them by default, which schedules a task on a thread of its own every sample interval per data point
     * while requests flow, and the node has no trace context to fill them with (NodeMetricsTest).
     */
    public NodeMetrics() {
        requests = counter("kgnode_http_requests_total",
                "HTTP requests answered, by endpoint (vm, admin), route and status code",
                "endpoint", "route", "status");
        fetchSeconds = Histogram.builder().name("kgnode_fetch_duration_seconds")
                .help("Time to answer VM bundle requests (long-poll waits excluded), by route")
                .labelNames("route")
                .classicOnly()
                .classicUpperBounds(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5)
                .withoutExemplars().register(registry);
        rejections = counter("kgnode_verification_rejections_total",
                "Bundles refused, by reason code (bad_signature, rollback, ...) and source (publish, peer)",
                "reason", "source");
        storeErrors = counter("kgnode_lkg_store_errors_total",
                "Last-known-good store errors, by kind (damaged_copy, write_failed, floor_damaged, ...)",
                "kind");
        stored = counter("kgnode_bundles_stored_total",
                "Bundle versions written to the store, by source (publish, peer)",
                "source");
        publishes = counter("kgnode_publishes_total",
                "Admin publish requests, by outcome (created, rollback, invalid, unauthorized, too_large, over_budget, error)",
                "outcome");
        tieReplaced = counter("kgnode_store_tie_replaced_total",
                "Served copies replaced by a peer's bundle of the same version with a lower manifest digest"
                        + " (two bundles published with one version: every store ends on the lower digest)");
        reports = counter("kgnode_vm_reports_total",
                "VM health reports counted, by result (ok, failed)",
                "result");
        reportsRefused = counter("kgnode_vm_reports_refused_total",
                "VM health reports refused, by reason (rate, unknown_version, pools, full)",
                "reason");
        controlsRejected = counter("kgnode_rollout_controls_rejected_total",
                "Rollout controls and records ignored, by source (admin, peer) and reason (invalid, invalid_control, invalid_record, reverted, wrong_version)",
                "source", "reason");
        rolloutStates = counter("kgnode_rollout_transitions_total",
                "Rollout state changes seen here, by the state entered (rolling, good, reverted)",
                "state");
        poolRefusals = counter("kgnode_vm_pool_refusals_total",
                "VM requests answered as for a name not held because the name (or the version reported) is not for"
                        + " the pools of the VM's source address, by route (archive, long_poll, manifest, signatures, file, other, reports)",
                "route");
    }

    /** A counter in this registry, without exemplars (see the constructor). */
    private Counter counter(String name, String help, String... labelNames) {
        return Counter.builder().name(name).help(help).labelNames(labelNames).withoutExemplars().register(registry);
    }

    /** A VM request was answered as for an unknown name because of its pools. */
    public void poolRefusal(String route) {
        poolRefusals.labelValues(route).inc();
    }

    /** Registers the gauge of pools configured (--pool). */
    public void bindPools(int configured) {
        GaugeWithCallback.builder().name("kgnode_pools_configured")
                .help("Pools of VM source addresses configured on this node (--pool)")
                .callback(cb -> cb.call(configured)).register(registry);
    }

    /** The rollouts' observer: reports, refusals, rejected controls and state changes as counters. */
    public io.knowngood.node.rollout.Rollouts.Observer rollouts() {
        return new io.knowngood.node.rollout.Rollouts.Observer() {
            @Override
            public void reportCounted(String result) {
                reports.labelValues(result).inc();
            }

            @Override
            public void reportRefused(String reason) {
                reportsRefused.labelValues(reason).inc();
            }

            @Override
            public void controlRejected(String source, String reason) {
                controlsRejected.labelValues(source, reason).inc();
            }

            @Override
            public void stateChanged(String name, long version, String to) {
                rolloutStates.labelValues(to).inc();
            }
        };
    }

    /**
     * Registers the JVM's metrics (the Prometheus client's JVM instrumentation: memory pools, GC,
     * threads, classes, JIT, buffer pools, process CPU and file descriptors), replication's counters, and
     * the full collections the node asked for ({@code OldGenGrowthCollector}, installed by Node.start).
     *
     * <p>All of the client's JVM metrics but one: {@code jvm_memory_pool_allocated_bytes_total} is left
     * out. It listens for the JVM's notification of every garbage collection, and while anyone listens
     * the JVM builds a JMX description of each collection (every memory pool before and after it) on its
     * notification thread. A node serving VMs runs dozens of young collections a second (its young
     * generation is 4 MiB), so that thread took about 6 % of the node's CPU under a fetch load
     * (docs/benchmarks.md, VM fetch, 2026-12-04), for a rate that {@code jvm_gc_collection_seconds} and
     * the pools' usage already let one judge.
     */
    public void bindRuntime(Supplier<java.util.Optional<MeshStats>> mesh, java.util.function.LongSupplier oldGenCollectionsRequested) {
        JvmThreadsMetrics.builder().register(registry);
        JvmBufferPoolMetrics.builder().register(registry);
        JvmClassLoadingMetrics.builder().register(registry);
        JvmCompilationMetrics.builder().register(registry);
        JvmGarbageCollectorMetrics.builder().register(registry);
        JvmMemoryMetrics.builder().register(registry);
        JvmNativeMemoryMetrics.builder().register(registry);
        JvmRuntimeInfoMetric.builder().register(registry);
        ProcessMetrics.builder().register(registry);
        CounterWithCallback.builder().name("kgnode_jvm_old_gen_collections_requested_total")
                .help("Full collections the node asked for because a young collection grew the Serial collector's old generation"
                        + " and no full collection followed (JDK 23 and later; JDK 17 collects by itself)")
                .callback(cb -> cb.call(oldGenCollectionsRequested.getAsLong())).register(registry);
        CounterWithCallback.builder().name("kgnode_antientropy_rounds_total")
                .help("Anti-entropy rounds run (digests compared with peers)")
                .callback(cb -> mesh.get().ifPresent(m -> cb.call(m.antiEntropyRounds()))).register(registry);
        CounterWithCallback.builder().name("kgnode_antientropy_pulls_total")
                .help("Bundles pulled from peers by anti-entropy")
                .callback(cb -> mesh.get().ifPresent(m -> cb.call(m.pullsSent()))).register(registry);
        CounterWithCallback.builder().name("kgnode_antientropy_repairs_total")
                .help("Local copies repaired from peers (missing or damaged on disk)")
                .callback(cb -> mesh.get().ifPresent(m -> cb.call(m.localCopiesRepaired()))).register(registry);
        CounterWithCallback.builder().name("kgnode_mesh_record_writes_total")
                .help("This node's own records (rollout states, clock) written to the mesh")
                .callback(cb -> mesh.get().ifPresent(m -> cb.call(m.recordWrites()))).register(registry);
        CounterWithCallback.builder().name("kgnode_mesh_record_writes_deferred_total")
                .help("Record writes that waited for the write rate limit (a burst of changes or a full push)")
                .callback(cb -> mesh.get().ifPresent(m -> cb.call(m.recordWritesDeferred()))).register(registry);
        CounterWithCallback.builder().name("kgnode_mesh_record_repushes_total")
                .help("Times this node wrote all its own records again because a peer's copy of them differed for a round (a write lost on the way)")
                .callback(cb -> mesh.get().ifPresent(m -> cb.call(m.recordRepushes()))).register(registry);
        CounterWithCallback.builder().name("kgnode_mesh_coordination_handovers_total")
                .help("Times this node, coordinating the mesh, found a member stuck joining and joined again so that another member coordinates")
                .callback(cb -> mesh.get().ifPresent(m -> cb.call(m.coordinationHandOvers()))).register(registry);
        CounterWithCallback.builder().name("kgnode_mesh_merge_checks_saved_total")
                .help("Times JGroups' MERGE3 would have stopped looking for split views after a view announced but never installed; how: kept (the view was already held) or resumed (after one check interval)")
                .labelNames("how")
                .callback(cb -> mesh.get().ifPresent(m -> {
                    cb.call(m.mergeChecksKept(), "kept");
                    cb.call(m.mergeChecksResumed(), "resumed");
                })).register(registry);
        CounterWithCallback.builder().name("kgnode_mesh_same_id_splits_total")
                .help("Splits MERGE3 cannot see, members holding one view id with different members, that this node helped end; how: told (this node, coordinating, sent a member holding its view id without being in it the view) or left (this node, so told, left that view to be merged back)")
                .labelNames("how")
                .callback(cb -> mesh.get().ifPresent(m -> {
                    cb.call(m.sameIdViewsTold(), "told");
                    cb.call(m.sameIdViewsLeft(), "left");
                })).register(registry);
        CounterWithCallback.builder().name("kgnode_mesh_tls_refused_total")
                .help("Mesh TLS handshakes that failed, by kind: certificate (refused by either end: another CA, expired, none), revoked (named by the mesh CA's revocation list), no_tls (no handshake: not a mesh node, or a plaintext one), other")
                .labelNames("kind")
                .callback(cb -> mesh.get().ifPresent(m -> m.tlsRefused().forEach((kind, n) -> cb.call(n, kind))))
                .register(registry);
        GaugeWithCallback.builder().name("kgnode_mesh_tls_revoked_certificates")
                .help("Certificates the mesh CA's revocation list in force (crl.pem in --cluster-tls-dir) names; absent without mesh TLS")
                .callback(cb -> mesh.get().flatMap(MeshStats::revocationList).ifPresent(s -> cb.call(s.revoked())))
                .register(registry);
        GaugeWithCallback.builder().name("kgnode_mesh_tls_revocation_list_number")
                .help("The CRL number of the mesh CA's revocation list in force (0: none); every node should show the number kgctl mesh cert revoke wrote last")
                .callback(cb -> mesh.get().flatMap(MeshStats::revocationList)
                        .ifPresent(s -> cb.call(s.number() == null ? 0 : s.number().doubleValue())))
                .register(registry);
        GaugeWithCallback.builder().name("kgnode_mesh_tls_revocation_list_unused")
                .help("1 while the crl.pem in --cluster-tls-dir is not used (not signed by the mesh CA, damaged, or older than the list in force, which stays)")
                .callback(cb -> mesh.get().flatMap(MeshStats::revocationList).ifPresent(s -> cb.call(s.problem() == null ? 0 : 1)))
                .register(registry);
        CounterWithCallback.builder().name("kgnode_mesh_rejections_total")
                .help("Entries from peers dropped before the store, by reason (verifier rejection codes, stale, renamed, anti-entropy bounds, bad records)")
                .labelNames("reason")
                .callback(cb -> mesh.get().ifPresent(m -> new java.util.TreeMap<>(m.rejected()).forEach((reason, n) -> cb.call(n, reason))))
                .register(registry);
        CounterWithCallback.builder().name("kgnode_mesh_received_total")
                .help("Bundles stored from the mesh, by how they arrived")
                .labelNames("source")
                .callback(cb -> mesh.get().ifPresent(m -> new java.util.TreeMap<>(m.storedBySource()).forEach((source, n) -> cb.call(n, source))))
                .register(registry);
    }

    /**
     * Registers the expiry of the TLS certificates in use (read at start: a renewed certificate is used,
     * and shown, after a restart); absent without TLS.
     */
    public void bindCertificates(java.util.Optional<Instant> mesh, java.util.Optional<Instant> admin) {
        if (mesh.isEmpty() && admin.isEmpty()) {
            return;
        }
        GaugeWithCallback.builder().name("kgnode_tls_certificate_expiry_timestamp_seconds")
                .help("When the TLS certificate this node uses expires (Unix seconds), by endpoint: mesh (--cluster-tls-dir), admin (--admin-tls-dir)")
                .labelNames("endpoint")
                .callback(cb -> {
                    mesh.ifPresent(t -> cb.call(t.getEpochSecond(), "mesh"));
                    admin.ifPresent(t -> cb.call(t.getEpochSecond(), "admin"));
                }).register(registry);
    }

    /** Registers the gauge of names a peer holds newer than this node ({@code ClusterLink#namesBehindPeers}). */
    public void bindConvergence(IntSupplier namesBehindPeers) {
        GaugeWithCallback.builder().name("kgnode_bundles_behind_peers")
                .help("Bundle names another member in view holds at a higher version than this node, or this node lacks (0 once converged;"
                        + " one that stays means this node cannot take it: an untrusted key, its budget, its disk)")
                .callback(cb -> cb.call(namesBehindPeers.getAsInt())).register(registry);
    }

    /** Registers the gauge of names served past their manifest's {@code expires}. */
    public void bindExpired(IntSupplier expiredNames) {
        GaugeWithCallback.builder().name("kgnode_bundles_expired")
                .help("Bundle names whose served version's manifest expiry has passed (still served: the last known good)")
                .callback(cb -> cb.call(expiredNames.getAsInt())).register(registry);
    }

    /** Registers the gauges of memory held for bundles against its budget (--max-held-bytes). */
    public void bindHeld(java.util.function.LongSupplier heldBytes, long budgetBytes) {
        GaugeWithCallback.builder().name("kgnode_held_bytes")
                .help("Archive bytes of every served version, kept in memory once each")
                .callback(cb -> cb.call(heldBytes.getAsLong())).register(registry);
        GaugeWithCallback.builder().name("kgnode_held_bytes_budget")
                .help("Most archive bytes held in memory; bundles beyond it are refused (over_budget)")
                .callback(cb -> cb.call(budgetBytes)).register(registry);
    }

    /** Registers the gauge of direct memory the VM endpoint's copies of its hottest bodies take. */
    public void bindDirectCopies(java.util.function.LongSupplier bytes) {
        GaugeWithCallback.builder().name("kgnode_vm_direct_copy_bytes")
                .help("Direct memory held by copies of the VM endpoint's most asked bodies (bounded, 4 MiB)")
                .callback(cb -> cb.call(bytes.getAsLong())).register(registry);
    }

    /** Registers the gauges that read live state; call once when the store and cluster exist. */
    public void bind(Supplier<StoreHealth> store, Supplier<ClusterStatus> cluster, IntSupplier waiters, Clock clock) {
        GaugeWithCallback.builder().name("kgnode_bundles_held")
                .help("Bundle names with a servable verified version")
                .callback(cb -> cb.call(store.get().bundles())).register(registry);
        GaugeWithCallback.builder().name("kgnode_bundles_behind_floor")
                .help("Names held below their rollback floor (newer copy damaged or missing; waiting for a peer)")
                .callback(cb -> cb.call(store.get().behindFloor().size())).register(registry);
        GaugeWithCallback.builder().name("kgnode_cluster_members")
                .help("Members in this node's current mesh view (itself included)")
                .callback(cb -> cb.call(cluster.get().members().size())).register(registry);
        GaugeWithCallback.builder().name("kgnode_cluster_members_silent")
                .help("Members in this node's view it has heard nothing from within the failure timeout (cut off, not excluded)")
                .callback(cb -> cb.call(cluster.get().members().stream().filter(ClusterStatus.Member::silent).count()))
                .register(registry);
        GaugeWithCallback.builder().name("kgnode_cluster_partitioned")
                .help("1 while this node believes the mesh is partitioned")
                .callback(cb -> cb.call(cluster.get().partitioned() ? 1 : 0)).register(registry);
        GaugeWithCallback.builder().name("kgnode_cluster_in_touch")
                .help("1 while this node is in touch with its peers (what X-Knowngood-In-Touch says)")
                .callback(cb -> cb.call(cluster.get().inTouch() ? 1 : 0)).register(registry);
        GaugeWithCallback.builder().name("kgnode_cluster_state")
                .help("1 for the current mesh state")
                .labelNames("state")
                .callback(cb -> {
                    String now = cluster.get().state();
                    for (String s : new String[] {"STARTING", "ALONE", "CLUSTERED", "PARTITIONED", "DUPLICATE_ID", "STOPPED"}) {
                        cb.call(s.equals(now) ? 1 : 0, s);
                    }
                }).register(registry);
        GaugeWithCallback.builder().name("kgnode_last_contact_age_seconds")
                .help("Seconds since this node last heard from a peer (+Inf if never; 0 while in touch)")
                .callback(cb -> {
                    ClusterStatus s = cluster.get();
                    if (s.inTouch()) {
                        cb.call(0);
                    } else {
                        cb.call(s.lastContact().map(t -> Duration.between(t, clock.instant()).toMillis() / 1000.0)
                                .orElse(Double.POSITIVE_INFINITY));
                    }
                }).register(registry);
        GaugeWithCallback.builder().name("kgnode_site_online")
                .help("1 while another site's site master was heard from lately (within 8 s), by site; absent without sites")
                .labelNames("site")
                .callback(cb -> cluster.get().sites().forEach(s -> cb.call(s.online() ? 1 : 0, s.name()))).register(registry);
        GaugeWithCallback.builder().name("kgnode_site_last_contact_age_seconds")
                .help("Seconds since another site's site master was last heard from (+Inf if never), by site; absent without sites")
                .labelNames("site")
                .callback(cb -> {
                    Instant now = clock.instant();
                    cluster.get().sites().forEach(s -> cb.call(s.lastContact().map(t -> Math.max(0, Duration.between(t, now).toMillis()) / 1000.0)
                            .orElse(Double.POSITIVE_INFINITY), s.name()));
                }).register(registry);
        GaugeWithCallback.builder().name("kgnode_site_backup_offline")
                .help("1 while this node's backup of a cache (bundles, records) to another site is held offline: what is written to it"
                        + " meanwhile does not go there until the backup is brought online; by site and cache; absent without sites")
                .labelNames("site", "cache")
                .callback(cb -> cluster.get().sites().forEach(s -> SiteInfo.BACKED_UP_CACHES.forEach(
                        cache -> cb.call(s.offlineBackups().contains(cache) ? 1 : 0, s.name(), cache)))).register(registry);
        GaugeWithCallback.builder().name("kgnode_long_poll_waiters")
                .help("VM long-poll requests currently waiting")
                .callback(cb -> cb.call(waiters.getAsInt())).register(registry);
    }

    public void request(String endpoint, String route, int status) {
        if (status < 100 || status > 599) {
            requests.labelValues(endpoint, route, Integer.toString(status)).inc();
            return;
        }
        // Every VM request lands here: the label lookup (a list of three strings, hashed, and the status
        // formatted) is done once per endpoint, route and status, then the data point is reused.
        Map<String, CounterDataPoint[]> byRoute = requestPoints.get(endpoint);
        if (byRoute == null) {
            byRoute = requestPoints.computeIfAbsent(endpoint, e -> new ConcurrentHashMap<>());
        }
        CounterDataPoint[] byStatus = byRoute.get(route);
        if (byStatus == null) {
            byStatus = byRoute.computeIfAbsent(route, r -> new CounterDataPoint[500]);
        }
        CounterDataPoint p = byStatus[status - 100];
        if (p == null) {
            p = requests.labelValues(endpoint, route, Integer.toString(status));
            byStatus[status - 100] = p; // a race stores the same data point twice: harmless
        }
        p.inc();
    }

    public void fetchLatency(String route, long nanos) {
        DistributionDataPoint p = fetchPoints.get(route);
        if (p == null) {
            p = fetchPoints.computeIfAbsent(route, fetchSeconds::labelValues);
        }
        p.observe(nanos / 1e9);
    }

    public void rejected(String reason, String source) {
        rejections.labelValues(reason, source).inc();
    }

    public void publish(String outcome) {
        publishes.labelValues(outcome).inc();
    }

    @Override
    public void stored(VerifiedBundle bundle, String source, boolean becameCurrent) {
        stored.labelValues(source.startsWith("peer") ? "peer" : source).inc();
    }

    @Override
    public void tieReplaced(VerifiedBundle winner, String replacedDigest, String source) {
        tieReplaced.inc();
    }

    @Override
    public void refused(VerifiedBundle bundle, String source, Rejection.Rollback why) {
        if (!source.equals("publish")) {
            rejections.labelValues(why.code(), "peer").inc();
        }
    }

    @Override
    public void storeError(String kind, String detail) {
        storeErrors.labelValues(kind).inc();
    }

    public String contentType() {
        return writer.getContentType();
    }

    /** The whole registry in Prometheus text format. */
    public byte[] scrape() {
        ByteArrayOutputStream out = new ByteArrayOutputStream(8192);
        try {
            writer.write(out, registry.scrape());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return out.toByteArray();
    }
}
