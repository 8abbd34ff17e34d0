package io.knowngood.replication;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Members seen with this node's id at another address ({@link IdClashWatch}; in another site:
 * {@link SiteIdClashWatch}), by that address: the
 * latest of each (at most {@link #MAX_ADDRESSES}), for {@code kgctl explain} and the status views. The
 * log lines are written where the clash is seen.
 */
public final class IdClashes {
  /** Addresses remembered; the least recently seen is forgotten first. */
  static final int MAX_ADDRESSES = 16;

  /**
   * A member at {@code address} (IP:PORT) with this node's id, first seen {@code at}; {@code site}: the
   * other site it is in, empty when in this node's. {@code earlier}: it joined first (in another site:
   * its mesh was made first), so this node is the one to leave; {@code left}: this node has left the mesh for it.
   */
  public record Clash(String address, String site, Instant at, boolean earlier, boolean left) {}

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

  /** A member at {@code address} with this node's id came into view ({@code site} empty), or was heard of in another site. */
  synchronized void seen(String address, String site, boolean earlier) {
    latest.put(address, new Clash(address, site, clock.instant(), earlier, false));
  }

  /** This node left the mesh for the member at {@code address} ({@code site}: as in {@link #seen}). */
  synchronized void left(String address, String site) {
    latest.put(address, new Clash(address, site, clock.instant(), true, true));
  }

  /** The latest clash with each address, most recent first. */
  public synchronized List<Clash> snapshot() {
    List<Clash> out = new ArrayList<>(latest.values());
    java.util.Collections.reverse(out);
    return out;
  }
}
