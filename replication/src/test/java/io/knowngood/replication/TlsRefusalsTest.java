package io.knowngood.replication;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.knowngood.crypto.meshca.MeshCa;
import io.knowngood.crypto.meshca.NodeCredentials;
import java.net.InetAddress;
import java.net.Socket;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.Map;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;
import org.junit.jupiter.api.Test;

/**
 * What a failed mesh TLS handshake leaves: the trust manager's words for whose certificate it refused
 * and why, the latest failure per address, counts per kind, and one log line per address and kind
 * every ten minutes. The handshakes themselves, between real meshes, are in {@link TlsMeshTest}.
 */
class TlsRefusalsTest {

  private static X509ExtendedTrustManager pkixTrusting(NodeCredentials c) throws Exception {
    TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
    tmf.init(c.trustStore());
    return (X509ExtendedTrustManager) tmf.getTrustManagers()[0];
  }

  private static X509Certificate[] chainOf(NodeCredentials c) throws Exception {
    Certificate[] chain = c.keyStore().getCertificateChain(NodeCredentials.ALIAS);
    return Arrays.copyOf(chain, chain.length, X509Certificate[].class);
  }

  @Test
  void aCertificateFromAnotherCa_isRefusedAsBefore_andSaysWhoseAndWhy() throws Exception {
    MeshCa ca = MeshCa.generate(Clock.systemUTC());
    MeshCa other = MeshCa.generate(Clock.systemUTC());
    TlsRefusals refusals = new TlsRefusals("n1", Clock.systemUTC());
    WatchedTrustManager tm = new WatchedTrustManager(pkixTrusting(ca.issue("n1")), refusals);

    assertThatThrownBy(() -> tm.checkClientTrusted(chainOf(other.issue("host-3")), "UNKNOWN", new Socket()))
        .isInstanceOf(CertificateException.class);
    tm.checkClientTrusted(chainOf(ca.issue("host-2")), "UNKNOWN", new Socket()); // one of ours: accepted, nothing recorded

    assertThat(refusals.snapshot()).singleElement().satisfies(r -> {
      assertThat(r.kind()).isEqualTo(TlsRefusals.Kind.CERTIFICATE);
      assertThat(r.reason()).isEqualTo("its certificate CN=host-3, issued by " + cn(other.certificate())
          + ", is not from this mesh's CA (" + cn(ca.certificate()) + "): a host whose certificate another CA issued cannot join");
    });
    assertThat(refusals.counts()).isEqualTo(Map.of("certificate", 1L));
  }

  @Test
  void anExpiredCertificate_saysWhenItExpired() throws Exception {
    Clock threeYearsAgo = Clock.fixed(Instant.now().minus(Duration.ofDays(3 * 365)), ZoneOffset.UTC);
    MeshCa ca = MeshCa.generate(threeYearsAgo);
    NodeCredentials old = ca.issue("host-9");
    TlsRefusals refusals = new TlsRefusals("n1", Clock.systemUTC());
    WatchedTrustManager tm = new WatchedTrustManager(pkixTrusting(old), refusals);

    assertThatThrownBy(() -> tm.checkServerTrusted(chainOf(old), "UNKNOWN", new Socket())).isInstanceOf(CertificateException.class);

    assertThat(refusals.snapshot().get(0).reason()).startsWith("its certificate CN=host-9, issued by " + cn(ca.certificate()) + ", expired at ")
        .endsWith("(issue it a new one: kgctl mesh cert issue)");
  }

  @Test
  void oneLogLinePerAddressAndKindEveryTenMinutes_aVagueFailureDoesNotHideASpecificOne() throws Exception {
    MutableClock clock = new MutableClock(Instant.parse("2026-12-05T10:00:00Z"));
    TlsRefusals r = new TlsRefusals("n1", clock);
    InetAddress a = InetAddress.getByName("10.0.0.7");
    InetAddress b = InetAddress.getByName("fd00::7");

    assertThat(r.refused(a, TlsRefusals.Kind.CERTIFICATE, "not from this mesh's CA")).isTrue();
    clock.advance(Duration.ofSeconds(1));
    assertThat(r.refused(a, TlsRefusals.Kind.CERTIFICATE, "not from this mesh's CA")).as("within ten minutes").isFalse();
    assertThat(r.refused(a, TlsRefusals.Kind.OTHER, "Connection reset by peer")).as("a reset after the refusal").isFalse();
    clock.advance(Duration.ofSeconds(1));
    assertThat(r.refused(b, TlsRefusals.Kind.NO_TLS, "no handshake")).as("another address").isTrue();
    assertThat(r.snapshot()).extracting(TlsRefusals.Refusal::address, TlsRefusals.Refusal::kind)
        .containsExactly(org.assertj.core.groups.Tuple.tuple("fd00::7", TlsRefusals.Kind.NO_TLS),
            org.assertj.core.groups.Tuple.tuple("10.0.0.7", TlsRefusals.Kind.CERTIFICATE));
    assertThat(r.counts()).isEqualTo(Map.of("certificate", 2L, "other", 1L, "no_tls", 1L));

    clock.advance(TlsRefusals.LOG_EVERY);
    assertThat(r.refused(a, TlsRefusals.Kind.CERTIFICATE, "not from this mesh's CA")).as("ten minutes on").isTrue();
    clock.advance(TlsRefusals.LOG_EVERY);
    assertThat(r.refused(a, TlsRefusals.Kind.OTHER, "Connection reset by peer")).as("the specific one is old now").isTrue();
    assertThat(r.snapshot().get(0).kind()).isEqualTo(TlsRefusals.Kind.OTHER);
  }

  @Test
  void atMostSoManyAddressesAreRemembered_andALongReasonIsCut() throws Exception {
    TlsRefusals r = new TlsRefusals("n1", new MutableClock(Instant.parse("2026-12-05T10:00:00Z")));
    for (int i = 0; i < TlsRefusals.MAX_ADDRESSES + 10; i++) {
      r.refused(InetAddress.getByName("10.0.1." + i), TlsRefusals.Kind.NO_TLS, "x".repeat(1000));
    }
    assertThat(r.snapshot()).hasSize(TlsRefusals.MAX_ADDRESSES);
    assertThat(r.snapshot().get(0).reason()).hasSize(TlsRefusals.MAX_REASON + 3);
    assertThat(r.counts()).isEqualTo(Map.of("no_tls", (long) TlsRefusals.MAX_ADDRESSES + 10));
  }

  private static String cn(X509Certificate c) {
    return Arrays.stream(c.getSubjectX500Principal().getName().split(",")).filter(p -> p.startsWith("CN=")).findFirst().orElseThrow();
  }
}
