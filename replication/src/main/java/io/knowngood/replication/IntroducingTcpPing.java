package io.knowngood.replication;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.jgroups.Address;
import org.jgroups.Event;
import org.jgroups.Message;
import org.jgroups.PhysicalAddress;
import org.jgroups.View;
import org.jgroups.conf.ClassConfigurator;
import org.jgroups.protocols.PingData;
import org.jgroups.protocols.PingHeader;
import org.jgroups.protocols.TCPPING;
import org.jgroups.stack.IpAddress;
import org.jgroups.util.NameCache;

/**
 * TCPPING over the configured peers and the remembered ones, with two additions for readdressing
 * without DNS (a host that comes back with a new address, listed by nobody, its own list naming
 * only some of the members):
 *
 * <ul>
 *   <li>A member that is asked by a non-member answers with every member's cluster address,
 *       coordinator first, in the same response as its own, so the newcomer sends its JOIN to the
 *       coordinator even when it listed only another member. (JGroups' {@code return_entire_cache}
 *       does this for every request, members' periodic MERGE3 rounds included: n times the bytes.)
 *   <li>It tells the other members the newcomer's address (at most once per
 *       {@link #INTRODUCE_EVERY_NANOS} per newcomer), so the coordinator can answer its JOIN:
 *       nothing else would tell it, since the newcomer never asked it.
 * </ul>
 *
 * And one for restarts: a newcomer that asks from the cluster address of a member still in this view
 * is that member's next incarnation (two processes cannot hold one address, the port range is 0), so
 * the member in view is dead. It is left out of the answer (else the newcomer, told it is the
 * coordinator, sends its JOIN to its own address and waits out the join timeout, again and again: seen
 * in the soak for up to 18 s) and suspected here at once (verified, then excluded as any suspect),
 * rather than when failure detection gets to it. A second answer follows once the earlier incarnation
 * is out of the view (within 1.5 s), naming the coordinator that replaced it, so the newcomer joins at
 * once instead of waiting out its 2 s join timeout for a coordinator nobody named. (Only the second
 * answer, without the first, left a newcomer with a short join timeout hearing from nobody: it formed
 * a view of its own.)
 *
 * <p>On every view change the members' addresses are handed to {@link RememberedPeers} (off the view
 * thread). All of this travels over the mesh transport, so with TLS only certificate holders ask,
 * answer or are introduced; an address is a hint where to connect, never a credential.
 */
final class IntroducingTcpPing extends TCPPING {
  static final long INTRODUCE_EVERY_NANOS = 10_000_000_000L;
  private static final int MAX_INTRODUCED = 256;

