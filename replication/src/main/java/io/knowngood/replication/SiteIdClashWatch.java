package io.knowngood.replication;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Which host in another site carries this node's id. Members of different sites are never in one view,
 * so {@link IdClashWatch} cannot see them; but the records cache is backed up to the other sites, filed
 * under the node id, so two such hosts overwrite each other's records, each re-asserting its own at once:
 * an endless exchange across the WAN, and each site's readers see the two hosts' rollout records in turn.
 *
 * <p>Each member of a mesh with a site keeps an identity record ({@link #KEY}: its site, cluster address
 * and when its mesh was made). The records cache tells which of this member's own records a peer
 * overwrote ({@link ReplicatedRecords#drainOverwrites}); an identity among them from another site is a
 * host there with this id. It counts once it came in two looks (a copy from before, brought back once by
 * a backup, comes in one), and the later of the two hosts (the one whose mesh was made later; on a tie
 * the site whose name sorts later) leaves the mesh once the other has kept overwriting for the grace
 * after that. The grace counts from the confirmation, not the first sighting: when the exchange across
 * the WAN stalls (a site master replaced, cross-site backups failing for seconds), the second sighting
 * can come more than a grace after the first, and a host that left at once gave the earlier host no
 * time to see it twice, so only one side ever said why (clean-clone CI 2026-12-06, SitesProcessTest).
 * A copy from this node's own site is {@link IdClashWatch}'s matter: the view tells that case better.
 *
 * <p>Not thread-safe: the mesh's starter thread owns it. Time is passed in.
 */
final class SiteIdClashWatch {
  /** The record key of a member's identity. */
  static final String KEY = "mesh.identity";

  /** The site is checked against {@link MeshConfig#ID}, as a configured site name is. */
  private static final Pattern TEXT = Pattern.compile("site=([^;\\s]{1,64});address=([^;\\s]{1,64});since=(\\d{1,19})");

  /** A member's identity record: its site, its cluster address (IP:PORT) and when its mesh was made (epoch ms). */
  record Identity(String site, String address, long since) {
    byte[] encode() {
      return ("site=" + site + ";address=" + address + ";since=" + since).getBytes(StandardCharsets.US_ASCII);
    }

    /** The identity in {@code value}, or empty for anything else (values come from peers unverified). */
    static Optional<Identity> parse(byte[] value) {
      if (value == null || value.length > 256) {
        return Optional.empty();
      }
      Matcher m = TEXT.matcher(new String(value, StandardCharsets.US_ASCII));
      if (!m.matches() || !MeshConfig.ID.matcher(m.group(1)).matches()) {
        return Optional.empty();
      }
      try {
        return Optional.of(new Identity(m.group(1), m.group(2), Long.parseLong(m.group(3))));
      } catch (NumberFormatException tooLarge) {
        return Optional.empty();
      }
    }

    /** Whether this host came first: its mesh was made earlier; on a tie, its site's name sorts first. */
    boolean before(Identity other) {
      return since != other.since ? since < other.since : site.compareTo(other.site) < 0;
    }
  }

  /** A host in another site with this node's id; {@code earlier}: it came first, so this node is the one to leave. */
  record Clash(Identity other, boolean earlier) {}

  /** One look: the hosts confirmed in it, and the earlier one to leave the mesh for, if any. */
  record Look(List<Clash> confirmed, Optional<Identity> leaveFor) {}

  private static final class Seen {
    Identity latest;
    long last;
    int looks;
    /** The look that confirmed it (its second). */
    long confirmed;

    Seen(Identity latest) {
      this.latest = latest;
    }
  }

  private final Identity self;
  private final Duration grace;
  /** Hosts of other sites with this node's id, by site and address. */
  private final Map<String, Seen> seen = new LinkedHashMap<>();

  SiteIdClashWatch(Identity self, Duration grace) {
    if (grace.isNegative() || grace.isZero()) {
      throw new IllegalArgumentException("grace must be positive");
    }
    this.self = self;
    this.grace = grace;
  }

  /**
   * One look at the values of this node's identity record that peers wrote since the last look. A host
   * not heard from for three graces is forgotten (it left, or was renamed).
   */
  Look look(List<byte[]> overwrites, long nowNanos) {
    List<Clash> confirmed = new ArrayList<>();
    Map<String, Identity> now = new LinkedHashMap<>();
    for (byte[] value : overwrites) {
      Identity.parse(value).filter(i -> !i.site().equals(self.site())).ifPresent(i -> now.put(i.site() + " " + i.address(), i));
    }
    seen.values().removeIf(s -> nowNanos - s.last > 3 * grace.toNanos());
    now.forEach((key, identity) -> {
      Seen s = seen.computeIfAbsent(key, k -> new Seen(identity));
      s.latest = identity;
      s.last = nowNanos;
      s.looks++;
      if (s.looks == 2) {
        s.confirmed = nowNanos;
        confirmed.add(new Clash(identity, identity.before(self)));
      }
    });
    Identity leaveFor = null;
    for (Seen s : seen.values()) {
      if (s.looks >= 2 && s.latest.before(self) && s.last - s.confirmed >= grace.toNanos()) {
        leaveFor = s.latest;
        break;
      }
    }
    return new Look(List.copyOf(confirmed), Optional.ofNullable(leaveFor));
  }
}
