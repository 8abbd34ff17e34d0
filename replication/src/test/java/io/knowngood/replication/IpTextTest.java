package io.knowngood.replication;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class IpTextTest {

  @ParameterizedTest
  @CsvSource({
      "192.168.10.7, 192.168.10.7",
      "::1, ::1",
      "::, ::",
      "FE80:0000:0000:0000:0000:0000:0000:0001, fe80::1",
      "2001:db8:0:0:1:0:0:1, 2001:db8::1:0:0:1",   // the first of two equal runs
      "2001:db8:0:1:1:1:1:1, 2001:db8:0:1:1:1:1:1", // one zero group stays a 0
      "fd00:10:0:0:0:0:0:7, fd00:10::7",
  })
  void ipv6_isCompressedAsRfc5952Says(String written, String text) throws Exception {
    assertThat(IpText.of(InetAddress.getByName(written))).isEqualTo(text);
  }

  @Test
  void aNumericZone_isKept_butNotInTheVmsIdentity() throws Exception {
    InetAddress scoped = Inet6Address.getByAddress(null, InetAddress.getByName("fe80::7").getAddress(), 3);

    assertThat(IpText.of(scoped)).isEqualTo("fe80::7%3");
    assertThat(IpText.withoutZone(scoped)).isEqualTo("fe80::7");
  }

  @Test
  void anIpv4MappedAddress_isTheVmsIpv4Address() throws Exception {
    byte[] mapped = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xff, (byte) 0xff, 10, 0, 0, 9};
    InetAddress v6 = Inet6Address.getByAddress(null, mapped, 0);

    assertThat(IpText.withoutZone(v6)).isEqualTo("10.0.0.9");
  }

  @Test
  void meshAddresses_printTheCompressedForm() throws Exception {
    assertThat(InfinispanMesh.format(new InetSocketAddress(InetAddress.getByName("fd00:0:0:0::1"), 7800))).isEqualTo("[fd00::1]:7800");
    assertThat(InfinispanMesh.format(new InetSocketAddress(InetAddress.getByName("10.0.0.1"), 7800))).isEqualTo("10.0.0.1:7800");
  }
}
