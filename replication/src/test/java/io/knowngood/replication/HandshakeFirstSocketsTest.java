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
import org.jgroups.util.SocketFactory;
import org.jgroups.util.TLS;
import org.jgroups.util.TLSClientAuth;
import org.junit.jupiter.api.Test;

/** The mesh's TLS sockets: a client socket's handshake deadline, and its timer gone once the handshake completes. */
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

  private static HandshakeFirstSockets sockets(SSLContext context, Duration deadline) {
    TLS settings = new TLS();
    settings.setProtocols(new String[] {"TLSv1.3"});
    settings.setClientAuth(TLSClientAuth.NEED);
    SocketFactory tls = settings.createSocketFactory(context);
    return new HandshakeFirstSockets(tls, deadline, CONNECT);
  }
}
