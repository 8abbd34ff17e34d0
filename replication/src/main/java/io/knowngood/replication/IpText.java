package io.knowngood.replication;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.NetworkInterface;

/**
 * An IP address as text the way an admin writes it: {@code 192.168.10.7}, {@code fe80::1%br0}. IPv6 is
 * compressed as RFC 5952 says, where the JDK's {@link InetAddress#getHostAddress()} writes every group
 * ({@code fe80:0:0:0:0:0:0:1}): the node's messages, logs and answers then show the address a user
 * configured or a VM came from in the form they know it by. The mesh's addresses (logs, members) and the
 * node's (binds, pools, explain, audit, VM reports) are written with it.
 */
public final class IpText {

  private IpText() {
  }

  /** The address with its zone, if it has one ({@code fe80::1%br0}, or the numeric scope id). */
  public static String of(InetAddress address) {
    if (!(address instanceof Inet6Address v6)) {
      return address.getHostAddress();
    }
    NetworkInterface nif = v6.getScopedInterface();
    String zone = nif != null ? nif.getName() : v6.getScopeId() != 0 ? Integer.toString(v6.getScopeId()) : null;
    String text = compressed(v6.getAddress());
    return zone == null ? text : text + "%" + zone;
  }

  /**
     * The address without a zone, an IPv4-mapped IPv6 address as IPv4: one VM is one address, whichever
     * link or socket family it came in on.
     */
  public static String withoutZone(InetAddress address) {
    if (!(address instanceof Inet6Address)) {
      return address.getHostAddress();
    }
    byte[] b = address.getAddress();
    for (int i = 0; i < 10; i++) {
      if (b[i] != 0) {
        return compressed(b);
      }
    }
    if ((b[10] & 0xff) == 0xff && (b[11] & 0xff) == 0xff) {
      return (b[12] & 0xff) + "." + (b[13] & 0xff) + "." + (b[14] & 0xff) + "." + (b[15] & 0xff);
    }
    return compressed(b);
  }

  /** RFC 5952 of 16 bytes: lower case, no leading zeros, the longest run (first if tied) of two or more zero groups as {@code ::}. */
  public static String compressed(byte[] b) {
    int[] g = new int[8];
    for (int i = 0; i < 8; i++) {
      g[i] = ((b[2 * i] & 0xff) << 8) | (b[2 * i + 1] & 0xff);
    }
    int bestStart = -1;
    int bestLen = 0;
    for (int i = 0; i < 8; ) {
      if (g[i] != 0) {
        i++;
        continue;
      }
      int j = i;
      while (j < 8 && g[j] == 0) {
        j++;
      }
      if (j - i > bestLen) {
        bestStart = i;
        bestLen = j - i;
      }
      i = j;
    }
    if (bestLen < 2) {
      bestStart = -1;
    }
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < 8; i++) {
      if (i == bestStart) {
        sb.append("::");
        i += bestLen - 1;
        continue;
      }
      if (sb.length() > 0 && sb.charAt(sb.length() - 1) != ':') {
        sb.append(':');
      }
      sb.append(Integer.toHexString(g[i]));
    }
    return sb.toString();
  }
}
