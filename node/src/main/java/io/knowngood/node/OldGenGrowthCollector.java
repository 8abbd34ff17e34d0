package io.knowngood.node;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the Serial collector's old generation near what is live, on JDKs that no longer do it.
 *
 * <p>Up to JDK 22, a young collection that had to grow the old generation to hold what it promoted was
 * followed at once by a full collection: that one compacts the old generation and gives back the free heap
 * above {@code -XX:MaxHeapFreeRatio}, so a node's heap followed what it held (the launcher's settings rely
 * on it). JDK 23 dropped that step (JDK-8331557, a refactoring of the Serial heap): from then on the old
 * generation grows with promoted garbage until {@code -Xmx} before its first full collection. Measured on
 * JDK 25 with the launcher's flags (docs/benchmarks.md): 1,000 bundles held, heap 58 MB committed instead
 * of 43 MB, and no full collection in the run.
 *
 * <p>This puts the step back from outside, on JDK 23 and later only: once a second it reads the old
 * generation's committed size and the count of full collections, and when the old generation grew since
 * the last look with no full collection in between, it asks for one ({@link System#gc()}, a full
 * collection on Serial). A collection that gives the heap back to what is live leaves the next growth as
 * the only trigger, so it asks at most once a second, and only while the old generation keeps growing.
 *
 * <p>It looks rather than listens: a listener for the JVM's collection notifications makes the JVM
 * describe every collection (each memory pool before and after it) on its notification thread, which
 * took about 6 % of a node's CPU while it served VMs, with dozens of young collections a second
 * (docs/benchmarks.md, VM fetch, 2026-12-04). Only the Serial collector is watched (its old pool is
 * "Tenured Gen"); other collectors size their heaps their own way. {@code -Dkgnode.gc.collectOnOldGrowth=false}
 * leaves the JVM alone.
 */
public final class OldGenGrowthCollector {

    /** The system property that turns this off ({@code false}). */
    public static final String PROPERTY = "kgnode.gc.collectOnOldGrowth";
    /** The first JDK whose Serial collector no longer follows a growing young collection with a full one. */
    private static final int FIRST_JDK_WITHOUT_THE_STEP = 23;
    /** Serial's old pool and full collector, as the JVM names them. */
    private static final String OLD_POOL = "Tenured Gen";
    private static final String FULL_GC = "MarkSweepCompact";
    private static final long PERIOD_MS = 1000;
    private static final Logger LOG = LoggerFactory.getLogger(OldGenGrowthCollector.class);
    private static OldGenGrowthCollector installed;

    private final Runnable fullCollection;
    private final AtomicLong requested = new AtomicLong();
    private long lastCommitted = -1;
    private long lastFullCollections = -1;

    OldGenGrowthCollector(Runnable fullCollection) {
        this.fullCollection = fullCollection;
    }

    /**
     * Starts looking once a second, once per JVM (several nodes may run in one test JVM). Empty when the
     * JDK still runs the step itself (before 23), the JVM does not use the Serial collector, or the
     * property turns it off.
     */
    public static synchronized Optional<OldGenGrowthCollector> installOnce() {
        if (installed != null) {
            return Optional.of(installed);
        }
        if ("false".equalsIgnoreCase(System.getProperty(PROPERTY, "true")) || !neededOn(Runtime.version().feature())) {
            return Optional.empty();
        }
        Optional<MemoryPoolMXBean> old = ManagementFactory.getMemoryPoolMXBeans().stream()
                .filter(p -> p.getName().equals(OLD_POOL)).findFirst();
        Optional<GarbageCollectorMXBean> full = ManagementFactory.getGarbageCollectorMXBeans().stream()
                .filter(c -> c.getName().equals(FULL_GC)).findFirst();
        if (old.isEmpty() || full.isEmpty()) {
            return Optional.empty();
        }
        OldGenGrowthCollector collector = new OldGenGrowthCollector(System::gc);
        ScheduledExecutorService looks = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "kgnode-old-gen");
            t.setDaemon(true);
            return t;
        });
        MemoryPoolMXBean pool = old.get();
        GarbageCollectorMXBean fullGc = full.get();
        looks.scheduleWithFixedDelay(() -> {
            try {
                collector.looked(pool.getUsage().getCommitted(), fullGc.getCollectionCount());
            } catch (RuntimeException e) {
                LOG.warn("cannot read the old generation's size: {}", e.toString());
            }
        }, PERIOD_MS, PERIOD_MS, TimeUnit.MILLISECONDS);
        installed = collector;
        return Optional.of(collector);
    }

    /** Whether a JDK of this feature version needs the step put back. */
    static boolean neededOn(int jdkFeature) {
        return jdkFeature >= FIRST_JDK_WITHOUT_THE_STEP;
    }

    /** Full collections asked for so far. */
    public long requested() {
        return requested.get();
    }

    /**
     * One look: the old generation's committed bytes and the full collections run so far. Asks for a full
     * collection, and returns true, when the old generation grew since the last look and no full collection
     * ran in between.
     */
    synchronized boolean looked(long oldCommitted, long fullCollections) {
        boolean ask = lastCommitted >= 0 && oldCommitted > lastCommitted && fullCollections == lastFullCollections;
        lastCommitted = oldCommitted;
        lastFullCollections = fullCollections;
        if (ask) {
            requested.incrementAndGet();
            LOG.debug("the old generation grew to {} KiB and no full collection followed: asking for one", oldCommitted / 1024);
            fullCollection.run();
        }
        return ask;
    }
}
