package io.knowngood.replication;

import static org.assertj.core.api.Assertions.assertThat;

import io.knowngood.crypto.meshca.MeshCa;
import io.knowngood.crypto.meshca.NodeCredentials;
import java.math.BigInteger;
import java.net.InetSocketAddress;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.infinispan.configuration.cache.CacheMode;
import org.junit.jupiter.api.Test;

/**
 * Members with certificates from the mesh CA cluster over TLS 1.3 (client auth required). Hosts with
 * a self-signed certificate, a certificate from another CA, or no TLS at all are refused and stay
 * alone, even though they know every member's address and trust the mesh CA themselves; the
 * cluster keeps working meanwhile.
 */
class TlsMeshTest {

  @Test
  void tls_membersFromMeshCaCluster_strangersAreRefused() throws Exception {
    MeshCa ca = MeshCa.generate(Clock.systemUTC());
    MeshCa otherCa = MeshCa.generate(Clock.systemUTC());
    TestBundles bundles = new TestBundles();
    InfinispanMesh.Options options = new InfinispanMesh.Options(CacheMode.REPL_ASYNC, false, true, true);
    try (TestCluster cluster = TestCluster.create("tls", 3, bundles, options,
        i -> new MeshConfig.Tls(ca.issue("tls-" + i)))) {
      cluster.startAll();
      cluster.awaitClustered();

      List<InetSocketAddress> members = cluster.configs.stream().map(MeshConfig::bind).toList();
      List<InfinispanMesh> strangers = new ArrayList<>();
      try {
        strangers.add(stranger("self-signed", members, new MeshConfig.Tls(selfSigned("self-signed", ca)), bundles));
        strangers.add(stranger("other-ca", members, new MeshConfig.Tls(trustingMeshCa(otherCa.issue("other-ca"), ca)), bundles));
        strangers.add(stranger("plaintext", members, new MeshConfig.Plaintext(), bundles));
        strangers.forEach(InfinispanMesh::start);
        org.awaitility.Awaitility.await().atMost(TestCluster.WAIT).until(() -> strangers.stream().allMatch(InfinispanMesh::isReady));

        PublishOutcome out = cluster.publish(0, "secret", 1);

        assertThat(out).isEqualTo(new PublishOutcome("secret", 1, 3, 3, true));
        cluster.awaitAllHold("secret", 1);
        for (InfinispanMesh s : strangers) {
          assertThat(s.view().state()).isEqualTo(MeshState.ALONE);
          assertThat(s.cache().get("secret")).isNull();
        }
        for (InfinispanMesh m : cluster.meshes) {
          assertThat(m.view().members()).extracting(MemberInfo::id).containsExactlyInAnyOrder("tls-0", "tls-1", "tls-2");
        }
        // the members say why: a certificate refused (self-signed, another CA), a stranger that spoke no TLS
        org.awaitility.Awaitility.await("the members counted the strangers' failed handshakes").atMost(TestCluster.WAIT)
            .until(() -> cluster.meshes.stream().mapToLong(m -> m.stats().tlsRefused().getOrDefault("certificate", 0L)).sum() > 0
                && cluster.meshes.stream().mapToLong(m -> m.stats().tlsRefused().getOrDefault("no_tls", 0L)).sum() > 0);
        assertThat(cluster.meshes.stream().flatMap(m -> m.tlsRefusals().stream()).map(TlsRefusals.Refusal::reason))
            .anyMatch(r -> r.startsWith("it presented no certificate from this mesh's CA") || r.startsWith("it spoke no TLS"));
      } finally {
        strangers.forEach(InfinispanMesh::close);
      }
    }
  }

  private static InfinispanMesh stranger(String id, List<InetSocketAddress> members, MeshConfig.Security security,
                                         TestBundles bundles) {
    InetSocketAddress bind = new InetSocketAddress(TestCluster.loopback(), TestCluster.freePortPair());
    MeshConfig config = new MeshConfig(id, "tls", bind, members, security, MeshConfig.Timings.forLocalTesting());
    return new InfinispanMesh(config, bundles.verifier, new InMemoryLocalBundles(), Clock.systemUTC(),
        new InfinispanMesh.Options(CacheMode.REPL_ASYNC, false, true, true));
  }

  /** Same key and certificate, but the stranger trusts the mesh CA (its certificate is no secret). */
  private static NodeCredentials trustingMeshCa(NodeCredentials c, MeshCa meshCa) throws Exception {
    java.security.PrivateKey key = (java.security.PrivateKey) c.keyStore().getKey(NodeCredentials.ALIAS, c.password());
    return NodeCredentials.create(c.nodeId(), key, c.certificate(), meshCa.certificate(), c.password());
  }

  private static NodeCredentials selfSigned(String id, MeshCa meshCa) throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"));
    KeyPair pair = g.generateKeyPair();
    X500Name name = new X500Name("CN=" + id);
    Instant now = Instant.now();
    X509Certificate cert = new JcaX509CertificateConverter().getCertificate(new JcaX509v3CertificateBuilder(name,
        BigInteger.valueOf(now.toEpochMilli()), Date.from(now.minus(Duration.ofMinutes(5))),
        Date.from(now.plus(Duration.ofDays(1))), name, pair.getPublic())
        .build(new JcaContentSignerBuilder("SHA256withECDSA").build(pair.getPrivate())));
    return NodeCredentials.create(id, pair.getPrivate(), cert, meshCa.certificate(), "changeit".toCharArray());
  }
}
