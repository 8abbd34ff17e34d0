package io.knowngood.replication;

import io.knowngood.crypto.bundle.VerifiedBundle;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.jgroups.Address;
import org.jgroups.BytesMessage;
import org.jgroups.JChannel;
import org.jgroups.Message;
import org.jgroups.Receiver;
import org.jgroups.fork.ForkChannel;
import org.jgroups.protocols.relay.RELAY2;
import org.jgroups.protocols.relay.SiteAddress;
import org.jgroups.protocols.relay.SiteMaster;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Cross-site anti-entropy, the convergence guarantee between sites (RELAY2 drops what is sent before a
 * bridge forms and does not retransmit across sites): the site master sends its digest to every other
 * site's master each round, pulls the names the other side holds a winning stamp of, and answers pulls
 * with archives. Everything pulled goes through {@link Ingest}, the door every arrival takes (verify,
 * rollback floor, the store's budget); a stored bundle then spreads through its own site by anti-entropy's
 * haves. The master also tells its site when it last heard from each other site ({@link SiteContacts}),
 * since only it knows. Messages are anti-entropy's ({@link AeMessage}) on their own fork channel, above
 * RELAY2 so that a message to a {@link SiteMaster} is relayed.
 */
final class SiteSync implements Receiver, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(SiteSync.class);
  static final String FORK_ID = "site-sync";
  /** The site master's report of its contacts to its own site (not an {@link AeMessage} type). */
  static final byte SITES = 100;
  /** At most this many names in one pull; the rest come next round. */
  static final int MAX_PULL = 64;
  static final int MAX_QUEUED_MESSAGES = 1024;
  static final long MAX_QUEUED_BYTES = 64L << 20;
  private static final long TICK_NANOS = Duration.ofMillis(100).toNanos();

  private final String nodeId;
  private final JChannel main;
  private final MeshConfig.Site site;
  private final LocalBundles local;
  private final Ingest ingest;
  private final Counters counters;
  private final SiteContacts contacts;
  private final long intervalNanos;
  private final long jitterNanos;
  private final SplittableRandom random = new SplittableRandom();
  private final BlockingQueue<Runnable> queue = new LinkedBlockingQueue<>();
  private final MessageBudget budget = new MessageBudget(MAX_QUEUED_MESSAGES, MAX_QUEUED_BYTES);
  /** Names pulled and when (thread only): not pulled again before two rounds have passed; an archive is accepted only for these. */
  private final Map<String, Long> pulled = new HashMap<>();
  /** Per other site, when this node last sent it its digest out of turn (thread only). */
  private final Map<String, Long> answered = new HashMap<>();
  private final Thread thread;
  private volatile ForkChannel fork;
  private volatile boolean closed;
  private long nextRound;
  /** The sites routed to at the last tick (thread only): a route that comes up starts a round at once. */
  private List<String> routed = List.of();

  /** Run on every node each round (whether site master or not). */
  private final Runnable everyRound;

  SiteSync(String nodeId, JChannel main, MeshConfig.Site site, LocalBundles local, Ingest ingest, Counters counters,
           SiteContacts contacts, MeshConfig.Timings timings, Runnable everyRound) {
    this.everyRound = everyRound;
    this.nodeId = nodeId;
    this.main = main;
    this.site = site;
    this.local = local;
    this.ingest = ingest;
    this.counters = counters;
    this.contacts = contacts;
    this.intervalNanos = timings.antiEntropyInterval().toNanos();
    this.jitterNanos = timings.antiEntropyJitter().toNanos();
    this.thread = new Thread(this::run, "kg-site-sync-" + nodeId);
    thread.setDaemon(true);
  }

  /** Registers the fork channel before the main channel connects; the thread connects it once the main one has. */
  void prepare() throws Exception {
    ForkChannel f = new ForkChannel(main, JGroupsStack.FORK_STACK, FORK_ID);
    f.setReceiver(this);
    fork = f;
    thread.start();
  }

  /** The other sites this node has a route to now: none unless it is its site's master with a bridge up. */
  private List<String> routedSites() {
    RELAY2 relay = main.getProtocolStack().findProtocol(RELAY2.class);
    List<String> up = isSiteMaster(relay, main) ? relay.getCurrentSites() : null;
    return up == null ? List.of() : up.stream().filter(s -> !s.equals(site.name())).sorted().toList();
  }

  /**
   * Whether this node is its site's master now. Not {@code RELAY2.isSiteMaster()}: in JGroups 5.5.2 that
   * stays true after the node ceased to be master (its stopped relayer is kept), e.g. a bridgeless node
   * that was master while alone in its view.
   */
  static boolean isSiteMaster(RELAY2 relay, JChannel ch) {
    List<Address> masters = relay == null ? null : relay.siteMasters();
    return masters != null && ch.getAddress() != null && masters.contains(ch.getAddress());
  }

  private void run() {
    boolean connected = false;
    while (!closed) {
      try {
        Runnable step = queue.poll(TICK_NANOS, TimeUnit.NANOSECONDS);
        if (step != null) {
          step.run();
        }
        if (!connected && main.isConnected()) {
          fork.connect(FORK_ID);
          connected = true;
          log.info("{}: cross-site anti-entropy running for site {} (other sites {})", nodeId, site.name(), site.others());
        }
        long now = System.nanoTime();
        List<String> up = connected ? routedSites() : List.of();
        if (!routed.containsAll(up)) {
          nextRound = now; // a bridge (re)formed: what was published meanwhile crosses now, not a round later
        }
        if (!routed.equals(up)) {
          log.info("{}: routes to other sites now {} (were {})", nodeId, up, routed);
        }
        routed = up;
        if (connected && now - nextRound >= 0) {
          nextRound = now + intervalNanos + (jitterNanos > 0 ? random.nextLong(jitterNanos) : 0);
          everyRound.run();
          round();
        }
      } catch (InterruptedException stop) {
        return;
      } catch (Exception failed) {
        if (!closed) {
          log.warn("{}: cross-site anti-entropy step failed: {}", nodeId, failed.toString());
        }
      }
    }
  }

  /** The master sends its digest to every other site and tells its own site what it knows of them. */
  private void round() {
    RELAY2 relay = main.getProtocolStack().findProtocol(RELAY2.class);
    if (!isSiteMaster(relay, main)) {
      return;
    }
    // only over a route that is up: RELAY2 drops (and logs an error for) a message to a site it has no route to
    List<String> up = routedSites();
    byte[] digest = AeMessage.encode(new AeMessage.Digest(local.digest()));
    for (String other : site.others()) {
      if (up.contains(other)) {
        send(new SiteMaster(other), digest);
      }
    }
    Message status = new BytesMessage(null, encodeSites(contacts)).setFlag(Message.Flag.NO_RELAY);
    sendMessage(status);
  }

  @Override
  public void receive(Message msg) {
    Address from = msg.getSrc();
    if (from == null || closed) {
      return;
    }
    byte[] buf = msg.getArray();
    int off = msg.getOffset();
    int len = msg.getLength();
    if (len > 0 && buf[off] == SITES) {
      if (!(from instanceof SiteAddress sa) || site.name().equals(sa.getSite())) {
        decodeSites(buf, off, len).forEach(contacts::heard);
      }
      return;
    }
    if (!(from instanceof SiteAddress sa) || site.name().equals(sa.getSite())) {
      return; // digests, pulls and bundles only come from other sites
    }
    String fromSite = sa.getSite();
    AeMessage.Decoded decoded = AeMessage.decode(buf, off, len);
    if (decoded instanceof AeMessage.Malformed bad) {
      counters.rejected(AntiEntropy.MALFORMED);
      log.warn("{}: malformed cross-site message from site {}: {}", nodeId, fromSite, bad.reason());
      return;
    }
    int bytes = Math.max(1, len);
    if (!budget.tryTake(bytes)) {
      counters.rejected("site_queue_full");
      return;
    }
    AeMessage m = ((AeMessage.Ok) decoded).message();
    queue.add(() -> {
      budget.release(bytes);
      handle(from, fromSite, m);
    });
  }

  private void handle(Address from, String fromSite, AeMessage m) {
    contacts.heardNow(fromSite);
    if (m instanceof AeMessage.Digest d) {
      digest(from, fromSite, d.entries());
    } else if (m instanceof AeMessage.Pull p) {
      for (String name : p.names().subList(0, Math.min(MAX_PULL, p.names().size()))) {
        Optional<VerifiedBundle> b = local.highest(name);
        b.ifPresent(bundle -> send(from, AeMessage.encode(new AeMessage.Bundle(name, bundle.sharedArchive()))));
      }
    } else if (m instanceof AeMessage.Bundle b) {
      // only what this node pulled: another site cannot make it verify archives it never asked for
      if (pulled.remove(b.name()) == null) {
        counters.rejected("unsolicited_bundle");
        return;
      }
      ingest.archiveReceived(b.name(), b.archive(), Ingest.SITE, "site " + fromSite, ok -> {});
    }
  }

  /** Pulls what the other site holds a winning stamp of; answers with this digest at once if the other lacks something. */
  private void digest(Address from, String fromSite, Map<String, VersionStamp> theirs) {
    Map<String, VersionStamp> mine = local.digest();
    long now = System.nanoTime();
    List<String> wanted = new ArrayList<>();
    for (Map.Entry<String, VersionStamp> e : theirs.entrySet()) {
      Long at = pulled.get(e.getKey());
      if (e.getValue().beats(mine.get(e.getKey())) && (at == null || now - at > 2 * intervalNanos)
          && wanted.size() < MAX_PULL) {
        wanted.add(e.getKey());
        pulled.put(e.getKey(), now);
      }
    }
    if (!wanted.isEmpty()) {
      counters.pulls.increment();
      log.debug("{}: pulling {} names from site {}", nodeId, wanted.size(), fromSite);
      send(from, AeMessage.encode(new AeMessage.Pull(wanted)));
    }
    boolean theyLack = mine.entrySet().stream().anyMatch(e -> e.getValue().beats(theirs.get(e.getKey())));
    Long last = answered.get(fromSite);
    if (theyLack && (last == null || now - last > intervalNanos / 2)) {
      answered.put(fromSite, now);
      send(from, AeMessage.encode(new AeMessage.Digest(mine)));
    }
  }

  private void send(Address to, byte[] payload) {
    sendMessage(new BytesMessage(to, payload));
  }

  private void sendMessage(Message m) {
    ForkChannel f = fork;
    if (f == null || closed || !f.isConnected()) {
      return;
    }
    try {
      f.send(m);
    } catch (Exception e) {
      log.debug("{}: cross-site send to {} failed: {}", nodeId, m.getDest(), e.toString());
    }
  }

  static byte[] encodeSites(SiteContacts contacts) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(64);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeByte(SITES);
      List<String> others = contacts.others();
      out.writeShort(others.size());
      for (String s : others) {
        out.writeUTF(s);
        out.writeLong(contacts.lastContact(s).map(Instant::toEpochMilli).orElse(-1L));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  /** Site to last contact; what does not decode is ignored (it comes from a member of this site). */
  static Map<String, Instant> decodeSites(byte[] buf, int off, int len) {
    Map<String, Instant> out = new HashMap<>();
    try {
      DataInputStream in = new DataInputStream(new ByteArrayInputStream(buf, off, len));
      in.readByte();
      int n = Math.min(in.readUnsignedShort(), 256);
      for (int i = 0; i < n; i++) {
        String s = in.readUTF();
        long at = in.readLong();
        if (at >= 0) {
          out.put(s, Instant.ofEpochMilli(at));
        }
      }
    } catch (IOException | RuntimeException e) {
      return Map.of();
    }
    return out;
  }

  @Override
  public void close() {
    closed = true;
    thread.interrupt();
    ForkChannel f = fork;
    if (f != null) {
      f.close();
    }
  }
}
