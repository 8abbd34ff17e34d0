package io.knowngood.node.cluster;

import io.knowngood.replication.MeshRecords;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Clock skew against peers, measured through the mesh's records: every {@link #WRITE_EVERY} this node
 * writes its wall-clock time (epoch milliseconds, decimal) into its own record {@value #KEY}; when a
 * peer's record changes here, the local time of receipt is noted. A peer's skew is then receipt time
 * minus the time it wrote: positive when its clock is behind ours. The replication delay (milliseconds
 * on a LAN) is counted in, so the figure is an upper bound on the real skew; a record that reaches this
 * node late (anti-entropy repairing a lost update) reads as skew until the peer's next write.
 */
public final class PeerClocks {

    public static final String KEY = "clock";
    public static final Duration WRITE_EVERY = Duration.ofSeconds(5);

    private final Clock clock;
    private final Map<String, Instant> receivedAt = new ConcurrentHashMap<>();
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
                receivedAt.put(member, clock.instant()); // on a replication thread: note the time, nothing more
            }
        });
    }

    /** The background timer's call, every {@link #WRITE_EVERY}: notes the peers' addresses and writes this node's time. */
    public void tick(ClusterStatus view) {
        view.members().stream().filter(m -> !m.self() && !"?".equals(m.address())).forEach(m -> addresses.put(m.id(), m.address()));
        write();
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

    /** One peer's last sample: when its record arrived here and the time it had written into it. */
    public record Sample(Instant received, Instant written) {
        /** Receipt minus written: how far the peer's clock is behind this node's (plus the replication delay). */
        public Duration skew() {
            return Duration.between(written, received);
        }
    }

    /** Peer id -> its last sample, for every peer whose clock record arrived here since start. */
    public Map<String, Sample> samples() {
        MeshRecords r = records;
        Map<String, Sample> out = new TreeMap<>();
        if (r == null) {
            return out;
        }
        Map<String, byte[]> written = r.snapshot().getOrDefault(KEY, Map.of());
        receivedAt.forEach((member, at) -> parse(written.get(member)).ifPresent(w -> out.put(member, new Sample(at, w))));
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
