package io.knowngood.replication;

import static org.awaitility.Awaitility.await;

import io.knowngood.crypto.bundle.VerifiedBundle;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.function.Function;
import java.util.stream.IntStream;

/** Several meshes in this JVM over loopback, each on its own port pair, each with an in-memory store. */
final class TestCluster implements AutoCloseable {
  static final Duration WAIT = Duration.ofSeconds(40);

  final TestBundles bundles;
  final List<MeshConfig> configs = new ArrayList<>();
  final List<InMemoryLocalBundles> stores = new ArrayList<>();
  final List<InfinispanMesh> meshes = new ArrayList<>();
  private final InfinispanMesh.Options options;

  private TestCluster(TestBundles bundles, InfinispanMesh.Options options) {
    this.bundles = bundles;
    this.options = options;
  }

  static TestCluster create(String name, int size, TestBundles bundles, InfinispanMesh.Options options,
                            Function<Integer, MeshConfig.Security> security) {
    return create(name, size, bundles, options, security, MeshConfig.Timings.forLocalTesting());
  }

  static TestCluster create(String name, int size, TestBundles bundles, InfinispanMesh.Options options,
                            Function<Integer, MeshConfig.Security> security, MeshConfig.Timings timings) {
    TestCluster c = new TestCluster(bundles, options);
    List<InetSocketAddress> addresses = new ArrayList<>();
    for (int i = 0; i < size; i++) {
      addresses.add(new InetSocketAddress(loopback(), freePortPair())); // distinct: see freePortPair
    }
    for (int i = 0; i < size; i++) {
      c.configs.add(new MeshConfig(name + "-" + i, name, addresses.get(i), addresses, security.apply(i), timings));
      c.stores.add(new InMemoryLocalBundles());
      c.meshes.add(null);
    }
    return c;
  }

  static TestCluster plaintext(String name, int size, TestBundles bundles) {
    return plaintext(name, size, bundles, MeshConfig.Timings.forLocalTesting());
  }

  /** Plaintext members with every convergence mechanism on, and these timings. */
  static TestCluster plaintext(String name, int size, TestBundles bundles, MeshConfig.Timings timings) {
    return create(name, size, bundles, new InfinispanMesh.Options(org.infinispan.configuration.cache.CacheMode.REPL_ASYNC,
        true, true, true), i -> new MeshConfig.Plaintext(), timings);
  }

  TestCluster startAll() {
    IntStream.range(0, configs.size()).forEach(this::start);
    return this;
  }

  InfinispanMesh start(int i) {
    InfinispanMesh m = new InfinispanMesh(configs.get(i), bundles.verifier, stores.get(i), Clock.systemUTC(), options);
    meshes.set(i, m);
    m.start();
    return m;
  }

  void stop(int i) {
    InfinispanMesh m = meshes.get(i);
    if (m != null) {
      m.close();
    }
  }

  InfinispanMesh mesh(int i) {
    return meshes.get(i);
  }

  InMemoryLocalBundles store(int i) {
    return stores.get(i);
  }

  List<InfinispanMesh> meshes(int... indexes) {
    return Arrays.stream(indexes).mapToObj(meshes::get).toList();
  }

  /** Waits until each listed member sees a view of exactly the listed members. */
  void awaitViews(int... members) {
    await("view of " + Arrays.toString(members)).atMost(WAIT).until(() -> Arrays.stream(members).allMatch(i -> {
      InfinispanMesh m = meshes.get(i);
      return m.isReady() && m.view().members().size() == members.length
          && m.view().members().stream().map(MemberInfo::id).allMatch(id -> Arrays.stream(members)
              .anyMatch(j -> configs.get(j).nodeId().equals(id)));
    }));
  }

  /** Waits until each bare channel's view is exactly these channels (tests of the stack without a cache). */
  static void awaitChannelViews(org.jgroups.JChannel... members) {
    await("a view of " + members.length).atMost(WAIT).until(() -> Arrays.stream(members).allMatch(m ->
        m.getView() != null && m.getView().size() == members.length
            && Arrays.stream(members).allMatch(other -> m.getView().containsMember(other.getAddress()))));
  }

  /** The index of the member that coordinates, as member 0's view names it (call once the views agree). */
  int coordinatorIndex() {
    String coordinator = meshes.get(0).view().coordinator().orElseThrow();
    int i = configs.stream().map(MeshConfig::nodeId).toList().indexOf(coordinator);
    if (i < 0) {
      throw new AssertionError("no member is the coordinator " + coordinator);
    }
    return i;
  }

  void awaitClustered() {
    awaitViews(IntStream.range(0, meshes.size()).toArray());
  }

  /** Stores a new version at member {@code i} (as node/ does) and publishes it. */
  PublishOutcome publish(int i, String name, long version) {
    return publish(i, bundles.bundle(name, version));
  }

  /** Stores {@code b} at member {@code i} (as node/ does) and publishes it. */
  PublishOutcome publish(int i, VerifiedBundle b) {
    stores.get(i).store(b);
    return meshes.get(i).publish(b);
  }

