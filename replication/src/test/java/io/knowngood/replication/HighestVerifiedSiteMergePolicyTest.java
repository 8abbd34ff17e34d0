package io.knowngood.replication;

import static org.assertj.core.api.Assertions.assertThat;

import io.knowngood.crypto.bundle.VerifiedBundle;
import java.util.ArrayList;
import java.util.List;
import org.infinispan.commons.marshall.WrappedByteArray;
import org.infinispan.xsite.spi.SiteEntry;
import org.junit.jupiter.api.Test;

class HighestVerifiedSiteMergePolicyTest {
  private static final TestBundles bundles = new TestBundles();
  private final Counters counters = new Counters();
  private final HighestVerifiedSiteMergePolicy policy = new HighestVerifiedSiteMergePolicy(bundles.verifier, counters);

  @Test
  void merge_highestVerifiedVersionWins_whicheverSiteIsLocal() {
    SiteEntry<byte[]> v2 = entry("east", bundles.archive("app", 2));
    SiteEntry<byte[]> v3 = entry("west", bundles.archive("app", 3));

    assertThat(policy.merge("app", v2, v3).toCompletableFuture().join()).isSameAs(v3);
    assertThat(policy.merge("app", v3, v2).toCompletableFuture().join()).isSameAs(v3);
  }

  @Test
  void merge_sameVersionTie_lowerManifestDigestWins_whicheverSiteIsLocal() {
    byte[] left = bundles.archive("app", 4, "left");
    byte[] right = bundles.archive("app", 4, "right");
    VerifiedBundle l = bundles.verified(left);
    VerifiedBundle r = bundles.verified(right);
    SiteEntry<byte[]> a = entry("east", left);
    SiteEntry<byte[]> b = entry("west", right);
    SiteEntry<byte[]> lower = l.manifestDigest().compareTo(r.manifestDigest()) < 0 ? a : b;

    assertThat(policy.resolve("app", a, b)).isSameAs(lower);
    assertThat(policy.resolve("app", b, a)).isSameAs(lower);
  }

  @Test
  void merge_aCopyThatDoesNotVerifyNeverWins_evenWithAHigherVersion() {
    SiteEntry<byte[]> v2 = entry("west", bundles.archive("app", 2));
    for (SiteEntry<byte[]> bad : List.of(entry("east", bundles.forged("app", 9)), entry("east", bundles.tampered("app", 9)),
        entry("east", bundles.archive("other", 9)), entry("east", new byte[] {7}), entry("east", null))) {
      assertThat(policy.resolve("app", bad, v2)).isSameAs(v2);
      assertThat(policy.resolve("app", v2, bad)).isSameAs(v2);
    }
    assertThat(counters.snapshot().rejected()).containsKeys("untrusted_key", "name_mismatch");
  }

  @Test
  void merge_nothingVerifies_removesTheKey_sameAnswerEitherWay() {
    SiteEntry<byte[]> forged = entry("west", bundles.forged("app", 6));
    SiteEntry<byte[]> tampered = entry("east", bundles.tampered("app", 5));

    SiteEntry<byte[]> one = policy.resolve("app", forged, tampered);
    assertThat(one.getValue()).isNull();
    assertThat(one).isEqualTo(policy.resolve("app", tampered, forged));
  }

  /** The property Infinispan requires: merge(k, a, b) equals merge(k, b, a) for every pair (local and remote are two sites). */
  @Test
  void merge_resultNeverDependsOnArgumentOrder() {
    List<SiteEntry<byte[]>> entries = new ArrayList<>();
    for (String site : List.of("east", "west")) {
      entries.add(entry(site, bundles.archive("app", 2)));
      entries.add(entry(site, bundles.archive("app", 3)));
      entries.add(entry(site, bundles.archive("app", 3, "tie")));
      entries.add(wrapped(site, bundles.archive("app", 3)));
      entries.add(entry(site, bundles.forged("app", 9)));
      entries.add(entry(site, bundles.tampered("app", 8)));
      entries.add(entry(site, null));
    }
    for (SiteEntry<byte[]> a : entries) {
      for (SiteEntry<byte[]> b : entries) {
        if (a.getSiteName().equals(b.getSiteName())) {
          continue;
        }
        SiteEntry<byte[]> ab = policy.resolve("app", a, b);
        SiteEntry<byte[]> ba = policy.resolve("app", b, a);
        assertThat(ab).as("%s vs %s", a, b).isEqualTo(ba);
        if (ab.getValue() != null) {
          assertThat(bundles.verifier.verifyAs("app", Ingest.unwrap(ab.getValue())))
              .isInstanceOf(io.knowngood.crypto.bundle.VerifyResult.Verified.class);
        }
      }
    }
  }

  private static SiteEntry<byte[]> entry(String site, byte[] value) {
    return new SiteEntry<>(site, value, null);
  }

  @SuppressWarnings("unchecked")
  private static SiteEntry<byte[]> wrapped(String site, byte[] value) {
    return (SiteEntry<byte[]>) (SiteEntry<?>) new SiteEntry<Object>(site, new WrappedByteArray(value), null);
  }
}
