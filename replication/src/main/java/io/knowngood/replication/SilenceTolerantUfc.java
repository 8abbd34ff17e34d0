package io.knowngood.replication;

import java.util.List;
import java.util.Map;
import org.jgroups.Address;
import org.jgroups.Message;
import org.jgroups.conf.ClassConfigurator;
import org.jgroups.protocols.UFC;
import org.jgroups.util.Credit;

/**
 * UFC that does not wait for credits from a member failure detection hears nothing from ({@link
 * SilenceWaivers}), as {@link SilenceTolerantMfc} does for multicasts. Infinispan sends a write to its
 * key's primary owner by unicast, and a bundle over the push limit (1 MiB) reaches the members by that
 * write: once 4 MB of them had gone to a silent primary owner still in this node's view, UFC held this
 * node's next unicast to it for as long as the cut lasted, and with it the publish that sent it
 * (regression test with 2.5 MiB bundles: a publish thread in {@code Credit.decrementIfEnoughCredits}).
 */
final class SilenceTolerantUfc extends UFC implements SilenceWaivers.Tolerant {
  private final SilenceWaivers waivers = new SilenceWaivers("UFC", new SilenceWaivers.Credits() {
    @Override
    public void waive(Address member) {
      Credit c = sent.remove(member);
      if (c != null) {
        c.reset(); // wakes a sender waiting for it; it then finds the member gone and sends
      }
    }

    @Override
    @SuppressWarnings("unchecked")
    public void restore(Address member) {
      ((Map<Address, Credit>) sent).putIfAbsent(member, new Credit(max_credits));
    }
  }, log);

  SilenceTolerantUfc() {
    // UFC's protocol id: its credit headers stay UFC's on the wire
    setId(ClassConfigurator.getProtocolId(UFC.class));
  }

  @Override
  public SilenceWaivers waivers() {
    return waivers;
  }

  @Override
  protected void handleViewChange(List<Address> mbrs) {
    if (mbrs != null) {
      waivers.view(mbrs, () -> super.handleViewChange(mbrs));
    }
  }

  @Override
  protected Object handleDownMessage(Message msg, int length) {
    waivers.sent(msg.getDest(), length);
    return super.handleDownMessage(msg, length);
  }
}
