package io.knowngood.replication;

import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.stream.Collectors;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;
import javax.security.auth.x500.X500Principal;

/**
 * The mesh's PKIX trust manager, which also refuses a certificate the mesh CA's revocation list in
 * force names ({@link Revocations}), and tells {@link TlsRefusals} whose certificate it refused and why (checked both ways: a peer connecting here, and a peer this node
 * connects to). The JDK's own words for a certificate from another CA are "PKIX path building failed:
 * ... unable to find valid certification path to requested target".
 */
final class WatchedTrustManager extends X509ExtendedTrustManager {
  private final X509ExtendedTrustManager pkix;
  private final TlsRefusals refusals;
  private final Revocations revocations;

  WatchedTrustManager(X509ExtendedTrustManager pkix, TlsRefusals refusals) {
    this(pkix, refusals, Revocations.none("", refusals));
  }

  /** As above, and a certificate the revocation list in force names is refused too. */
  WatchedTrustManager(X509ExtendedTrustManager pkix, TlsRefusals refusals, Revocations revocations) {
    this.pkix = pkix;
    this.refusals = refusals;
    this.revocations = revocations;
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
    watched(() -> pkix.checkClientTrusted(chain, authType, socket), chain, socket);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
    watched(() -> pkix.checkServerTrusted(chain, authType, socket), chain, socket);
  }

  /** One PKIX check, whose refusal is told to {@link TlsRefusals} before it is thrown on. */
  private interface Check {
    void run() throws CertificateException;
  }

  private void watched(Check check, X509Certificate[] chain, Socket socket) throws CertificateException {
    try {
      check.run();
    } catch (CertificateException e) {
      refusals.refused(socket == null ? null : socket.getInetAddress(), TlsRefusals.Kind.CERTIFICATE, describe(chain, e));
      throw e;
    }
    var revoked = revocations.refusal(chain == null || chain.length == 0 ? null : chain[0]);
    if (revoked.isPresent()) {
      refusals.refused(socket == null ? null : socket.getInetAddress(), TlsRefusals.Kind.REVOKED, revoked.get());
      throw new CertificateException(revoked.get());
    }
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
    pkix.checkClientTrusted(chain, authType, engine); // the mesh uses sockets, not engines
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
    pkix.checkServerTrusted(chain, authType, engine);
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
    pkix.checkClientTrusted(chain, authType);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
    pkix.checkServerTrusted(chain, authType);
  }

  @Override
  public X509Certificate[] getAcceptedIssuers() {
    return pkix.getAcceptedIssuers();
  }

  /** "its certificate CN=host-3, issued by CN=..., is not from this mesh's CA (CN=...)", or expired, or not yet valid. */
  String describe(X509Certificate[] chain, CertificateException e) {
    if (chain == null || chain.length == 0) {
      return "it presented no certificate";
    }
    X509Certificate leaf = chain[0];
    String who = "its certificate " + cn(leaf.getSubjectX500Principal()) + ", issued by " + cn(leaf.getIssuerX500Principal());
    Throwable cause = e;
    while (cause != null) {
      if (cause instanceof CertificateExpiredException) {
        return who + ", expired at " + leaf.getNotAfter().toInstant() + " (issue it a new one: kgctl mesh cert issue)";
      }
      if (cause instanceof CertificateNotYetValidException) {
        return who + ", is not valid before " + leaf.getNotBefore().toInstant() + " (a clock behind on one of the two hosts?)";
      }
      cause = cause.getCause();
    }
    String ours = Arrays.stream(pkix.getAcceptedIssuers()).map(c -> cn(c.getSubjectX500Principal())).collect(Collectors.joining(", "));
    String msg = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    if (msg.contains("unable to find valid certification path")) {
      return who + ", is not from this mesh's CA (" + ours + "): a host whose certificate another CA issued cannot join";
    }
    return who + ", was refused (this mesh's CA: " + ours + "): " + msg;
  }

  static String cn(X500Principal p) {
    String dn = p.getName();
    for (String part : dn.split(",")) {
      if (part.startsWith("CN=")) {
        return part;
      }
    }
    return dn;
  }
}
