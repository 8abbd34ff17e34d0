package io.knowngood.replication;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import org.jgroups.JChannel;
import org.jgroups.protocols.DISCARD;
import org.jgroups.protocols.FD_ALL3;
import org.jgroups.protocols.FD_SOCK2;
import org.jgroups.protocols.FORK;
import org.jgroups.protocols.FRAG4;
import org.jgroups.protocols.MERGE3;
import org.jgroups.protocols.MFC;
import org.jgroups.protocols.TCP;
import org.jgroups.protocols.TCPPING;
import org.jgroups.protocols.UFC;
import org.jgroups.protocols.UNICAST3;
import org.jgroups.protocols.VERIFY_SUSPECT2;
import org.jgroups.protocols.pbcast.GMS;
import org.jgroups.protocols.pbcast.NAKACK2;
import org.jgroups.protocols.pbcast.STABLE;
import org.jgroups.protocols.relay.RELAY2;
import org.jgroups.protocols.relay.config.RelayConfig;
import org.jgroups.stack.Protocol;
import org.jgroups.util.DefaultSocketFactory;
import org.jgroups.util.SocketFactory;

/**
 * The JGroups stack, built in code so that nothing depends on system properties, DNS or multicast:
 * TCP on the configured IP literal (outgoing connections bound to it too), TCPPING over the static
 * peer list and the remembered peers ({@link IntroducingTcpPing}, {@link RememberedPeers}), FD_SOCK2 on port + 1, FD_ALL3 / VERIFY_SUSPECT2 / MERGE3 with the configured timers
 * (FD_ALL3 as {@link ReconnectingFdAll3}, MERGE3 as {@link ResumingMerge3}), and
 * FORK on top so anti-entropy shares the (TLS) transport. Nothing else listens: no diagnostics, no
 * SSL_KEY_EXCHANGE, no multicast. A site ({@link MeshConfig#site()}) adds RELAY2 below FORK, whose bridge
 * is the same stack (TLS included) on the bridge address with the other sites' bridges as peers.
 */
final class JGroupsStack {
  static final int FD_SOCK_OFFSET = 1;
  static final String FORK_STACK = "knowngood";
  /** Discovery rounds within one join timeout (a lost round costs a quarter of it, not all of it). */
  static final int DISCOVERY_RUNS = 4;
  /**
   * Messages queued per connection (TCP.max_send_queue) before it drops: each is one bundle of at most
   * 64 KB (the bundler's max_bundle_size; FRAG4 cuts larger messages to 60,000 bytes), so a member that
   * stops reading holds at most about 4 MiB here; a 1 MiB push to a member is 18 of them.
   */
  static final int MAX_SEND_QUEUE = 64;

  private JGroupsStack() {}

  /**
   * What the mesh's TLS answers to: where failed handshakes are told, and the revocation list in force
   * (one of each per mesh, shared by every channel it builds, its bridge's included).
   */
  record Trust(TlsRefusals refusals, Revocations revocations) {
    static Trust of(TlsRefusals refusals) {
      return new Trust(refusals, Revocations.none("", refusals));
    }
  }

  static JChannel build(MeshConfig config, boolean withDiscard) throws Exception {
    return build(config, withDiscard, Trust.of(new TlsRefusals(config.nodeId(), java.time.Clock.systemUTC())));
  }

  /** The mesh's channel; its TLS handshakes that fail are told to {@code trust}'s refusals. */
  static JChannel build(MeshConfig config, boolean withDiscard, Trust trust) throws Exception {
    List<Protocol> stack = protocols(config, withDiscard, config.peersFile().orElse(null), trust);
    config.site().ifPresent(site -> stack.add(relay(config, site, trust)));
    // the fork channel connects just after the channel (InfinispanMesh), so FORK may warn about the first
    // anti-entropy messages it drops; silence logger org.jgroups.protocols.FORK below WARN if that is noise.
    // Above RELAY2, so a fork channel's message to another site's SiteMaster is relayed (SiteSync).
    stack.add(new FORK());

    JChannel channel = new JChannel(stack);
    channel.name(config.nodeId());
    return channel;
  }

  /** The name of the bridge cluster that site masters of every site join. */
  static String bridgeCluster(MeshConfig config) {
    return config.clusterName() + "-sites";
  }

  /**
   * RELAY2 for a site: every site of the estate named, this node's own
   * site with its bridge when it has one. Without a bridge address the node is tagged as unable to become
   * site master, so the first member of the view that has one relays for the site. Multicasts stay in
   * the site (Infinispan sends its cross-site traffic unicast to a SiteMaster; anti-entropy's haves and
   * digests are per site).
   */
  private static RELAY2 relay(MeshConfig config, MeshConfig.Site site, Trust trust) {
    RELAY2 relay = new RELAY2();
    relay.site(site.name());
    relay.enableAddressTagging(true);
    relay.canBecomeSiteMaster(site.bridge().isPresent());
    relay.relayMulticasts(false);
    relay.setMaxSiteMasters(1);
    relay.asyncRelayCreation(true);
    for (String name : site.all()) {
      RelayConfig.SiteConfig sc = new RelayConfig.SiteConfig(name);
      if (name.equals(site.name()) && site.bridge().isPresent()) {
        sc.addBridge(new FreshBridge(bridgeCluster(config), bridgeConfig(config, site), trust));
      }
      relay.addSite(name, sc);
    }
    return relay;
  }

