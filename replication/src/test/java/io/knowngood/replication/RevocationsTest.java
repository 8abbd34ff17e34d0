package io.knowngood.replication;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.knowngood.crypto.meshca.MeshCa;
import io.knowngood.crypto.meshca.NodeCredentials;
import io.knowngood.crypto.meshca.RevocationList;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The revocation list in force: which file replaces it, and the open connections a new one closes. */
class RevocationsTest {
  private static final Duration DEADLINE = Duration.ofSeconds(2);
  @TempDir Path tmp;

  private final MeshCa ca = MeshCa.generate(Clock.systemUTC());
  private final NodeCredentials n1 = ca.issue("n1");
  private final NodeCredentials n2 = ca.issue("n2");
  private final NodeCredentials n3 = ca.issue("n3");

  @Test
  void aListNamingAPeer_refusesIt_anOlderOrDamagedOneChangesNothing_andRemovingTheFileTakesNothingBack() throws Exception {
    Path file = tmp.resolve(RevocationList.FILE);
    TlsRefusals refusals = new TlsRefusals("n1", Clock.systemUTC());
    try (Revocations r = Revocations.of("n1", file, null, n1, refusals)) {
      assertThat(r.refusal(n2.certificate())).isEmpty();

      RevocationList first = ca.revocationList(null, List.of(serial(n2)));
      RevocationList second = ca.revocationList(first, List.of(serial(n3)));
      Files.writeString(file, second.pem());
      assertThat(r.refresh()).isTrue();
      assertThat(r.refusal(n2.certificate())).hasValueSatisfying(why ->
          assertThat(why).startsWith("its certificate CN=n2 (serial " + RevocationList.hex(serial(n2)) + ") was revoked"));
      assertThat(r.refusal(n1.certificate())).isEmpty();
      assertThat(r.status().number()).isEqualTo(BigInteger.TWO);

      Files.writeString(file, first.pem() + "\n"); // an older list put back: n3 would come back
      assertThat(r.refresh()).isFalse();
      assertThat(r.status().problem()).as("an older list is no problem: it is not in force, that is all").isNull();
      assertThat(r.status().number()).isEqualTo(BigInteger.TWO);
      assertThat(r.refusal(n3.certificate())).isPresent();

      Files.writeString(file, "-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n");
      assertThat(r.refresh()).isFalse();
      assertThat(r.status().problem()).startsWith("it is not a list signed by this mesh's CA");
      assertThat(r.status().revoked()).isEqualTo(2);

      Files.writeString(file, ca.revocationList(second, List.of()).pem()); // number 3, the same entries
      assertThat(r.refresh()).isTrue();
      assertThat(r.status().problem()).isNull();
      assertThat(r.status().number()).isEqualTo(BigInteger.valueOf(3));

      Files.delete(file);
      assertThat(r.refresh()).isFalse();
      assertThat(r.status().number()).isEqualTo(BigInteger.valueOf(3));
      assertThat(r.refusal(n2.certificate())).isPresent();
    }
  }

  @Test
  void theNewestListRead_isKeptAcrossARestart_soAnOlderOnePutBackWhileDown_takesNothingBack() throws Exception {
    Path file = tmp.resolve(RevocationList.FILE);
    Path kept = tmp.resolve("data").resolve("mesh-crl.pem");
    Files.createDirectories(kept.getParent());
    RevocationList first = ca.revocationList(null, List.of(serial(n2)));
    RevocationList second = ca.revocationList(first, List.of(serial(n3)));
    Files.writeString(file, second.pem());
    try (Revocations r = Revocations.of("n1", file, kept, n1, new TlsRefusals("n1", Clock.systemUTC()))) {
      assertThat(r.status().number()).isEqualTo(BigInteger.TWO);
      assertThat(Files.readString(kept)).isEqualTo(second.pem());
    }

    Files.writeString(file, first.pem()); // put back while the node was down: n3 would come back
    try (Revocations r = Revocations.of("n1", file, kept, n1, new TlsRefusals("n1", Clock.systemUTC()))) {
      assertThat(r.status().number()).isEqualTo(BigInteger.TWO);
      assertThat(r.refusal(n3.certificate())).isPresent();
      assertThat(Files.readString(kept)).isEqualTo(second.pem()); // the older one is not kept

      Files.delete(file); // removing the file takes nothing back either
      assertThat(r.refresh()).isFalse();
      assertThat(r.status().number()).isEqualTo(BigInteger.TWO);

      RevocationList third = ca.revocationList(second, List.of());
      Files.writeString(file, third.pem());
      assertThat(r.refresh()).isTrue();
      assertThat(r.status().problem()).isNull();
      assertThat(Files.readString(kept)).isEqualTo(third.pem());
    }

    Files.writeString(kept, "damaged");
    Files.writeString(file, first.pem());
    try (Revocations r = Revocations.of("n1", file, kept, n1, new TlsRefusals("n1", Clock.systemUTC()))) {
      // a damaged copy is no floor (logged): the file's list is taken, and kept
      assertThat(r.status().number()).isEqualTo(BigInteger.ONE);
      assertThat(Files.readString(kept)).isEqualTo(first.pem());
    }
  }

