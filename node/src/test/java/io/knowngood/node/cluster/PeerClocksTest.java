package io.knowngood.node.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.knowngood.node.MutableClock;
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

        @Override
        public PutResult putOwn(String key, byte[] value) {
            all.computeIfAbsent(key, k -> new HashMap<>()).put(self, value);
            listeners.forEach(l -> l.changed(key, self));
            return PutResult.STORED;
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

    @Test
    void peerBehindByThreeSeconds_isMeasuredAsThreeSecondsOfSkew() {
        Map<String, Map<String, byte[]>> shared = new HashMap<>();
        List<MeshRecords.Listener> listeners = new ArrayList<>();
        MutableClock here = new MutableClock(Instant.parse("2026-12-01T10:00:03Z"));
        MutableClock there = new MutableClock(Instant.parse("2026-12-01T10:00:00Z"));
        PeerClocks mine = new PeerClocks(here);
        PeerClocks theirs = new PeerClocks(there);
        mine.attach(new Records("a", shared, listeners));
        theirs.attach(new Records("b", shared, listeners));

        theirs.write();
        mine.write();

        assertThat(mine.skews()).containsOnlyKeys("b");
        assertThat(mine.skews().get("b").skew()).isEqualTo(Duration.ofSeconds(3));
        assertThat(theirs.skews().get("a").skew()).isEqualTo(Duration.ofSeconds(-3));
    }

    @Test
    void oneLateDelivery_doesNotReadAsSkew_theMedianOfRecentSamplesDoes() {
        Map<String, Map<String, byte[]>> shared = new HashMap<>();
        List<MeshRecords.Listener> listeners = new ArrayList<>();
        MutableClock here = new MutableClock(Instant.parse("2026-12-01T10:00:00Z"));
        MutableClock there = new MutableClock(Instant.parse("2026-12-01T10:00:00Z"));
        PeerClocks mine = new PeerClocks(here);
        PeerClocks theirs = new PeerClocks(there);
        mine.attach(new Records("a", shared, listeners));
        Records theirRecords = new Records("b", shared, listeners);
        theirs.attach(theirRecords);
        for (int i = 0; i < 5; i++) {
            theirs.write();
            here.advance(Duration.ofSeconds(5));
            there.advance(Duration.ofSeconds(5));
        }
        // one write reaches "a" 4 s late: written at "there" time, received 4 s on
        here.advance(Duration.ofSeconds(4));
        theirs.write();
        assertThat(mine.skews().get("b").samples()).isEqualTo(6);
        assertThat(mine.skews().get("b").skew()).isZero(); // 4 s once in six samples is a late delivery, not skew
    }

    @Test
    void recordThatIsNotACount_isIgnored() {
        assertThat(PeerClocks.parse("12ab".getBytes(StandardCharsets.US_ASCII))).isEmpty();
        assertThat(PeerClocks.parse(new byte[0])).isEmpty();
        assertThat(PeerClocks.parse(null)).isEmpty();
        assertThat(PeerClocks.parse("99999999999999999999".getBytes(StandardCharsets.US_ASCII))).isEmpty();
        assertThat(PeerClocks.parse("1000".getBytes(StandardCharsets.US_ASCII))).contains(Instant.ofEpochMilli(1000));
    }
}