  void awaitAllHold(String name, long version, int... members) {
    int[] who = members.length == 0 ? IntStream.range(0, meshes.size()).toArray() : members;
    await(name + " v" + version + " everywhere").atMost(WAIT)
        .until(() -> Arrays.stream(who).allMatch(i -> stores.get(i).version(name) == version));
  }

  @Override
  public void close() {
    meshes.parallelStream().filter(m -> m != null).forEach(InfinispanMesh::close);
  }

  /** Test members take ports from here up to the ephemeral range (the chaos tests' and benches' fixed ports are below). */
  private static final int LOWEST_TEST_PORT = 20000;

  static InetAddress loopback() {
    return InetAddress.getLoopbackAddress();
  }

  /** How many ports handed out in this JVM {@link #freePortPair} remembers, so as not to give them again. */
  private static final int REMEMBERED_PORTS = 4096;
  private static final LinkedHashSet<Integer> HANDED_OUT = new LinkedHashSet<>();

  /**
   * A port p with p + 1 (FD_SOCK2) free as well, below the kernel's range of ephemeral ports. A member
   * restarted on its port must find it free, but a port in that range is also handed out as the source
   * of outgoing connections: while a member is down, a peer dialing its port on loopback can be given
   * that very port as its source and connect to itself, holding the port (a clean-clone CI run failed
   * so: RestartTest's member could not bind its port again, "No available port to bind to").
   *
   * <p>The probe sockets are closed again, so the kernel would let the next pick return the same port:
   * no port handed out in this JVM is handed out again (the last {@value #REMEMBERED_PORTS}), and a port
   * still holding connections (TIME_WAIT or closing) is passed over. A clean-clone CI run failed without
   * this: ReaddressingTest's third member of four found its port taken.
   */
  static synchronized int freePortPair() {
    int[] slice = portSlice();
    java.util.concurrent.ThreadLocalRandom random = java.util.concurrent.ThreadLocalRandom.current();
    for (int attempt = 0; attempt < 200; attempt++) {
      int p = random.nextInt(slice[0], slice[1]);
      if (!HANDED_OUT.contains(p) && !HANDED_OUT.contains(p + 1) && unused(p) && unused(p + 1)) {
        remember(p);
        remember(p + 1);
        return p;
      }
    }
    throw new IllegalStateException("no free port pair on loopback between " + slice[0] + " and " + slice[1]);
  }

  /** Surefire's number of this test JVM (1-based) and how many run side by side: see replication's pom. */
  static final String FORK = "knowngood.test.fork";

  static final String FORKS = "knowngood.test.forks";

  /** This JVM's ports [from, to): its slice of those from {@value #LOWEST_TEST_PORT} to the ephemeral range. */
  static int[] portSlice() {
    int ceiling = Math.min(ephemeralLow(), 65535) - 2;
    return slice(LOWEST_TEST_PORT, ceiling, number(FORK), number(FORKS));
  }

  /**
   * A fork property's number; 1 when not set (a run outside surefire). Set but not a number is a broken
   * pom, never a default: surefire leaves {@code ${surefire.forkNumber}} empty unless written
   * {@code $${surefire.forkNumber}} (SUREFIRE-1068), and every JVM then took the first slice.
   */
  static int number(String property) {
    String v = System.getProperty(property);
    if (v == null) {
      return 1;
    }
    try {
      return Integer.parseInt(v.trim());
    } catch (NumberFormatException e) {
      throw new IllegalStateException(property + " is '" + v + "', not a number: see replication's pom", e);
    }
  }

  /**
   * The ports [from, to) of test JVM {@code fork} of {@code forks}: JVMs running side by side each probe
   * and remember only their own, so two never hand out one port between a probe and a bind.
   */
  static int[] slice(int lowest, int ceiling, int fork, int forks) {
    if (forks < 1 || fork < 1 || fork > forks) {
      throw new IllegalArgumentException("test JVM " + fork + " of " + forks);
    }
    int width = (ceiling - lowest) / forks;
    return new int[] {lowest + width * (fork - 1), lowest + width * fork};
  }

  /**
   * Whether nothing on this host holds {@code port} on loopback, not even a connection in TIME_WAIT: the
   * probe binds without SO_REUSEADDR, which Java's ServerSocket would otherwise set.
   */
  static boolean unused(int port) {
    try (ServerSocket s = new ServerSocket()) {
      s.setReuseAddress(false);
      s.bind(new InetSocketAddress(loopback(), port), 1);
      return true;
    } catch (IOException taken) {
      return false;
    }
  }

  private static void remember(int port) {
    HANDED_OUT.add(port);
    if (HANDED_OUT.size() > REMEMBERED_PORTS) {
      HANDED_OUT.remove(HANDED_OUT.iterator().next());
    }
  }

  /** Where the kernel's ephemeral ports begin (Linux: ip_local_port_range; 32768 where it cannot be read). */
  private static int ephemeralLow() {
    try {
      // read line by line: /proc reports a size of 0, and Files.readString returned "3" for "32768 60999"
      String range = java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/sys/net/ipv4/ip_local_port_range")).get(0).trim();
      return Math.max(Integer.parseInt(range.split("\\s+")[0]), LOWEST_TEST_PORT + 1000);
    } catch (IOException | RuntimeException e) {
      return 32768;
    }
  }
}
