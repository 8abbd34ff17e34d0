package io.knowngood.node.pools;

import io.knowngood.replication.IpText;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.regex.Pattern;

/**
 * An IPv4 or IPv6 prefix as a pool lists it ({@code 192.168.10.0/24}, {@code fd00:10::/64}; a bare
 * address is a /32 or /128). Written in its canonical form only: host bits set, a zone, a host name
 * or an IPv4-mapped IPv6 prefix are refused with the form to write instead. Matching compares the
 * address bytes; nothing here ever asks a resolver.
 */
public final class IpPrefix {

    private static final Pattern IPV4 = Pattern.compile("^(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)(\\.(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)){3}$");
    private static final Pattern IPV6 = Pattern.compile("^[0-9A-Fa-f:.]+$");
    private static final Pattern LENGTH = Pattern.compile("^\\d{1,3}$");

    private final byte[] network;
    private final int length;

    private IpPrefix(byte[] network, int length) {
        this.network = network;
        this.length = length;
    }

    /** What {@link #parse} found: a prefix, or why the text is not one. */
    public sealed interface Parsed {
        record Ok(IpPrefix prefix) implements Parsed {}

        record Bad(String reason) implements Parsed {}
    }

    /** Parses {@code ADDRESS[/LENGTH]}. */
    public static Parsed parse(String text) {
        String t = text == null ? "" : text.trim();
        int slash = t.indexOf('/');
        String addr = slash < 0 ? t : t.substring(0, slash);
        if (addr.indexOf('%') >= 0) {
            return new Parsed.Bad("'" + t + "': a prefix has no zone (%" + addr.substring(addr.indexOf('%') + 1)
                    + "); VM source addresses are matched without their zone, write " + addr.substring(0, addr.indexOf('%'))
                    + (slash < 0 ? "" : t.substring(slash)));
        }
        byte[] bytes;
        boolean v6 = addr.contains(":");
        if (!v6 && IPV4.matcher(addr).matches() || v6 && IPV6.matcher(addr).matches()) {
            try {
                // only literals get here (an IPv6 one holds ':'), so no resolver is consulted
                InetAddress a = InetAddress.getByName(addr);
                if (v6 && a instanceof Inet4Address) {
                    return new Parsed.Bad("'" + t + "' is an IPv4-mapped IPv6 prefix; VM addresses of that form are matched as IPv4,"
                            + " write it as IPv4 (for example " + a.getHostAddress() + "/" + Math.max(0, lengthOr(t, slash, 128) - 96) + ")");
                }
                bytes = a.getAddress();
            } catch (UnknownHostException e) {
                return new Parsed.Bad("'" + t + "' is not an IP prefix: " + e.getMessage());
            }
        } else {
            return new Parsed.Bad("'" + t + "' is not an IP prefix like 192.168.10.0/24 or fd00:10::/64 (host names are not accepted)");
        }
        int max = bytes.length * 8;
        int length = max;
        if (slash >= 0) {
            String l = t.substring(slash + 1);
            if (!LENGTH.matcher(l).matches() || Integer.parseInt(l) > max) {
                return new Parsed.Bad("'" + t + "': prefix length must be 0.." + max);
            }
            length = Integer.parseInt(l);
        }
        byte[] masked = masked(bytes, length);
        if (!Arrays.equals(masked, bytes)) {
            IpPrefix canonical = new IpPrefix(masked, length);
            return new Parsed.Bad("'" + t + "' has host bits set; did you mean " + canonical + "?");
        }
        return new Parsed.Ok(new IpPrefix(bytes, length));
    }

    private static int lengthOr(String t, int slash, int dflt) {
        String l = slash < 0 ? "" : t.substring(slash + 1);
        return LENGTH.matcher(l).matches() ? Integer.parseInt(l) : dflt;
    }

    /**
     * True if {@code address} (normalised: see {@link #normalise}) is in this prefix. An IPv4 prefix
     * holds IPv4 addresses only and an IPv6 prefix IPv6 ones.
     */
    public boolean contains(InetAddress address) {
        byte[] a = normalise(address);
        if (a.length != network.length) {
            return false;
        }
        int full = length / 8;
        for (int i = 0; i < full; i++) {
            if (a[i] != network[i]) {
                return false;
            }
        }
        int rest = length % 8;
        if (rest == 0) {
            return true;
        }
        int mask = (0xff << (8 - rest)) & 0xff;
        return (a[full] & mask) == (network[full] & mask);
    }

    /**
     * The bytes a VM's source address is matched by: 4 for IPv4 and for an IPv4-mapped IPv6 address
     * ({@code ::ffff:a.b.c.d}, as a dual-stack socket may report an IPv4 client), else the 16 bytes
     * of the IPv6 address (its zone or scope id plays no part).
     */
    static byte[] normalise(InetAddress address) {
        byte[] a = address.getAddress();
        if (address instanceof Inet6Address && isMapped(a)) {
            return Arrays.copyOfRange(a, 12, 16);
        }
        return a;
    }

    private static boolean isMapped(byte[] a) {
        for (int i = 0; i < 10; i++) {
            if (a[i] != 0) {
                return false;
            }
        }
        return a[10] == (byte) 0xff && a[11] == (byte) 0xff;
    }

    private static byte[] masked(byte[] bytes, int length) {
        byte[] out = bytes.clone();
        for (int i = 0; i < out.length; i++) {
            int bitsHere = Math.max(0, Math.min(8, length - i * 8));
            out[i] &= (byte) ((0xff << (8 - bitsHere)) & 0xff);
        }
        return out;
    }

    public int length() {
        return length;
    }

    public boolean isIpv6() {
        return network.length == 16;
    }

    /** The canonical text: {@code 192.168.10.0/24}, {@code fd00:10::/64} (IPv6 compressed as RFC 5952 says). */
    @Override
    public String toString() {
        return (isIpv6() ? IpText.compressed(network) : ipv4(network)) + "/" + length;
    }

    private static String ipv4(byte[] b) {
        return (b[0] & 0xff) + "." + (b[1] & 0xff) + "." + (b[2] & 0xff) + "." + (b[3] & 0xff);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof IpPrefix p && p.length == length && Arrays.equals(p.network, network);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(network) + length;
    }
}
