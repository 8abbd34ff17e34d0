package io.knowngood.node.config;

import io.knowngood.replication.IpText;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * An IP literal and a port, as written in the config and on the command line: {@code 127.0.0.1:8780}
 * or {@code [fe80::1%br0]:8780}. Host names are refused on purpose: the node never needs DNS, and a
 * resolver that is down must not keep it from starting.
 */
public record IpEndpoint(InetAddress address, int port) {

    private static final Pattern IPV4 = Pattern.compile("^(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)(\\.(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)){3}$");
    private static final Pattern IPV6_BODY = Pattern.compile("^[0-9A-Fa-f:.]+(%[A-Za-z0-9_.-]+)?$");

    public IpEndpoint {
        Objects.requireNonNull(address, "address");
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port out of range: " + port);
        }
    }

    /** Parses {@code IPv4:PORT} or {@code [IPv6]:PORT}; throws IllegalArgumentException with a readable message. */
    public static IpEndpoint parse(String text) {
        String s = text == null ? "" : text.trim();
        String host;
        String portText;
        if (s.startsWith("[")) {
            int close = s.indexOf(']');
            if (close < 0 || close + 1 >= s.length() || s.charAt(close + 1) != ':') {
                throw new IllegalArgumentException("expected [IPv6]:PORT, got '" + text + "'");
            }
            host = s.substring(1, close);
            portText = s.substring(close + 2);
            if (!host.contains(":") || !IPV6_BODY.matcher(host).matches()) {
                throw new IllegalArgumentException("not an IPv6 literal: '" + host + "'");
            }
        } else {
            int colon = s.lastIndexOf(':');
            if (colon < 0 || s.indexOf(':') != colon) {
                throw new IllegalArgumentException("expected IP:PORT (IPv6 in brackets), got '" + text + "'");
            }
            host = s.substring(0, colon);
            portText = s.substring(colon + 1);
            if (!IPV4.matcher(host).matches()) {
                throw new IllegalArgumentException("not an IPv4 literal (host names are not accepted): '" + host + "'");
            }
        }
        int port;
        try {
            port = Integer.parseInt(portText);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("bad port in '" + text + "'");
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port out of range in '" + text + "'");
        }
        try {
            // Only literals reach this point, so no resolver is consulted.
            return new IpEndpoint(InetAddress.getByName(host), port);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("bad IP literal '" + host + "': " + e.getMessage());
        }
    }

    /** Parses a comma-separated list; empty text gives an empty list. */
    public static List<IpEndpoint> parseList(String text) {
        List<IpEndpoint> out = new ArrayList<>();
        if (text == null || text.isBlank()) {
            return out;
        }
        for (String part : text.split(",")) {
            if (!part.isBlank()) {
                out.add(parse(part));
            }
        }
        return out;
    }

    public InetSocketAddress socketAddress() {
        return new InetSocketAddress(address, port);
    }

    public IpEndpoint withPort(int newPort) {
        return new IpEndpoint(address, newPort);
    }

    @Override
    public String toString() {
        if (address instanceof Inet6Address) {
            return "[" + IpText.of(address) + "]:" + port;
        }
        return IpText.of(address) + ":" + port;
    }
}
