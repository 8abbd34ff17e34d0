package io.knowngood.replication;

import io.knowngood.crypto.bundle.BundlePacker;
import io.knowngood.crypto.bundle.BundleVerifier;
import io.knowngood.crypto.bundle.Ed25519Keys;
import io.knowngood.crypto.bundle.Limits;
import io.knowngood.crypto.bundle.TrustedKeys;
import io.knowngood.crypto.bundle.VerifiedBundle;
import io.knowngood.crypto.bundle.VerifyResult;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/** A publisher key the mesh trusts, a stranger key it does not, and signed archives made with them. */
final class TestBundles {
  final KeyPair publisher = Ed25519Keys.generate();
  final KeyPair stranger = Ed25519Keys.generate();
  final BundleVerifier verifier = new BundleVerifier(TrustedKeys.of(List.of(publisher.getPublic())), Limits.defaults());
  private final Clock clock = Clock.systemUTC();

  byte[] archive(String name, long version) {
    return archive(name, version, name + " version " + version);
  }

  byte[] archive(String name, long version, String content) {
    SortedMap<String, byte[]> files = new TreeMap<>();
    files.put("settings.conf", content.getBytes(StandardCharsets.UTF_8));
    return BundlePacker.pack(name, version, files, Map.of(), publisher.getPrivate(), clock);
  }

  /** Well formed, signed by a key nobody trusts. */
  byte[] forged(String name, long version) {
    SortedMap<String, byte[]> files = new TreeMap<>();
    files.put("settings.conf", "evil".getBytes(StandardCharsets.UTF_8));
    return BundlePacker.pack(name, version, files, Map.of(), stranger.getPrivate(), clock);
  }

  /** A trusted archive with its last byte of content flipped. */
  byte[] tampered(String name, long version) {
    byte[] a = archive(name, version, "tamper me please");
    String s = new String(a, StandardCharsets.ISO_8859_1);
    int at = s.indexOf("tamper me please");
    a[at] = (byte) 'T';
    return a;
  }

  VerifiedBundle verified(byte[] archive) {
    VerifyResult r = verifier.verify(archive);
    if (r instanceof VerifyResult.Verified v) {
      return v.bundle();
    }
    throw new AssertionError("test archive does not verify: " + ((VerifyResult.Rejected) r).reason().detail());
  }

  VerifiedBundle bundle(String name, long version) {
    return verified(archive(name, version));
  }
}
