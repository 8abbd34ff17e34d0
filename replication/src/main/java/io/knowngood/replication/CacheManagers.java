package io.knowngood.replication;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import org.infinispan.Cache;
import org.infinispan.commons.dataconversion.MediaType;
import org.infinispan.configuration.cache.BackupConfiguration;
import org.infinispan.configuration.cache.BackupFailurePolicy;
import org.infinispan.configuration.cache.CacheMode;
import org.infinispan.configuration.cache.SitesConfigurationBuilder;
import org.infinispan.configuration.cache.XSiteStateTransferMode;
import org.infinispan.configuration.cache.ConfigurationBuilder;
import org.infinispan.configuration.global.GlobalConfigurationBuilder;
import org.infinispan.configuration.global.ShutdownHookBehavior;
import org.infinispan.configuration.parsing.ConfigurationBuilderHolder;
import org.infinispan.conflict.EntryMergePolicy;
import org.infinispan.conflict.MergePolicy;
import org.infinispan.manager.DefaultCacheManager;
import org.infinispan.partitionhandling.PartitionHandling;
import org.infinispan.remoting.transport.jgroups.JGroupsTransport;
import org.infinispan.xsite.spi.XSiteEntryMergePolicy;
import org.infinispan.xsite.spi.XSiteMergePolicy;
import org.jgroups.JChannel;

/**
 * Builds the embedded cache manager around our own channel. It goes through a
 * {@link ConfigurationBuilderHolder}: {@code new DefaultCacheManager(globalConfig)} with a
 * {@code JGroupsTransport(channel)} silently drops the channel and starts the default UDP stack.
 */
final class CacheManagers {
  static final String BUNDLES = "bundles";
  static final String RECORDS = "records";

  /**
   * Infinispan's {@code distributedSyncTimeout} (default 240 s). Its coordinator handles views one at a
   * time, each after a heartbeat to every cache member bounded by a tenth of this; while one waits, later
   * views queue, joins wait, and views that are older than the transport's by the time their turn comes
   * are skipped, a merge among them (docs/replication.md, "Start and rejoin"). 30 s: a heartbeat waits
   * 3 s, about one failure-detection time, instead of 24 s. It also bounds the cluster status a new
   * coordinator collects (3 s per try, 10 tries) and a member's wait for a view it was told about.
   */
  static final Duration TOPOLOGY_TIMEOUT = Duration.ofSeconds(30);

  private CacheManagers() {}

  /**
   * A cache's {@code remoteTimeout}: the publish timeout for synchronous modes (a put waits for its
   * copies), an eighth of the failure timeout (250 ms on a LAN) for the asynchronous ones the node runs.
   *
   * <p>In an asynchronous cache it bounds something else: a member that receives a write stamped with a
   * cache topology it has not installed yet waits for that topology on the JGroups thread delivering
   * the sender's messages, in order (Infinispan's {@code BaseBlockingRunnable.runSync} for
   * {@code DeliverOrder.PER_SENDER}), up to this long, and each further such write from that sender
   * waits again. Everything else from the sender queues behind them: views, merge answers, heartbeats,
   * the answer to "are you dead". After a kill the new coordinator's first writes can arrive ahead of
   * the view their topology needs: in the kill -9 soak (seed 7) a member installed the new
   * coordinator's view 10 s late, right after the write timed out (ISPN000638), and with 1 s here three
   * writes in a row still held a sender's messages 3 s, long enough for the sender to verify that
   * member dead (a live member excluded with the killed one). A topology normally follows its write
   * within milliseconds; an eighth of the failure timeout keeps even several such waits below what
   * failure detection reads as a dead member. A write that gave up is logged (ISPN000071) and repaired
   * like any lost one (anti-entropy for bundles, each writer re-asserting its records).
   */
  static Duration remoteTimeout(MeshConfig config, CacheMode mode) {
    return mode.isSynchronous() ? config.timings().publishTimeout() : config.timings().failureTimeout().dividedBy(8);
  }

