package io.knowngood.replication;

import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jgroups.Address;

/**
 * Which members' flow-control credits are waived because failure detection finds them silent, for
 * {@link SilenceTolerantMfc} and {@link SilenceTolerantUfc}. A member in view that failure detection
 * reports silent ({@link #silent}) is waived (its credits leave the protocol, which wakes senders waiting
 * for it) until it is heard again ({@link #heard}), leaves the view, or {@link #MAX_BYTES} have been sent
 * to it meanwhile ({@link #sent}); then it counts again, and this silence is not waived again. The bound
 * keeps what the reliable protocols hold for it (NAKACK2, UNICAST3 keep each message until it is
 * acknowledged) as bounded as flow control did. Thread-safe.
 */
final class SilenceWaivers {
  /** Bytes sent to a silent member while its credits are waived, per silence, before it counts again. */
  static final long MAX_BYTES = 32L << 20;

  /**
   * A flow-control protocol that keeps its waivers here; {@link ReconnectingFdAll3} tells every such
   * protocol in the stack which members are silent and which are heard again.
   */
  interface Tolerant {
    SilenceWaivers waivers();

    /** Failure detection has heard nothing from {@code suspects} within its timeout. */
    default void silent(Collection<Address> suspects) {
      waivers().silent(suspects);
    }

    /** Failure detection heard from {@code member} again. */
    default void heard(Address member) {
      waivers().heard(member);
    }

    /** Credits currently waived (tests). */
    default Set<Address> waived() {
      return waivers().waived();
    }
  }

  /** What a flow-control protocol does for a waiver. */
  interface Credits {
    /** Stop waiting for {@code member}'s credits (and wake whoever waits for them). */
    void waive(Address member);

    /** Count {@code member}'s credits again, from full. */
    void restore(Address member);
  }

  private final String protocol;
  private final Credits credits;
  private final org.jgroups.logging.Log log;
  private final Object lock = new Object();
  private final Map<Address, Long> waived = new HashMap<>(); // member -> bytes sent to it while waived
  private final Set<Address> exhausted = new HashSet<>();
  private List<Address> members = List.of();
  /** Whether anyone is waived now: the fast path of every message reads only this. */
  private volatile boolean waiving;

  SilenceWaivers(String protocol, Credits credits, org.jgroups.logging.Log log) {
    this.protocol = protocol;
    this.credits = credits;
    this.log = log;
  }

  /** Failure detection has heard nothing from {@code suspects} within its timeout (at each check while it lasts). */
  void silent(Collection<Address> suspects) {
    synchronized (lock) {
      for (Address m : suspects) {
        if (members.contains(m) && !exhausted.contains(m) && !waived.containsKey(m)) {
          waived.put(m, 0L);
          credits.waive(m);
          log.debug("%s: %s is silent: messages no longer wait for its credits", protocol, m);
        }
      }
      waiving = !waived.isEmpty();
    }
  }

  /** Failure detection heard from {@code member} again. */
  void heard(Address member) {
    synchronized (lock) {
      exhausted.remove(member);
      if (waived.remove(member) != null && members.contains(member)) {
        credits.restore(member);
      }
      waiving = !waived.isEmpty();
    }
  }

  /**
   * A new view: {@code handle} runs the protocol's own view handling (which gives every member full
   * credits); members that left are forgotten, and the ones still waived are waived again.
   */
  void view(List<Address> mbrs, Runnable handle) {
    synchronized (lock) {
      members = List.copyOf(mbrs);
      waived.keySet().retainAll(mbrs);
      exhausted.retainAll(mbrs);
      handle.run();
      waived.keySet().forEach(credits::waive);
      waiving = !waived.isEmpty();
    }
  }

  /** {@code length} bytes go to {@code dest}, or to every member for null (a multicast). */
  void sent(Address dest, int length) {
    if (!waiving) {
      return;
    }
    synchronized (lock) {
      if (dest != null) {
        if (waived.containsKey(dest)) {
          count(dest, length);
        }
      } else {
        for (Address m : List.copyOf(waived.keySet())) {
          count(m, length);
        }
      }
      waiving = !waived.isEmpty();
    }
  }

  /** Adds {@code length} to what went to the waived {@code member}; past {@link #MAX_BYTES} it counts again. */
  private void count(Address member, int length) {
    long bytes = waived.merge(member, (long) length, Long::sum);
    if (bytes >= MAX_BYTES) {
      log.warn("%s: %d bytes sent while %s stayed silent in the view: messages wait for its credits again",
          protocol, bytes, member);
      waived.remove(member);
      exhausted.add(member);
      credits.restore(member);
    }
  }

  /** The members waived now (tests). */
  Set<Address> waived() {
    synchronized (lock) {
      return Set.copyOf(waived.keySet());
    }
  }
}
