package io.knowngood.replication;

import java.net.InetAddress;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Mesh TLS handshakes that failed, by the other end's IP address: the latest failure of each address
 * (at most {@link #MAX_ADDRESSES}), a count per kind, and one WARN line per address and kind every
 * {@link #LOG_EVERY} (INFO for {@link Kind#OTHER}). Without this, a host whose certificate another CA issued, an expired certificate
 * or a node without mesh TLS showed only as a peer that never joins, with nothing logged on either side
 * (JGroups drops a failed accept or connect quietly). {@code kgctl explain} names the cause beside that
 * peer, and {@code kgnode_mesh_tls_refused_total} counts them.
 */
public final class TlsRefusals {
  private static final Logger log = LoggerFactory.getLogger(TlsRefusals.class);

  /** Addresses remembered; the least recently refused is forgotten first. */
  static final int MAX_ADDRESSES = 64;
  /** The same address refused the same way is logged again after this long at the earliest. */
  static final Duration LOG_EVERY = Duration.ofMinutes(10);
  /** Longest reason kept (the JDK's PKIX messages can run long). */
  static final int MAX_REASON = 300;

  /** What went wrong. */
  public enum Kind {
    /** A certificate was refused: not from this mesh's CA, expired, not yet valid, missing (by either end). */
    CERTIFICATE,
    /** A certificate the mesh CA's revocation list names (crl.pem): a host removed from the mesh. */
    REVOKED,
    /** The other end spoke no TLS, or did not finish a handshake in time (not a mesh node, or a plaintext one). */
    NO_TLS,
    /** Any other handshake failure (no common protocol or cipher suite, a connection reset in the middle). */
    OTHER;

    public String wire() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** The latest failure with one address: when, what, and the cause in words. */
  public record Refusal(String address, Kind kind, Instant at, String reason) {}

  private final String nodeId;
  private final Clock clock;
  private final Map<String, Refusal> latest = new LinkedHashMap<>(16, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, Refusal> eldest) {
      return size() > MAX_ADDRESSES;
    }
  };
  private final Map<String, Instant> logged = new LinkedHashMap<>(16, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, Instant> eldest) {
      return size() > MAX_ADDRESSES * Kind.values().length;
    }
  };
  private final Map<Kind, Long> counts = new EnumMap<>(Kind.class);

  public TlsRefusals(String nodeId, Clock clock) {
    this.nodeId = nodeId;
    this.clock = clock;
  }

  /** Records a failed handshake with {@code remote} (null: unknown); true if it was logged. */
  boolean refused(InetAddress remote, Kind kind, String reason) {
    String address = remote == null ? "unknown" : IpText.of(remote);
    String why = reason.length() > MAX_REASON ? reason.substring(0, MAX_REASON) + "..." : reason;
    Instant now = clock.instant();
    boolean logIt;
    synchronized (this) {
      counts.merge(kind, 1L, Long::sum);
      Refusal before = latest.get(address);
      if (kind == Kind.OTHER && before != null && before.kind() != Kind.OTHER && now.isBefore(before.at().plus(LOG_EVERY))) {
        // a reset in the middle of a handshake, after the other end refused a certificate: counted, but the
        // specific cause stays the one shown and logged for this address
        return false;
      }
      latest.put(address, new Refusal(address, kind, now, why));
      Instant last = logged.get(address + "|" + kind);
      logIt = last == null || !now.isBefore(last.plus(LOG_EVERY));
      if (logIt) {
        logged.put(address + "|" + kind, now);
      }
    }
    if (logIt && kind == Kind.OTHER) {
      // a reset or broken pipe mid-handshake: two members racing to connect at a start, or a peer going
      // away; a cause worth acting on has its own kind
      log.info("{}: mesh TLS handshake with {} failed ({}): {}", nodeId, address, kind.wire(), why);
    } else if (logIt) {
      log.warn("{}: mesh TLS handshake with {} failed ({}): {} (logged again for this address after {} min at the earliest)",
          nodeId, address, kind.wire(), why, LOG_EVERY.toMinutes());
    }
    return logIt;
  }

  /** The latest failure of each address, most recent first. */
  public synchronized List<Refusal> snapshot() {
    List<Refusal> out = new ArrayList<>(latest.values());
    out.sort((a, b) -> b.at().compareTo(a.at()));
    return out;
  }

  /** Failed handshakes since start, by kind (wire names). */
  public synchronized Map<String, Long> counts() {
    Map<String, Long> out = new TreeMap<>();
    counts.forEach((k, n) -> out.put(k.wire(), n));
    return out;
  }
}
