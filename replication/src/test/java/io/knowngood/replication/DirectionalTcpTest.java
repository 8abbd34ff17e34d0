package io.knowngood.replication;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.knowngood.crypto.meshca.MeshCa;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import org.jgroups.Address;
import org.jgroups.Event;
import org.jgroups.JChannel;
import org.jgroups.Message;
import org.jgroups.ObjectMessage;
import org.jgroups.PhysicalAddress;
import org.jgroups.Receiver;
import org.jgroups.blocks.cs.BaseServer;
import org.jgroups.blocks.cs.Connection;
import org.jgroups.blocks.cs.ConnectionListener;
import org.jgroups.protocols.TransferQueueBundler;
import org.jgroups.stack.IpAddress;
import org.jgroups.util.Tuple;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The mesh transport, one connection per direction ({@link DirectionalTcp}), on the real JGroups stack
 * with TLS over loopback. Two nodes that open connections to each other at the same moment, again and
 * again, as a restarted node and a member do around a join, each sending one message the moment it
 * connects without retransmission (as discovery requests and heartbeats are): none may be lost and no
 * connection closed (with JGroups' plain TCP, one connection per pair, the loser of a simultaneous
 * connect is closed unread and this fails in round 1). A view change closes no connection between
 * members; one without a host closes the connection it had opened to this node. A stranger that connects and never handshakes is closed without a reader thread.
 */
class DirectionalTcpTest {
  private static final int ROUNDS = 20;
  private final List<JChannel> channels = new ArrayList<>();

  @AfterEach
  void closeAll() {
    channels.forEach(JChannel::close);
  }

