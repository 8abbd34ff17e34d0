package io.knowngood.replication;

import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.MulticastSocket;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketException;
import java.time.Duration;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;
import org.jgroups.util.SocketFactory;

/**
 * The mesh's TLS socket factory with one change: a server socket hands out an accepted connection only
 * after its TLS handshake (client certificate from the mesh CA included) completed within a deadline.
 *
 * <p>With one connection per direction ({@link DirectionalTcp}) JGroups no longer reads a peer address
 * in its acceptor, which had bounded an unauthenticated connection there; every accepted connection
 * gets a reader thread, and that thread would be the first to read, so a stranger that connects and
 * never speaks would hold a thread for as long as it likes, one per connection. Here the acceptor
 * handshakes first, as it did before: a stranger costs the acceptor at most the deadline, gets no
 * thread, and a failed or late handshake closes its socket (the acceptor goes on to the next one).
 */
final class HandshakeFirstSockets implements SocketFactory {
  /** Closes client sockets whose handshake has not completed in time (one daemon thread per JVM). */
  private static final ScheduledThreadPoolExecutor WATCHDOG = new ScheduledThreadPoolExecutor(1, r -> {
    Thread t = new Thread(r, "kg-tls-handshake-watchdog");
    t.setDaemon(true);
    return t;
  });

  static {
    WATCHDOG.setRemoveOnCancelPolicy(true); // a completed handshake's timer leaves the queue, and its socket with it
  }
  /** Client sockets whose handshake deadline is still pending, in this JVM (tests). */
  static int watching() {
    return WATCHDOG.getQueue().size();
  }

  private final SocketFactory tls;
  private final int deadlineMillis;
  private final long clientDeadlineMillis;
  private final TlsRefusals refusals;
  private final Revocations revocations;

  /**
   * {@code deadline} bounds an accepted connection's handshake; a connection this node opens gets
   * {@code connectTimeout} plus that to connect and handshake, then it is closed.
   */
  HandshakeFirstSockets(SocketFactory tls, Duration deadline, Duration connectTimeout, TlsRefusals refusals) {
    this(tls, deadline, connectTimeout, refusals, Revocations.none("", refusals));
  }

  /** As above; every connection whose handshake completed is handed to {@code revocations} with its peer's certificate. */
  HandshakeFirstSockets(SocketFactory tls, Duration deadline, Duration connectTimeout, TlsRefusals refusals, Revocations revocations) {
    this.tls = tls;
    this.deadlineMillis = Math.toIntExact(Math.max(1, deadline.toMillis()));
    this.clientDeadlineMillis = Math.max(1, connectTimeout.toMillis()) + deadlineMillis;
    this.refusals = refusals;
    this.revocations = revocations;
  }

  /** The peer's own certificate of a completed handshake, or null. */
  static X509Certificate peerOf(SSLSession session) {
    try {
      Certificate[] chain = session.getPeerCertificates();
      return chain.length > 0 && chain[0] instanceof X509Certificate x ? x : null;
    } catch (SSLPeerUnverifiedException e) {
      return null;
    }
  }

  /**
   * A client socket is closed unless its handshake completed within the client deadline: JGroups
   * connects and handshakes without a read timeout, so a peer address now held by something that
   * accepts and never answers TLS (a plaintext node, any other service) would hold the connecting
   * thread, and with it every message queued behind that send, for ever. Seen in ReaddressingTest: a
   * member that remembered such an address stopped sending altogether and the mesh split for good.
   */
  private Socket watched(Socket s) {
    if (s instanceof SSLSocket ssl) {
      AtomicBoolean done = new AtomicBoolean();
      // not connected or not handshaking yet (that starts with the first I/O): the listener cannot miss it
      ScheduledFuture<?> timer = WATCHDOG.schedule(() -> {
        if (!done.get() && !ssl.isClosed()) {
          if (ssl.isConnected()) {
            refusals.refused(ssl.getInetAddress(), TlsRefusals.Kind.NO_TLS, "connected, but no TLS handshake within " + clientDeadlineMillis
                + " ms: not a mesh node, one without mesh TLS (--cluster-tls-dir), or a host or network too slow or cut off mid-way?");
          }
          try {
            ssl.close();
          } catch (IOException ignored) {
            // closing is all that is left to do
          }
        }
      }, clientDeadlineMillis, TimeUnit.MILLISECONDS);
      ssl.addHandshakeCompletedListener(e -> {
        done.set(true);
        timer.cancel(false);
        revocations.track(ssl, peerOf(e.getSession()));
      });
    }
    return s;
  }

