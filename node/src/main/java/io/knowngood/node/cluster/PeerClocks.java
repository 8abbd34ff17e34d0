package io.knowngood.node.cluster;

import io.knowngood.replication.MeshRecords;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Clock skew against peers, measured through the mesh's records the way NTP measures it. Every
 * {@link #WRITE_EVERY} this node writes into its own record {@value #KEY} its wall-clock time and, per
 * peer, that peer's last written time with the local time it arrived here ({@code t=W n2=Wp@Rp ...},
 * epoch milliseconds). When a peer's record arrives and echoes this node's own time, the four times
 * give one sample: offset {@code ((Rpeer - Wmine) + (Wpeer - Rmine)) / 2} and round-trip delay
 * {@code (Rmine - Wmine) - (Wpeer - Rpeer)} (the peer's wait before writing again is not counted).
 * Of a peer's last {@link #KEEP} samples the one with the smallest delay is taken (NTP's clock filter),
 * so a record delivered late (at a join, or repaired by anti-entropy) does not read as skew; the
 * offset is then right to within half that delay.
 */
public final class PeerClocks {

    public static final String KEY = "clock";
    public static final Duration WRITE_EVERY = Duration.ofSeconds(5);
    /** Samples kept per peer (a minute's worth at one write every {@link #WRITE_EVERY}). */
    static final int KEEP = 12;
    /** At most this many peers are echoed in one record (16 KiB is the record limit). */
    static final int MAX_ECHOES = 200;

    private final Clock clock;
    /** Peer id -> the cluster address it last had in a view seen here (so a peer that left is still named by both). */
    private final Map<String, String> addresses = new ConcurrentHashMap<>();
    /** Peer id -> its last record's written time and when it arrived here: echoed in this node's next write. */
    private final Map<String, Echo> heard = new ConcurrentHashMap<>();
    /** Peer id -> its last samples, oldest first (each deque guarded by itself). */
    private final Map<String, ArrayDeque<Sample>> history = new ConcurrentHashMap<>();
    private volatile MeshRecords records;

    public PeerClocks(Clock clock) {
        this.clock = clock;
    }

    /** A written time and when it arrived (epoch milliseconds). */
    record Echo(long written, long received) {}

    /** Starts listening to {@code meshRecords} (before the mesh starts, so no peer's write is missed). */
    public void attach(MeshRecords meshRecords) {
        this.records = meshRecords;
        String self = meshRecords.selfId();
        meshRecords.addListener((key, member) -> {
            if (KEY.equals(key) && !member.equals(self)) {
                long received = clock.millis();
                // on a replication thread: a copy of the records and a parse, nothing that waits
                Parsed p = parse(meshRecords.of(KEY).get(member));
                if (p != null) {
                    taken(member, self, p, received);
                }
            }
        });
    }

    private void taken(String member, String self, Parsed p, long received) {
        Echo before = heard.put(member, new Echo(p.time(), received));
        Echo mine = p.echoes().get(self);
        if (mine == null || (before != null && before.written() == p.time())) {
            return; // no round trip yet, or the same write seen again
        }
        long delay = (received - mine.written()) - (p.time() - mine.received());
        if (delay < 0) {
            return; // a clock stepped between the four readings: no sample
        }
        long offset = ((mine.received() - mine.written()) + (p.time() - received)) / 2; // peer minus this node
        ArrayDeque<Sample> h = history.computeIfAbsent(member, k -> new ArrayDeque<>());
        synchronized (h) {
            h.addLast(new Sample(Duration.ofMillis(-offset), Duration.ofMillis(delay), Instant.ofEpochMilli(received)));
            while (h.size() > KEEP) {
                h.removeFirst();
            }
        }
    }

    /** The background timer's call, every {@link #WRITE_EVERY}: notes the peers' addresses and writes this node's time. */
    public void tick(ClusterStatus view) {
        observe(view);
        write();
    }