  /** The bridge stack's settings: the mesh's security and timers, on the bridge address, the other sites' bridges as peers. */
  static MeshConfig bridgeConfig(MeshConfig config, MeshConfig.Site site) {
    return new MeshConfig(config.nodeId(), bridgeCluster(config), site.bridge().orElseThrow(), site.peers(),
        config.security(), config.timings());
  }

  /**
   * A bridge that builds its protocols anew for each channel: RELAY2 makes a bridge channel every time
   * this node becomes site master, and a protocol instance cannot serve two channels (JGroups'
   * ProgrammaticBridgeConfig reuses one array).
   */
  static final class FreshBridge extends RelayConfig.BridgeConfig {
    private final MeshConfig bridge;
    private final Trust trust;

    FreshBridge(String cluster, MeshConfig bridge, Trust trust) {
      super(cluster);
      this.bridge = bridge;
      this.trust = trust;
    }

    @Override
    public JChannel createChannel() throws Exception {
      return new JChannel(protocols(bridge, false, null, trust));
    }
  }

  /**
   * The mesh's TLS cipher suites, most preferred first. ChaCha20-Poly1305 leads: C1 does not use the
   * CPU's AES instructions (only C2's intrinsics do), so encrypting 64 KiB costs about 2 ms with AES-GCM
   * and 0.4 ms with ChaCha20-Poly1305 at C1 on this kind of machine (docs/benchmarks.md, Propagation),
   * and bin/kgnode's raised compile thresholds keep a node that sees few publishes at C1 or below on
   * this path. With AES first, a 5-node publish spent the same CPU within the spread (2026-12-05,
   * "Propagation"). AES-GCM stays enabled after it, so a peer offering only AES still connects.
   */
  static final String[] CIPHER_SUITES = {"TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384"};

  /**
   * The mesh's TLS sockets over {@code context}: TLS 1.3 only, {@link #CIPHER_SUITES}, a client
   * certificate required. JGroups' {@code TLS.createSocketFactory} configures only the server sockets,
   * without their own suite order, so the client's JDK default order (AES first) decided; here both
   * ends get the parameters and the acceptor's order wins.
   */
  static SocketFactory meshSockets(SSLContext context) {
    SSLParameters server = new SSLParameters(CIPHER_SUITES.clone(), new String[] {"TLSv1.3"});
    server.setNeedClientAuth(true);
    server.setUseCipherSuitesOrder(true);
    SSLParameters client = new SSLParameters(CIPHER_SUITES.clone(), new String[] {"TLSv1.3"});
    DefaultSocketFactory sockets = new DefaultSocketFactory(context);
    sockets.setServerSocketConfigurator(s -> ((SSLServerSocket) s).setSSLParameters(server));
    sockets.setSocketConfigurator(s -> ((SSLSocket) s).setSSLParameters(client));
    return sockets;
  }

  /** TCP (with the config's security) up to FRAG4: the mesh stack without RELAY2 and FORK, or a bridge stack. */
  static List<Protocol> protocols(MeshConfig config, boolean withDiscard, java.nio.file.Path peersFile) throws Exception {
    return protocols(config, withDiscard, peersFile, Trust.of(new TlsRefusals(config.nodeId(), java.time.Clock.systemUTC())));
  }

