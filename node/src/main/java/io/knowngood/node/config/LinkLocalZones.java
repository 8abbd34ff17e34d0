package io.knowngood.node.config;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.List;
import java.util.Optional;

/**
 * What an IPv6 link-local address (fe80::/10) needs to work here, checked before the node starts so
 * that a mistake is one line naming the address rather than "Invalid argument" from a bind or a mesh
 * that retries forever. Every link-local address carries its zone (the interface of its link: the
 * same fe80:: address may exist on every link). A link-local peer also needs a link-local
 * {@code cluster-bind} with the same zone: JGroups binds each outgoing connection to the cluster-bind
 * address and drops the destination's zone when it connects ({@code org.jgroups.util.Util.connect}),
 * so the link the connection leaves on is cluster-bind's, whatever the peer's zone says.
 */
final class LinkLocalZones {
    private LinkLocalZones() {
    }

    /** The first rule the addresses break, as one line for the operator, or empty when they are fine. */
    static Optional<String> problem(List<IpEndpoint> vmBind, IpEndpoint adminBind, IpEndpoint clusterBind, List<IpEndpoint> peers,
            boolean standalone) {
        List<Bind> addresses = Bind.all(vmBind, adminBind, clusterBind, !standalone);
        if (!standalone) {
            peers.forEach(e -> addresses.add(new Bind("peers", e)));
        }
        for (Bind b : addresses) {
            IpEndpoint e = b.endpoint();
            if (linkLocal(e.address()) && zone(e.address()) == 0) {
                return Optional.of(b.setting() + " " + e + ": a link-local address needs the zone of its link, e.g. [fe80::1%br0]:"
                        + e.port() + " (the same fe80:: address can exist on every interface)");
            }
        }
        if (standalone) {
            return Optional.empty();
        }
        for (IpEndpoint peer : peers) {
            if (linkLocal(peer.address())
                    && (!linkLocal(clusterBind.address()) || zone(clusterBind.address()) != zone(peer.address()))) {
                return Optional.of("peers " + peer + ": a link-local peer is reached only from a link-local cluster-bind on the same link"
                        + " (the mesh connects from cluster-bind and drops the peer's zone), but cluster-bind is " + clusterBind
                        + "; use one zone for both, or a global or ULA (fd00::/8) address for the cluster network");
            }
        }
        return Optional.empty();
    }

    /** {@link #problem} as the IllegalArgumentException that config validation throws (exit 2). */
    static void check(List<IpEndpoint> vmBind, IpEndpoint adminBind, IpEndpoint clusterBind, List<IpEndpoint> peers, boolean standalone) {
        problem(vmBind, adminBind, clusterBind, peers, standalone).ifPresent(p -> {
            throw new IllegalArgumentException(p);
        });
    }

    private static boolean linkLocal(InetAddress a) {
        return a instanceof Inet6Address && a.isLinkLocalAddress();
    }

    /** The interface index of the zone, 0 for none (an address given by interface name has its index too). */
    private static int zone(InetAddress a) {
        Inet6Address six = (Inet6Address) a;
        return six.getScopedInterface() != null ? six.getScopedInterface().getIndex() : six.getScopeId();
    }
}
