package io.knowngood.replication;

import org.infinispan.Cache;
import org.infinispan.commons.dataconversion.MediaType;
import org.infinispan.configuration.cache.CacheMode;
import org.infinispan.configuration.cache.ConfigurationBuilder;
import org.infinispan.configuration.global.GlobalConfigurationBuilder;
import org.infinispan.configuration.global.ShutdownHookBehavior;
import org.infinispan.configuration.parsing.ConfigurationBuilderHolder;
import org.infinispan.conflict.EntryMergePolicy;
import org.infinispan.conflict.MergePolicy;
import org.infinispan.manager.DefaultCacheManager;
import org.infinispan.partitionhandling.PartitionHandling;
import org.infinispan.remoting.transport.jgroups.JGroupsTransport;
import org.jgroups.JChannel;

/**
 * Builds the embedded cache manager around our own channel. It goes through a
 * {@link ConfigurationBuilderHolder}: {@code new DefaultCacheManager(globalConfig)} with a
 * {@code JGroupsTransport(channel)} silently drops the channel and starts the default UDP stack.
 */
final class CacheManagers {
  static final String BUNDLES = "bundles";
  static final String RECORDS = "records";

  private CacheManagers() {}

  /**
   * An unstarted manager without the bundles cache: {@link DefaultCacheManager#start()} connects the
   * channel and starts Infinispan's internal caches, then {@link #startBundles} starts ours (so the
   * two steps can be timed and held apart). A null merge policy switches Infinispan's conflict
   * resolution off (tests of anti-entropy alone).
   */
  static DefaultCacheManager create(MeshConfig config, JChannel channel) {
    ConfigurationBuilderHolder holder = new ConfigurationBuilderHolder(CacheManagers.class.getClassLoader());
    GlobalConfigurationBuilder global = holder.getGlobalConfigurationBuilder();
    global.transport().clusterName(config.clusterName()).nodeName(config.nodeId()).transport(new JGroupsTransport(channel));
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
                                            EntryMergePolicy<String, byte[]> mergePolicy) {
    if (manager.getCacheConfiguration(BUNDLES) == null) {
      manager.defineConfiguration(BUNDLES, bundles(config, mode, mergePolicy).build());
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
          .remoteTimeout(config.timings().publishTimeout().toMillis())
          .partitionHandling().whenSplit(PartitionHandling.ALLOW_READ_WRITES).mergePolicy(MergePolicy.PREFERRED_NON_NULL);
      records.clustering().stateTransfer().awaitInitialTransfer(false);
      records.statistics().enabled(false);
      records.encoding().mediaType(MediaType.APPLICATION_OBJECT_TYPE);
      manager.defineConfiguration(RECORDS, records.build());
    }
    return manager.getCache(RECORDS);
  }

  private static ConfigurationBuilder bundles(MeshConfig config, CacheMode mode,
                                              EntryMergePolicy<String, byte[]> mergePolicy) {
    ConfigurationBuilder bundles = new ConfigurationBuilder();
    bundles.clustering().cacheMode(mode)
        .remoteTimeout(config.timings().publishTimeout().toMillis())
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
