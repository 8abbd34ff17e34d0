package io.knowngood.replication;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.infinispan.Cache;
import org.infinispan.configuration.cache.CacheMode;
import org.infinispan.conflict.MergePolicy;
import org.infinispan.manager.DefaultCacheManager;
import org.jgroups.JChannel;
import org.jgroups.protocols.DISCARD;
import org.junit.jupiter.api.Test;

class StackSmokeTest {
  @Test
  void smoke() throws Exception {
    int base = 17800;
    List<InetSocketAddress> peers = new ArrayList<>();
    for (int i = 0; i < 3; i++) peers.add(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), base + 2 * i));
    List<DefaultCacheManager> ms = new ArrayList<>();
    List<JChannel> chs = new ArrayList<>();
    long t0 = System.nanoTime();
    for (int i = 0; i < 3; i++) {
      MeshConfig c = new MeshConfig("n" + i, "smoke", peers.get(i), peers, new MeshConfig.Plaintext(), MeshConfig.Timings.forLocalTesting());
      JChannel ch = JGroupsStack.build(c, true);
      chs.add(ch);
      @SuppressWarnings("unchecked")
      DefaultCacheManager m = CacheManagers.create(c, ch, CacheMode.REPL_ASYNC, (org.infinispan.conflict.EntryMergePolicy<String, byte[]>) (Object) MergePolicy.PREFERRED_NON_NULL);
      ms.add(m);
    }
    ms.parallelStream().forEach(m -> { m.start(); m.getCache(CacheManagers.BUNDLES); });
    System.out.println("started in ms " + (System.nanoTime() - t0) / 1e6);
    await().atMost(Duration.ofSeconds(20)).until(() -> chs.stream().allMatch(c -> c.view().size() == 3));
    System.out.println("clustered in ms " + (System.nanoTime() - t0) / 1e6 + " " + chs.get(0).view());
    Cache<String, byte[]> c0 = ms.get(0).getCache(CacheManagers.BUNDLES);
    c0.put("a", new byte[] {1});
    await().atMost(Duration.ofSeconds(5)).until(() -> ms.stream().allMatch(m -> m.<String, byte[]>getCache(CacheManagers.BUNDLES).get("a") != null));
    // split n0 | n1 n2
    DISCARD d0 = chs.get(0).getProtocolStack().findProtocol(DISCARD.class);
    for (int i = 1; i < 3; i++) {
      d0.addIgnoreMember(chs.get(i).address());
      chs.get(i).getProtocolStack().<DISCARD>findProtocol(DISCARD.class).addIgnoreMember(chs.get(0).address());
    }
    long s = System.nanoTime();
    await().atMost(Duration.ofSeconds(20)).until(() -> chs.get(0).view().size() == 1 && chs.get(1).view().size() == 2);
    System.out.println("split noticed ms " + (System.nanoTime() - s) / 1e6);
    c0.put("b", new byte[] {2});
    ms.get(1).<String, byte[]>getCache(CacheManagers.BUNDLES).put("c", new byte[] {3});
    for (JChannel ch : chs) ch.getProtocolStack().<DISCARD>findProtocol(DISCARD.class).resetIgnoredMembers();
    long h = System.nanoTime();
    await().atMost(Duration.ofSeconds(20)).until(() -> chs.stream().allMatch(c -> c.view().size() == 3));
    System.out.println("heal noticed ms " + (System.nanoTime() - h) / 1e6 + " " + chs.get(0).view());
    await().atMost(Duration.ofSeconds(20)).until(() -> ms.stream().allMatch(m -> m.<String, byte[]>getCache(CacheManagers.BUNDLES).size() == 3));
    System.out.println("data converged ms " + (System.nanoTime() - h) / 1e6);
    ms.forEach(DefaultCacheManager::stop);
    assertThat(chs.get(0).isClosed()).isTrue();
  }

  @Test
  void tls() throws Exception {
    io.knowngood.crypto.meshca.MeshCa ca = io.knowngood.crypto.meshca.MeshCa.generate(java.time.Clock.systemUTC());
    io.knowngood.crypto.meshca.MeshCa other = io.knowngood.crypto.meshca.MeshCa.generate(java.time.Clock.systemUTC());
    int base = 17820;
    List<InetSocketAddress> peers = new ArrayList<>();
    for (int i = 0; i < 3; i++) peers.add(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), base + 2 * i));
    List<DefaultCacheManager> ms = new ArrayList<>();
    List<JChannel> chs = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      io.knowngood.crypto.meshca.NodeCredentials cred = i < 2 ? ca.issue("n" + i) : other.issue("n" + i);
      MeshConfig c = new MeshConfig("n" + i, "tls", peers.get(i), peers, new MeshConfig.Tls(cred), MeshConfig.Timings.forLocalTesting());
      JChannel ch = JGroupsStack.build(c, true);
      chs.add(ch);
      @SuppressWarnings("unchecked")
      DefaultCacheManager m = CacheManagers.create(c, ch, CacheMode.REPL_ASYNC, (org.infinispan.conflict.EntryMergePolicy<String, byte[]>) (Object) MergePolicy.PREFERRED_NON_NULL);
      ms.add(m);
    }
    ms.parallelStream().forEach(m -> { m.start(); m.getCache(CacheManagers.BUNDLES); });
    await().atMost(Duration.ofSeconds(20)).until(() -> chs.get(0).view().size() == 2 && chs.get(1).view().size() == 2);
    Thread.sleep(3000);
    System.out.println("TLS views " + chs.get(0).view() + " / " + chs.get(2).view());
    ms.get(0).<String, byte[]>getCache(CacheManagers.BUNDLES).put("a", new byte[] {1});
    await().atMost(Duration.ofSeconds(5)).until(() -> ms.get(1).<String, byte[]>getCache(CacheManagers.BUNDLES).get("a") != null);
    Thread.sleep(1000);
    System.out.println("rogue has " + ms.get(2).<String, byte[]>getCache(CacheManagers.BUNDLES).get("a"));
    ms.forEach(DefaultCacheManager::stop);
  }
}