  /**
   * An unstarted manager without the bundles cache: {@link DefaultCacheManager#start()} connects the
   * channel and starts Infinispan's internal caches, then {@link #startBundles} starts ours (so the
   * two steps can be timed and held apart). A null merge policy switches Infinispan's conflict
   * resolution off (tests of anti-entropy alone).
   */
  static DefaultCacheManager create(MeshConfig config, JChannel channel) {
    ConfigurationBuilderHolder holder = new ConfigurationBuilderHolder(CacheManagers.class.getClassLoader());
    GlobalConfigurationBuilder global = holder.getGlobalConfigurationBuilder();
    global.transport().clusterName(config.clusterName()).nodeName(config.nodeId()).transport(new JGroupsTransport(channel))
        .distributedSyncTimeout(TOPOLOGY_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    global.jmx().disable();
    global.metrics().gauges(false).histograms(false);
    global.cacheContainer().statistics(false);
    global.shutdown().hookBehavior(ShutdownHookBehavior.DONT_REGISTER);

    // the bundles cache is defined only after the start: a cache defined before it starts with the manager
    return new DefaultCacheManager(holder, false);
  }

  /**
   * Defines and starts the bundles cache on a started manager: it joins the cache's topology (see
   * docs/replication.md, "Rejoin").
   */
  static Cache<String, byte[]> startBundles(DefaultCacheManager manager, MeshConfig config, CacheMode mode,
                                            EntryMergePolicy<String, byte[]> mergePolicy,
                                            XSiteEntryMergePolicy<String, byte[]> siteMergePolicy) {
    if (manager.getCacheConfiguration(BUNDLES) == null) {
      ConfigurationBuilder b = bundles(config, mode, mergePolicy);
      config.site().ifPresent(site -> backups(b, site, BUNDLES_BACKUP_TIMEOUT).mergePolicy(siteMergePolicy));
      manager.defineConfiguration(BUNDLES, b.build());
    }
    return manager.getCache(BUNDLES);
  }

  /**
   * Defines and starts the records cache ({@link ReplicatedRecords}) beside the bundles cache: the same
   * mode, partition handling and start, but Infinispan's own merge policy (a non-null copy wins): each key
   * has one writer, which re-asserts its own records after a merge whatever the merge chose.
   */
  static Cache<String, byte[]> startRecords(DefaultCacheManager manager, MeshConfig config, CacheMode mode) {
    if (manager.getCacheConfiguration(RECORDS) == null) {
      ConfigurationBuilder records = new ConfigurationBuilder();
      records.clustering().cacheMode(mode)
          .remoteTimeout(remoteTimeout(config, mode).toMillis())
          .partitionHandling().whenSplit(PartitionHandling.ALLOW_READ_WRITES).mergePolicy(MergePolicy.PREFERRED_NON_NULL);
      records.clustering().stateTransfer().awaitInitialTransfer(false);
      records.statistics().enabled(false);
      records.encoding().mediaType(MediaType.APPLICATION_OBJECT_TYPE);
      // one writer per key here too, so between sites any non-null copy will do
      config.site().ifPresent(site -> backups(records, site, RECORDS_BACKUP_TIMEOUT).mergePolicy(XSiteMergePolicy.PREFER_NON_NULL));
      manager.defineConfiguration(RECORDS, records.build());
    }
    return manager.getCache(RECORDS);
  }

  /** After this many failed backups to a site, at least {@link #TAKE_OFFLINE_AFTER} apart, the site is taken offline. */
  static final int TAKE_OFFLINE_FAILURES = 3;
  static final long TAKE_OFFLINE_AFTER_MS = 10_000;

  /** Infinispan's default: a batch of archives may be megabytes, and SiteSync carries a publish across anyway. */
  static final Duration BUNDLES_BACKUP_TIMEOUT = Duration.ofSeconds(15);

  /**
   * How long a batch of records sent to another site waits for its answer before it is sent again.
   * Infinispan sends one batch per cache at a time and the next only once every answer is in, and RELAY2
   * drops what is sent while a bridge forms or its site master changes, so one lost batch held every
   * record back until this timeout: 15.3-15.5 s with the default (a batch dropped above RELAY2,
   * SitesRecordsTest), for a revocation list or a rollout's state alike. A batch is at most 100 records of
   * at most 16 KiB; one that times out on a slower link is sent again, and after three failures 10 s apart
   * the site is taken offline and brought up to date by state transfer once it answers again.
   */
  static final Duration RECORDS_BACKUP_TIMEOUT = Duration.ofSeconds(4);

  /**
   * An asynchronous backup to every other site: a write never waits for the WAN nor fails because a site
   * is away (WARN); a site that keeps failing is taken offline (only both conditions together, checked on
   * writes), and state transfer AUTO brings a site that comes back up to date, both ways. No passivation or
   * eviction on these caches (async cross-site loses writes with them in 16.1).
   */
  static SitesConfigurationBuilder backups(ConfigurationBuilder b, MeshConfig.Site site, Duration timeout) {
    for (String other : site.others()) {
      b.sites().addBackup().site(other).strategy(BackupConfiguration.BackupStrategy.ASYNC).replicationTimeout(timeout.toMillis())
          .backupFailurePolicy(BackupFailurePolicy.WARN)
          .takeOffline().afterFailures(TAKE_OFFLINE_FAILURES).minTimeToWait(TAKE_OFFLINE_AFTER_MS).backup()
          .stateTransfer().mode(XSiteStateTransferMode.AUTO);
    }
    return b.sites();
  }

  private static ConfigurationBuilder bundles(MeshConfig config, CacheMode mode,
                                              EntryMergePolicy<String, byte[]> mergePolicy) {
    ConfigurationBuilder bundles = new ConfigurationBuilder();
    bundles.clustering().cacheMode(mode)
        .remoteTimeout(remoteTimeout(config, mode).toMillis())
        .partitionHandling().whenSplit(PartitionHandling.ALLOW_READ_WRITES).mergePolicy(mergePolicy);
    // joining returns at once; the node serves from its own store while state arrives
    bundles.clustering().stateTransfer().awaitInitialTransfer(false);
    bundles.statistics().enabled(false);
    // Values stay the arrays they were put as (no storage conversion copy): a held bundle is in
    // memory once, shared by this cache and the node's store (measured: the unset default encoding
    // kept a second copy of every archive).
    bundles.encoding().mediaType(MediaType.APPLICATION_OBJECT_TYPE);
    return bundles;
  }
}
