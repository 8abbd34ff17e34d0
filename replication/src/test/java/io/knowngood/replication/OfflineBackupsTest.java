package io.knowngood.replication;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class OfflineBackupsTest {
  private static final long S = Duration.ofSeconds(1).toNanos();
  private final OfflineBackups revival = new OfflineBackups("n1", OfflineBackups.REVIVE_AFTER, Duration.ofSeconds(8));
  private final Set<String> offline = new HashSet<>();
  private final List<String> broughtOnline = new ArrayList<>();
  private final OfflineBackups.Backups bundles = new OfflineBackups.Backups() {
    @Override
    public String cache() {
      return "bundles";
    }

    @Override
    public boolean offline(String site) {
      return offline.contains(site);
    }

    @Override
    public void bringOnline(String site) {
      broughtOnline.add(site);
      offline.remove(site);
    }
  };

  private static List<SiteInfo> west(boolean online) {
    return List.of(new SiteInfo("west", online, Optional.of(Instant.EPOCH)));
  }

  @Test
  void offlineWhileTheSiteAnswers_isBroughtOnlineAfterTheWait_notBefore() {
    offline.add("west");
    revival.check(bundles, west(true), 0);
    revival.check(bundles, west(true), 29 * S);
    assertThat(broughtOnline).isEmpty();

    revival.check(bundles, west(true), 30 * S);
    assertThat(broughtOnline).containsExactly("west");
  }

  @Test
  void offlineWhileTheSiteIsAway_isLeftOffline_andTheWaitStartsOverWhenItAnswers() {
    offline.add("west");
    revival.check(bundles, west(true), 0);
    revival.check(bundles, west(false), 20 * S);
    revival.check(bundles, west(false), 100 * S);
    revival.check(bundles, west(true), 110 * S);
    revival.check(bundles, west(true), 139 * S);
    assertThat(broughtOnline).isEmpty();

    revival.check(bundles, west(true), 140 * S);
    assertThat(broughtOnline).containsExactly("west");
  }

  @Test
  void backOnlineByItself_forgetsWhenItWasOffline() {
    offline.add("west");
    revival.check(bundles, west(true), 0);
    offline.remove("west");
    revival.check(bundles, west(true), 10 * S);
    offline.add("west");
    revival.check(bundles, west(true), 35 * S);
    assertThat(broughtOnline).isEmpty();
  }

  @Test
  void whatTheLastCheckSawOffline_isReported_untilSeenOnline_broughtOnline_orStale() {
    offline.add("west");
    revival.check(bundles, west(false), 0);
    assertThat(revival.offlineTo("west", 1 * S)).as("offline while the site is away, too").containsExactly("bundles");
    assertThat(revival.offlineTo("east", 1 * S)).isEmpty();
    assertThat(revival.offlineTo("west", 9 * S)).as("no check for longer than the fresh time: not reported").isEmpty();

    revival.check(bundles, west(true), 10 * S);
    revival.check(bundles, west(true), 20 * S);
    assertThat(revival.offlineTo("west", 20 * S)).containsExactly("bundles");
    revival.check(bundles, west(true), 40 * S);
    assertThat(broughtOnline).containsExactly("west");
    assertThat(revival.offlineTo("west", 40 * S)).as("brought online").isEmpty();

    offline.add("west");
    revival.check(bundles, west(true), 42 * S);
    offline.remove("west");
    revival.check(bundles, west(true), 44 * S);
    assertThat(revival.offlineTo("west", 44 * S)).as("online again by itself").isEmpty();
  }
}
