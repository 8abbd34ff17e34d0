package io.knowngood.node.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.knowngood.crypto.bundle.Ed25519Keys;
import io.knowngood.crypto.bundle.KeyId;
import io.knowngood.replication.LocalRecords;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class TrustedKeysRecordTest {

    private static final String A = "a".repeat(64);
    private static final String B = "0123456789abcdef".repeat(4);

    @Test
    void encodesSortedKeyIds_andDecodesThemBack() {
        KeyId one = KeyId.of(Ed25519Keys.generate().getPublic());
        KeyId two = KeyId.of(Ed25519Keys.generate().getPublic());
        TrustedKeysRecord r = TrustedKeysRecord.of(List.of(one, two, one));

        assertThat(r.keyIds()).containsExactlyElementsOf(new java.util.TreeSet<>(List.of(one.hex(), two.hex())));
        assertThat(TrustedKeysRecord.decode(r.encode())).contains(r);
        assertThat(TrustedKeysRecord.decode(new byte[0])).contains(new TrustedKeysRecord(List.of()));
    }

    @Test
    void aRecordThatIsNotKeyIds_isNoRecord() {
        for (String bad : List.of(A.toUpperCase(), A + "\n", A + "\n\n" + B, A.substring(1), A + " ", "garbage")) {
            assertThat(TrustedKeysRecord.decode(bad.getBytes(StandardCharsets.US_ASCII))).as(bad).isEmpty();
        }
        String tooMany = String.join("\n", IntStream.range(0, TrustedKeysRecord.MAX_KEYS + 1)
                .mapToObj(i -> String.format("%064x", i)).toList());
        assertThat(TrustedKeysRecord.decode(tooMany.getBytes(StandardCharsets.US_ASCII))).isEmpty();
        assertThat(TrustedKeysRecord.decode(null)).isEmpty();
    }

    @Test
    void members_areEveryValidRecord_thisMembersOwnIncluded() {
        LocalRecords records = new LocalRecords("n1");
        assertThat(new TrustedKeysRecord(List.of(B, A)).share(records)).isEmpty();
        Map<String, byte[]> all = new HashMap<>(records.of(TrustedKeysRecord.KEY));
        all.put("n2", B.getBytes(StandardCharsets.US_ASCII));
        all.put("n3", "not keys".getBytes(StandardCharsets.US_ASCII));

        assertThat(TrustedKeysRecord.members(all)).containsExactly(Map.entry("n1", List.of(B, A).stream().sorted().toList()),
                Map.entry("n2", List.of(B)));
        assertThat(TrustedKeysRecord.members(records)).containsOnlyKeys("n1");
    }

    @Test
    void moreKeysThanARecordHolds_areNotShared_andSaySo() {
        LocalRecords records = new LocalRecords("n1");
        List<String> many = IntStream.range(0, TrustedKeysRecord.MAX_KEYS + 1).mapToObj(i -> String.format("%064x", i)).toList();

        assertThat(new TrustedKeysRecord(many).share(records)).hasValueSatisfying(why -> assertThat(why).contains("201 trusted publisher keys"));
        assertThat(records.of(TrustedKeysRecord.KEY)).isEmpty();
    }
}
