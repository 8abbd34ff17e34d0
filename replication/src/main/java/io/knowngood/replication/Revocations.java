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
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import javax.net.ssl.SSLSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The mesh CA's revocation list in force on this node ({@code crl.pem} in its TLS directory), and the
 * mesh connections it has, so that a certificate the list names is refused at every handshake and a
 * connection already open to such a peer is closed as soon as the list naming it is read.
 *
 * <p>{@link #refresh()} (once a second on the node) reads the file again when its size, modification
 * time or file key changed. A list this CA signed replaces the one in force, unless it is older (a lower
 * CRL number: an old copy put back would take revocations back). The newest list read is kept in a file
 * beside the node's data ({@code keptFile}), so the same holds across restarts: an older list than it
 * puts it in force instead, and is reported. Anything else leaves the list in force as it is and is logged
 * as an ERROR once it has stayed so for a second look (a copy still being written is read again first). A
 * removed file lifts the list (WARN): that is what removing it asks for. A resumed TLS session skips the
 * trust manager, so every completed handshake is checked here too ({@link #track}).
 *
 * <p>Lists are verified with the CA in the trust store that issued this member's own certificate, as the
 * node's start-up check does.
 */
public final class Revocations implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Revocations.class);
  /** How often the node looks at the file. */
  static final long LOOK_EVERY_MILLIS = 1000;

  /** What {@code /v1/cluster}, the metrics and explain show. */
  public record Status(Path file, boolean inForce, int revoked, BigInteger number, Instant thisUpdate, String problem) {}

  /** A file's identity as last read: a change in any of these is read again. */
  private record Stamp(long size, FileTime modified, Object fileKey) {}

  private final String nodeId;
  private final Path file;
  private final Path keptFile;
  private final X509Certificate ca;
  private final TlsRefusals refusals;
  private final Map<SSLSocket, X509Certificate> open = new ConcurrentHashMap<>();
  private volatile RevocationList list;
  /** The newest list this member has read, now or before a restart (kept in {@code keptFile}); never older than {@code list}. */
  private volatile RevocationList newest;
  private volatile String problem;
  private Stamp seen;
  private boolean problemPending;
  private Thread looker;
  private volatile boolean closed;

  /** A node without a list file: revokes nothing, ever. */
  static Revocations none(String nodeId, TlsRefusals refusals) {
    return new Revocations(nodeId, null, null, null, refusals);
  }

  /**
   * The list in {@code file} (which may not exist yet), signed by the CA that issued {@code credentials}' certificate; the
   * newest list read is kept in {@code keptFile} (null: not kept across restarts).
   */
  static Revocations of(String nodeId, Path file, Path keptFile, NodeCredentials credentials, TlsRefusals refusals) {
    X509Certificate ca = issuer(credentials);
    if (file == null || ca == null) {
      return none(nodeId, refusals);
    }
    Revocations r = new Revocations(nodeId, file, keptFile, ca, refusals);
    r.readKept();
    r.refresh();
    return r;
  }

  private Revocations(String nodeId, Path file, Path keptFile, X509Certificate ca, TlsRefusals refusals) {
    this.nodeId = nodeId;
    this.file = file;
    this.keptFile = keptFile;
    this.ca = ca;
    this.refusals = Objects.requireNonNull(refusals, "refusals");
  }

  /** Starts looking at the file once a second (a daemon thread); nothing to do without a file. */
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
        } catch (RuntimeException e) {
          log.error("{}: reading the mesh revocation list {} failed; the list in force stays", nodeId, file, e);
        }
      }
    }, "kg-revocations-" + nodeId);
    looker.setDaemon(true);
    looker.start();
  }

  /**
   * Why the peer presenting {@code leaf} (its own certificate; null: none) is refused, if the list in force
   * names it: "its certificate CN=host-3 (serial ...) was revoked by this mesh's CA at ... (crl.pem number N)".
   */
  Optional<String> refusal(X509Certificate leaf) {
    RevocationList l = list;
    if (l == null || leaf == null) {
      return Optional.empty();
    }
    return l.revokedAt(leaf).map(at -> "its certificate " + WatchedTrustManager.cn(leaf.getSubjectX500Principal()) + " (serial "
        + RevocationList.hex(leaf.getSerialNumber()) + ") was revoked by this mesh's CA at " + at + " (" + file.getFileName()
        + " number " + l.number() + "): a host removed from the mesh");
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
    if (read instanceof RevocationList.Absent) {
      problem = null;
      problemPending = false;
      if (list != null) {
        log.warn("{}: the mesh revocation list {} was removed: no certificate is revoked now (was {})", nodeId, file, list.size());
        list = null;
        return true;
      }
      return false;
    }
    if (read instanceof RevocationList.Invalid bad) {
      problem = "it is not a list signed by this mesh's CA: " + bad.reason();
      problemPending = true;
      return false;
    }
    RevocationList next = ((RevocationList.Valid) read).list();
    RevocationList before = list;
    RevocationList floor = newest;
    if (floor != null && next.number().compareTo(floor.number()) < 0) {
      problem = "it is list number " + next.number() + ", older than number " + floor.number() + " this node has read"
          + (keptFile == null ? "" : " (kept in " + keptFile + ")") + ", which stays in force (an old copy put back? it would take revocations back)";
      problemPending = true;
      if (before == floor) {
        return false;
      }
      list = floor; // at start, or after the file was removed: the newest list read comes back in force
      log.info("{}: mesh revocation list number {} in force, the newest this node has read: {} certificate(s) revoked ({} holds number {})",
          nodeId, floor.number(), floor.size(), file, next.number());
      closeRevoked();
      return true;
    }
    problem = null;
    problemPending = false;
    keep(next, floor);
    if (before != null && before.number().equals(next.number()) && before.entries().equals(next.entries())) {
      list = next;
      return false;
    }
    list = next;
    log.info("{}: mesh revocation list {} number {} in force: {} certificate(s) revoked{}", nodeId, file, next.number(), next.size(),
        before == null ? "" : " (was number " + before.number() + ", " + before.size() + ")");
    closeRevoked();
    return true;
  }

  /** The copy kept from before a restart, if any: the floor no list read later may go below. */
  private void readKept() {
    if (keptFile == null) {
      return;
    }
    RevocationList.Read read = RevocationList.read(keptFile, ca);
    if (read instanceof RevocationList.Valid v) {
      newest = v.list();
    } else if (read instanceof RevocationList.Invalid bad) {
      log.error("{}: the copy of the newest mesh revocation list kept in {} is not usable ({}): an older list than it would be taken; "
          + "it is written again when a list is read", nodeId, keptFile, bad.reason());
    }
  }

  /** {@code next} is the newest list read: kept in memory, and in {@code keptFile} when it differs from the copy there. */
  private void keep(RevocationList next, RevocationList floor) {
    newest = next;
    if (keptFile == null || floor != null && floor.number().equals(next.number()) && floor.entries().equals(next.entries())) {
      return;
    }
    try {
      AtomicFile.write(keptFile, next.pem().getBytes(StandardCharsets.US_ASCII));
    } catch (IOException e) {
      log.warn("{}: cannot keep a copy of mesh revocation list number {} in {}: {} (after a restart an older list would be taken)",
          nodeId, next.number(), keptFile, e.toString());
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
    return new Status(file, l != null, l == null ? 0 : l.size(), l == null ? null : l.number(), l == null ? null : l.thisUpdate(), problem);
  }

  /** Open connections tracked (tests). */
  int tracked() {
    open.keySet().removeIf(SSLSocket::isClosed);
    return open.size();
  }

  private String inForceText() {
    RevocationList l = list;
    return l == null ? "no certificate is revoked on this node until a valid list replaces it"
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
  private static X509Certificate issuer(NodeCredentials credentials) {
    X509Certificate own = credentials.certificate();
    X509Certificate first = null;
    try {
      KeyStore trustStore = credentials.trustStore();
      for (String alias : Collections.list(trustStore.aliases())) {
        if (trustStore.getCertificate(alias) instanceof X509Certificate x) {
          first = first == null ? x : first;
          if (own != null && signedBy(own, x)) {
            return x;
          }
        }
      }
    } catch (GeneralSecurityException e) {
      return first;
    }
    return first;
  }

  private static boolean signedBy(X509Certificate cert, X509Certificate ca) {
    try {
      cert.verify(ca.getPublicKey());
      return true;
    } catch (GeneralSecurityException e) {
      return false;
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
