package io.knowngood.node.store;

import java.time.Clock;
import java.time.format.DateTimeFormatter;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The store's problems: every one is counted, logged, kept among the last few for {@code
 * /v1/health}, and told to the observers (metrics count them by kind). Thread-safe.
 */
final class ProblemLog {
    // One log name for everything the store reports, as operators know it.
    private static final Logger LOG = LoggerFactory.getLogger(BundleStore.class);
    static final int RECENT = 20;

    private final Clock clock;
    private final List<StoreObserver> observers;
    private final Deque<String> recent = new ArrayDeque<>();
    private final AtomicLong count = new AtomicLong();

    /** {@code observers} is read at each problem, so observers added later hear about later problems. */
    ProblemLog(Clock clock, List<StoreObserver> observers) {
        this.clock = clock;
        this.observers = observers;
    }

    /** Records one problem; {@code kind} is a stable label, {@code detail} one line for people. */
    void record(String kind, String detail) {
        count.incrementAndGet();
        LOG.warn("store: {}", detail);
        synchronized (recent) {
            recent.addLast(DateTimeFormatter.ISO_INSTANT.format(clock.instant()) + " " + detail);
            while (recent.size() > RECENT) {
                recent.removeFirst();
            }
        }
        for (StoreObserver o : observers) {
            o.storeError(kind, detail);
        }
    }

    /** Problems since start. */
    long count() {
        return count.get();
    }

    /** The last {@value #RECENT} problems, oldest first, each prefixed with its time. */
    List<String> recent() {
        synchronized (recent) {
            return List.copyOf(recent);
        }
    }
}
