package io.knowngood.replication;

import static org.assertj.core.api.Assertions.assertThat;

import io.knowngood.crypto.bundle.VerifiedBundle;
import java.util.List;
import org.infinispan.commons.marshall.WrappedByteArray;
import org.infinispan.container.entries.CacheEntry;
import org.infinispan.container.entries.ImmortalCacheEntry;
import org.junit.jupiter.api.Test;

class HighestVerifiedMergePolicyTest {
  private static final TestBundles bundles = new TestBundles();
  private final Counters counters = new Counters();
  private final HighestVerifiedMergePolicy policy = new HighestVerifiedMergePolicy(bundles.verifier, counters);

  @Test
  void merge_picksHighestVersionThatVerifies_evenWhenWrapped() {
    CacheEntry<String, byte[]> v3 = wrapped("app", bundles.archive("app", 3));
    CacheEntry<String, byte[]> winner = policy.merge(entry("app", bundles.archive("app", 2)), List.of(
        entry("app", bundles.forged("app", 9)), v3, entry("app", new byte[] {7}), entry("app", bundles.archive("other", 8))));

    assertThat(winner).isSameAs(v3);
    assertThat(counters.snapshot().rejected()).containsOnlyKeys("untrusted_key", "missing_entry", "name_mismatch");
  }

  @Test
  void merge_sameVersionTwice_lowerManifestDigestWinsWhicheverIsPreferred() {
    CacheEntry<String, byte[]> a = entry("app", bundles.archive("app", 4, "left"));
    CacheEntry<String, byte[]> b = entry("app", bundles.archive("app", 4, "right"));
    VerifiedBundle va = bundles.verified(a.getValue());
    VerifiedBundle vb = bundles.verified(b.getValue());
    CacheEntry<String, byte[]> lower = va.manifestDigest().compareTo(vb.manifestDigest()) < 0 ? a : b;

    assertThat(policy.merge(a, List.of(b))).isSameAs(lower);
    assertThat(policy.merge(b, List.of(a))).isSameAs(lower);
  }

  @Test
  void merge_nothingVerifies_dropsTheKey() {
    assertThat(policy.merge(entry("app", bundles.tampered("app", 5)), List.of(entry("app", bundles.forged("app", 6)))))
        .isNull();
    assertThat(policy.merge(null, List.of())).isNull();
  }

  private static CacheEntry<String, byte[]> entry(String key, byte[] value) {
    return new ImmortalCacheEntry(key, value);
  }

  @SuppressWarnings("unchecked")
  private static CacheEntry<String, byte[]> wrapped(String key, byte[] value) {
    return (CacheEntry<String, byte[]>) (CacheEntry<?, ?>) new ImmortalCacheEntry(key, new WrappedByteArray(value));
  }
}
