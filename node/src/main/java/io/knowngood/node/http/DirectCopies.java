package io.knowngood.node.http;

import java.nio.ByteBuffer;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Direct-memory copies of the bodies the VM endpoint sends most: a served version's archive and its
 * files. The JDK writes a heap buffer to a socket by first copying it into a temporary direct buffer;
 * on a 16 KiB file that copy is about 3 % of an answer's CPU (docs/benchmarks.md, 2026-12-05). A body
 * held in direct memory goes to the kernel as it is.
 *
 * <p>Bounded: a body gets its copy once it has been sent {@value #HOT_AFTER} times, while the
 * budget lasts (first come), and only if it is at most a quarter of the budget. The copies of a served
 * version give their bytes back to the budget when the endpoint stops serving that version ({@link
 * Group#retire}); the memory itself is freed with the last buffer that still refers to it. Nothing here
 * changes what is sent: a copy is made from the verified bytes the store holds, and a body without one
 * is sent from those bytes.
 */
final class DirectCopies {

    /** The most direct memory held for copies: a few hot bundles' files (the RSS goal leaves room for this). */
    static final long BUDGET = 4L << 20;
    /** Sends before a body gets its copy: a file sent once (a cold start, a rare VM) never takes budget. */
    static final int HOT_AFTER = 8;

    private static final ByteBuffer RETIRED = ByteBuffer.allocate(0);

    private final long budget;
    private final AtomicLong held = new AtomicLong();

    DirectCopies(long budget) {
        this.budget = budget;
    }

    /** Bytes of direct memory the current copies take. */
    long held() {
        return held.get();
    }

    /** The copies of one served version: retired together. */
    Group group() {
        return new Group();
    }

    private boolean reserve(long n) {
        while (true) {
            long h = held.get();
            if (h + n > budget) {
                return false;
            }
            if (held.compareAndSet(h, h + n)) {
                return true;
            }
        }
    }

    private void release(long n) {
        held.addAndGet(-n);
    }

    final class Group {
        private final Queue<Slot> slots = new ConcurrentLinkedQueue<>();
        private volatile boolean retired;

        /** A slot for one body of this version (the archive or one file). */
        Slot slot() {
            Slot s = new Slot(this);
            slots.add(s);
            if (retired) {
                s.retire();
            }
            return s;
        }

        /** The version is no longer served here: every copy gives its bytes back, and none is made any more. */
        void retire() {
            retired = true;
            for (Slot s : slots) {
                s.retire();
            }
        }
    }

    final class Slot {
        private final Group group;
        private final AtomicReference<ByteBuffer> copy = new AtomicReference<>();
        /** Sends counted toward the copy; racy on purpose: a lost increment only delays the copy by a send. */
        private int asked;

        private Slot(Group group) {
            this.group = group;
        }

        /**
         * The body to send: a view of the direct copy when there is one, else {@code heap} itself.
         * {@code heap} must be this slot's body each time (the same verified bytes).
         */
        ByteBuffer body(ByteBuffer heap) {
            ByteBuffer c = copy.get();
            if (c != null) {
                return c == RETIRED ? heap : c.duplicate();
            }
            if (++asked < HOT_AFTER) {
                return heap;
            }
            asked = 0;
            int n = heap.remaining();
            if (n == 0 || n > budget / 4 || !reserve(n)) {
                return heap;
            }
            ByteBuffer d = ByteBuffer.allocateDirect(n);
            d.put(heap.duplicate()).flip();
            d = d.asReadOnlyBuffer();
            if (!copy.compareAndSet(null, d)) {
                release(n);
                return heap;
            }
            if (group.retired) {
                retire(); // retired while copying: Group.retire may have passed this slot already
            }
            return d.duplicate();
        }

        void retire() {
            ByteBuffer c = copy.getAndSet(RETIRED);
            if (c != null && c != RETIRED) {
                release(c.capacity());
            }
        }

        boolean copied() {
            ByteBuffer c = copy.get();
            return c != null && c != RETIRED;
        }
    }
}
