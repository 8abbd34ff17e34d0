package io.knowngood.node.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class DirectCopiesTest {

    private static ByteBuffer body(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return ByteBuffer.wrap(b).asReadOnlyBuffer();
    }

    private static byte[] bytesOf(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }

    @Test
    void aBodyIsSentFromTheHeapUntilAskedForEnough_thenFromADirectReadOnlyCopyOfTheSameBytes() {
        DirectCopies copies = new DirectCopies(1 << 20);
        DirectCopies.Slot slot = copies.group().slot();
        ByteBuffer heap = body(16 * 1024, 1);
        for (int i = 1; i < DirectCopies.HOT_AFTER; i++) {
            assertThat(slot.body(heap)).isSameAs(heap);
        }
        assertThat(copies.held()).isZero();
        ByteBuffer first = slot.body(heap);
        assertThat(first.isDirect()).isTrue();
        assertThat(first.isReadOnly()).isTrue();
        assertThat(bytesOf(first)).isEqualTo(bytesOf(heap));
        assertThat(copies.held()).isEqualTo(16 * 1024);
        // each answer gets its own position: sending one does not move the next
        first.position(first.limit());
        ByteBuffer second = slot.body(heap);
        assertThat(second.remaining()).isEqualTo(16 * 1024);
        assertThat(bytesOf(second)).isEqualTo(bytesOf(heap));
        assertThat(heap.remaining()).isEqualTo(16 * 1024);
    }

    @Test
    void theBudgetBoundsTheCopies_firstComeAndNoBodyAboveAQuarterOfIt() {
        DirectCopies copies = new DirectCopies(100_000);
        DirectCopies.Group g = copies.group();
        DirectCopies.Slot big = g.slot();
        ByteBuffer hbig = body(25_001, 0);
        for (int i = 0; i < DirectCopies.HOT_AFTER * 3; i++) {
            assertThat(big.body(hbig)).as("above a quarter of the budget").isSameAs(hbig);
        }
        for (int n = 1; n <= 4; n++) {
            DirectCopies.Slot s = g.slot();
            ByteBuffer heap = body(25_000, n);
            for (int i = 0; i < DirectCopies.HOT_AFTER; i++) {
                assertThat(bytesOf(s.body(heap))).isEqualTo(bytesOf(heap));
            }
            assertThat(s.copied()).isTrue();
            assertThat(copies.held()).isEqualTo(25_000L * n);
        }
        DirectCopies.Slot late = copies.group().slot();
        ByteBuffer small = body(10, 5);
        for (int i = 0; i < DirectCopies.HOT_AFTER * 3; i++) {
            assertThat(late.body(small)).as("the budget is spent").isSameAs(small);
        }
        assertThat(copies.held()).isEqualTo(100_000);
        g.retire();
        assertThat(copies.held()).isZero();
        for (int i = 0; i < DirectCopies.HOT_AFTER; i++) {
            late.body(small);
        }
        assertThat(late.copied()).as("budget given back is used again").isTrue();
    }

    @Test
    void aRetiredVersionGivesItsBytesBack_andNoCopyIsMadeForItAfter() {
        DirectCopies copies = new DirectCopies(1 << 20);
        DirectCopies.Group g = copies.group();
        DirectCopies.Slot s = g.slot();
        ByteBuffer heap = body(1000, 1);
        for (int i = 0; i < DirectCopies.HOT_AFTER; i++) {
            s.body(heap);
        }
        assertThat(copies.held()).isEqualTo(1000);
        g.retire();
        assertThat(copies.held()).isZero();
        assertThat(s.body(heap)).isSameAs(heap);
        DirectCopies.Slot late = g.slot();
        for (int i = 0; i < DirectCopies.HOT_AFTER * 2; i++) {
            assertThat(late.body(heap)).isSameAs(heap);
        }
        g.retire();
        assertThat(copies.held()).isZero();
    }

    @Test
    void copiesRacingRetirement_neverLeaveBudgetTaken() throws Exception {
        DirectCopies copies = new DirectCopies(1 << 20);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            ByteBuffer heap = body(4096, 1);
            for (int round = 0; round < 300; round++) {
                DirectCopies.Group g = copies.group();
                List<DirectCopies.Slot> slots = new ArrayList<>();
                for (int i = 0; i < 4; i++) {
                    slots.add(g.slot());
                }
                CountDownLatch go = new CountDownLatch(1);
                List<Future<?>> asks = new ArrayList<>();
                for (int t = 0; t < 3; t++) {
                    asks.add(pool.submit(() -> {
                        go.await();
                        for (int i = 0; i < DirectCopies.HOT_AFTER * 4; i++) {
                            for (DirectCopies.Slot s : slots) {
                                ByteBuffer sent = s.body(heap);
                                assertThat(sent.remaining()).isEqualTo(4096);
                            }
                        }
                        return null;
                    }));
                }
                Future<?> retire = pool.submit(() -> {
                    go.await();
                    g.retire();
                    return null;
                });
                go.countDown();
                for (Future<?> f : asks) {
                    f.get(10, TimeUnit.SECONDS);
                }
                retire.get(10, TimeUnit.SECONDS);
                assertThat(copies.held()).as("round " + round).isZero();
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