  @Override
  public ServerSocket createServerSocket(String serviceName) throws IOException {
    return new HandshakingServerSocket(revocations, tls.createServerSocket(serviceName), deadlineMillis, refusals);
  }

  @Override
  public ServerSocket createServerSocket(String serviceName, int port) throws IOException {
    return new HandshakingServerSocket(revocations, tls.createServerSocket(serviceName, port), deadlineMillis, refusals);
  }

  @Override
  public ServerSocket createServerSocket(String serviceName, int port, int backlog) throws IOException {
    return new HandshakingServerSocket(revocations, tls.createServerSocket(serviceName, port, backlog), deadlineMillis, refusals);
  }

  @Override
  public ServerSocket createServerSocket(String serviceName, int port, int backlog, InetAddress bindAddr)
      throws IOException {
    return new HandshakingServerSocket(revocations, tls.createServerSocket(serviceName, port, backlog, bindAddr), deadlineMillis, refusals);
  }

  @Override
  public Socket createSocket(String serviceName) throws IOException {
    return watched(tls.createSocket(serviceName));
  }

  @Override
  public Socket createSocket(String serviceName, String host, int port) throws IOException {
    return watched(tls.createSocket(serviceName, host, port));
  }

  @Override
  public Socket createSocket(String serviceName, InetAddress address, int port) throws IOException {
    return watched(tls.createSocket(serviceName, address, port));
  }

  @Override
  public Socket createSocket(String serviceName, String host, int port, InetAddress localAddr, int localPort)
      throws IOException {
    return watched(tls.createSocket(serviceName, host, port, localAddr, localPort));
  }

  @Override
  public Socket createSocket(String serviceName, InetAddress address, int port, InetAddress localAddr, int localPort)
      throws IOException {
    return watched(tls.createSocket(serviceName, address, port, localAddr, localPort));
  }

  @Override
  public DatagramSocket createDatagramSocket(String serviceName) throws SocketException {
    return tls.createDatagramSocket(serviceName);
  }

  @Override
  public DatagramSocket createDatagramSocket(String serviceName, SocketAddress bindaddr) throws SocketException {
    return tls.createDatagramSocket(serviceName, bindaddr);
  }

  @Override
  public DatagramSocket createDatagramSocket(String serviceName, int port) throws SocketException {
    return tls.createDatagramSocket(serviceName, port);
  }

  @Override
  public DatagramSocket createDatagramSocket(String serviceName, int port, InetAddress laddr) throws SocketException {
    return tls.createDatagramSocket(serviceName, port, laddr);
  }

  @Override
  public MulticastSocket createMulticastSocket(String serviceName) throws IOException {
    return tls.createMulticastSocket(serviceName);
  }

  @Override
  public MulticastSocket createMulticastSocket(String serviceName, int port) throws IOException {
    return tls.createMulticastSocket(serviceName, port);
  }

  @Override
  public MulticastSocket createMulticastSocket(String serviceName, SocketAddress bindaddr) throws IOException {
    return tls.createMulticastSocket(serviceName, bindaddr);
  }

  @Override
  public void close(Socket sock) throws IOException {
    tls.close(sock);
  }

  @Override
  public void close(ServerSocket sock) throws IOException {
    tls.close(sock instanceof HandshakingServerSocket h ? h.tls : sock);
  }

  @Override
  public void close(DatagramSocket sock) {
    tls.close(sock);
  }

  /** Delegates to the TLS server socket; accept() returns only handshaken connections. */
  static final class HandshakingServerSocket extends ServerSocket {
    private final ServerSocket tls;
    private final int deadlineMillis;
    private final TlsRefusals refusals;
    private final Revocations revocations;

