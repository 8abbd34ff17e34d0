package io.knowngood.replication;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.knowngood.crypto.meshca.MeshCa;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.jgroups.util.TLS;
import org.jgroups.util.TLSClientAuth;
import org.junit.jupiter.api.Test;

/**
 * The mesh's TLS sockets: a client socket's handshake deadline, its timer gone once the handshake
 * completes, and the cipher suite two nodes agree on.
 */
class HandshakeFirstSocketsTest {
  private static final Duration DEADLINE = Duration.ofMillis(300);
  private static final Duration CONNECT = Duration.ofMillis(200);
  /** Long enough that a timer gone before it was cancelled, not run. */
  private static final Duration LONG_DEADLINE = Duration.ofSeconds(2);

  @Test
  void aPeerThatNeverAnswersTls_isClosedAtTheDeadline() throws Exception {
    MeshCa ca = MeshCa.generate(Clock.systemUTC());
    HandshakeFirstSockets client = sockets(ca.issue("client").sslContext(), DEADLINE);
    try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
         Socket s = client.createSocket("test", InetAddress.getLoopbackAddress(), silent.getLocalPort())) {
      CompletableFuture<Void> writing = CompletableFuture.runAsync(() -> {
        try {
          s.getOutputStream().write(42); // handshakes, and waits for an answer that never comes
        } catch (IOException closed) {
          // what the deadline does
        }
      });
      await("closed by the deadline").atMost(Duration.ofSeconds(5)).until(s::isClosed);
      await().atMost(Duration.ofSeconds(5)).until(writing::isDone);
    }
  }

  @Test
  void aCompletedHandshake_cancelsItsDeadline_andTheConnectionStaysOpenPastIt() throws Exception {
    MeshCa ca = MeshCa.generate(Clock.systemUTC());
    HandshakeFirstSockets server = sockets(ca.issue("server").sslContext(), LONG_DEADLINE);
    HandshakeFirstSockets client = sockets(ca.issue("client").sslContext(), LONG_DEADLINE);
    int before = HandshakeFirstSockets.watching();
    try (ServerSocket listening = server.createServerSocket("test", 0, 50, InetAddress.getLoopbackAddress())) {
      CompletableFuture<Socket> accepted = CompletableFuture.supplyAsync(() -> {
        try {
          return listening.accept();
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      });
      try (Socket s = client.createSocket("test", InetAddress.getLoopbackAddress(), listening.getLocalPort())) {
        assertThat(HandshakeFirstSockets.watching()).isEqualTo(before + 1);
        OutputStream out = s.getOutputStream();
        out.write(42); // the first write handshakes, with the acceptor
        out.flush();
        Socket other = accepted.get();
        InputStream in = other.getInputStream();
        assertThat(in.read()).isEqualTo(42);
        await("the timer is cancelled, long before it is due").atMost(LONG_DEADLINE.minusSeconds(1))
            .until(() -> HandshakeFirstSockets.watching() == before);
        await("open past the deadline it had").during(LONG_DEADLINE.plus(CONNECT).plusMillis(200)).atMost(Duration.ofSeconds(10))
            .until(() -> !s.isClosed());
        out.write(43);
        out.flush();
        assertThat(in.read()).isEqualTo(43);
        other.close();
      }
    }
  }

  @Test
  void twoMeshNodes_agreeOnChaCha20() throws Exception {
    MeshCa ca = MeshCa.generate(Clock.systemUTC());
    assertThat(suiteBetween(sockets(ca.issue("server").sslContext(), LONG_DEADLINE),
        sockets(ca.issue("client").sslContext(), LONG_DEADLINE))).isEqualTo("TLS_CHACHA20_POLY1305_SHA256");
  }

  @Test
  void aPeerAcceptingOnlyAes_stillConnects_andAnOlderNodesConnectionsGetChaCha20() throws Exception {
    MeshCa ca = MeshCa.generate(Clock.systemUTC());
    HandshakeFirstSockets mesh = sockets(ca.issue("mesh").sslContext(), LONG_DEADLINE);
    // configured as the mesh was before this change: JGroups' TLS settings, which reach only the
    // acceptor (its client sockets offer the JDK's defaults), here limited to AES on the acceptor
    TLS aesOnly = new TLS().setProtocols(new String[] {"TLSv1.3"}).setClientAuth(TLSClientAuth.NEED)
        .setCipherSuites(new String[] {"TLS_AES_256_GCM_SHA384"});
    HandshakeFirstSockets older = new HandshakeFirstSockets(aesOnly.createSocketFactory(ca.issue("older").sslContext()),
        LONG_DEADLINE, CONNECT, new TlsRefusals("older", Clock.systemUTC()));
    assertThat(suiteBetween(older, mesh)).isEqualTo("TLS_AES_256_GCM_SHA384");
    assertThat(suiteBetween(mesh, older)).isEqualTo("TLS_CHACHA20_POLY1305_SHA256");
  }

  /** The cipher suite a connection from {@code client} to {@code server} negotiates, one byte sent over it. */
  private static String suiteBetween(HandshakeFirstSockets server, HandshakeFirstSockets client) throws Exception {
    try (ServerSocket listening = server.createServerSocket("test", 0, 50, InetAddress.getLoopbackAddress())) {
      CompletableFuture<Integer> received = CompletableFuture.supplyAsync(() -> {
        try (Socket other = listening.accept()) {
          return other.getInputStream().read();
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      });
      try (Socket s = client.createSocket("test", InetAddress.getLoopbackAddress(), listening.getLocalPort())) {
        s.getOutputStream().write(7);
        s.getOutputStream().flush();
        assertThat(received.get()).isEqualTo(7);
        return ((SSLSocket) s).getSession().getCipherSuite();
      }
    }
  }

  private static HandshakeFirstSockets sockets(SSLContext context, Duration deadline) {
    return new HandshakeFirstSockets(JGroupsStack.meshSockets(context), deadline, CONNECT, new TlsRefusals("test", Clock.systemUTC()));
  }
}
