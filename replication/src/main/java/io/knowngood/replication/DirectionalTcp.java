package io.knowngood.replication;

import java.net.InetAddress;
import java.util.Collection;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.jgroups.Address;
import org.jgroups.PhysicalAddress;
import org.jgroups.blocks.cs.Connection;
import org.jgroups.blocks.cs.ConnectionListener;
import org.jgroups.blocks.cs.TcpBaseServer;
import org.jgroups.blocks.cs.TcpConnection;
import org.jgroups.blocks.cs.TcpConnectionNonBlocking;
import org.jgroups.blocks.cs.TcpServer;
import org.jgroups.conf.ClassConfigurator;
import org.jgroups.protocols.TCP;
import org.jgroups.stack.IpAddress;

/**
 * JGroups' TCP with one connection per direction: a node sends only on connections it opened and
 * only reads from the ones it accepted, so two nodes connecting to each other at the same moment never
 * close one of the two.
 *
 * <p>Plain TCP keeps one connection per pair ({@code use_peer_connections}, always on in
 * {@link TCP#start()}): a connection accepted while one to the same peer exists is kept or closed by
 * comparing addresses ("bigger conn wins", {@code TcpServer.Acceptor.handleAccept}, which runs without
 * the per-peer lock {@code getConnection} holds while it connects). When a restarted node and a member
 * open connections to each other at once (the members look for a restarting host every MERGE3 round,
 * the newcomer connects to discover and join), the loser is closed under its reader and whatever was
 * written to it is gone. Discovery and heartbeats are not retransmitted: in the kill -9 soak a joiner
 * lost whole discovery rounds to it ({@code DirectionalTcpTest} loses messages with plain TCP in the
 * first round of simultaneous connects). (The longer silences between members seen around restarts
 * turned out to be something else: see {@link CacheManagers#remoteTimeout}.)
 *
 * <p>With a connection per direction nothing is ever replaced: the accepted connection is keyed by the
 * peer's ephemeral port, never by its listening address, so it cannot collide with the one this node
 * opened. The cost is a second TCP (and TLS) connection per pair, which a mesh of tens of hosts does
 * not notice. The client no longer sends JGroups' cookie and address first, so a node with this
 * transport and one without cannot talk: every node of a mesh runs the same kgnode version.
 */
final class DirectionalTcp extends TCP {
  /** When each open connection was established (nanoTime), for {@link #replaceOpenedTo}. */
  private final Map<Connection, Long> established = new ConcurrentHashMap<>();
  /** The listening addresses a replacement is under way for (at most one each). */
  private final Set<PhysicalAddress> replacing = ConcurrentHashMap.newKeySet();
  private volatile ExecutorService replacer;
  private volatile LongSupplier nanoTime;
  /**
   * Listening addresses whose last connect failed, and when (nanoTime). While a connect is this recent,
   * a message to that address does not connect on the sending thread (see {@link #send}).
   */
  private final Map<PhysicalAddress, Long> unreachable = new ConcurrentHashMap<>();
  /** How long a failed connect keeps the sending thread from connecting to that address itself. */
  static final long UNREACHABLE_NANOS = TimeUnit.SECONDS.toNanos(30);
  /** The shortest pause between two connects tried aside to one address (a refused connect takes no time). */
  static final long RETRY_ASIDE_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

  DirectionalTcp(LongSupplier nanoTime) {
    // TCP's protocol id, not 0 (unregistered subclass): the transport header stays TCP's
    setId(ClassConfigurator.getProtocolId(TCP.class));
    this.nanoTime = nanoTime;
  }

  /** Tests: the clock connection ages are read with from now on. */
  void nanoTime(LongSupplier clock) {
    this.nanoTime = clock;
  }

