package io.knowngood.replication;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Brings a cache's backups to another site back online when Infinispan took them offline but the site
 * answers. Infinispan takes a backup location offline after failed writes, and for good when the other
 * site lacks the cache (ISPN000606: a site whose cache had not started yet when the first write came);
 * only a sites-up event of the bridge brings it back. Here a backup found offline for {@link
 * #REVIVE_AFTER} (production; tests give less) while the site is online ({@link SiteContacts}) is
 * brought online again. Long enough that a real outage (no contact) never flaps it, and that an
 * operator's take-offline holds a while. Infinispan drops the writes made meanwhile: cross-site
 * anti-entropy repairs the bundles, and the records are pushed whole when they come back
 * (InfinispanMesh#reviveBackups). One thread (SiteSync's) checks; what it last saw offline is read by
 * any ({@link #offlineTo}), for as long as it is fresh: a node whose cross-site rounds stopped (it left
 * the mesh, or is joining again) reports nothing rather than an old state.
 */
final class OfflineBackups {
  private static final Logger log = LoggerFactory.getLogger(OfflineBackups.class);
  static final Duration REVIVE_AFTER = Duration.ofSeconds(30);

  /** One cache's backup locations. */
  interface Backups {
    String cache();

    boolean offline(String site);

    void bringOnline(String site);
  }

  private final String nodeId;
  private final Duration reviveAfter;
  /** (cache, site) -> when first seen offline while the site was online (nanos). */
  private final Map<Backup, Long> offlineSince = new HashMap<>();
  /** (cache, site) -> when last seen offline (nanos); removed when seen online. */
  private final Map<Backup, Long> seenOffline = new ConcurrentHashMap<>();
  private final long freshForNanos;

  private record Backup(String cache, String site) {}

  /** @param freshFor how long what a check saw stays reported (a few cross-site rounds) */
  OfflineBackups(String nodeId, Duration reviveAfter, Duration freshFor) {
    this.nodeId = nodeId;
    this.reviveAfter = reviveAfter;
    this.freshForNanos = freshFor.toNanos();
  }

  /** Looks at each site's backup of {@code b}; brings online what has been offline too long while the site answers. */
  void check(Backups b, List<SiteInfo> sites, long nowNanos) {
    for (SiteInfo s : sites) {
      Backup backup = new Backup(b.cache(), s.name());
      boolean offline = b.offline(s.name());
      if (offline) {
        seenOffline.put(backup, nowNanos);
      } else {
        seenOffline.remove(backup);
      }
      if (!s.online() || !offline) {
        offlineSince.remove(backup);
        continue;
      }
      Long since = offlineSince.putIfAbsent(backup, nowNanos);
      if (since != null && nowNanos - since >= reviveAfter.toNanos()) {
        log.info("{}: backups of {} to site {} were offline for {} s while the site answers: bringing them online",
            nodeId, b.cache(), s.name(), Duration.ofNanos(nowNanos - since).toSeconds());
        b.bringOnline(s.name());
        offlineSince.remove(backup);
        seenOffline.remove(backup);
      }
    }
  }

  /** The caches whose backup to {@code site} the last check saw offline, if that was within the fresh time; sorted. */
  List<String> offlineTo(String site, long nowNanos) {
    return seenOffline.entrySet().stream()
        .filter(e -> e.getKey().site().equals(site) && nowNanos - e.getValue() <= freshForNanos)
        .map(e -> e.getKey().cache()).sorted().toList();
  }
}
