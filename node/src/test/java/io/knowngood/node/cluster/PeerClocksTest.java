package io.knowngood.node.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.knowngood.replication.MutableClock;
import io.knowngood.replication.MeshRecords;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Skew is receipt time here minus the time the peer wrote; a record that is not a plain count is ignored. */
class PeerClocksTest {

    /** Two members' records, delivered at once (the real replication is tested in replication). */
    static final class Records implements MeshRecords {
        final String self;
        final Map<String, Map<String, byte[]>> all;
        final List<Listener> listeners;
        Records peer;

        Records(String self, Map<String, Map<String, byte[]>> all, List<Listener> listeners) {
            this.self = self;
            this.all = all;
            this.listeners = listeners;
        }

        /** While true, this member's writes wait in {@link #pending} (a record delivered late). */
        boolean holding;
        final List<Runnable> pending = new ArrayList<>();

        @Override
        public PutResult putOwn(String key, byte[] value) {
            Runnable deliver = () -> {
                all.computeIfAbsent(key, k -> new HashMap<>()).put(self, value);
                listeners.forEach(l -> l.changed(key, self));
            };
            if (holding) {
                pending.add(deliver);
            } else {
                deliver.run();
            }
            return PutResult.STORED;
        }

        void release() {
            holding = false;
            pending.forEach(Runnable::run);
            pending.clear();
        }

        @Override
        public void removeOwn(String key) {}

        @Override
        public Map<String, Map<String, byte[]>> snapshot() {
            return all;
        }

        @Override
        public String selfId() {
            return self;
        }

        @Override
        public void addListener(Listener listener) {
            listeners.add(listener);
        }
    }

    /** Two nodes whose records reach each other at once unless {@code held}, then on {@link #deliver}. */
    static final class Pair {
        final Map<String, Map<String, byte[]>> shared = new HashMap<>();
        final List<MeshRecords.Listener> listeners = new ArrayList<>();
        final MutableClock aClock;
        final MutableClock bClock;
        final PeerClocks a;
        final PeerClocks b;
        final Records bRecords;

        Pair(Instant aTime, Instant bTime) {
            aClock = new MutableClock(aTime);
            bClock = new MutableClock(bTime);
            a = new PeerClocks(aClock);
            b = new PeerClocks(bClock);
            a.attach(new Records("a", shared, listeners));
            bRecords = new Records("b", shared, listeners);
            b.attach(bRecords);
        }

        void advance(Duration d) {
            aClock.advance(d);
            bClock.advance(d);
        }

        /** Both write, 5 s apart, {@code rounds} times. */
        void rounds(int rounds) {
            for (int i = 0; i < rounds; i++) {
                a.write();
                advance(Duration.ofMillis(2500));
                b.write();
                advance(Duration.ofMillis(2500));
            }
        }
    }

    @Test
    void peerBehindByThreeSeconds_isMeasuredAsThreeSecondsOfSkew_withNoDelay() {
        Pair p = new Pair(Instant.parse("2026-12-01T10:00:03Z"), Instant.parse("2026-12-01T10:00:00Z"));
        p.rounds(3);

        assertThat(p.a.skews()).containsOnlyKeys("b");
        assertThat(p.a.skews().get("b").skew()).isEqualTo(Duration.ofSeconds(3));
        assertThat(p.a.skews().get("b").delay()).isZero();
        assertThat(p.b.skews().get("a").skew()).isEqualTo(Duration.ofSeconds(-3));
    }

    @Test
    void aRecordDeliveredLate_isNotSkew_theRoundTripCountsTheDelay() {
        Pair p = new Pair(Instant.parse("2026-12-01T10:00:00Z"), Instant.parse("2026-12-01T10:00:00Z"));
        p.a.write();
        p.advance(Duration.ofMillis(100));
        p.b.write(); // b echoes a's write, at once
        p.advance(Duration.ofMillis(100));
        p.a.write(); // a echoes b's
        p.bRecords.holding = true;
        p.advance(Duration.ofMillis(100));
        p.b.write(); // reaches a 4 s late (as at a join's state transfer)
        p.advance(Duration.ofSeconds(4));
        p.bRecords.release();

        // one-way, that arrival would read as 4 s of skew; the round trip puts that 4 s into the delay
        PeerClocks.Skew late = p.a.skews().get("b");
        assertThat(late.samples()).isEqualTo(2);
        assertThat(late.skew()).isZero(); // the best sample (least delay) is the prompt one
        assertThat(p.a.skews().get("b").delay()).isZero();
    }

    @Test
    void anOnlySampleDeliveredLate_carriesItsDelay_soItsErrorIsBounded() {
        Pair p = new Pair(Instant.parse("2026-12-01T10:00:00Z"), Instant.parse("2026-12-01T10:00:00Z"));
        p.a.write();
        p.bRecords.holding = true;
        p.advance(Duration.ofMillis(100));
        p.b.write(); // echoes a's write, and reaches a 4 s late
        p.advance(Duration.ofSeconds(4));
        p.bRecords.release();

        PeerClocks.Skew only = p.a.skews().get("b");
        assertThat(only.samples()).isEqualTo(1);
        assertThat(only.delay()).isEqualTo(Duration.ofSeconds(4));
        assertThat(only.skew()).isEqualTo(Duration.ofSeconds(2)); // off by half the delay, and says so
        assertThat(only.skew().abs().minus(only.delay().dividedBy(2))).isLessThanOrEqualTo(Duration.ZERO);
    }

    @Test
    void recordNotOfTheWrittenForm_isIgnored() {
        assertThat(PeerClocks.parse("12ab".getBytes(StandardCharsets.US_ASCII))).isNull();
        assertThat(PeerClocks.parse("t=12 n2".getBytes(StandardCharsets.US_ASCII))).isNull();
        assertThat(PeerClocks.parse("t=12 n2=1@x".getBytes(StandardCharsets.US_ASCII))).isNull();
        assertThat(PeerClocks.parse(new byte[0])).isNull();
        assertThat(PeerClocks.parse(null)).isNull();
        assertThat(PeerClocks.parse("t=99999999999999999999".getBytes(StandardCharsets.US_ASCII))).isNull();
        assertThat(PeerClocks.parse("t=1000 n2=5@7".getBytes(StandardCharsets.US_ASCII)))
                .isEqualTo(new PeerClocks.Parsed(1000, Map.of("n2", new PeerClocks.Echo(5, 7))));
    }
}
