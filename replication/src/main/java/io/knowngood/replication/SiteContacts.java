package io.knowngood.replication;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * When each other site was last heard from: by this node's {@link SiteSync} when it is its site's master,
 * or as the site master reported it. Outlives join attempts; thread-safe.
 */
final class SiteContacts {
  /** A site not heard from for this long is offline: three digest rounds, jitter included. */
  static final Duration ONLINE_WITHIN = Duration.ofSeconds(8);

  private final List<String> others;
  private final Clock clock;
  private final Map<String, Instant> last = new LinkedHashMap<>();

  SiteContacts(List<String> others, Clock clock) {
    this.others = List.copyOf(others);
    this.clock = clock;
  }

  List<String> others() {
    return others;
  }

  /** Heard from {@code site} at {@code at} (now, or what the site master reports); the later contact is kept. */
  synchronized void heard(String site, Instant at) {
    if (!others.contains(site) || at == null) {
      return;
    }
    Instant before = last.get(site);
    if (before == null || at.isAfter(before)) {
      last.put(site, at);
    }
  }

  void heardNow(String site) {
    heard(site, clock.instant());
  }

  synchronized Optional<Instant> lastContact(String site) {
    return Optional.ofNullable(last.get(site));
  }

  synchronized List<SiteInfo> snapshot() {
    Instant now = clock.instant();
    List<SiteInfo> out = new ArrayList<>();
    for (String s : others) {
      Instant at = last.get(s);
      boolean online = at != null && !at.plus(ONLINE_WITHIN).isBefore(now);
      out.add(new SiteInfo(s, online, Optional.ofNullable(at)));
    }
    return out;
  }
}
