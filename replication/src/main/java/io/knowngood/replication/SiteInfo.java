package io.knowngood.replication;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Another site as this node sees it: online while its site master was heard from within {@link
 * SiteContacts#ONLINE_WITHIN} (directly by this node if it is its site's master, else as its own site
 * master last reported). Infinispan's sites view is not used: it may say a site is up while nothing flows.
 *
 * @param offlineBackups this node's caches ({@code bundles}, {@code records}) whose backup to that site
 *     Infinispan holds offline, as seen at the last cross-site round: what is written to them meanwhile
 *     does not go there until the backup is brought online ({@link OfflineBackups}); sorted
 */
public record SiteInfo(String name, boolean online, Optional<Instant> lastContact, List<String> offlineBackups) {
  /** The caches backed up to every other site, as {@code offlineBackups} names them. */
  public static final List<String> BACKED_UP_CACHES = List.of(CacheManagers.BUNDLES, CacheManagers.RECORDS);

  public SiteInfo {
    offlineBackups = offlineBackups == null ? List.of() : List.copyOf(offlineBackups);
  }

  /** No backup seen offline. */
  public SiteInfo(String name, boolean online, Optional<Instant> lastContact) {
    this(name, online, lastContact, List.of());
  }

  SiteInfo withOfflineBackups(List<String> caches) {
    return new SiteInfo(name, online, lastContact, caches);
  }
}
