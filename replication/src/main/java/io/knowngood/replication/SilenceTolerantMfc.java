package io.knowngood.replication;

import java.util.List;
import org.jgroups.Address;
import org.jgroups.Message;
import org.jgroups.conf.ClassConfigurator;
import org.jgroups.protocols.MFC;

/**
 * MFC that does not wait for credits from a member failure detection hears nothing from ({@link
 * SilenceWaivers}: until it is heard, leaves the view, or 32 MiB have been multicast meanwhile).
 *
 * <p>MFC lets a node multicast {@code max_credits} bytes past what the slowest member in its view has
 * acknowledged, then blocks every multicast until that member sends credits. A member that is cut off
 * but stays in this node's view never does: with a cut between the coordinator and a member that is not
 * next in line, that member keeps the coordinator in its view for as long as the cut lasts (it cannot
 * take over, and the coordinator's view without it cannot reach it). In the regression test such a
 * member's publishes waited in MFC for the whole fault, and with them everything it had to say to the
 * member it still reached. {@link ReconnectingFdAll3} reports the silent members and the ones heard again.
 */
final class SilenceTolerantMfc extends MFC implements SilenceWaivers.Tolerant {
  private final SilenceWaivers waivers = new SilenceWaivers("MFC", new SilenceWaivers.Credits() {
    @Override
    public void waive(Address member) {
      credits.remove(member); // wakes senders waiting only for it
    }

    @Override
    public void restore(Address member) {
      credits.putIfAbsent(member);
    }
  }, log);

  SilenceTolerantMfc() {
    // MFC's protocol id: its credit headers stay MFC's on the wire
    setId(ClassConfigurator.getProtocolId(MFC.class));
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
    waivers.sent(null, length);
    return super.handleDownMessage(msg, length);
  }
}