  static List<Protocol> protocols(MeshConfig config, boolean withDiscard, java.nio.file.Path peersFile, Trust trust)
      throws Exception {
    MeshConfig.Timings t = config.timings();
    InetAddress bindAddr = config.bind().getAddress();

    TCP tcp = new DirectionalTcp(System::nanoTime);
    tcp.setBindAddress(bindAddr);
    tcp.setBindPort(config.bind().getPort());
    tcp.setPortRange(0);
    tcp.setClientBindAddr(bindAddr);
    tcp.setSockConnTimeout((int) t.connectTimeout().toMillis());
    tcp.tcpNodelay(true);
    // Not 5.5.2's default per-destination bundler: its single sender thread spins on a count of queued
    // messages that a view change can leave above zero (messages to a member that left are dropped, not
    // uncounted: JGRP-3008, fixed in 5.5.3, which Infinispan 16.1.4 was not built with), a whole core per
    // node from then on. The transfer-queue bundler's one sender thread blocks on its queue (IdleBundlerTest).
    tcp.setBundlerType("transfer-queue");
    // A member that stops acknowledging (its packets dropped) while it is still in this node's view: with
    // blocking writes the bundler, which sends to every member, waited in the write once the kernel's send
    // buffer to it was full, and nothing reached anyone (BugRegressionTest.aMemberCutOffButStillInView_...:
    // a node cut from its coordinator, which it keeps in its view, sent nothing for 27 s; its other peer
    // excluded it for silence). Each connection now has its own sender thread and queue; a full queue drops,
    // and the reliable protocols retransmit.
    tcp.nonBlockingSends(true);
    tcp.maxSendQueue(MAX_SEND_QUEUE);
    tcp.setValue("thread_naming_pattern", "pl");
    tcp.setValue("use_vthreads", false);
    tcp.logAcceptError(false);
    if (config.security() instanceof MeshConfig.Tls tls) {
      // tls.enabled stays false: enabling it would make TCP build its own context from key store files
      // the acceptor handshakes first, within the bound JGroups put on reading a peer address (1 s),
      // which DirectionalTcp no longer reads; a connection this node opens is closed if it has not
      // handshaken within the connect timeout plus that
      TlsRefusals refusals = trust.refusals();
      tcp.setSocketFactory(new HandshakeFirstSockets(
          meshSockets(tls.credentials().sslContext(pkix -> new WatchedTrustManager(pkix, refusals, trust.revocations()))),
          Duration.ofMillis(tcp.getPeerAddrReadTimeout()), t.connectTimeout(), refusals, trust.revocations()));
    }

    List<Protocol> stack = new ArrayList<>();
    stack.add(tcp);
    if (withDiscard) {
      stack.add(new DISCARD());
    }
    RememberedPeers remembered = peersFile == null ? null : new RememberedPeers(peersFile, config.bind());
    LinkedHashSet<InetSocketAddress> hosts = new LinkedHashSet<>(config.expectedMembers());
    if (remembered != null) {
      hosts.addAll(remembered.addresses());
    }
    TCPPING ping = new IntroducingTcpPing(remembered, System::nanoTime);
    ping.setInitialHosts(List.copyOf(hosts));
    ping.setPortRange(0);
    // A joiner's first discovery requests were lost when its connection raced one a member opened to
    // its address at the same moment (JGroups' TCP closed one of the two unread; DirectionalTcp keeps
    // both now). Discovery is not retransmitted, so more runs within the join timeout stay as the cheap
    // guard against any other lost round: a lost round costs a quarter of the join timeout, not all of it.
    ping.setValue("num_discovery_runs", DISCOVERY_RUNS);
    stack.add(ping);

    MERGE3 merge = new ResumingMerge3();
    merge.setMinInterval(t.mergeMinInterval().toMillis());
    merge.setMaxInterval(t.mergeMaxInterval().toMillis());
    merge.setCheckInterval(t.mergeCheckInterval().toMillis());
    stack.add(merge);

    FD_SOCK2 fdSock = new FD_SOCK2();
    fdSock.setBindAddress(bindAddr);
    fdSock.setOffset(FD_SOCK_OFFSET);
    fdSock.setPortRange(0);
    stack.add(fdSock);

    FD_ALL3 fdAll = new ReconnectingFdAll3();
    fdAll.setTimeout(t.failureTimeout().toMillis());
    fdAll.setInterval(t.heartbeatInterval().toMillis());
    stack.add(fdAll);

    stack.add(new VERIFY_SUSPECT2().setTimeout(t.verifySuspectTimeout().toMillis()));

    NAKACK2 nakack = new NAKACK2();
    nakack.setValue("use_mcast_xmit", false);
    nakack.setValue("xmit_interval", 200L);
    nakack.setValue("log_discard_msgs", false); // JGRP000011 on every merge: expected here

    stack.add(nakack);

    UNICAST3 unicast = new UNICAST3();
    unicast.setValue("xmit_interval", 200L);
    unicast.setValue("conn_close_timeout", 5000L);
    stack.add(unicast);

    STABLE stable = new STABLE();
    stable.setValue("desired_avg_gossip", 5000L);
    stable.setValue("max_bytes", 1_000_000L);
    stack.add(stable);

    GMS gms = new OrderedGms();
    gms.setJoinTimeout(t.joinTimeout().toMillis());
    // A merge asks every participant for its view and digest and waits merge_timeout (5 s by default)
    // for the answers; a participant that is dead but still in a subgroup's view (a killed member the
    // other side had not excluded yet) never answers, so the merge waited the full 5 s (kill -9 soak, GMS
    // at DEBUG: "merge ... took 5003 ms", then the restarted node's JOIN). Every JOIN that arrives during a
    // merge is dropped (the view handler discards requests; the joiner asks again after its join timeout).
    // A member that does not answer within the failure timeout is left out of this merge and merged in
    // the next round.
    gms.setMergeTimeout(t.failureTimeout().toMillis());
    gms.printLocalAddress(false);
    stack.add(gms);

    UFC ufc = new SilenceTolerantUfc();
    ufc.setValue("max_credits", 4_000_000L);
    ufc.setValue("min_threshold", 0.4);
    stack.add(ufc);
    MFC mfc = new SilenceTolerantMfc();
    mfc.setValue("max_credits", 4_000_000L);
    mfc.setValue("min_threshold", 0.4);
    stack.add(mfc);

    FRAG4 frag = new FRAG4();
    frag.setValue("frag_size", 60_000);
    stack.add(frag);
    return stack;
  }
}
