package io.knowngood.replication;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import org.infinispan.configuration.cache.CacheMode;
import org.infinispan.factories.ComponentRegistry;
import org.infinispan.xsite.XSiteAdminOperations;
import org.jgroups.Message;
import org.jgroups.conf.ClassConfigurator;
import org.jgroups.protocols.FORK;
import org.jgroups.protocols.relay.RELAY2;
import org.jgroups.protocols.relay.SiteAddress;
import org.jgroups.stack.Protocol;
import org.jgroups.stack.ProtocolStack;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Records crossing sites (Infinispan's asynchronous backup of the records cache), two one-member sites on
 * loopback 127.0.0.233-236: a batch lost on the way is sent again once its answer is overdue, and what is
 * written while the backup is offline crosses when it comes back.
 */
class SitesRecordsTest {
  private final TestSites sites = new TestSites();

  @AfterEach
  void close() {
    sites.close();
  }

  /**
   * Drops, while {@link #dropping}, Infinispan's messages from this member to another site (put above
   * RELAY2; SiteSync's, which carry a FORK header, still go).
   */
  static final class DropToOtherSites extends Protocol {
    private static final short FORK_ID = ClassConfigurator.getProtocolId(FORK.class);
    volatile boolean dropping;
    volatile int dropped;

    @Override
    public Object down(Message msg) {
      if (dropping && msg.dest() instanceof SiteAddress && msg.getHeader(FORK_ID) == null) {
        dropped++;
        return null;
      }
      return down_prot.down(msg);
    }
  }

  /**
   * RELAY2 does not retransmit across sites, and Infinispan sends the next batch of a cache only once the
   * last one is answered: with the default 15 s timeout one lost batch held every record back 15.3-15.5 s
   * (three runs). The records' own timeout bounds it.
   */
  @Test
  void aRecordWhoseBatchIsLost_crossesOnceTheBatchTimesOut_notAfterInfinispansDefault15s() throws Exception {
    sitesWithARecordAcross(233, new InfinispanMesh.Options(CacheMode.REPL_ASYNC, false, true, true));
    InfinispanMesh east0 = sites.meshes.get(0);
    InfinispanMesh west0 = sites.meshes.get(1);

    DropToOtherSites drop = new DropToOtherSites();
    east0.channel().getProtocolStack().insertProtocol(drop, ProtocolStack.Position.ABOVE, RELAY2.class);
    drop.dropping = true;
    long put = System.nanoTime();
    east0.records().putOwn("second", new byte[] {2});
    await("the batch is sent and dropped").atMost(Duration.ofSeconds(5)).until(() -> drop.dropped > 0);
    drop.dropping = false;

    await("the record crosses when its batch is sent again").atMost(CacheManagers.RECORDS_BACKUP_TIMEOUT.plusSeconds(4))
        .pollInterval(Duration.ofMillis(20)).until(() -> west0.records().of("second").containsKey("east-0"));
    assertThat(Duration.ofNanos(System.nanoTime() - put)).isGreaterThanOrEqualTo(CacheManagers.RECORDS_BACKUP_TIMEOUT);
  }

  /**
   * Infinispan drops what is written while a backup is offline (taken offline after failures, or for good
   * at start-up, ISPN000606) and bringing it online sends none of it. A record changed in the last 30 s
   * is written again every round, but the revival comes 30 s after the backup went offline: a record
   * written early in that window never crossed (50 s watched after the revival). The revival now pushes
   * the records whole. Here the rewrites are off, so only the push can carry it.
   */
  @Test
  void aRecordWrittenWhileTheBackupWasOffline_crossesWhenTheBackupIsRevived() throws Exception {
    InfinispanMesh.Options options = new InfinispanMesh.Options(CacheMode.REPL_ASYNC, false, true, true)
        .withReviveBackupsAfter(Duration.ofSeconds(3)).withRecordsRecent(Duration.ZERO);
    sitesWithARecordAcross(235, options);
    InfinispanMesh east0 = sites.meshes.get(0);
    InfinispanMesh west0 = sites.meshes.get(1);

    XSiteAdminOperations admin = ComponentRegistry.of(east0.recordsCache()).getComponent(XSiteAdminOperations.class);
    assertThat(admin.takeSiteOffline("west")).isEqualTo(XSiteAdminOperations.SUCCESS);
    // Infinispan's automatic cross-site state transfer may bring the site online again on its own just after
    // (west's state request, sent when the bridge formed and retried with back-off, arriving late: seen 247 ms
    // after, in 1 of 5 runs): taken offline again until east-0 reports it so. (The bundles' backup may be
    // reported offline too: Infinispan takes it offline at start-up when the other site's cache was late.)
    await("east-0 reports its records' backup to west offline").atMost(TestSites.WAIT).until(() -> {
      if (XSiteAdminOperations.ONLINE.equals(admin.siteStatus("west"))) {
        admin.takeSiteOffline("west");
      }
      return east0.sites().get(0).offlineBackups().contains("records");
    });
    east0.records().putOwn("second", new byte[] {2});

    await("the backup comes back").atMost(TestSites.WAIT).until(() -> XSiteAdminOperations.ONLINE.equals(admin.siteStatus("west")));
    await("the record written while it was offline crosses").atMost(TestSites.WAIT)
        .until(() -> west0.records().of("second").containsKey("east-0"));
    await("and is no longer reported offline").atMost(TestSites.WAIT).until(() -> !east0.sites().get(0).offlineBackups().contains("records"));
  }

  /** east-0 on 127.0.0.{@code eastHost} and west-0 on the next address, online to each other, and one record of east-0's crossed. */
  private void sitesWithARecordAcross(int eastHost, InfinispanMesh.Options options) throws Exception {
    int westHost = eastHost + 1;
    InfinispanMesh east0 = sites.start("east-0", "east", "west", eastHost, List.of(eastHost), westHost, true,
        new InMemoryLocalBundles(), options);
    InfinispanMesh west0 = sites.start("west-0", "west", "east", westHost, List.of(westHost), eastHost, true,
        new InMemoryLocalBundles(), options);
    await("meshes ready").atMost(TestSites.WAIT).until(() -> sites.meshes.stream().allMatch(InfinispanMesh::isReady));
    await("sites online").atMost(TestSites.WAIT).until(() -> east0.sites().get(0).online() && west0.sites().get(0).online());
    east0.records().putOwn("first", new byte[] {1});
    await("a record crosses").atMost(TestSites.WAIT).until(() -> west0.records().of("first").containsKey("east-0"));
  }
}
