package io.knowngood.replication;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Members seen with this node's id at another address ({@link IdClashWatch}), by that address: the
 * latest of each (at most {@link #MAX_ADDRESSES}), for {@code kgctl explain} and the status views. The
 * log lines are written where the clash is seen.
 */
public final class IdClashes {
  /** Addresses remembered; the least recently seen is forgotten first. */
  static final int MAX_ADDRESSES = 16;

  /**
   * A member at {@code address} (IP:PORT) with this node's id, first seen {@code at}. {@code earlier}: it
   * joined first, so this node is the one to leave; {@code left}: this node has left the mesh for it.
   */
  public record Clash(String address, Instant at, boolean earlier, boolean left) {}

  private final Clock clock;
  private final Map<String, Clash> latest = new LinkedHashMap<>(16, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, Clash> eldest) {
      return size() > MAX_ADDRESSES;
    }
  };

  IdClashes(Clock clock) {
    this.clock = clock;
  }

  /** A member at {@code address} with this node's id came into view. */
  synchronized void seen(String address, boolean earlier) {
    latest.put(address, new Clash(address, clock.instant(), earlier, false));
  }

  /** This node left the mesh for the member at {@code address}. */
  synchronized void left(String address) {
    latest.put(address, new Clash(address, clock.instant(), true, true));
  }

  /** The latest clash with each address, most recent first. */
  public synchronized List<Clash> snapshot() {
    List<Clash> out = new ArrayList<>(latest.values());
    java.util.Collections.reverse(out);
    return out;
  }
}