  /** The server exists (start) but neither accepts nor connects yet (connect starts it). */
  @Override
  protected void handleConnect() throws Exception {
    srv.usePeerConnections(false);
    if (replacer == null || replacer.isShutdown()) {
      replacer = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "kg-reconnect-" + local_addr);
        t.setDaemon(true);
        return t;
      });
    }
    srv.addConnectionListener(new ConnectionListener() {
      @Override
      public void connectionClosed(Connection conn) {
        established.remove(conn);
        log.debug("%s: connection %s closed", local_addr, describe(conn));
      }

      @Override
      public void connectionEstablished(Connection conn) {
        established.put(conn, nanoTime.getAsLong());
        log.debug("%s: connection %s established", local_addr, describe(conn));
      }
    });
    super.handleConnect();
  }

  /** The peer's address (its listening address for a connection this node opened, else ip:ephemeral port). */
  private static String describe(Connection conn) {
    return "with " + conn.peerAddress();
  }

  /**
   * Replaces the connection this node opened to {@code where} ({@code member}'s listening address) if it
   * was established at least {@code minAgeNanos} ago. A younger one is kept: establishing it took both
   * directions, so it is not the connection a silence began on.
   *
   * <p>The fresh connection is opened on a thread of its own and swapped in only once it is established;
   * if the host cannot be reached, the old one stays. Closing the old one and leaving the reconnect to the
   * next message (the first version of this rule) put the connect on the bundler, the one thread that
   * sends to every member: while a partition still dropped a silent member's packets, every message to
   * it blocked that thread for the connect timeout, the other members heard nothing from this node, and
   * they suspected it (seen in the soak at DEBUG: a node's connects to a cut-off member held its sends for
   * 2 s, its live peer excluded it, and the merges that followed held a restarted node's join; kill -9
   * p99 4.7 s against 2.8 s without the rule).
   */
  void replaceOpenedTo(PhysicalAddress where, Address member, long minAgeNanos) {
    if (srv == null || replacer == null) {
      return;
    }
    long now = nanoTime.getAsLong();
    boolean[] old = {false};
    srv.forAllConnections((peer, conn) -> {
      Long since = established.get(conn);
      if (peer.equals(where) && since != null && now - since >= minAgeNanos) {
        old[0] = true;
      }
    });
    if (old[0]) {
      aside(where, () -> replace(where, member));
    }
  }

  /** Runs {@code work} for {@code where} on the reconnect thread, unless work for it is queued or running. */
  private void aside(PhysicalAddress where, Runnable work) {
    ExecutorService r = replacer;
    if (r == null || !replacing.add(where)) {
      return;
    }
    try {
      r.execute(() -> {
        try {
          work.run();
        } finally {
          replacing.remove(where);
        }
      });
    } catch (RejectedExecutionException stopped) {
      replacing.remove(where);
    }
  }

  private void replace(PhysicalAddress where, Address member) {
    TcpConnection fresh = open(where);
    if (fresh == null) {
      log.debug("%s: %s (%s) is silent and cannot be reached: its connection stays", local_addr, member, where);
      return;
    }
    log.debug("%s: replacing the connection to %s (%s): nothing heard from it within the failure timeout",
        local_addr, member, where);
    install(where, fresh);
  }

  /**
   * Sends on the connection to {@code dest}, opening one if there is none, except where a connect to
   * {@code dest} failed within {@link #UNREACHABLE_NANOS} and nothing was heard from its host since
   * ({@link #receive}): then the message is dropped and a connect is tried on the reconnect thread (at most one at a
   * time, at most one per {@link #RETRY_ASIDE_NANOS}). JGroups
   * connects on the sending thread, and every message leaves through the one bundler thread, so without
   * this every message to a member whose packets are dropped held every other member's messages for
   * the connect timeout: in the soak's bridge fault (two nodes cut from each other, both reaching a
   * third, views changing every few seconds) a node's publish reached the bridge 8.5 s late, after
   * its view had lost the bridge too. Dropping is safe: the reliable protocols retransmit what they
   * sent once a connection exists, and heartbeats and discovery are sent again anyway.
   */
  @Override
  public void send(Address dest, byte[] data, int offset, int length) throws Exception {
    TcpServer s = srv;
    if (s == null || !(dest instanceof PhysicalAddress where) || s.connectionEstablishedTo(where)) {
      super.send(dest, data, offset, length);
      return;
    }
    Long failedAt = unreachable.get(where);
    long now = nanoTime.getAsLong();
    if (failedAt != null && now - failedAt < UNREACHABLE_NANOS) {
      if (now - failedAt >= RETRY_ASIDE_NANOS) {
        connectAside(where);
      }
      return;
    }
    try {
      super.send(dest, data, offset, length);
      unreachable.remove(where);
    } catch (java.io.IOException | RuntimeException e) {
      unreachable.put(where, nanoTime.getAsLong());
      log.debug("%s: cannot connect to %s (%s): for %d s its messages are dropped and connects tried aside",
          local_addr, where, e.toString(), TimeUnit.NANOSECONDS.toSeconds(UNREACHABLE_NANOS));
      throw e;
    }
  }

  /**
   * A host this node hears from can be reached again (a restarted node, a healed partition): the next
   * message to it connects on the sending thread again, without waiting for a connect aside (a
   * restarted node's JOIN is answered at once). Matched by IP, as a connection this node accepted does
   * not say its node's listening port.
   */
  @Override
  public void receive(Address sender, java.io.DataInput in, int length) throws Exception {
    if (!unreachable.isEmpty() && sender instanceof IpAddress from) {
      unreachable.keySet().removeIf(a -> a instanceof IpAddress ip && ip.getIpAddress().equals(from.getIpAddress()));
    }
    super.receive(sender, in, length);
  }

  /** Tests: whether messages to {@code where} are being dropped after a failed connect. */
  boolean unreachable(PhysicalAddress where) {
    return unreachable.containsKey(where);
  }

  private void connectAside(PhysicalAddress where) {
    aside(where, () -> {
      TcpConnection fresh = srv.connectionEstablishedTo(where) ? null : open(where);
      if (fresh != null) {
        log.debug("%s: connected to %s again, aside", local_addr, where);
        install(where, fresh);
      }
      if (fresh != null || srv.connectionEstablishedTo(where)) {
        unreachable.remove(where);
      } else {
        unreachable.put(where, nanoTime.getAsLong());
      }
    });
  }

  /** A connection to {@code where}, connected (TLS as configured), or null if it cannot be reached. */
  private TcpConnection open(PhysicalAddress where) {
    TcpConnection fresh = null;
    try {
      // the server's socket factory (TLS as configured), and its kind of connection: with a send queue of its own
      // when sends do not block (JGroupsStack.MAX_SEND_QUEUE), as the ones JGroups opens itself
      TcpBaseServer server = srv;
      fresh = server.nonBlockingSends() ? new TcpConnectionNonBlocking(where, server, server.maxSendQueue())
          : new TcpConnection(where, server);
      fresh.connect(where);
      return fresh;
    } catch (Exception unreachable) {
      log.debug("%s: connecting to %s failed: %s", local_addr, where, unreachable.toString());
      org.jgroups.util.Util.close(fresh);
      return null;
    }
  }

  private void install(PhysicalAddress where, TcpConnection fresh) {
    srv.replaceConnection(where, fresh); // flushes and closes the old one
    srv.notifyConnectionEstablished(fresh);
    fresh.start();
  }

  @Override
  public void stop() {
    ExecutorService r = replacer;
    if (r != null) {
      r.shutdownNow();
    }
    super.stop();
  }

  /**
   * Closes the connections this node opened to non-members, as TCP does on every view change, and the
   * ones it accepted from hosts that are no longer members; keeps every connection accepted from a
   * member's host. TCP closes each connection whose key is not a member's listening address; an
   * accepted connection here is keyed by the peer's ephemeral port, so TCP would close all of them on
   * every view and the peers' messages written meanwhile would be lost.
   *
   * <p>An accepted connection from an excluded host must close, though: after a one-way drop (its
   * packets to this node lost, this node's to it delivered) the excluded node keeps its view, and so
   * its connection here, whose unacknowledged segments the kernel retransmits with exponential backoff.
   * After the heal nothing it sends gets through until the next retransmission, which came 11 s late
   * in HealBench, and only its messages would start the merge. Closed from this side, the reset reaches it
   * (JGroups closes TLS sockets with linger 0) where this direction still works, its reader sees the end,
   * and its next message opens a fresh connection (where it does not, see {@link ReconnectingFdAll3}). The host is matched by IP
   * (the accepted connection does not say which listening port its node has), so on a host running
   * several nodes, as in-process tests do, an excluded node's connection stays until its node closes it.
   */
  @Override
  public void retainAll(Collection<Address> members) {
    Set<Address> keep = new HashSet<>(members);
    Set<InetAddress> memberHosts = new HashSet<>();
    for (Address member : members) {
      if (member instanceof IpAddress ip) {
        memberHosts.add(ip.getIpAddress());
      }
    }
    Address listening = srv.localAddress();
    srv.forAllConnections((peer, conn) -> {
      if (listening != null && listening.equals(conn.localAddress())) {
        if (peer instanceof IpAddress ip && memberHosts.contains(ip.getIpAddress())) {
          keep.add(peer);
        } else {
          log.debug("%s: closing the connection accepted from %s, a host no longer in the view", local_addr, peer);
        }
      }
    });
    super.retainAll(keep);
  }

  /** Whether this transport's server pairs connections (false once connected). */
  boolean pairsConnections() {
    return srv != null && srv.usePeerConnections();
  }

  /** The connection server (null before start). */
  TcpServer server() {
    return srv;
  }
}
