package io.knowngood.node;

import io.knowngood.crypto.bundle.BundleVerifier;
import io.knowngood.crypto.bundle.Limits;
import io.knowngood.crypto.bundle.TrustedKeys;
import io.knowngood.node.cluster.ClusterFactory;
import io.knowngood.node.cluster.ClusterLink;
import io.knowngood.node.cluster.PeerClocks;
import io.knowngood.node.cluster.StandaloneLink;
import io.knowngood.node.cluster.StatusCache;
import io.knowngood.node.cluster.TrustedKeysRecord;
import io.knowngood.node.config.ClusterTlsDir;
import io.knowngood.node.config.NodeConfig;
import io.knowngood.node.http.AdminAccess;
import io.knowngood.node.http.AdminEndpoint;
import io.knowngood.node.http.AdminToken;
import io.knowngood.node.http.AuditLog;
import io.knowngood.node.http.ExplainView;
import io.knowngood.node.http.HardenedServer;
import io.knowngood.node.http.VmEndpoint;
import io.knowngood.node.metrics.NodeMetrics;
import io.knowngood.node.pools.UnknownPools;
import io.knowngood.node.rollout.Rollouts;
import io.knowngood.node.store.BundleStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xnio.OptionMap;
import org.xnio.Options;
import org.xnio.Xnio;
import org.xnio.XnioWorker;

/**
 * One running kgnode, in start order: load and verify the store from disk, open the VM and admin
 * endpoints (serving from the store from then on), and only then start the mesh in the background.
 * Nothing the mesh does (or fails to do) delays or stops serving.
 */
