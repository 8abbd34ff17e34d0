package io.knowngood.crypto.meshca;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.Path;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.time.Clock;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.security.PrivateKey;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MeshCaTest {

  @TempDir Path tmp;

  @Test
  void init_thenIssue_writesStoresThatChainToTheCa() throws Exception {
    Path caDir = tmp.resolve("ca");
    MeshCa ca = MeshCa.init(caDir);
    NodeCredentials issued = MeshCa.issue(caDir, "node-1", tmp.resolve("node-1"));

    NodeCredentials loaded = NodeCredentials.load(tmp.resolve("node-1"));
    assertThat(loaded.nodeId()).isEqualTo("node-1");
    X509Certificate cert = loaded.certificate();
    assertThat(cert).isEqualTo(issued.certificate());
    assertThat(((ECPublicKey) cert.getPublicKey()).getParams().getCurve().getField().getFieldSize()).isEqualTo(256);
    assertThat(cert.getSigAlgName()).isEqualTo("SHA256withECDSA");

    PKIXParameters params = new PKIXParameters(Set.of(new TrustAnchor(ca.certificate(), null)));
    params.setRevocationEnabled(false);
    CertPathValidator.getInstance("PKIX").validate(
        CertificateFactory.getInstance("X.509").generateCertPath(List.of(cert)), params);
    assertThat(loaded.trustStore().getCertificate(NodeCredentials.CA_ALIAS)).isEqualTo(ca.certificate());
    assertThat(MeshCa.load(caDir).certificate()).isEqualTo(ca.certificate());
  }

  @Test
  void init_onExistingCa_refusesToOverwrite() throws Exception {
    MeshCa.init(tmp);
    assertThatThrownBy(() -> MeshCa.init(tmp)).isInstanceOf(IOException.class).hasMessageContaining("already exists");
  }

  @Test
  void issue_badNodeId_isRefused() {
    MeshCa ca = MeshCa.generate(Clock.systemUTC());
    assertThatThrownBy(() -> ca.issue("../evil")).isInstanceOf(IllegalArgumentException.class);
  }

  /** Records what JSSE negotiates between two members: TLS 1.3, an AES-GCM or ChaCha suite, ECDSA P-256 peers. */
  @Test
  void handshake_betweenMembers_negotiatesTls13WithEcdsaP256() throws Exception {
    MeshCa ca = MeshCa.generate(Clock.systemUTC());
    SSLSession session = handshake(ca.issue("a"), ca.issue("b"));
    assertThat(session.getProtocol()).isEqualTo("TLSv1.3");
    assertThat(session.getCipherSuite()).isIn("TLS_AES_256_GCM_SHA384", "TLS_AES_128_GCM_SHA256", "TLS_CHACHA20_POLY1305_SHA256");
    assertThat(session.getPeerCertificates()[0].getPublicKey().getAlgorithm()).isEqualTo("EC");
    assertThat(((X509Certificate) session.getPeerCertificates()[0]).getSubjectX500Principal().getName()).contains("CN=b");
  }

  @Test
  void handshake_clientFromOtherCa_isRefused() throws Exception {
    MeshCa ca = MeshCa.generate(Clock.systemUTC());
    MeshCa other = MeshCa.generate(Clock.systemUTC());
    NodeCredentials otherCa = other.issue("rogue");
    // the rogue even trusts the mesh CA (its certificate is public): the server must refuse it
    NodeCredentials rogue = NodeCredentials.create("rogue", privateKey(otherCa), otherCa.certificate(), ca.certificate(),
        otherCa.password());
    assertThatThrownBy(() -> handshake(rogue, ca.issue("b"))).isInstanceOfAny(IOException.class, ExecutionException.class);
  }

  /** Client {@code client} connects to server {@code server} (client auth required); returns the client's session. */
  private static SSLSession handshake(NodeCredentials client, NodeCredentials server) throws Exception {
    try (SSLServerSocket ss = (SSLServerSocket) server.sslContext().getServerSocketFactory()
        .createServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      ss.setNeedClientAuth(true);
      ss.setEnabledProtocols(new String[] {"TLSv1.3"});
      CompletableFuture<Void> serverSide = CompletableFuture.runAsync(() -> {
        try (SSLSocket s = (SSLSocket) ss.accept(); InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
          out.write(in.read());
          out.flush();
        } catch (IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      });
      try (SSLSocket s = (SSLSocket) client.sslContext().getSocketFactory().createSocket(ss.getInetAddress(), ss.getLocalPort())) {
        s.setSoTimeout(10_000);
        s.getOutputStream().write(42);
        s.getOutputStream().flush();
        int echoed = s.getInputStream().read();
        serverSide.get(10, TimeUnit.SECONDS);
        if (echoed != 42) {
          throw new SSLHandshakeException("connection closed by server (echo " + echoed + ")");
        }
        return s.getSession();
      }
    }
  }

  private static PrivateKey privateKey(NodeCredentials c) throws Exception {
    return (PrivateKey) c.keyStore().getKey(NodeCredentials.ALIAS, c.password());
  }

  @Test
  void writeTo_keyFilesAreOwnerOnly() throws Exception {
    MeshCa.init(tmp.resolve("ca"));
    MeshCa.issue(tmp.resolve("ca"), "n", tmp.resolve("n"));
    if (Files.getFileStore(tmp).supportsFileAttributeView("posix")) {
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(tmp.resolve("ca").resolve(MeshCa.CA_KEY))))
          .isEqualTo("rw-------");
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(tmp.resolve("n").resolve(NodeCredentials.PASSWORD_FILE))))
          .isEqualTo("rw-------");
    }
  }
}
