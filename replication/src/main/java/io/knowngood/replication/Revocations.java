package io.knowngood.replication;

import io.knowngood.crypto.files.AtomicFile;
import io.knowngood.crypto.meshca.NodeCredentials;
import io.knowngood.crypto.meshca.RevocationList;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import javax.net.ssl.SSLSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The mesh CA's revocation list in force on this node, and the mesh connections it has, so that a
 * certificate the list names is refused at every handshake and a connection already open to such a peer
 * is closed as soon as the list naming it is known.
 *
 * <p>The list in force is the newest (highest CRL number) valid list this member has seen, from any of
 * three places: {@code crl.pem} in its TLS directory, which {@link #refresh()} (once a second on the node)
 * reads again when its size, modification time or file key changed; the copy it kept on disk before a
 * restart ({@code keptFile}); and the other members, who each share the list in force as a mesh record
 * ({@link #KEY}, the CA's signed DER bytes, verified here like the file). So an operator copies a new list
 * to any one host and every member has it within a second or two, a member that was down gets it when it
 * rejoins, and no revocation is ever taken back: an older list, a removed file or a damaged one leaves
 * the list in force as it is. A damaged file, or one another CA signed, is the {@link Status#problem()}
 * and logged as an ERROR once it has stayed so for a second look (a copy still being written is read
 * again first); an older one is logged at WARN. A resumed TLS session skips the trust manager, so every
 * completed handshake is checked here too ({@link #track}).
 *
 * <p>Lists are verified with the CA in the trust store that issued this member's own certificate, as the
 * node's start-up check does.
 */
public final class Revocations implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Revocations.class);
  /** How often the node looks at the file. */
  static final long LOOK_EVERY_MILLIS = 1000;
  /** The mesh record under which each member shares the list in force. */
  static final String KEY = "mesh.revocation-list";

  /**
   * What {@code /v1/cluster}, the metrics and explain show. {@code members}: the number of the list each member shares
   * (this one's included, 0 for none), for the members whose record is known here and valid.
   */
  public record Status(Path file, boolean inForce, int revoked, BigInteger number, Instant thisUpdate, String problem,
                       Map<String, BigInteger> members) {
    public Status {
      members = members == null ? Map.of() : Map.copyOf(members);
    }
  }

  /** A file's identity as last read: a change in any of these is read again. */
  private record Stamp(long size, FileTime modified, Object fileKey) {}

  private final String nodeId;
  private final Path file;
  private final Path keptFile;
  private final X509Certificate ca;
  private final X509Certificate own;
  private final TlsRefusals refusals;
  private final Map<SSLSocket, X509Certificate> open = new ConcurrentHashMap<>();
  /** Peers' records already found not valid, by member and content hash: logged once each. */
  private final Set<String> refusedRecords = ConcurrentHashMap.newKeySet();
  /** The newest list seen (file, kept copy or peers); null: none yet. Never replaced by an older one. */
  private volatile RevocationList list;
  private volatile String problem;
  private volatile MeshRecords records;
  /** The number of the valid list each other member shares, as last read from the records. */
  private volatile Map<String, BigInteger> peerNumbers = Map.of();
  private volatile boolean peersChanged;
  private Stamp seen;
  private boolean problemPending;
  private Thread looker;
  private volatile boolean closed;

  /** A node without a list file: revokes nothing, ever. */
  static Revocations none(String nodeId, TlsRefusals refusals) {
    return new Revocations(nodeId, null, null, null, null, refusals);
  }

  /**
   * The list in {@code file} (which may not exist yet), signed by the CA that issued {@code credentials}' certificate; the
   * newest list seen is kept in {@code keptFile} (null: not kept across restarts).
   */
  static Revocations of(String nodeId, Path file, Path keptFile, NodeCredentials credentials, TlsRefusals refusals) {
    X509Certificate own = credentials.certificate();
    X509Certificate ca = issuer(credentials, own);
    if (file == null || ca == null) {
      return none(nodeId, refusals);
    }
    Revocations r = new Revocations(nodeId, file, keptFile, ca, own, refusals);
    r.readKept();
    r.refresh();
    return r;
  }

  private Revocations(String nodeId, Path file, Path keptFile, X509Certificate ca, X509Certificate own, TlsRefusals refusals) {
    this.nodeId = nodeId;
    this.file = file;
    this.keptFile = keptFile;
    this.ca = ca;
    this.own = own;
    this.refusals = Objects.requireNonNull(refusals, "refusals");
  }

  /**
   * Shares the list in force through {@code meshRecords} (this member's record {@link #KEY}, written again whenever a
   * newer list is in force) and takes a newer one from any member's record. Call before the mesh starts: a member's
   * first re-assertion removes the records it does not hold.
   */
  synchronized void share(MeshRecords meshRecords) {
    if (file == null || records != null) {
      return;
    }
    records = meshRecords;
    meshRecords.addListener((key, member) -> {
      if (KEY.equals(key) && !member.equals(meshRecords.selfId())) {
        peersChanged = true; // read on the looker's next round: a listener must not block
      }
    });
    RevocationList l = list;
    if (l != null) {
      shareOwn(l);
    }
  }

  /** Starts looking at the file and the peers' records once a second (a daemon thread); nothing to do without a file. */
  synchronized void start() {
    if (file == null || looker != null || closed) {
      return;
    }
    looker = new Thread(() -> {
      while (!closed) {
        try {
          Thread.sleep(LOOK_EVERY_MILLIS);
        } catch (InterruptedException e) {
          return;
        }
        try {
          refresh();
          if (peersChanged) {
            peersChanged = false;
            fromPeers();
          }
        } catch (RuntimeException e) {
          log.error("{}: reading the mesh revocation list failed; the list in force stays", nodeId, e);
        }
      }
    }, "kg-revocations-" + nodeId);
    looker.setDaemon(true);
    looker.start();
  }

  /**
   * Why the peer presenting {@code leaf} (its own certificate; null: none) is refused, if the list in force
   * names it: "its certificate CN=host-3 (serial ...) was revoked by this mesh's CA at ... (revocation list number N)".
   */
  Optional<String> refusal(X509Certificate leaf) {
    RevocationList l = list;
    if (l == null || leaf == null) {
      return Optional.empty();
    }
    return l.revokedAt(leaf).map(at -> "its certificate " + WatchedTrustManager.cn(leaf.getSubjectX500Principal()) + " (serial "
        + RevocationList.hex(leaf.getSerialNumber()) + ") was revoked by this mesh's CA at " + at + " (revocation list number "
        + l.number() + "): a host removed from the mesh");
  }

  /**
   * A mesh connection whose handshake completed, with the peer's certificate: closed at once if the list
   * in force names it (a resumed session skipped the trust manager), else kept until it closes or a list
   * naming it is read.
   */
  void track(SSLSocket socket, X509Certificate peer) {
    if (file == null || peer == null) {
      return;
    }
    Optional<String> why = refusal(peer);
    if (why.isPresent()) {
      refusals.refused(socket.getInetAddress(), TlsRefusals.Kind.REVOKED, why.get());
      closeQuietly(socket);
      return;
    }
    open.put(socket, peer);
    if (closed) {
      open.remove(socket);
    }
  }

  /** Reads the file again if it changed; true when the list in force changed. */
  synchronized boolean refresh() {
    if (file == null) {
      return false;
    }
    open.keySet().removeIf(SSLSocket::isClosed);
    Stamp now = stamp();
    if (Objects.equals(now, seen)) {
      if (problemPending) {
        problemPending = false;
        log.error("{}: the mesh revocation list {} is not used: {}; {}", nodeId, file, problem, inForceText());
      }
      return false;
    }
    seen = now;
    RevocationList.Read read = RevocationList.read(file, ca);
    RevocationList before = list;
    if (read instanceof RevocationList.Absent) {
      problem = null;
      problemPending = false;
      if (before != null) {
        log.warn("{}: the mesh revocation list {} was removed; {} (no list is taken back: to let a revoked host back, issue it a new "
            + "certificate)", nodeId, file, inForceText());
      }
      return false;
    }
    if (read instanceof RevocationList.Invalid bad) {
      problem = "it is not a list signed by this mesh's CA: " + bad.reason();
      problemPending = true;
      return false;
    }
    RevocationList next = ((RevocationList.Valid) read).list();
    problem = null;
    problemPending = false;
    if (before != null && next.number().compareTo(before.number()) < 0) {
      log.warn("{}: the mesh revocation list {} is number {}, older than number {} in force, which stays (no list is taken back)",
          nodeId, file, next.number(), before.number());
      return false;
    }
    if (before != null && before.number().equals(next.number()) && before.entries().equals(next.entries())) {
      return false;
    }
    adopt(next, "from " + file);
    return true;
  }

  /** Takes the newest valid list the other members share, if it is newer than the one in force; true when it was. */
  synchronized boolean fromPeers() {
    MeshRecords r = records;
    if (r == null) {
      return false;
    }
    RevocationList best = null;
    String from = null;
    Map<String, BigInteger> numbers = new HashMap<>();
    for (Map.Entry<String, byte[]> e : r.of(KEY).entrySet()) {
      if (e.getKey().equals(r.selfId())) {
        continue;
      }
      RevocationList.Read read = RevocationList.parse(e.getValue(), ca);
      if (read instanceof RevocationList.Valid v) {
        RevocationList l = v.list();
        numbers.put(e.getKey(), l.number());
        if ((best == null || l.number().compareTo(best.number()) > 0) && (list == null || l.number().compareTo(list.number()) > 0)) {
          best = l;
          from = e.getKey();
        }
      } else if (read instanceof RevocationList.Invalid bad && logOnce(e.getKey() + " " + Arrays.hashCode(e.getValue()))) {
        log.warn("{}: member {} shares a revocation list that is not one this mesh's CA signed ({}); ignored", nodeId, e.getKey(),
            bad.reason());
      }
    }
    peerNumbers = numbers;
    if (best == null) {
      return false;
    }
    adopt(best, "from member " + from + " through the mesh");
    return true;
  }

  /** True the first time a peer's record is found not valid (bounded: a member that keeps writing garbage is logged again). */
  private boolean logOnce(String memberAndHash) {
    if (refusedRecords.size() >= 1000) {
      refusedRecords.clear();
    }
    return refusedRecords.add(memberAndHash);
  }

  /** {@code next} is the list in force from now on: kept on disk, shared, logged, and the connections it names closed. */
  private void adopt(RevocationList next, String source) {
    RevocationList before = list;
    list = next;
    keep(next);
    shareOwn(next);
    log.info("{}: mesh revocation list number {} in force ({}): {} certificate(s) revoked{}", nodeId, next.number(), source, next.size(),
        before == null ? "" : " (was number " + before.number() + ", " + before.size() + ")");
    if (own != null && next.revokedAt(own).isPresent()) {
      log.error("{}: this node's own certificate {} (serial {}) is revoked by mesh revocation list number {}: the other members refuse "
          + "it (if this host is to stay in the mesh, issue it a new certificate)", nodeId, WatchedTrustManager.cn(own.getSubjectX500Principal()),
          RevocationList.hex(own.getSerialNumber()), next.number());
    }
    closeRevoked();
  }

  /** The copy kept from before a restart, if any: in force until a newer list is seen. */
  private void readKept() {
    if (keptFile == null) {
      return;
    }
    RevocationList.Read read = RevocationList.read(keptFile, ca);
    if (read instanceof RevocationList.Valid v) {
      list = v.list();
    } else if (read instanceof RevocationList.Invalid bad) {
      log.error("{}: the copy of the newest mesh revocation list kept in {} is not usable ({}): it is written again when a list is "
          + "read", nodeId, keptFile, bad.reason());
    }
  }

  /** Writes {@code next} to {@code keptFile} (atomically): after a restart it is in force until a newer list is seen. */
  private void keep(RevocationList next) {
    if (keptFile == null) {
      return;
    }
    try {
      AtomicFile.write(keptFile, next.pem().getBytes(StandardCharsets.US_ASCII));
    } catch (IOException e) {
      log.warn("{}: cannot keep a copy of mesh revocation list number {} in {}: {} (after a restart an older list would be in force "
          + "until the mesh or the file brings this one back)", nodeId, next.number(), keptFile, e.toString());
    }
  }

  /** Puts {@code l} as this member's record, so the others take it if it is newer than theirs. */
  private void shareOwn(RevocationList l) {
    MeshRecords r = records;
    if (r == null) {
      return;
    }
    MeshRecords.PutResult result = r.putOwn(KEY, l.encoded());
    if (result != MeshRecords.PutResult.STORED && result != MeshRecords.PutResult.UNCHANGED) {
      log.warn("{}: mesh revocation list number {} cannot be shared through the mesh ({}: at most {} bytes); copy {} to every host",
          nodeId, l.number(), result, MeshRecords.MAX_VALUE_BYTES, file.getFileName());
    }
  }

  /** Closes every open mesh connection whose peer the list in force names. */
  private void closeRevoked() {
    for (Map.Entry<SSLSocket, X509Certificate> e : new ArrayList<>(open.entrySet())) {
      Optional<String> why = refusal(e.getValue());
      if (why.isPresent()) {
        open.remove(e.getKey());
        if (!e.getKey().isClosed()) {
          log.warn("{}: closing the mesh connection with {}: {}", nodeId, IpText.of(e.getKey().getInetAddress()), why.get());
          closeAside(e.getKey());
        }
      }
    }
  }

  public Status status() {
    RevocationList l = list;
    Map<String, BigInteger> members = new HashMap<>(peerNumbers);
    MeshRecords r = records;
    if (r != null) {
      members.put(r.selfId(), l == null ? BigInteger.ZERO : l.number());
    }
    return new Status(file, l != null, l == null ? 0 : l.size(), l == null ? null : l.number(), l == null ? null : l.thisUpdate(), problem,
        members);
  }

  /** Open connections tracked (tests). */
  int tracked() {
    open.keySet().removeIf(SSLSocket::isClosed);
    return open.size();
  }

  private String inForceText() {
    RevocationList l = list;
    return l == null ? "no certificate is revoked on this node until a valid list is read"
        : "the list in force stays (number " + l.number() + ", " + l.size() + " revoked)";
  }

  private Stamp stamp() {
    try {
      BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
      return new Stamp(a.size(), a.lastModifiedTime(), a.fileKey());
    } catch (NoSuchFileException e) {
      return null;
    } catch (IOException e) {
      return new Stamp(-1, null, e.getClass().getName());
    }
  }

  /** The trust store's CA that signed this member's certificate (the first one when none did: the handshakes fail anyway). */
  private static X509Certificate issuer(NodeCredentials credentials, X509Certificate own) {
    try {
      List<X509Certificate> cas = NodeCredentials.trusted(credentials.trustStore());
      return (own == null ? Optional.<X509Certificate>empty() : NodeCredentials.issuerOf(own, cas)).orElse(cas.isEmpty() ? null : cas.get(0));
    } catch (GeneralSecurityException e) {
      return null;
    }
  }

  /**
   * Closes a revoked peer's connection on a thread of its own: a TLS close sends close_notify, which blocks while the
   * peer reads nothing and the send buffer is full, and the looker must go on.
   */
  private void closeAside(SSLSocket s) {
    Thread t = new Thread(() -> closeQuietly(s), "kg-revoked-close-" + nodeId);
    t.setDaemon(true);
    t.start();
  }

  private static void closeQuietly(SSLSocket s) {
    try {
      s.close();
    } catch (IOException ignored) {
      // closing is all that is left to do
    }
  }

  @Override
  public synchronized void close() {
    closed = true;
    if (looker != null) {
      looker.interrupt();
    }
    open.clear();
  }
}