  @Test
  void aListAnotherMemberShares_isTakenWhenNewer_keptAndSharedOn_andAForgedOrOlderOneIsIgnored() throws Exception {
    Path file = tmp.resolve(RevocationList.FILE); // this member has no crl.pem: the list comes through the mesh
    Path kept = tmp.resolve("mesh-crl.pem");
    RevocationList first = ca.revocationList(null, List.of(serial(n3)));
    RevocationList second = ca.revocationList(first, List.of(serial(n2)));
    MeshCa other = MeshCa.generate(Clock.systemUTC());
    RevocationList forged = other.revocationList(other.revocationList(other.revocationList(null, List.of()), List.of()), List.of(serial(n1)));
    Records records = new Records("n1");
    try (Revocations r = Revocations.of("n1", file, kept, n1, new TlsRefusals("n1", Clock.systemUTC()))) {
      r.share(records);
      assertThat(records.own.snapshot()).isEmpty();

      records.peer("n2", second.encoded());
      assertThat(r.fromPeers()).isTrue();
      assertThat(r.status().number()).isEqualTo(BigInteger.TWO);
      assertThat(r.refusal(n3.certificate())).isPresent();
      assertThat(Files.readString(kept)).isEqualTo(second.pem());
      assertThat(records.ownList()).as("shared on").isEqualTo(second.encoded());

      records.peer("n4", first.encoded());
      records.peer("n5", forged.encoded()); // number 3, but another CA's
      records.peer("n6", new byte[] {0x30, 0x03, 0x02, 0x01, 0x01});
      assertThat(r.fromPeers()).isFalse();
      assertThat(r.status().number()).isEqualTo(BigInteger.TWO);
      assertThat(r.refusal(n1.certificate())).isEmpty();
      assertThat(r.status().members()).as("each member's list, as shared; forged and damaged ones left out")
          .isEqualTo(Map.of("n1", BigInteger.TWO, "n2", BigInteger.TWO, "n4", BigInteger.ONE));

      Files.writeString(file, first.pem()); // an older crl.pem here: not in force, and no problem
      assertThat(r.refresh()).isFalse();
      assertThat(r.status().problem()).isNull();
      assertThat(r.status().number()).isEqualTo(BigInteger.TWO);
    }

    Records again = new Records("n1"); // restarted: the kept list is in force, and shared before the mesh starts
    try (Revocations r = Revocations.of("n1", file, kept, n1, new TlsRefusals("n1", Clock.systemUTC()))) {
      r.share(again);
      assertThat(r.status().number()).isEqualTo(BigInteger.TWO);
      assertThat(again.ownList()).isEqualTo(second.encoded());
    }
  }

  @Test
  void aNewListNamingAPeer_closesTheConnectionAlreadyOpenWithIt_andNotTheOthers() throws Exception {
    Path file = tmp.resolve(RevocationList.FILE);
    TlsRefusals refusals = new TlsRefusals("n1", Clock.systemUTC());
    try (Revocations r = Revocations.of("n1", file, null, n1, refusals);
         ServerSocket listening = sockets(n1, r).createServerSocket("test", 0, 50, InetAddress.getLoopbackAddress())) {
      Socket fromN2 = connect(listening, n2);
      Socket fromN3 = connect(listening, n3);
      await().atMost(DEADLINE).until(() -> r.tracked() == 2);

      Files.writeString(file, ca.revocationList(null, List.of(serial(n2))).pem());
      assertThat(r.refresh()).isTrue();

      await("n2's connection closed on n1's side").atMost(DEADLINE).until(() -> fromN2.getInputStream().read() == -1);
      assertThat(r.tracked()).isEqualTo(1);
      fromN3.getOutputStream().write(9); // n3's is still open
      fromN3.getOutputStream().flush();
      assertThat(refusals.counts()).doesNotContainKey("revoked"); // closed, not refused: nothing was handshaking
      fromN2.close();
      fromN3.close();
    }
  }

