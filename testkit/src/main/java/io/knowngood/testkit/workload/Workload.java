package io.knowngood.testkit.workload;

import io.knowngood.testkit.cluster.ChaosCluster;
import io.knowngood.testkit.process.NodeProcess;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

/**
 * A publisher that pushes new versions of a few bundles to random nodes, and one VM client per node
 * that fetches every bundle in turn, recording everything in a {@link History}.
 */
public final class Workload implements AutoCloseable {
    private final List<String> bundles;
    private final ChaosCluster cluster;
    private final History history;
    private final Clock clock;
    private final Random random;
    private final Map<String, Long> acked = new ConcurrentHashMap<>();
    private final java.util.concurrent.atomic.AtomicLong ackCount = new java.util.concurrent.atomic.AtomicLong();
    private final Map<String, Long> lastTried = new ConcurrentHashMap<>();
    /** Nodes that may legitimately not answer right now (killed, paused, starting). */
    private final Set<String> excused = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final AtomicBoolean publishing = new AtomicBoolean(true);
    private final List<Thread> threads = new ArrayList<>();

    public Workload(ChaosCluster cluster, History history, List<String> bundles, Clock clock, long seed) {
        this.cluster = cluster;
        this.history = history;
        this.bundles = List.copyOf(bundles);
        this.clock = clock;
        this.random = new Random(seed);
        cluster.workload(this);
    }

    /** The bundle names the workload publishes and fetches. */
    public List<String> bundles() {
        return bundles;
    }

    /**
     * Node ids that may legitimately not answer right now (killed, paused, starting); fetches from
     * them are recorded as not healthy, and the publisher skips them. Live and mutable.
     */
    public Set<String> excused() {
        return excused;
    }

    /** Publishes version 1 of every bundle (through the first node) before the run starts. */
    public void seed() {
        for (String b : bundles) {
            publishNext(b, List.of(cluster.node(0)));
        }
    }

    public void start(Duration publishEvery, Duration fetchEvery) {
        Thread pub = new Thread(() -> {
            while (running.get()) {
                if (publishing.get()) {
                    List<NodeProcess> order = new ArrayList<>(cluster.nodes());
                    Collections.shuffle(order, random);
                    publishNext(bundles.get(random.nextInt(bundles.size())), order);
                }
                LockSupport.parkNanos(publishEvery.toNanos());
            }
        }, "chaos-publisher");
        threads.add(pub);
        pub.start();
        startFetchers(fetchEvery);
    }

    /**
     * Starts only the VM clients (one per node, fetching every bundle in turn): for a run that
     * publishes on its own (a rollout scenario).
     */
    public void startFetchers(Duration fetchEvery) {
        List<Thread> vms = new ArrayList<>();
        for (NodeProcess n : cluster.nodes()) {
            Thread vm = new Thread(() -> {
                while (running.get()) {
                    for (String b : bundles) {
                        boolean excusedBefore = excused.contains(n.id());
                        ChaosCluster.Served s = cluster.fetch(n, b);
                        boolean healthy = !excusedBefore && !excused.contains(n.id());
                        history.add(new History.Fetch(clock.instant(), n.id(), b, s.status(), s.version(), s.digest(),
                                s.verified(), s.error(), healthy, s.state(), s.latest()));
                    }
                    LockSupport.parkNanos(fetchEvery.toNanos());
                }
            }, "chaos-vm-" + n.id());
            vms.add(vm);
        }
        threads.addAll(vms);
        vms.forEach(Thread::start);
    }

    /** The central config server is down: nothing is published until it is back. */
    public void publisherDown(boolean down) {
        publishing.set(!down);
    }

    private void publishNext(String bundle, List<NodeProcess> order) {
        long version = lastTried.merge(bundle, 1L, Long::sum);
        byte[] archive = cluster.pack(bundle, version);
        for (NodeProcess n : order) {
            if (excused.contains(n.id())) {
                continue;
            }
            int status = cluster.publish(n, bundle, archive);
            history.add(new History.Publish(clock.instant(), n.id(), bundle, version, status));
            if (status == 201) {
                acked.merge(bundle, version, Math::max);
                ackCount.incrementAndGet();
                return;
            }
            if (status == 409 || status == 422) {
                return;
            }
        }
    }

    /** Publishes acknowledged so far. */
    public long acks() {
        return ackCount.get();
    }

    public long maxAcked(String bundle) {
        return acked.getOrDefault(bundle, 0L);
    }

    @Override
    public void close() throws InterruptedException {
        running.set(false);
        for (Thread t : threads) {
            t.join(10_000);
        }
    }
}
