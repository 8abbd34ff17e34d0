package io.knowngood.node.pools;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PoolMapTest {

    static final PoolMap POOLS = ok(Map.of(
            "finance", List.of("192.168.10.0/24", "fd00:10::/64"),
            "kiosk", List.of("192.168.20.0/24"),
            "floor2", List.of("192.168.0.0/16"),
            "lab", List.of("fe80::/64", "::1")));

    @Test
    void ipv4_inOnePool_inTwoOverlappingPools_inNone() throws Exception {
        assertThat(POOLS.poolsOf(ip("192.168.10.7"))).containsExactly("finance", "floor2");
        assertThat(POOLS.poolsOf(ip("192.168.20.255"))).containsExactly("floor2", "kiosk");
        assertThat(POOLS.poolsOf(ip("192.168.30.1"))).containsExactly("floor2");
        assertThat(POOLS.poolsOf(ip("10.0.0.1"))).isEmpty();
        assertThat(POOLS.poolsOf(ip("192.169.10.7"))).isEmpty();
    }

    @Test
    void ipv6_prefixAndSingleAddress() throws Exception {
        assertThat(POOLS.poolsOf(ip("fd00:10::42"))).containsExactly("finance");
        assertThat(POOLS.poolsOf(ip("fd00:10:0:0:ffff:ffff:ffff:ffff"))).containsExactly("finance");
        assertThat(POOLS.poolsOf(ip("fd00:10:0:1::1"))).isEmpty();
        assertThat(POOLS.poolsOf(ip("::1"))).containsExactly("lab");
        assertThat(POOLS.poolsOf(ip("::2"))).isEmpty();
    }

    @Test
    void ipv4MappedIpv6_isMatchedAsIpv4() throws Exception {
        byte[] mapped = new byte[16];
        mapped[10] = (byte) 0xff;
        mapped[11] = (byte) 0xff;
        mapped[12] = (byte) 192;
        mapped[13] = (byte) 168;
        mapped[14] = 10;
        mapped[15] = 9;
        InetAddress a = Inet6Address.getByAddress(null, mapped, -1);
        assertThat(a).isInstanceOf(Inet6Address.class);
        assertThat(POOLS.poolsOf(a)).containsExactly("finance", "floor2");
        // and an IPv6 prefix never holds an IPv4 address, nor the reverse
        assertThat(ok(Map.of("all6", List.of("::/0"))).poolsOf(ip("10.0.0.1"))).isEmpty();
        assertThat(ok(Map.of("all4", List.of("0.0.0.0/0"))).poolsOf(ip("fd00::1"))).isEmpty();
        assertThat(ok(Map.of("all4", List.of("0.0.0.0/0"))).poolsOf(a)).containsExactly("all4");
    }

    @Test
    void linkLocalWithAScopeId_matchesWithoutIt() throws Exception {
        InetAddress plain = ip("fe80::5054:ff:fe12:3456");
        InetAddress scoped = Inet6Address.getByAddress(null, plain.getAddress(), 3);
        assertThat(scoped.getHostAddress()).contains("%");
        assertThat(POOLS.poolsOf(scoped)).containsExactly("lab");
        assertThat(POOLS.poolsOf(plain)).containsExactly("lab");
    }

    @Test
    void zeroLength_holdsEveryAddressOfItsFamily() throws Exception {
        PoolMap all = ok(Map.of("everyone", List.of("0.0.0.0/0", "::/0")));
        assertThat(all.poolsOf(ip("1.2.3.4"))).containsExactly("everyone");
        assertThat(all.poolsOf(ip("2001:db8::1"))).containsExactly("everyone");
    }

    @Test
    void noPools_everyAddressIsInNone() throws Exception {
        assertThat(PoolMap.none().poolsOf(ip("192.168.10.7"))).isEmpty();
        assertThat(ok(Map.of())).isEqualTo(PoolMap.none());
        assertThat(PoolMap.none().isEmpty()).isTrue();
    }

    @Test
    void oddPrefixLengths_compareTheRightBits() throws Exception {
        PoolMap m = ok(Map.of("p", List.of("10.0.0.128/25", "2001:db8:8000::/33")));
        assertThat(m.poolsOf(ip("10.0.0.127"))).isEmpty();
        assertThat(m.poolsOf(ip("10.0.0.128"))).containsExactly("p");
        assertThat(m.poolsOf(ip("2001:db8:7fff::1"))).isEmpty();
        assertThat(m.poolsOf(ip("2001:db8:8000::1"))).containsExactly("p");
    }

    @Test
    void bareAddress_isAHostPrefix_andCanonicalTextIsKept() {
        assertThat(prefix("192.168.10.5").toString()).isEqualTo("192.168.10.5/32");
        assertThat(prefix("::1").toString()).isEqualTo("::1/128");
        assertThat(prefix("FD00:0010:0:0::/64").toString()).isEqualTo("fd00:10::/64");
        assertThat(prefix("2001:db8:0:0:1:0:0:1").toString()).isEqualTo("2001:db8::1:0:0:1/128");
        assertThat(prefix("::/0").toString()).isEqualTo("::/0");
        assertThat(ok(Map.of("finance", List.of("fd00:10::/64", "192.168.10.0/24"))).toString())
                .isEqualTo("finance=fd00:10::/64,192.168.10.0/24");
    }

    @Test
    void badPrefixes_sayWhatToWrite() {
        assertThat(bad("192.168.10.5/24")).contains("host bits").contains("192.168.10.0/24");
        assertThat(bad("fd00:10::1/64")).contains("host bits").contains("fd00:10::/64");
        assertThat(bad("fe80::%eth0/64")).contains("zone").contains("fe80::/64");
        assertThat(bad("10.0.0.0/33")).contains("0..32");
        assertThat(bad("fd00::/129")).contains("0..128");
        assertThat(bad("10.0.0.0/-1")).contains("0..32");
        assertThat(bad("10.0.0.0/")).contains("0..32");
        assertThat(bad("256.0.0.0/8")).contains("not an IP prefix");
        assertThat(bad("finance.example.com/24")).contains("host names");
        assertThat(bad("localhost")).contains("host names");
        assertThat(bad("")).contains("not an IP prefix");
        assertThat(bad("fd00:::1")).contains("not an IP prefix");
        assertThat(bad("::ffff:10.0.0.0/104")).contains("IPv4-mapped").contains("10.0.0.0/8");
    }

    @Test
    void badPools_areOneLineEach() {
        assertThat(badMap(Map.of("Finance", List.of("10.0.0.0/8")))).contains("pool name 'Finance'");
        assertThat(badMap(Map.of("finance", List.of()))).contains("no prefixes");
        assertThat(badMap(Map.of("finance", List.of("10.0.0.1/8")))).startsWith("pool finance: ").contains("10.0.0.0/8");
        assertThat(((PoolMap.Parsed.Bad) PoolMap.parseFlags(List.of("finance"))).reason()).contains("NAME=PREFIX");
        assertThat(((PoolMap.Parsed.Bad) PoolMap.parseFlags(List.of("a=10.0.0.0/8", "a=fd00::/8"))).reason()).contains("given twice");
        assertThat(((PoolMap.Parsed.Bad) PoolMap.parseFlags(List.of("a="))).reason()).contains("no prefixes");
    }

    @Test
    void flags_parseToTheSameMapAsTheFile() {
        PoolMap.Parsed p = PoolMap.parseFlags(List.of("finance=192.168.10.0/24, fd00:10::/64", "kiosk=192.168.20.0/24"));
        assertThat(((PoolMap.Parsed.Ok) p).pools())
                .isEqualTo(ok(Map.of("finance", List.of("192.168.10.0/24", "fd00:10::/64"), "kiosk", List.of("192.168.20.0/24"))));
    }

    @Test
    void theSetReturned_isImmutableAndSorted() throws Exception {
        Set<String> s = POOLS.poolsOf(ip("192.168.10.7"));
        assertThat(s).containsExactly("finance", "floor2");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> s.add("kiosk")).isInstanceOf(UnsupportedOperationException.class);
    }

    static PoolMap ok(Map<String, List<String>> m) {
        PoolMap.Parsed p = PoolMap.parse(m);
        assertThat(p).isInstanceOf(PoolMap.Parsed.Ok.class);
        return ((PoolMap.Parsed.Ok) p).pools();
    }

    static String badMap(Map<String, List<String>> m) {
        PoolMap.Parsed p = PoolMap.parse(m);
        assertThat(p).isInstanceOf(PoolMap.Parsed.Bad.class);
        return ((PoolMap.Parsed.Bad) p).reason();
    }

    static IpPrefix prefix(String t) {
        IpPrefix.Parsed p = IpPrefix.parse(t);
        assertThat(p).isInstanceOf(IpPrefix.Parsed.Ok.class);
        return ((IpPrefix.Parsed.Ok) p).prefix();
    }

    static String bad(String t) {
        IpPrefix.Parsed p = IpPrefix.parse(t);
        assertThat(p).as(t).isInstanceOf(IpPrefix.Parsed.Bad.class);
        return ((IpPrefix.Parsed.Bad) p).reason();
    }

    /** Literals only: InetAddress.getByName asks no resolver for them. */
    static InetAddress ip(String literal) throws Exception {
        return InetAddress.getByName(literal);
    }
}
