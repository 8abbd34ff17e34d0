package io.knowngood.replication;

import io.knowngood.crypto.bundle.BundleVerifier;
import io.knowngood.crypto.bundle.VerifyResult;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicReference;
import org.infinispan.xsite.spi.SiteEntry;
import org.infinispan.xsite.spi.XSiteEntryMergePolicy;

/**
 * Infinispan's conflict resolution between sites for the bundles cache: the same winner rule as inside
 * a site ({@link HighestVerifiedMergePolicy}): the highest version that verifies, ties broken by the lower
 * manifest digest; a copy that does not verify never wins. Infinispan requires the answer not to depend
 * on which side is local, so equal stamps (the same bundle from both sites) go to the lower site name,
 * and if neither copy verifies the key is removed (the answer is an empty entry of the lower site name).
 * What it picks still goes through {@link Ingest} on every node before any store holds it.
 *
 * <p>Infinispan 16.1 copies a cache configuration's merge policy by instantiating its class with no
 * arguments ({@code SitesConfiguration.MergePolicyAttributeUtil}), so the instance the cache uses is not the
 * one configured: it takes the verifier and counters of the mesh that last {@link #install}ed them. A JVM
 * runs one mesh in production; tests with several meshes in one JVM share one trust.
 */
public final class HighestVerifiedSiteMergePolicy implements XSiteEntryMergePolicy<String, byte[]> {
  private record Installed(BundleVerifier verifier, Counters counters) {}

  private static final AtomicReference<Installed> INSTALLED = new AtomicReference<>();

  private final Installed own;

  /** What Infinispan instantiates: uses what {@link #install} was given. */
  public HighestVerifiedSiteMergePolicy() {
    this.own = null;
  }

  HighestVerifiedSiteMergePolicy(BundleVerifier verifier, Counters counters) {
    this.own = new Installed(verifier, counters);
  }

  /** The verifier and counters the instances Infinispan makes use; returns the configured instance. */
  static HighestVerifiedSiteMergePolicy install(BundleVerifier verifier, Counters counters) {
    INSTALLED.set(new Installed(verifier, counters));
    return new HighestVerifiedSiteMergePolicy(verifier, counters);
  }

  private Installed installed() {
    Installed i = own != null ? own : INSTALLED.get();
    if (i == null) {
      throw new IllegalStateException("no verifier installed for the cross-site merge policy");
    }
    return i;
  }

  @Override
  public CompletionStage<SiteEntry<byte[]>> merge(String key, SiteEntry<byte[]> localEntry, SiteEntry<byte[]> remoteEntry) {
    return CompletableFuture.completedFuture(resolve(key, localEntry, remoteEntry));
  }

  SiteEntry<byte[]> resolve(String key, SiteEntry<byte[]> a, SiteEntry<byte[]> b) {
    VersionStamp sa = stampOf(key, a);
    VersionStamp sb = stampOf(key, b);
    if (sa == null && sb == null) {
      return new SiteEntry<>(lowerSite(a, b), null, null);
    }
    if (sa == null) {
      return b;
    }
    if (sb == null) {
      return a;
    }
    int c = sa.compareTo(sb);
    if (c != 0) {
      return c > 0 ? a : b;
    }
    return a.getSiteName().compareTo(b.getSiteName()) <= 0 ? a : b;
  }

  private static String lowerSite(SiteEntry<byte[]> a, SiteEntry<byte[]> b) {
    return a.getSiteName().compareTo(b.getSiteName()) <= 0 ? a.getSiteName() : b.getSiteName();
  }

  /** The stamp of a copy that verifies as {@code key}, else null (absent, removed, or rejected). */
  private VersionStamp stampOf(String key, SiteEntry<byte[]> e) {
    if (e == null) {
      return null;
    }
    byte[] archive = Ingest.unwrap(e.getValue());
    if (archive == null) {
      return null;
    }
    Installed i = installed();
    VerifyResult r = i.verifier().verifyAs(key, archive);
    if (r instanceof VerifyResult.Verified v) {
      return Ingest.stampOf(v.bundle());
    }
    i.counters().rejected(((VerifyResult.Rejected) r).reason().code());
    return null;
  }
}
