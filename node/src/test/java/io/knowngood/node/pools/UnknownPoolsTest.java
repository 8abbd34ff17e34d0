package io.knowngood.node.pools;

import static org.assertj.core.api.Assertions.assertThat;

import io.knowngood.crypto.bundle.BundleVerifier;
import io.knowngood.crypto.bundle.Limits;
import io.knowngood.crypto.bundle.TrustedKeys;
import io.knowngood.crypto.bundle.VerifiedBundle;
import io.knowngood.crypto.bundle.VerifyResult;
import io.knowngood.node.TestBundles;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class UnknownPoolsTest {

    final TestBundles bundles = new TestBundles();
    final BundleVerifier verifier = new BundleVerifier(TrustedKeys.of(List.of(bundles.key.getPublic())), Limits.defaults());
    final UnknownPools check = new UnknownPools(PoolMapTest.ok(Map.of("finance", List.of("10.0.0.0/8"))));

    @Test
    void poolsNotConfiguredHere_areNamed() {
        assertThat(check.unknown(verified(bundles.forPools("pay", 1, "x", null, "finance", "fnance")))).containsExactly("fnance");
        assertThat(check.unknown(verified(bundles.forPools("pay", 2, "x", null, "finance")))).isEmpty();
        assertThat(check.unknown(verified(bundles.bundle("common", 1, "x")))).isEmpty();
    }

    private VerifiedBundle verified(byte[] archive) {
        return ((VerifyResult.Verified) verifier.verify(archive)).bundle();
    }
}
