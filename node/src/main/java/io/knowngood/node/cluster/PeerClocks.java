package io.knowngood.node.cluster;

import io.knowngood.replication.MeshRecords;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Clock skew against peers, measured through the mesh's records: every {@link #WRITE_EVERY} this node
 * writes its wall-clock time (epoch milliseconds, decimal) into its own record {@value #KEY}; when a
 * peer's record changes here, the local time of receipt is noted with the time written in it. One
 * sample's skew is receipt time minus written time: positive when the peer's clock is behind ours,
 * with the replication delay counted in. A peer's skew is the median of its last {@link #KEEP} samples
 * (a minute), so one record delivered late (anti-entropy repairing a lost update) does not read as
 * skew; what is left of the delay is milliseconds on a LAN.
 */
public final class PeerClocks {

    public static final String KEY = "clock";
    public static final Duration WRITE_EVERY = Duration.ofSeconds(5);

    private final Clock clock;
    /** Samples kept per peer (a minute's worth at one write every {@link #WRITE_EVERY}). */
    static final int KEEP = 12;

    /** Peer id -> its last samples, oldest first (each deque guarded by itself). */
    private final Map<String, java.util.ArrayDeque<Sample>> history = new ConcurrentHashMap<>();
    /** Peer id -> the cluster address it last had in a view seen here (so a peer that left is still named by both). */
    private final Map<String, String> addresses = new ConcurrentHashMap<>();
    private volatile MeshRecords records;

    public PeerClocks(Clock clock) {
        this.clock = clock;
    }

    /** Starts listening to {@code meshRecords} (before the mesh starts, so no peer's write is missed). */
    public void attach(MeshRecords meshRecords) {
        this.records = meshRecords;
        meshRecords.addListener((key, member) -> {
            if (KEY.equals(key) && !member.equals(meshRecords.selfId())) {
                Instant received = clock.instant();
                // on a replication thread: a copy of the records and a parse, nothing that waits
                parse(meshRecords.snapshot().getOrDefault(KEY, Map.of()).get(member)).ifPresent(written -> note(member, new Sample(received, written)));
            }
        });
    }

    /** The background timer's call, every {@link #WRITE_EVERY}: notes the peers' addresses and writes this node's time. */
    public void tick(ClusterStatus view) {
        observe(view);
        write();
    }

    /** Notes the addresses of the peers in {@code view}. */
    public void observe(ClusterStatus view) {
        view.members().stream().filter(m -> !m.self() && !"?".equals(m.address())).forEach(m -> addresses.put(m.id(), m.address()));
    }

    /** Peer id -> the cluster address it had in the last view it was seen in here. */
    public Map<String, String> addresses() {
        return new TreeMap<>(addresses);
    }

    /** Writes this node's time into its record. */
    public void write() {
        MeshRecords r = records;
        if (r != null) {
            r.putOwn(KEY, Long.toString(clock.millis()).getBytes(StandardCharsets.US_ASCII));
        }
    }

    private void note(String member, Sample s) {
        java.util.ArrayDeque<Sample> h = history.computeIfAbsent(member, k -> new java.util.ArrayDeque<>());
        synchronized (h) {
            if (!h.isEmpty() && h.peekLast().written().equals(s.written())) {
                return; // the same write seen again
            }
            h.addLast(s);
            while (h.size() > KEEP) {
                h.removeFirst();
            }
        }
    }

    /** One sample: when a peer's record arrived here and the time it had written into it. */
    public record Sample(Instant received, Instant written) {
        /** Receipt minus written: how far the peer's clock is behind this node's (plus the replication delay). */
        public Duration skew() {
            return Duration.between(written, received);
        }
    }

    /** A peer's clock as measured here: its skew (the median of {@code samples}) and when its last record arrived. */
    public record Skew(Duration skew, int samples, Instant lastReceived) {}

    /** Peer id -> its skew, for every peer whose clock record arrived here since start. */
    public Map<String, Skew> skews() {
        Map<String, Skew> out = new TreeMap<>();
        history.forEach((member, h) -> {
            List<Sample> kept;
            synchronized (h) {
                kept = List.copyOf(h);
            }
            if (!kept.isEmpty()) {
                List<Duration> sorted = kept.stream().map(Sample::skew).sorted().toList();
                out.put(member, new Skew(sorted.get(sorted.size() / 2), sorted.size(), kept.get(kept.size() - 1).received()));
            }
        });
        return out;
    }

    /** A peer's record comes unverified: anything but a plain decimal count of milliseconds is ignored. */
    static Optional<Instant> parse(byte[] value) {
        if (value == null || value.length == 0 || value.length > 19) {
            return Optional.empty();
        }
        String s = new String(value, StandardCharsets.US_ASCII);
        if (!s.matches("\\d{1,19}")) {
            return Optional.empty();
        }
        try {
            return Optional.of(Instant.ofEpochMilli(Long.parseLong(s)));
        } catch (NumberFormatException | java.time.DateTimeException e) {
            return Optional.empty();
        }
    }
}