    HandshakingServerSocket(Revocations revocations, ServerSocket tls, int deadlineMillis, TlsRefusals refusals) throws IOException {
      this.revocations = revocations;
      this.tls = tls;
      this.deadlineMillis = deadlineMillis;
      this.refusals = refusals;
    }

    @Override
    public Socket accept() throws IOException {
      Socket s = tls.accept();
      if (s instanceof SSLSocket ssl) {
        try {
          int before = ssl.getSoTimeout();
          ssl.setSoTimeout(deadlineMillis);
          ssl.startHandshake();
          ssl.setSoTimeout(before);
        } catch (IOException e) {
          refused(s.getInetAddress(), e);
          s.close();
          throw e;
        }
        revocations.track(ssl, peerOf(ssl.getSession()));
        if (ssl.isClosed()) {
          throw new SocketException("mesh connection from " + IpText.of(ssl.getInetAddress()) + " closed: its certificate is revoked");
        }
      }
      return s;
    }

    /** An accepted connection's failed handshake, unless the trust manager already said whose certificate it refused. */
    private void refused(InetAddress remote, IOException e) {
      for (Throwable c = e; c != null; c = c.getCause()) {
        if (c instanceof java.security.cert.CertificateException) {
          return;
        }
      }
      String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
      if (e instanceof java.net.SocketTimeoutException) {
        refusals.refused(remote, TlsRefusals.Kind.NO_TLS, "it connected but did not finish a TLS handshake within " + deadlineMillis
            + " ms: not a mesh node, one without mesh TLS (--cluster-tls-dir), or a host or network too slow or cut off mid-way?");
      } else if (m.contains("plaintext") || m.contains("Unsupported or unrecognized SSL message")) {
        refusals.refused(remote, TlsRefusals.Kind.NO_TLS, "it spoke no TLS (" + m + "): a node without mesh TLS (--cluster-tls-dir)?");
      } else if (m.contains("certificate_unknown") || m.contains("bad_certificate") || m.contains("unknown_ca")
          || m.contains("certificate_expired") || m.contains("certificate_required")) {
        refusals.refused(remote, TlsRefusals.Kind.CERTIFICATE, "it refused this node's certificate (" + m
            + "): are both certificates from the same mesh CA, current, and not revoked (crl.pem)?");
      } else if (m.contains("Empty client certificate chain") || m.contains("null cert chain")) {
        // its key manager found no certificate from the CA this node asked for: one from another CA, or none at all
        refusals.refused(remote, TlsRefusals.Kind.CERTIFICATE, "it presented no certificate from this mesh's CA (" + m
            + "): a host whose certificate another CA issued, or not a mesh node");
      } else {
        refusals.refused(remote, TlsRefusals.Kind.OTHER, m);
      }
    }

    @Override
    public void bind(SocketAddress endpoint) throws IOException {
      tls.bind(endpoint);
    }

    @Override
    public void bind(SocketAddress endpoint, int backlog) throws IOException {
      tls.bind(endpoint, backlog);
    }

    @Override
    public void close() throws IOException {
      tls.close();
    }

    @Override
    public boolean isClosed() {
      return tls.isClosed();
    }

    @Override
    public boolean isBound() {
      return tls.isBound();
    }

    @Override
    public InetAddress getInetAddress() {
      return tls.getInetAddress();
    }

    @Override
    public int getLocalPort() {
      return tls.getLocalPort();
    }

    @Override
    public SocketAddress getLocalSocketAddress() {
      return tls.getLocalSocketAddress();
    }

    @Override
    public void setSoTimeout(int timeout) throws SocketException {
      tls.setSoTimeout(timeout);
    }

    @Override
    public int getSoTimeout() throws IOException {
      return tls.getSoTimeout();
    }

    @Override
    public void setReuseAddress(boolean on) throws SocketException {
      tls.setReuseAddress(on);
    }

    @Override
    public boolean getReuseAddress() throws SocketException {
      return tls.getReuseAddress();
    }

    @Override
    public void setReceiveBufferSize(int size) throws SocketException {
      tls.setReceiveBufferSize(size);
    }

    @Override
    public int getReceiveBufferSize() throws SocketException {
      return tls.getReceiveBufferSize();
    }

    @Override
    public String toString() {
      return tls.toString();
    }
  }
}
