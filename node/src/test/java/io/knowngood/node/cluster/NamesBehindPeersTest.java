package io.knowngood.node.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.knowngood.crypto.bundle.VerifiedBundle;
import io.knowngood.replication.MeshRecords;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** {@link ClusterLink#namesBehindPeers}: a name counts once, whichever peers hold it newer or this node lacks. */
class NamesBehindPeersTest {

    static ClusterLink holding(Map<String, Map<String, ClusterLink.Held>> digests) {
        return new ClusterLink() {
            @Override
            public void start() {
            }

            @Override
            public Sending sending(VerifiedBundle bundle) {
                throw new UnsupportedOperationException();
            }

            @Override
            public ClusterStatus status() {
                return new ClusterStatus("n1", "CLUSTERED", List.of(new ClusterStatus.Member("n1", "10.0.0.1:7800", true)), Optional.of("n1"),
                        false, Optional.empty());
            }

            @Override
            public MeshRecords records() {
                throw new UnsupportedOperationException();
            }

            @Override
            public Map<String, Map<String, Held>> memberDigests() {
                return digests;
            }

            @Override
            public void close() {
            }
        };
    }

    static ClusterLink.Held v(long version) {
        return new ClusterLink.Held(version, "d" + version);
    }

    @Test
    void newerOrMissingHere_countsOncePerName_sameOrOlderDoesNot() {
        ClusterLink link = holding(Map.of(
                "n1", Map.of("a", v(2), "b", v(5), "c", v(1), "d", v(3)),
                "n2", Map.of("a", v(3), "b", v(5), "c", v(1), "e", v(1)),
                "n3", Map.of("a", v(4), "b", v(4), "d", new ClusterLink.Held(3, "another digest"))));

        assertThat(link.namesBehindPeers()).as("a (newer on n2 and n3) and e (missing here)").isEqualTo(2);
    }

    @Test
    void alone_orConverged_isZero() {
        assertThat(holding(Map.of("n1", Map.of("a", v(2)))).namesBehindPeers()).isZero();
        assertThat(holding(Map.of("n1", Map.of("a", v(2)), "n2", Map.of("a", v(2)))).namesBehindPeers()).isZero();
        assertThat(holding(Map.of()).namesBehindPeers()).isZero();
    }
}