public final class Node implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Node.class);

    private final NodeConfig config;
    private final BundleStore store;
    private final ClusterLink cluster;
    private final XnioWorker worker;
    private final HardenedServer vmServer;
    private final HardenedServer adminServer;
    private final ScheduledExecutorService background;
    private final NodeMetrics metrics;
    private final Rollouts rollouts;
    private final java.util.concurrent.ExecutorService rolloutThread;

    private Node(NodeConfig config, BundleStore store, ClusterLink cluster, XnioWorker worker, HardenedServer vmServer,
                 HardenedServer adminServer, ScheduledExecutorService background, NodeMetrics metrics, Rollouts rollouts,
                 java.util.concurrent.ExecutorService rolloutThread) {
        this.config = config;
        this.store = store;
        this.cluster = cluster;
        this.worker = worker;
        this.vmServer = vmServer;
        this.adminServer = adminServer;
        this.background = background;
        this.metrics = metrics;
        this.rollouts = rollouts;
        this.rolloutThread = rolloutThread;
    }

    public static Node start(NodeConfig config, Clock clock, ClusterFactory clusterFactory) throws Exception {
        long t0 = System.nanoTime();
        // Two cores: open the HTTP machinery on one while the store is read and verified on the other.
        CompletableFuture<XnioWorker> workerReady = CompletableFuture.supplyAsync(() -> createWorker(config), r -> {
            Thread t = new Thread(r, "kgnode-warmup");
            t.setDaemon(true);
            t.start();
        });
        NodeMetrics metrics = new NodeMetrics();
        // no thread until its first task: made here, so a failed start below can shut it down with the worker
        java.util.concurrent.ExecutorService rolloutThread = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "kgnode-rollouts");
            t.setDaemon(true);
            return t;
        });
        BundleVerifier verifier;
        BundleStore store;
        Rollouts rollouts;
        try {
            TrustedKeys trust = TrustedKeys.fromPemFiles(config.trustKeys());
            if (trust.isEmpty()) {
                LOG.warn("no trusted publisher keys (--trust-key): every bundle will be refused, and stored ones cannot be served");
            } else {
                LOG.info("trusted publisher keys (key ids): {}", TrustedKeysRecord.of(trust.ids()).keyIds());
            }
            verifier = new BundleVerifier(trust, new Limits(config.maxFileBytes(), config.maxBundleBytes(), config.maxFiles()));
            store = BundleStore.open(config.dataDir(), config.floorFile(), verifier, config.keepVersions(), clock,
                    config.effectiveFallbackDelay(), List.of(metrics));
            long heldBudget = config.effectiveMaxHeldBytes(Runtime.getRuntime().maxMemory());
            store.limitHeldBytes(heldBudget);
            long heldAtStart = store.heldBytes();
            if (heldAtStart > heldBudget) {
                LOG.warn("the bundles on disk take {} bytes in memory, above the held-bytes budget of {}: all are served, "
                        + "new versions are refused until the budget (--max-held-bytes) or the heap (KGNODE_HEAP) is raised",
                        heldAtStart, heldBudget);
            }
            rollouts = new Rollouts(config.nodeId(), config.hostLabels(), store, trust, config.dataDir(), clock, rolloutThread);
            rollouts.addObserver(metrics.rollouts());
        } catch (IOException | RuntimeException e) {
            // anything failing before the worker is joined: the worker made meanwhile on the other core goes too
            workerReady.thenAccept(XnioWorker::shutdownNow);
            rolloutThread.shutdownNow();
            throw e;
        }

        XnioWorker worker;
        try {
            worker = workerReady.join();
        } catch (CompletionException e) {
            rolloutThread.shutdownNow();
            throw new IOException("cannot start the HTTP worker: " + e.getCause().getMessage(), e.getCause());
        }
        HardenedServer vm = null;
        ClusterLink toClose = null;
        CompletableFuture<ClusterLink> linkReady = null;
        try {
            StatusCache status = new StatusCache(new StandaloneLink(config.nodeId(), config.clusterBind().toString(), store),
                    Duration.ofMillis(250));
            VmEndpoint vmEndpoint = new VmEndpoint(config.nodeId(), store, rollouts, status, metrics, config.http(), clock, config.pools());
            vm = HardenedServer.start("vm", worker, config.vmBind(), vmEndpoint, config.http(), config.http().longPollMaxWait());
            // The mesh link (its TLS credentials checked, Infinispan's and JGroups' objects: 0.3-0.5 s of CPU
            // on a cold JVM) is made only now that the VM endpoint listens, on the other core while the admin
            // side is read: it used to start beside the store's open and took CPU from it and from the
            // first answer (issue 18, docs/benchmarks.md "Cold start"). Until the link exists the VM endpoint
            // reports the mesh as STARTING.
            linkReady = CompletableFuture.supplyAsync(() -> createLink(config, verifier, store, clusterFactory), r -> {
                Thread t = new Thread(r, "kgnode-mesh-link");
                t.setDaemon(true);
                t.start();
            });
            boolean defaultTokenFile = config.adminTokenFile().equals(config.dataDir().resolve("admin.token"));
            AdminAccess access = new AdminAccess(config.adminTokenFile(), AdminToken.load(config.adminTokenFile(), defaultTokenFile), clock);
            LOG.info("admin tokens from {}: {}", config.adminTokenFile(), access.names());
            AuditLog audit = AuditLog.open(config.dataDir().resolve("audit.log"));
            Optional<ClusterTlsDir.Usable> adminTls = adminTls(config, clock);
            ClusterLink cluster = linkReady.join();
            toClose = cluster;
            status.use(cluster);
            PeerClocks peerClocks = new PeerClocks(clock);
            ExplainView explain = new ExplainView(ExplainView.Setup.of(config), store, rollouts, cluster, config.pools(), audit, peerClocks, clock);
            AdminEndpoint admin = new AdminEndpoint(store, rollouts, verifier, cluster, metrics, config.http(), access, audit, clock,
                    config.pools(), explain);
            HardenedServer adminServer = HardenedServer.start("admin", worker, List.of(config.adminBind()), admin, config.http(),
                    config.publishTimeout().plus(config.http().bodyTimeout()), adminTls.map(ok -> ok.credentials().sslContext()));
            metrics.bind(store::health, status, vmEndpoint::waiting, clock);
            metrics.bindHeld(store::heldBytes, store.heldBudget());
            metrics.bindDirectCopies(vmEndpoint::directCopyBytes);
            metrics.bindExpired(() -> rollouts.expired().size());
            Optional<OldGenGrowthCollector> oldGen = OldGenGrowthCollector.installOnce();
            metrics.bindRuntime(cluster::meshStats, () -> oldGen.map(OldGenGrowthCollector::requested).orElse(0L));
            metrics.bindPools(config.pools().size());
            metrics.bindCertificates(cluster.certificateNotAfter(), adminTls.map(ClusterTlsDir.Usable::notAfter));
            metrics.bindConvergence(cluster::namesBehindPeers);
            UnknownPools unknownPools = new UnknownPools(config.pools());
            store.addObserver(unknownPools);
            store.currentAll().forEach(unknownPools::check);
            if (config.pools().isEmpty()) {
                LOG.info("pools: none; VMs get only bundles without pools");
            } else {
                LOG.info("pools (by VM source address): {}", config.pools());
            }
            LOG.info("node {} serving {} bundles from {}: {} ms after JVM start ({} ms in Node.start); joining the mesh in the background",
                    config.nodeId(), store.health().bundles(), config.dataDir(), ManagementFactory.getRuntimeMXBean().getUptime(),
                    (System.nanoTime() - t0) / 1_000_000);

            ScheduledExecutorService background = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "kgnode-background");
                t.setDaemon(true);
                return t;
            });
            background.execute(() -> {
                // this node's rollout records (from its own disk) go in before the mesh starts: its first
                // round after the join removes any record under this node's id that it does not hold
                rollouts.attach(cluster.records());
                peerClocks.attach(cluster.records());
                TrustedKeysRecord.of(verifier.trust().ids()).share(cluster.records())
                        .ifPresent(why -> LOG.warn("not sharing this node's trusted publisher keys with the mesh: {}", why));
                try {
                    cluster.start();
                } catch (RuntimeException e) {
                    LOG.error("mesh failed to start; serving what this node holds", e);
                }
            });
            background.scheduleWithFixedDelay(() -> {
                try {
                    rollouts.tick();
                } catch (RuntimeException e) {
                    LOG.error("rollout tick failed", e);
                }
            }, 1, 1, TimeUnit.SECONDS);
            long clockMs = PeerClocks.WRITE_EVERY.toMillis();
            background.scheduleWithFixedDelay(() -> {
                try {
                    peerClocks.tick(cluster.status());
                } catch (RuntimeException e) {
                    LOG.error("clock record write failed", e);
                }
            }, 1_000, clockMs, TimeUnit.MILLISECONDS);
            long scrubMs = config.scrubInterval().toMillis();
            if (scrubMs > 0) {
                background.scheduleWithFixedDelay(() -> {
                    try {
                        store.scrub();
                    } catch (RuntimeException e) {
                        LOG.error("store scrub failed", e);
                    }
                }, Math.min(scrubMs, 5_000), scrubMs, TimeUnit.MILLISECONDS);
            }
            return new Node(config, store, cluster, worker, vm, adminServer, background, metrics, rollouts, rolloutThread);
        } catch (IOException | RuntimeException e) {
            if (vm != null) {
                vm.close();
            }
            worker.shutdownNow();
            rolloutThread.shutdownNow();
            if (toClose != null) {
                toClose.close();
            } else if (linkReady != null) {
                linkReady.thenAccept(ClusterLink::close); // created, never started: its resources go too
            }
            throw e;
        }
    }

    /**
     * The mesh link as configured, or a stopped stand-in when it cannot be made: serving must not depend
     * on the mesh, so a broken credential or port still leaves a serving node.
     */
    private static ClusterLink createLink(NodeConfig config, BundleVerifier verifier, BundleStore store, ClusterFactory clusterFactory) {
        ClusterLink created;
        try {
            created = clusterFactory.create(config, verifier, store);
        } catch (Exception e) {
            LOG.error("NOT joining the mesh: {}. This node serves what it holds and takes publishes on its own (cluster state STOPPED) "
                    + "until it is restarted with that fixed", e.getMessage());
            created = new StandaloneLink(config.nodeId(), config.clusterBind().toString(), store, "STOPPED");
        }
        if (config.standalone()) {
            LOG.info("standalone (--standalone): no mesh; this node serves what it holds and takes publishes on its own");
        }
        return created;
    }

    private static XnioWorker createWorker(NodeConfig config) {
        try {
            XnioWorker worker = Xnio.getInstance(Node.class.getClassLoader()).createWorker(OptionMap.builder()
                    .set(Options.WORKER_NAME, "kgnode-" + config.nodeId())
                    .set(Options.WORKER_IO_THREADS, config.http().ioThreads())
                    .set(Options.WORKER_TASK_CORE_THREADS, config.http().workerThreads())
                    .set(Options.WORKER_TASK_MAX_THREADS, config.http().workerThreads())
                    .set(Options.TCP_NODELAY, true)
                    .getMap());
            HardenedServer.warmUp();
            return worker;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public List<InetSocketAddress> vmAddresses() {
        return vmServer.boundAddresses();
    }

    public InetSocketAddress adminAddress() {
        return adminServer.boundAddresses().get(0);
    }

    public BundleStore store() {
        return store;
    }

    public ClusterLink cluster() {
        return cluster;
    }

    public Rollouts rollouts() {
        return rollouts;
    }

    public NodeMetrics metrics() {
        return metrics;
    }

    public NodeConfig config() {
        return config;
    }

    @Override
    public void close() {
        LOG.info("node {} stopping", config.nodeId());
        background.shutdownNow();
        rolloutThread.shutdownNow();
        try {
            cluster.close();
        } catch (RuntimeException e) {
            LOG.warn("mesh did not close cleanly", e);
        }
        vmServer.close();
        adminServer.close();
        worker.shutdownNow();
        try {
            worker.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * The admin endpoint's TLS context from {@code --admin-tls-dir}, checked as the mesh's is (files,
     * password, certificate valid now and issued by the CA in the truststore); none without the flag.
     *
     * @throws IOException naming the cause and the fix when the directory is not usable
     */
    private static Optional<ClusterTlsDir.Usable> adminTls(NodeConfig config, Clock clock) throws IOException {
        if (config.adminTlsDir().isEmpty()) {
            return Optional.empty();
        }
        Path dir = config.adminTlsDir().get();
        ClusterTlsDir.Usable ok = ClusterTlsDir.check(dir, config.nodeId(), clock, "--admin-tls-dir").usableOrThrow();
        ok.warnings().forEach(w -> LOG.warn("admin TLS: {}", w));
        LOG.info("admin endpoint TLS: {}", ok.summary());
        return Optional.of(ok);
    }
}
