package io.knowngood.node;

import com.sun.management.GarbageCollectionNotificationInfo;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import javax.management.Notification;
import javax.management.NotificationEmitter;
import javax.management.NotificationListener;
import javax.management.openmbean.CompositeData;
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
 * <p>This listener puts the step back from outside, on JDK 23 and later only: when a young collection
 * grew the old generation and the next young collection finds that no full collection ran in between, it
 * asks for one ({@link System#gc()}, a full collection on Serial). Like JDK 17's step it has no rate
 * limit: a collection that gives the heap back to what is live leaves the next growth as the only
 * trigger, so under a steady stream of promotions it runs at most every second young collection, where
 * JDK 17 ran one after each growing young collection. Only the Serial collector is watched (its old pool
 * is "Tenured Gen"); other collectors size their heaps their own way.
 * {@code -Dkgnode.gc.collectOnOldGrowth=false} leaves the JVM alone.
 *
 * <p>Not installed before JDK 23: while anyone listens for collection notifications, the JVM describes
 * every collection (each memory pool before and after it) on its notification thread, about 6 % of a
 * node's CPU while it serves VMs, with dozens of young collections a second (docs/benchmarks.md, VM
 * fetch, 2026-12-04). Looking once a second instead was tried and failed a clean-clone CI run: a full
 * collection the JVM ran itself during a burst hid the growth after it, and the heap stayed at 177 MB.
 */
public final class OldGenGrowthCollector implements NotificationListener {

    /** The system property that turns this off ({@code false}). */
    public static final String PROPERTY = "kgnode.gc.collectOnOldGrowth";
    /** The first JDK whose Serial collector no longer follows a growing young collection with a full one. */
    private static final int FIRST_JDK_WITHOUT_THE_STEP = 23;
    /** Serial's old pool, young collector and full collector, as the JVM names them. */
    private static final String OLD_POOL = "Tenured Gen";
    private static final String YOUNG_GC = "Copy";
    private static final String FULL_GC = "MarkSweepCompact";
    private static final Logger LOG = LoggerFactory.getLogger(OldGenGrowthCollector.class);
    private static OldGenGrowthCollector installed;

    private final Runnable fullCollection;
    private final AtomicLong requested = new AtomicLong();
    private boolean grewWithoutFullCollection;

    OldGenGrowthCollector(Runnable fullCollection) {
        this.fullCollection = fullCollection;
    }

    /**
     * Watches this JVM's collections, once per JVM (several nodes may run in one test JVM). Empty when the
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
        List<GarbageCollectorMXBean> collectors = ManagementFactory.getGarbageCollectorMXBeans();
        boolean serial = collectors.stream().anyMatch(c -> c.getName().equals(FULL_GC)
                && List.of(c.getMemoryPoolNames()).contains(OLD_POOL));
        if (!serial) {
            return Optional.empty();
        }
        OldGenGrowthCollector collector = new OldGenGrowthCollector(System::gc);
        for (GarbageCollectorMXBean c : collectors) {
            if (c instanceof NotificationEmitter emitter) {
                emitter.addNotificationListener(collector,
                        n -> GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION.equals(n.getType()), null);
            }
        }
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

    @Override
    public void handleNotification(Notification notification, Object handback) {
        GarbageCollectionNotificationInfo info =
                GarbageCollectionNotificationInfo.from((CompositeData) notification.getUserData());
        if (info.getGcName().equals(FULL_GC)) {
            fullCollected();
        } else if (info.getGcName().equals(YOUNG_GC)) {
            MemoryUsage before = info.getGcInfo().getMemoryUsageBeforeGc().get(OLD_POOL);
            MemoryUsage after = info.getGcInfo().getMemoryUsageAfterGc().get(OLD_POOL);
            if (before != null && after != null) {
                youngCollected(before.getCommitted(), after.getCommitted());
            }
        }
    }

    /** A full collection seen (notifications arrive one at a time, in order): nothing is left to ask for. */
    synchronized void fullCollected() {
        grewWithoutFullCollection = false;
    }

    /**
     * A young collection seen, with the old generation's committed bytes before and after it. Asks for a
     * full collection, and returns true, when the previous young collection grew the old generation and no
     * full one followed.
     */
    synchronized boolean youngCollected(long oldCommittedBefore, long oldCommittedAfter) {
        boolean ask = grewWithoutFullCollection;
        grewWithoutFullCollection = oldCommittedAfter > oldCommittedBefore && !ask;
        if (ask) {
            requested.incrementAndGet();
            LOG.debug("the old generation grew in a young collection and no full collection followed: asking for one"
                    + " (old generation {} KiB committed)", oldCommittedAfter / 1024);
            fullCollection.run();
        }
        return ask;
    }
}
