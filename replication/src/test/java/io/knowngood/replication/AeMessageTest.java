package io.knowngood.replication;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class AeMessageTest {
  private static final VersionStamp STAMP = new VersionStamp(7, "ab".repeat(32));
  private static final VersionStamp OTHER = new VersionStamp(1, "00".repeat(32));

  @Test
  void encodeDecode_everyType_roundTrips() {
    assertThat(roundTrip(new AeMessage.Digest(Map.of("a", STAMP, "b.c", OTHER))))
        .isEqualTo(new AeMessage.Digest(Map.of("a", STAMP, "b.c", OTHER)));
    assertThat(roundTrip(new AeMessage.Have("a", STAMP))).isEqualTo(new AeMessage.Have("a", STAMP));
    assertThat(roundTrip(new AeMessage.Pull(List.of("a", "b")))).isEqualTo(new AeMessage.Pull(List.of("a", "b")));
    AeMessage.Bundle b = (AeMessage.Bundle) roundTrip(new AeMessage.Bundle("a", new byte[] {1, 2, 3}));
    assertThat(b.name()).isEqualTo("a");
    assertThat(b.archive()).containsExactly(1, 2, 3);
    byte[] hash = AeMessage.hashOf(Map.of("a", STAMP));
    assertThat(roundTrip(new AeMessage.DigestHash(hash, 1))).isEqualTo(new AeMessage.DigestHash(hash.clone(), 1));
    assertThat(roundTrip(new AeMessage.DigestRequest())).isEqualTo(new AeMessage.DigestRequest());
    assertThat(roundTrip(new AeMessage.RecordsHash(hash))).isEqualTo(new AeMessage.RecordsHash(hash.clone()));
    assertThat(AeMessage.encode(new AeMessage.RecordsHash(hash))).hasSize(33);
  }

  @Test
  void digestHash_isSmall_whileTheDigestOfTenThousandNamesIsNot() {
    Map<String, VersionStamp> names = new TreeMap<>();
    for (int i = 0; i < 10_000; i++) {
      names.put(String.format("bundle-%05d", i), STAMP);
    }
    assertThat(AeMessage.encode(new AeMessage.DigestHash(AeMessage.hashOf(names), names.size()))).hasSize(37);
    assertThat(AeMessage.encode(new AeMessage.Digest(names)).length).isGreaterThan(500_000);
  }

  @Test
  void hashOf_dependsOnEveryFieldButNotOnMapOrder() {
    Map<String, VersionStamp> forward = new LinkedHashMap<>();
    forward.put("a", STAMP);
    forward.put("b", OTHER);
    Map<String, VersionStamp> backward = new LinkedHashMap<>();
    backward.put("b", OTHER);
    backward.put("a", STAMP);
    assertThat(AeMessage.hashOf(forward)).isEqualTo(AeMessage.hashOf(backward)).hasSize(AeMessage.HASH_BYTES);
    byte[] base = AeMessage.hashOf(forward);
    assertThat(AeMessage.hashOf(Map.of("a", STAMP))).isNotEqualTo(base);
    assertThat(AeMessage.hashOf(Map.of("a", STAMP, "b", new VersionStamp(2, OTHER.manifestDigest())))).isNotEqualTo(base);
    assertThat(AeMessage.hashOf(Map.of("a", STAMP, "b", new VersionStamp(1, "01".repeat(32))))).isNotEqualTo(base);
    assertThat(AeMessage.hashOf(Map.of("a", STAMP, "c", OTHER))).isNotEqualTo(base);
  }

  @Test
  void decode_malformedInput_isATypedResultNotACrash() throws IOException {
    byte[] good = AeMessage.encode(new AeMessage.Digest(Map.of("a", STAMP)));
    assertThat(AeMessage.decode(good, 0, good.length - 3)).isInstanceOf(AeMessage.Malformed.class);
    assertThat(AeMessage.decode(new byte[] {9}, 0, 1)).isEqualTo(new AeMessage.Malformed("unknown anti-entropy message type 9"));
    assertThat(AeMessage.decode(new byte[0], 0, 0)).isInstanceOf(AeMessage.Malformed.class);
    byte[] trailing = Arrays.copyOf(AeMessage.encode(new AeMessage.DigestRequest()), 2);
    assertThat(AeMessage.decode(trailing, 0, 2)).isEqualTo(new AeMessage.Malformed("trailing bytes after anti-entropy message"));

    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeByte(AeMessage.PULL);
      out.writeInt(Integer.MAX_VALUE);
    }
    assertThat(AeMessage.decode(bytes.toByteArray(), 0, bytes.size()))
        .isEqualTo(new AeMessage.Malformed("bad entry count " + Integer.MAX_VALUE));

    bytes.reset();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeByte(AeMessage.DIGEST_HASH);
      out.writeInt(AeMessage.MAX_ENTRIES + 1);
      out.write(new byte[32]);
    }
    assertThat(AeMessage.decode(bytes.toByteArray(), 0, bytes.size())).isInstanceOf(AeMessage.Malformed.class);

    bytes.reset();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeByte(AeMessage.DIGEST_HASH);
      out.writeInt(1);
      out.write(new byte[31]);
    }
    assertThat(AeMessage.decode(bytes.toByteArray(), 0, bytes.size())).isInstanceOf(AeMessage.Malformed.class);

    bytes.reset();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeByte(AeMessage.RECORDS_HASH);
      out.write(new byte[31]);
    }
    assertThat(AeMessage.decode(bytes.toByteArray(), 0, bytes.size())).as("a short records hash").isInstanceOf(AeMessage.Malformed.class);

    bytes.reset();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeByte(AeMessage.BUNDLE);
      out.writeUTF("../etc");
    }
    assertThat(AeMessage.decode(bytes.toByteArray(), 0, bytes.size())).isEqualTo(new AeMessage.Malformed("bad bundle name"));

    bytes.reset();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeByte(AeMessage.BUNDLE);
      out.writeUTF("a");
      out.writeInt(1 << 30);
    }
    assertThat(AeMessage.decode(bytes.toByteArray(), 0, bytes.size())).isInstanceOf(AeMessage.Malformed.class);
  }

  private static AeMessage roundTrip(AeMessage m) {
    byte[] framed = new byte[3];
    byte[] encoded = AeMessage.encode(m);
    byte[] withOffset = Arrays.copyOf(framed, framed.length + encoded.length);
    System.arraycopy(encoded, 0, withOffset, framed.length, encoded.length);
    AeMessage.Decoded d = AeMessage.decode(withOffset, framed.length, encoded.length);
    assertThat(d).isInstanceOf(AeMessage.Ok.class);
    return ((AeMessage.Ok) d).message();
  }
}