  @Test
  void aRevokedPeer_isRefusedAtTheHandshake_andCountedAsRevoked() throws Exception {
    Path file = tmp.resolve(RevocationList.FILE);
    Files.writeString(file, ca.revocationList(null, List.of(serial(n2))).pem());
    TlsRefusals refusals = new TlsRefusals("n1", Clock.systemUTC());
    try (Revocations r = Revocations.of("n1", file, null, n1, refusals);
         ServerSocket listening = sockets(n1, r, refusals).createServerSocket("test", 0, 50, InetAddress.getLoopbackAddress())) {
      CompletableFuture<Void> accepting = CompletableFuture.runAsync(() -> {
        try {
          listening.accept().close();
        } catch (IOException refused) {
          // what a revoked peer gets
        }
      });
      try (Socket s = sockets(n2, Revocations.none("n2", new TlsRefusals("n2", Clock.systemUTC())))
          .createSocket("test", InetAddress.getLoopbackAddress(), listening.getLocalPort())) {
        try {
          s.getOutputStream().write(1);
          s.getOutputStream().flush();
          s.getInputStream().read();
        } catch (IOException expected) {
          // the handshake failed on the other end
        }
      }
      accepting.get();
      assertThat(refusals.counts()).containsEntry("revoked", 1L);
      assertThat(refusals.snapshot()).singleElement().satisfies(x -> assertThat(x.reason()).contains("was revoked by this mesh's CA"));
    }
  }

  /** A connection from {@code who}, handshaken (one byte sent, read on the accepting side). */
  private Socket connect(ServerSocket listening, NodeCredentials who) throws Exception {
    CompletableFuture<Socket> accepted = CompletableFuture.supplyAsync(() -> {
      try {
        Socket s = listening.accept();
        s.getInputStream().read();
        return s;
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    });
    Socket s = sockets(who, Revocations.none(who.nodeId(), new TlsRefusals(who.nodeId(), Clock.systemUTC())))
        .createSocket("test", InetAddress.getLoopbackAddress(), listening.getLocalPort());
    s.getOutputStream().write(1);
    s.getOutputStream().flush();
    accepted.get();
    return s;
  }

  private static HandshakeFirstSockets sockets(NodeCredentials c, Revocations r) {
    return sockets(c, r, new TlsRefusals(c.nodeId(), Clock.systemUTC()));
  }

  private static HandshakeFirstSockets sockets(NodeCredentials c, Revocations r, TlsRefusals refusals) {
    return new HandshakeFirstSockets(JGroupsStack.meshSockets(c.sslContext(pkix -> new WatchedTrustManager(pkix, refusals, r))),
        DEADLINE, Duration.ofSeconds(1), refusals, r);
  }

  private static BigInteger serial(NodeCredentials c) {
    return c.certificate().getSerialNumber();
  }

  /**
   * This member's records (a {@link LocalRecords}, with its limits) and the peers' records the test sets: MeshRecords is
   * this project's seam.
   */
  private static final class Records implements MeshRecords {
    private final LocalRecords own;
    private final Map<String, byte[]> peers = new ConcurrentHashMap<>();
    private final List<Listener> listeners = new CopyOnWriteArrayList<>();

    Records(String self) {
      this.own = new LocalRecords(self);
    }

    /** This member's revocation-list record, or null. */
    byte[] ownList() {
      return own.snapshot().getOrDefault(Revocations.KEY, Map.of()).get(own.selfId());
    }

    void peer(String member, byte[] value) {
      peers.put(member, value);
      listeners.forEach(l -> l.changed(Revocations.KEY, member));
    }

    @Override
    public PutResult putOwn(String key, byte[] value) {
      return own.putOwn(key, value);
    }

    @Override
    public void removeOwn(String key) {
      own.removeOwn(key);
    }

    @Override
    public Map<String, Map<String, byte[]>> snapshot() {
      Map<String, Map<String, byte[]>> all = new HashMap<>(own.snapshot());
      Map<String, byte[]> lists = new HashMap<>(all.getOrDefault(Revocations.KEY, Map.of()));
      lists.putAll(peers);
      all.put(Revocations.KEY, lists);
      return all;
    }

    @Override
    public String selfId() {
      return own.selfId();
    }

    @Override
    public void addListener(Listener listener) {
      own.addListener(listener);
      listeners.add(listener);
    }
  }
}
