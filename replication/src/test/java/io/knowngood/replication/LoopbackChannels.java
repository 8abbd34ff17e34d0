package io.knowngood.replication;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import org.jgroups.Event;
import org.jgroups.JChannel;
import org.jgroups.View;
import org.jgroups.protocols.MERGE3;
import org.jgroups.protocols.pbcast.GMS;
import org.jgroups.stack.ProtocolStack;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Channels on the mesh's own JGroups stack ({@link JGroupsStack}) over loopback, without Infinispan,
 * for tests of what JGroups does; every channel started is closed after each test. Register it with
 * {@code @RegisterExtension}.
 */
final class LoopbackChannels implements AfterEachCallback {
  /** A change made to a channel's stack after it is built and before it connects. */
  @FunctionalInterface
  interface StackChange {
    void apply(ProtocolStack stack) throws Exception;
  }

  /** A member's configuration: its id, its bind address, and every member's address as its peers. */
  @FunctionalInterface
  interface ConfigFor {
    MeshConfig config(String id, InetSocketAddress bind, List<InetSocketAddress> peers);
  }

  /** Members started by {@link #startInOneView}: {@code channels.get(i)} is bound to {@code addresses.get(i)}. */
  record Members(List<JChannel> channels, List<InetSocketAddress> addresses) {
    JChannel get(int i) {
      return channels.get(i);
    }
  }

  private final List<JChannel> channels = new ArrayList<>();

  /** A loopback address whose port and the next one (FD_SOCK2's) are free. */
  static InetSocketAddress freeAddress() {
    return new InetSocketAddress(TestCluster.loopback(), TestCluster.freePortPair());
  }

  /** Builds {@code config}'s stack, applies {@code change}, connects (returns once joined or alone). */
  JChannel start(MeshConfig config, boolean withDiscard, StackChange change) throws Exception {
    JChannel ch = JGroupsStack.build(config, withDiscard);
    change.apply(ch.getProtocolStack());
    channels.add(ch);
    ch.connect(config.clusterName());
    return ch;
  }

  /**
   * {@code ids.length} members at free addresses, each with all of them as peers, started in order (so
   * the first coordinates) and returned once all are in one view.
   */
  Members startInOneView(ConfigFor configFor, boolean withDiscard, StackChange change, String... ids) throws Exception {
    List<InetSocketAddress> addresses = new ArrayList<>();
    for (int i = 0; i < ids.length; i++) {
      addresses.add(freeAddress());
    }
    List<JChannel> started = new ArrayList<>();
    for (int i = 0; i < ids.length; i++) {
      started.add(start(configFor.config(ids[i], addresses.get(i), addresses), withDiscard, change));
    }
    TestCluster.awaitChannelViews(started.toArray(new JChannel[0]));
    return new Members(List.copyOf(started), List.copyOf(addresses));
  }

  static GMS gms(JChannel ch) {
    return ch.getProtocolStack().findProtocol(GMS.class);
  }

  static MERGE3 merge3(JChannel ch) {
    return ch.getProtocolStack().findProtocol(MERGE3.class);
  }

  /** Announces {@code next} below GMS with a {@code TMP_VIEW}, as GMS does before it installs a view. */
  static void announce(JChannel ch, View next) {
    gms(ch).getDownProtocol().down(new Event(Event.TMP_VIEW, next));
  }

  @Override
  public void afterEach(ExtensionContext context) {
    channels.forEach(JChannel::close);
    channels.clear();
  }
}