  /** At most one suspicion of an earlier incarnation in this long (its newcomer asks every join attempt). */
  static final long SUSPECT_EVERY_NANOS = 5_000_000_000L;
  /**
   * How long the second answer to a newcomer whose earlier incarnation is in the view may wait for the
   * view without it (suspicion verified in 0.5 s, then a view): below the newcomer's 2 s join timeout.
   */
  static final long ANSWER_WAIT_NANOS = 1_500_000_000L;
  private static final long ANSWER_POLL_MS = 50;
  /** Earlier incarnation -> when it was last suspected here (bounded, oldest dropped). */
  private final Map<Address, Long> suspectedAt = new LinkedHashMap<>(16, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<Address, Long> eldest) {
      return size() > MAX_INTRODUCED;
    }
  };
  private final RememberedPeers remembered;
  private final LongSupplier nanoTime;
  /** Newcomer -> when it was last introduced to the members (bounded, oldest dropped). */
  private final Map<Address, Long> introducedAt = new LinkedHashMap<>(16, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<Address, Long> eldest) {
      return size() > MAX_INTRODUCED;
    }
  };

  /** {@code remembered} may be null: nothing is kept on disk. */
  IntroducingTcpPing(RememberedPeers remembered, LongSupplier nanoTime) {
    this.remembered = remembered;
    this.nanoTime = nanoTime;
    // TCPPING's protocol id, not 0 (unregistered subclass): headers stay those of TCPPING, so nodes
    // running plain TCPPING (a rolling upgrade) still understand this one
    setId(ClassConfigurator.getProtocolId(TCPPING.class));
  }

  @Override
  protected Object handle(PingHeader hdr, Message msg) {
    View v = view;
    if (hdr.type() == PingHeader.GET_MBRS_REQ && is_server && v != null && msg.getSrc() != null
        && !v.containsMember(msg.getSrc())) {
      List<PingData> data = readPingData(msg.getArray(), msg.getOffset(), msg.getLength());
      List<Address> dead = new ArrayList<>();
      if (data != null) {
        for (PingData pd : data) {
          if (pd != null && pd.getPhysicalAddr() != null) {
            dead.addAll(suspectEarlierIncarnations(v, pd.getAddress() != null ? pd.getAddress() : msg.getSrc(),
                pd.getPhysicalAddr()));
          }
        }
      }
      if (!dead.isEmpty()) {
        // answered at once (a newcomer that hears from nobody forms a view of its own), and again once
        // they are out of the view: that answer names the coordinator that replaced them, where a newcomer
        // told of no coordinator waits out its whole join timeout before it asks again
        Object answered = super.handle(hdr, msg);
        answerAgainWhenGone(hdr, msg, dead, nanoTime.getAsLong() + ANSWER_WAIT_NANOS);
        return answered;
      }
    }
    return super.handle(hdr, msg);
  }

  private void answerAgainWhenGone(PingHeader hdr, Message msg, List<Address> dead, long until) {
    View v = view;
    if (v == null || dead.stream().noneMatch(v::containsMember)) {
      super.handle(hdr, msg);
      return;
    }
    if (nanoTime.getAsLong() - until >= 0) {
      return; // answered once already; the newcomer asks again after its join timeout
    }
    try {
      timer.schedule(() -> answerAgainWhenGone(hdr, msg, dead, until), ANSWER_POLL_MS, TimeUnit.MILLISECONDS, false);
    } catch (RejectedExecutionException closing) {
      // the channel is closing
    }
  }

  /** Members of {@code v} other than {@code newcomer} that have its physical address: its dead earlier incarnations. */
  private List<Address> earlierIncarnations(View v, Address newcomer, PhysicalAddress physical) {
    List<Address> out = new ArrayList<>();
    for (Address m : v.getMembersRaw()) {
      if (!m.equals(local_addr) && !m.equals(newcomer) && physical.equals(physicalOf(m))) {
        out.add(m);
      }
    }
    return out;
  }

  /** Suspects the members of {@code v} that are {@code newcomer}'s earlier incarnations (rate-limited); returns them all. */
  private List<Address> suspectEarlierIncarnations(View v, Address newcomer, PhysicalAddress physical) {
    List<Address> dead = earlierIncarnations(v, newcomer, physical);
    if (dead.isEmpty()) {
      return dead;
    }
    long now = nanoTime.getAsLong();
    List<Address> suspect = new ArrayList<>();
    synchronized (suspectedAt) {
      for (Address d : dead) {
        Long last = suspectedAt.get(d);
        if (last == null || now - last >= SUSPECT_EVERY_NANOS) {
          suspectedAt.put(d, now);
          suspect.add(d);
        }
      }
    }
    if (!suspect.isEmpty()) {
      log.info("%s: %s asks to join from %s, where %s of view %s was: suspecting the earlier incarnation", local_addr,
          newcomer, physical, suspect, v.getViewId());
      up_prot.up(new Event(Event.SUSPECT, suspect)); // VERIFY_SUSPECT2 checks it, then GMS excludes it
    }
    return dead;
  }

  @Override
  protected void sendDiscoveryResponse(List<PingData> list, Address sender) {
    View v = view;
    if (!is_server || v == null || sender == null || v.containsMember(sender)) {
      super.sendDiscoveryResponse(list, sender);
      return;
    }
    PhysicalAddress senderPhysical = physicalOf(sender);
    List<Address> dead = senderPhysical == null ? List.of() : earlierIncarnations(v, sender, senderPhysical);
    List<PingData> withMembers = new ArrayList<>();
    for (Address m : v.getMembersRaw()) {
      PhysicalAddress physical = m.equals(local_addr) || dead.contains(m) ? null : physicalOf(m);
      if (physical != null) {
        PingData d = new PingData(m, true, NameCache.get(m), physical).coord(isCoord(m));
        if (d.isCoord()) {
          withMembers.add(0, d); // first: the newcomer's discovery may end at the first coordinator it reads
        } else {
          withMembers.add(d);
        }
      }
    }
    withMembers.addAll(list);
    super.sendDiscoveryResponse(withMembers, sender);
    introduceToMembers(v, sender);
  }

  private void introduceToMembers(View v, Address newcomer) {
    PhysicalAddress physical = physicalOf(newcomer);
    if (physical == null) {
      return;
    }
    long now = nanoTime.getAsLong();
    synchronized (introducedAt) {
      Long last = introducedAt.get(newcomer);
      if (last != null && now - last < INTRODUCE_EVERY_NANOS) {
        return;
      }
      introducedAt.put(newcomer, now);
    }
    String name = NameCache.get(newcomer);
    for (Address m : v.getMembersRaw()) {
      if (!m.equals(local_addr) && !m.equals(newcomer)) {
        sendDiscoveryResponse(newcomer, physical, name, m, false);
      }
    }
  }

  @Override
  public Object down(Event evt) {
    Object result = super.down(evt);
    if (evt.getType() == Event.VIEW_CHANGE && remembered != null) {
      View v = evt.getArg();
      List<InetSocketAddress> peers = new ArrayList<>();
      for (Address m : v.getMembersRaw()) {
        if (!m.equals(local_addr) && physicalOf(m) instanceof IpAddress ip && ip.getIpAddress() != null) {
          peers.add(new InetSocketAddress(ip.getIpAddress(), ip.getPort()));
        }
      }
      try {
        timer.execute(() -> remembered.viewed(peers), true); // an fsync does not hold up the view
      } catch (RejectedExecutionException closing) {
        // the channel is closing: the previous view's list stays on disk
      }
    }
    return result;
  }

  private PhysicalAddress physicalOf(Address logical) {
    return (PhysicalAddress) down_prot.down(new Event(Event.GET_PHYSICAL_ADDRESS, logical));
  }
}