    /** Notes the addresses of the peers in {@code view}. */
    public void observe(ClusterStatus view) {
        // keyed by id: a member with this node's own id is another host (docs/kgnode.md, "One id per host"), not a peer
        view.members().stream().filter(m -> !m.self() && !m.id().equals(view.selfId()) && !"?".equals(m.address()))
                .forEach(m -> addresses.put(m.id(), m.address()));
        // skew is measured against peers in view: one that left may come back as another process, on another clock
        java.util.Set<String> inView = new java.util.HashSet<>();
        view.members().forEach(m -> inView.add(m.id()));
        history.keySet().retainAll(inView);
    }

    /** Peer id -> the cluster address it had in the last view it was seen in here. */
    public Map<String, String> addresses() {
        return new TreeMap<>(addresses);
    }

    /** Writes this node's time, with the echoes of its peers' last writes, into its record. */
    public void write() {
        MeshRecords r = records;
        if (r == null) {
            return;
        }
        StringBuilder b = new StringBuilder("t=").append(clock.millis());
        new TreeMap<>(heard).entrySet().stream().limit(MAX_ECHOES)
                .forEach(e -> b.append(' ').append(e.getKey()).append('=').append(e.getValue().written()).append('@').append(e.getValue().received()));
        r.putOwn(KEY, b.toString().getBytes(StandardCharsets.US_ASCII));
    }

    /**
     * One round trip with a peer: {@code skew} is this node's clock minus the peer's (positive: the
     * peer is behind), right to within half of {@code delay}.
     */
    public record Sample(Duration skew, Duration delay, Instant received) {}

    /** A peer's clock as measured here: its best sample (smallest delay) of {@code samples}, and when its last record arrived. */
    public record Skew(Duration skew, Duration delay, int samples, Instant lastReceived) {}

    /** Peer id -> its skew, for every peer with at least one round trip since start. */
    public Map<String, Skew> skews() {
        Map<String, Skew> out = new TreeMap<>();
        history.forEach((member, h) -> {
            List<Sample> kept;
            synchronized (h) {
                kept = List.copyOf(h);
            }
            if (!kept.isEmpty()) {
                Sample best = kept.stream().min(Comparator.comparing(Sample::delay)).get();
                out.put(member, new Skew(best.skew(), best.delay(), kept.size(), kept.get(kept.size() - 1).received()));
            }
        });
        return out;
    }

    /** When each peer's last clock record arrived here (also for a peer with no round trip yet). */
    public Map<String, Instant> lastHeard() {
        Map<String, Instant> out = new TreeMap<>();
        heard.forEach((m, e) -> out.put(m, Instant.ofEpochMilli(e.received())));
        return out;
    }

    /** A peer's record: its time and its echoes. */
    record Parsed(long time, Map<String, Echo> echoes) {}

    /** A peer's record comes unverified: anything not of the form this class writes is ignored (null). */
    static Parsed parse(byte[] value) {
        if (value == null || value.length == 0 || value.length > MeshRecords.MAX_VALUE_BYTES) {
            return null;
        }
        String[] parts = new String(value, StandardCharsets.US_ASCII).split(" ");
        Optional<Long> time = millis(parts[0].startsWith("t=") ? parts[0].substring(2) : "");
        if (time.isEmpty()) {
            return null;
        }
        Map<String, Echo> echoes = new TreeMap<>();
        for (int i = 1; i < parts.length; i++) {
            int eq = parts[i].indexOf('=');
            int at = parts[i].indexOf('@');
            if (eq < 1 || at < eq) {
                return null;
            }
            Optional<Long> w = millis(parts[i].substring(eq + 1, at));
            Optional<Long> r = millis(parts[i].substring(at + 1));
            if (w.isEmpty() || r.isEmpty()) {
                return null;
            }
            echoes.put(parts[i].substring(0, eq), new Echo(w.get(), r.get()));
        }
        return new Parsed(time.get(), echoes);
    }

    private static Optional<Long> millis(String s) {
        if (!s.matches("\\d{1,15}")) { // epoch milliseconds until the year 33658
            return Optional.empty();
        }
        return Optional.of(Long.parseLong(s));
    }
}