  @Test
  void simultaneousConnects_loseNothing_closeNothing() throws Exception {
    Transports two = twoTransports();
    JChannel nodeA = two.a();
    JChannel nodeB = two.b();
    introduce(nodeA, nodeB);
    introduce(nodeB, nodeA);
    AtomicInteger atA = receiveCount(nodeA);
    AtomicInteger atB = receiveCount(nodeB);
    BaseServer serverA = server(nodeA);
    BaseServer serverB = server(nodeB);
    assertThat(transport(nodeA).pairsConnections()).as("one connection per pair").isFalse();

    CountClosed countClosed = new CountClosed();

    CyclicBarrier together = new CyclicBarrier(2);
    for (int round = 1; round <= ROUNDS; round++) {
      serverA.removeConnectionListener(countClosed);
      serverB.removeConnectionListener(countClosed);
      serverA.clearConnections();
      serverB.clearConnections();
      await().atMost(Duration.ofSeconds(10))
          .until(() -> serverA.getNumConnections() == 0 && serverB.getNumConnections() == 0);
      serverA.addConnectionListener(countClosed);
      serverB.addConnectionListener(countClosed);
      Thread other = new Thread(sendTo(together, nodeB, nodeA.getAddress(), round));
      other.start();
      sendTo(together, nodeA, nodeB.getAddress(), round).run();
      other.join(TimeUnit.SECONDS.toMillis(10));
      int sent = round;
      await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(20))
          .until(() -> countClosed.closed.get() > 0 || (atA.get() == sent && atB.get() == sent));
      assertThat(countClosed.closed.get()).as("connections closed by a simultaneous connect, round %d", round).isZero();
    }
    assertThat(atA.get()).as("messages that reached A").isEqualTo(ROUNDS);
    assertThat(atB.get()).as("messages that reached B").isEqualTo(ROUNDS);
  }

  @Test
  void strangersThatNeverHandshake_areClosedWithoutAThreadEach_andMembersStillConnect() throws Exception {
    Transports two = twoTransports();
    JChannel nodeA = two.a();
    JChannel nodeB = two.b();
    InetSocketAddress a = two.aBind();
    introduce(nodeB, nodeA);
    AtomicInteger atA = receiveCount(nodeA);
    long readersBefore = readerThreads();

    List<Socket> strangers = new ArrayList<>();
    try {
      for (int i = 0; i < 5; i++) {
        Socket s = new Socket();
        s.connect(a, 2000);
        s.setSoTimeout(10_000);
        strangers.add(s);
      }
      // a member connecting behind them waits at most a handshake deadline per stranger; its own
      // connection gives up after connect timeout + deadline, so it keeps sending, as members do
      await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(500)).until(() -> {
        nodeB.send(new ObjectMessage(nodeA.getAddress(), 1).setFlag(Message.Flag.NO_RELIABILITY, Message.Flag.OOB));
        return atA.get() >= 1;
      });
      for (Socket s : strangers) {
        assertThat(closedByPeer(s)).as("a silent stranger's connection is closed by the node").isTrue();
      }
      assertThat(readerThreads() - readersBefore)
          .as("reader threads: the member's connection at both ends (same JVM), none for strangers").isEqualTo(2);
    } finally {
      for (Socket s : strangers) {
        s.close();
      }
    }
  }

  @Test
  void aViewChange_closesNoConnectionBetweenMembers() throws Exception {
    MeshCa ca = MeshCa.generate(Clock.systemUTC());
    InetSocketAddress a = loopbackPort();
    InetSocketAddress b = loopbackPort();
    InetSocketAddress c = loopbackPort();
    JChannel nodeA = startMesh(config("view-a", a, new MeshConfig.Tls(ca.issue("view-a")), a, b, c));
    JChannel nodeB = startMesh(config("view-b", b, new MeshConfig.Tls(ca.issue("view-b")), a, b, c));
    TestCluster.awaitChannelViews(nodeA, nodeB);
    // a connection either member opened to the other; C's (and failed reconnects to C as it leaves) may close
    Address listeningA = server(nodeA).localAddress();
    Address listeningB = server(nodeB).localAddress();
    CountClosed betweenMembers =
        new CountClosed(conn -> listeningA.equals(conn.peerAddress()) || listeningB.equals(conn.peerAddress()));
    server(nodeA).addConnectionListener(betweenMembers);
    server(nodeB).addConnectionListener(betweenMembers);

    JChannel nodeC = startMesh(config("view-c", c, new MeshConfig.Tls(ca.issue("view-c")), a, b, c));
    TestCluster.awaitChannelViews(nodeA, nodeB, nodeC);
    nodeC.close(); // and a view without it: only connections to and from C may close
    await().atMost(Duration.ofSeconds(20)).until(() -> nodeA.getView().size() == 2 && nodeB.getView().size() == 2);
    await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(5))
        .until(() -> server(nodeA).getNumConnections() == 2 && server(nodeB).getNumConnections() == 2);
    assertThat(betweenMembers.closed.get()).as("connections between A and B closed").isZero();
  }

  @Test
  void aViewWithoutAHost_closesTheConnectionItOpenedHere_andKeepsTheMembers() throws Exception {
    InetSocketAddress a = new InetSocketAddress("127.0.0.231", TestCluster.freePortPair());
    InetSocketAddress b = new InetSocketAddress("127.0.0.232", TestCluster.freePortPair());
    InetSocketAddress c = new InetSocketAddress("127.0.0.233", TestCluster.freePortPair());
    List<JChannel> mesh = threeMeshNodes("host", a, b, c);
    JChannel nodeA = mesh.get(0);
    JChannel nodeB = mesh.get(1);
    JChannel nodeC = mesh.get(2);
    Address listeningA = server(nodeA).localAddress();
    await().atMost(Duration.ofSeconds(10)).until(() -> acceptedFrom(nodeA, b) == 1 && acceptedFrom(nodeA, c) == 1);
    CountClosed fromB = new CountClosed(conn -> listeningA.equals(conn.localAddress()) && from(conn, b));
    CountClosed atCToA = new CountClosed(conn -> listeningA.equals(conn.peerAddress()));
    server(nodeA).addConnectionListener(fromB);
    server(nodeC).addConnectionListener(atCToA);

    // A's view without C while C runs on, as after C's packets to A stopped: C's view still holds A
    transport(nodeA).retainAll(List.of(listeningA, server(nodeB).localAddress()));

    await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
        assertThat(atCToA.closed.get()).as("C's connection to A, closed from A's side, ends at C").isPositive());
    assertThat(fromB.closed.get()).as("connections accepted from member B closed").isZero();
  }

  @Test
  void aSilentMember_getsAFreshConnection_evenWhereNoViewChanges() throws Exception {
    List<JChannel> mesh = threeMeshNodes("silent", loopbackPort(), loopbackPort(), loopbackPort());
    JChannel nodeA = mesh.get(0);
    JChannel nodeB = mesh.get(1);
    JChannel nodeC = mesh.get(2);
    Address coordinator = nodeC.getView().getCoord();
    JChannel coord = java.util.stream.Stream.of(nodeA, nodeB).filter(ch -> ch.getAddress().equals(coordinator))
        .findFirst().orElseThrow();
    Address listening = server(coord).localAddress();
    ReconnectingFdAll3 fd = nodeC.getProtocolStack().findProtocol(ReconnectingFdAll3.class);
    // a fresh connection from C to the coordinator, on C's clock
    java.util.concurrent.atomic.AtomicLong now = new java.util.concurrent.atomic.AtomicLong(System.nanoTime());
    transport(nodeC).nanoTime(now::get);
    server(nodeC).closeConnection(listening);
    await().atMost(Duration.ofSeconds(10)).until(() -> server(nodeC).getConnection(listening) != null);
    CountClosed toCoordinator = new CountClosed(conn -> listening.equals(conn.peerAddress()));
    server(nodeC).addConnectionListener(toCoordinator);

    // what FD_ALL3's timeout check does at C when the coordinator went silent; C would not coordinate
    // without it (the other member would), so the suspicion changes nothing else, as at a node left
    // behind by a one-way drop
    fd.suspect(List.of(coordinator));
    await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(2)).until(() -> toCoordinator.closed.get() == 0);

    now.addAndGet(TimeUnit.MILLISECONDS.toNanos(fd.getTimeout()));
    fd.suspect(List.of(coordinator));
    await().atMost(Duration.ofSeconds(5)).untilAsserted(() ->
        assertThat(toCoordinator.closed.get()).as("C's connection to the silent coordinator closed").isPositive());
    assertThat(server(nodeC).connectionEstablishedTo(listening)).as("a fresh connection in its place").isTrue();
    assertThat(nodeC.getView().size()).as("C's view is unchanged").isEqualTo(3);
  }

  @Test
  void aSilentMemberThatCannotBeReached_keepsItsConnection() throws Exception {
    // a member whose listener is gone while the connection to it lives on: a fresh connect fails, as it
    // does while a partition drops its packets. Closing the old one would leave the reconnect to the
    // bundler, the thread that sends to every member, and each message to the silent member would hold
    // it for the connect timeout.
    JChannel nodeC = start(config("unreachable-c", loopbackPort(), new MeshConfig.Plaintext()));
    List<Socket> accepted = new java.util.concurrent.CopyOnWriteArrayList<>();
    java.net.ServerSocket listener = new java.net.ServerSocket(0, 50, TestCluster.loopback());
    Thread acceptor = new Thread(() -> {
      try {
        while (true) {
          accepted.add(listener.accept());
        }
      } catch (java.io.IOException closed) {
        // the listener is gone
      }
    });
    acceptor.start();
    try {
      Address member = org.jgroups.util.UUID.randomUUID();
      IpAddress where = new IpAddress(TestCluster.loopback(), listener.getLocalPort());
      nodeC.down(new Event(Event.ADD_PHYSICAL_ADDRESS, new Tuple<>(member, where)));
      nodeC.send(new ObjectMessage(member, 1).setFlag(Message.Flag.NO_RELIABILITY, Message.Flag.OOB));
      await().atMost(Duration.ofSeconds(10)).until(() -> server(nodeC).connectionEstablishedTo(where));
      Connection old = openedTo(nodeC, where);
      // closing a listener resets the connections still in its accept queue: the old one must have been
      // accepted first (under load the acceptor thread lagged and the kernel reset it, failing this test)
      int oldPort = ((IpAddress) old.localAddress()).getPort();
      await().atMost(Duration.ofSeconds(10)).until(() -> accepted.stream().anyMatch(s -> s.getPort() == oldPort));
      CountClosed toMember = new CountClosed(conn -> where.equals(conn.peerAddress()));
      server(nodeC).addConnectionListener(toMember);
      listener.close();
      // the JDK closes a listening socket only once the thread blocked in its accept has left it: until
      // then the kernel still completes connects to it (under load the fresh connect below succeeded and
      // replaced the old one, failing this test 9 times in 40)
      acceptor.join(TimeUnit.SECONDS.toMillis(10));
      await().atMost(Duration.ofSeconds(10)).until(() -> refused(where));

      transport(nodeC).replaceOpenedTo(where, member, 0);

      await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(5))
          .until(() -> toMember.closed.get() == 0 && openedTo(nodeC, where) == old && old.isConnected());
    } finally {
      listener.close();
      acceptor.join(TimeUnit.SECONDS.toMillis(5));
      for (Socket s : accepted) {
        s.close();
      }
    }
  }

  @Test
  void aMemberWhoseConnectsHang_holdsTheOthersMessagesOnce_andIsConnectedAsideWhenItAnswers() throws Exception {
    // a listener whose accept queue is full drops SYNs, as a partition does: a connect to it hangs for the
    // connect timeout (3 s here, so that waiting for it cannot pass for not waiting)
    MeshConfig.Timings slowConnects = MeshConfig.Timings.forLocalTesting().withConnectTimeout(Duration.ofSeconds(3));
    JChannel nodeC = start(new MeshConfig("hang-c", "directional", loopbackPort(), List.of(), new MeshConfig.Plaintext(),
        slowConnects));
    JChannel nodeA = start(config("hang-a", loopbackPort(), new MeshConfig.Plaintext()));
    introduce(nodeC, nodeA);
    AtomicInteger atA = receiveCount(nodeA);
    List<Socket> fillers = new ArrayList<>();
    try (java.net.ServerSocket full = new java.net.ServerSocket(0, 1, TestCluster.loopback())) {
      IpAddress where = new IpAddress(TestCluster.loopback(), full.getLocalPort());
      fillAcceptQueue(full, fillers);
      Address member = org.jgroups.util.UUID.randomUUID();
      nodeC.down(new Event(Event.ADD_PHYSICAL_ADDRESS, new Tuple<>(member, where)));

      // the first message to it connects on the sending thread and fails after the connect timeout
      nodeC.send(new ObjectMessage(member, 0).setFlag(Message.Flag.NO_RELIABILITY, Message.Flag.OOB));
      await().atMost(Duration.ofSeconds(10)).until(() -> transport(nodeC).unreachable(where));

      // later ones do not hold the sender: a message to A, sent once the bundler has taken one to the
      // hanging member off its queue (else both would leave in one batch, maybe A's first), arrives well
      // within one connect timeout
      TransferQueueBundler bundler = (TransferQueueBundler) transport(nodeC).getBundler();
      for (int i = 1; i <= 3; i++) {
        nodeC.send(new ObjectMessage(member, i).setFlag(Message.Flag.NO_RELIABILITY, Message.Flag.OOB));
        await().atMost(Duration.ofSeconds(10)).until(() -> bundler.getQueueSize() == 0);
        nodeC.send(new ObjectMessage(nodeA.getAddress(), i).setFlag(Message.Flag.NO_RELIABILITY, Message.Flag.OOB));
        int sent = i;
        await().atMost(Duration.ofMillis(1500)).until(() -> atA.get() == sent);
      }
      assertThat(server(nodeC).connectionEstablishedTo(where)).isFalse();

      // once it answers again (its queue drained), a message to it makes the reconnect thread connect
      for (Socket s : fillers) {
        s.close();
      }
      Thread drain = new Thread(() -> {
        try {
          while (true) {
            fillers.add(full.accept());
          }
        } catch (java.io.IOException closed) {
          // the listener is gone
        }
      });
      drain.start();
      await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(200)).until(() -> {
        nodeC.send(new ObjectMessage(member, 5).setFlag(Message.Flag.NO_RELIABILITY, Message.Flag.OOB));
        return server(nodeC).connectionEstablishedTo(where) && !transport(nodeC).unreachable(where);
      });
    } finally {
      for (Socket s : fillers) {
        s.close();
      }
    }
  }

  @Test
  void aFailedConnect_isForgottenOnceItsHostIsHeardFrom() throws Exception {
    // a restarted node's JOIN must be answered at once, not after a connect aside: hearing from a host
    // clears its failed connects (matched by IP: the hanging member and B share 127.0.0.2)
    java.net.InetAddress other = java.net.InetAddress.getByName("127.0.0.2");
    MeshConfig.Timings slowConnects = MeshConfig.Timings.forLocalTesting().withConnectTimeout(Duration.ofSeconds(3));
    JChannel nodeC = start(new MeshConfig("heard-c", "directional", loopbackPort(), List.of(), new MeshConfig.Plaintext(),
        slowConnects));
    AtomicInteger atC = receiveCount(nodeC);
    List<Socket> fillers = new ArrayList<>();
    try (java.net.ServerSocket full = new java.net.ServerSocket(0, 1, other)) {
      IpAddress where = new IpAddress(other, full.getLocalPort());
      fillAcceptQueue(full, fillers);
      Address member = org.jgroups.util.UUID.randomUUID();
      nodeC.down(new Event(Event.ADD_PHYSICAL_ADDRESS, new Tuple<>(member, where)));
      nodeC.send(new ObjectMessage(member, 0).setFlag(Message.Flag.NO_RELIABILITY, Message.Flag.OOB));
      await().atMost(Duration.ofSeconds(10)).until(() -> transport(nodeC).unreachable(where));

      JChannel nodeB = start(config("heard-b", new InetSocketAddress(other, TestCluster.freePortPair()),
          new MeshConfig.Plaintext()));
      introduce(nodeB, nodeC);
      nodeB.send(new ObjectMessage(nodeC.getAddress(), 1).setFlag(Message.Flag.NO_RELIABILITY, Message.Flag.OOB));
      await().atMost(Duration.ofSeconds(10)).until(() -> atC.get() == 1);
      assertThat(transport(nodeC).unreachable(where)).as("a connect to that host is tried on the sending thread again")
          .isFalse();
    } finally {
      for (Socket s : fillers) {
        s.close();
      }
    }
  }

  /** Connects to {@code listener} (which never accepts) until a connect times out: its accept queue is full. */
  private static void fillAcceptQueue(java.net.ServerSocket listener, List<Socket> fillers) throws Exception {
    for (int i = 0; i < 16; i++) {
      Socket s = new Socket();
      try {
        s.connect(listener.getLocalSocketAddress(), 300);
        fillers.add(s);
      } catch (java.net.SocketTimeoutException full) {
        s.close();
        return;
      }
    }
    throw new IllegalStateException("the accept queue of " + listener + " did not fill");
  }

  /** Whether a connect to {@code where} is refused (nothing listens there any more). */
  private static boolean refused(IpAddress where) {
    try (Socket probe = new Socket()) {
      probe.connect(where.getSocketAddress(), 1000);
      return false;
    } catch (java.net.ConnectException nothingListens) {
      return true;
    } catch (java.io.IOException other) {
      return false;
    }
  }

  /** The connection {@code ch} opened to {@code where}, if any (without connecting). */
  private static Connection openedTo(JChannel ch, Address where) {
    Connection[] found = {null};
    server(ch).forAllConnections((peer, conn) -> {
      if (peer.equals(where)) {
        found[0] = conn;
      }
    });
    return found[0];
  }

  private static long acceptedFrom(JChannel ch, InetSocketAddress host) {
    Address listening = server(ch).localAddress();
    long[] n = {0};
    server(ch).forAllConnections((peer, conn) -> {
      if (listening.equals(conn.localAddress()) && from(conn, host)) {
        n[0]++;
      }
    });
    return n[0];
  }

  private static boolean from(Connection conn, InetSocketAddress host) {
    return conn.peerAddress() instanceof IpAddress ip && ip.getIpAddress().equals(host.getAddress());
  }

  /** Two TLS transports of one mesh CA, started, that know nothing of each other yet. */
  private record Transports(JChannel a, JChannel b, InetSocketAddress aBind) {}

  private Transports twoTransports() throws Exception {
    MeshCa ca = MeshCa.generate(Clock.systemUTC());
    InetSocketAddress a = loopbackPort();
    InetSocketAddress b = loopbackPort();
    JChannel nodeA = start(config("direct-a", a, new MeshConfig.Tls(ca.issue("direct-a"))));
    JChannel nodeB = start(config("direct-b", b, new MeshConfig.Tls(ca.issue("direct-b"))));
    return new Transports(nodeA, nodeB, a);
  }

  /** Counts the connections a transport reports closed while it is registered (those {@code which} picks). */
  private static final class CountClosed implements ConnectionListener {
    final AtomicInteger closed = new AtomicInteger();
    private final Predicate<Connection> which;

    CountClosed() {
      this(conn -> true);
    }

    CountClosed(Predicate<Connection> which) {
      this.which = which;
    }

    @Override
    public void connectionClosed(Connection conn) {
      if (which.test(conn)) {
        closed.incrementAndGet();
      }
    }

    @Override
    public void connectionEstablished(Connection conn) {}
  }

  /** True once the peer closed (EOF or reset, after any TLS alert) within the socket's read timeout. */
  private static boolean closedByPeer(Socket s) {
    try {
      byte[] alert = new byte[256];
      while (s.getInputStream().read(alert) != -1) {
        // a TLS alert precedes the close
      }
      return true;
    } catch (java.net.SocketTimeoutException e) {
      return false;
    } catch (java.io.IOException e) {
      return true;
    }
  }

  private static long readerThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t.getName().startsWith("Connection.Receiver") && t.isAlive()).count();
  }

  private static Runnable sendTo(CyclicBarrier together, JChannel from, Address to, int round) {
    return () -> {
      try {
        together.await(10, TimeUnit.SECONDS);
        from.send(new ObjectMessage(to, round).setFlag(Message.Flag.NO_RELIABILITY, Message.Flag.OOB));
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    };
  }

  private static AtomicInteger receiveCount(JChannel ch) {
    AtomicInteger n = new AtomicInteger();
    ch.setReceiver(new Receiver() {
      @Override
      public void receive(Message msg) {
        if (msg.getObject() instanceof Integer) {
          n.incrementAndGet();
        }
      }
    });
    return n;
  }

  /** Tells {@code from} where {@code to} listens, as discovery would. */
  private static void introduce(JChannel from, JChannel to) {
    PhysicalAddress where = (PhysicalAddress) to.down(new Event(Event.GET_PHYSICAL_ADDRESS, to.getAddress()));
    from.down(new Event(Event.ADD_PHYSICAL_ADDRESS, new Tuple<>(to.getAddress(), where)));
  }

  private static DirectionalTcp transport(JChannel ch) {
    return (DirectionalTcp) ch.getProtocolStack().getTransport();
  }

  private static BaseServer server(JChannel ch) {
    return transport(ch).server();
  }

  private static MeshConfig config(String id, InetSocketAddress bind, MeshConfig.Security security,
                                   InetSocketAddress... peers) {
    return new MeshConfig(id, "directional", bind, peers.length == 0 ? List.of(bind) : List.of(peers), security,
        MeshConfig.Timings.forLocalTesting());
  }

  /** Three whole mesh stacks of one mesh CA, named prefix-a/-b/-c, each listing all three as peers, in one view. */
  private List<JChannel> threeMeshNodes(String prefix, InetSocketAddress a, InetSocketAddress b, InetSocketAddress c)
      throws Exception {
    MeshCa ca = MeshCa.generate(Clock.systemUTC());
    List<JChannel> mesh = new ArrayList<>();
    char name = 'a';
    for (InetSocketAddress bind : List.of(a, b, c)) {
      String id = prefix + "-" + name++;
      mesh.add(startMesh(config(id, bind, new MeshConfig.Tls(ca.issue(id)), a, b, c)));
    }
    TestCluster.awaitChannelViews(mesh.toArray(JChannel[]::new));
    return mesh;
  }

  private static InetSocketAddress loopbackPort() {
    return new InetSocketAddress(TestCluster.loopback(), TestCluster.freePortPair());
  }

  /** The whole mesh stack. */
  private JChannel startMesh(MeshConfig config) throws Exception {
    JChannel ch = JGroupsStack.build(config, false);
    channels.add(ch);
    ch.connect(config.clusterName());
    return ch;
  }

  /** The mesh's transport alone (TLS as configured): nothing but the messages below travels. */
  private JChannel start(MeshConfig config) throws Exception {
    JChannel ch = new JChannel(JGroupsStack.protocols(config, false, null).get(0));
    ch.name(config.nodeId());
    channels.add(ch);
    ch.connect(config.clusterName());
    return ch;
  }
}
