package io.knowngood.replication;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AeMessageTest {
  private static final VersionStamp STAMP = new VersionStamp(7, "ab".repeat(32));

  @Test
  void encodeDecode_everyType_roundTrips() throws IOException {
    assertThat(roundTrip(new AeMessage.Digest(Map.of("a", STAMP, "b.c", new VersionStamp(1, "00".repeat(32))))))
        .isEqualTo(new AeMessage.Digest(Map.of("a", STAMP, "b.c", new VersionStamp(1, "00".repeat(32)))));
    assertThat(roundTrip(new AeMessage.Have("a", STAMP))).isEqualTo(new AeMessage.Have("a", STAMP));
    assertThat(roundTrip(new AeMessage.Pull(List.of("a", "b")))).isEqualTo(new AeMessage.Pull(List.of("a", "b")));
    AeMessage.Bundle b = (AeMessage.Bundle) roundTrip(new AeMessage.Bundle("a", new byte[] {1, 2, 3}));
    assertThat(b.name()).isEqualTo("a");
    assertThat(b.archive()).containsExactly(1, 2, 3);
  }

  @Test
  void decode_malformedInput_isAnIOExceptionNotACrash() throws IOException {
    byte[] good = AeMessage.encode(new AeMessage.Digest(Map.of("a", STAMP)));
    assertThatThrownBy(() -> AeMessage.decode(good, 0, good.length - 3)).isInstanceOf(IOException.class);
    assertThatThrownBy(() -> AeMessage.decode(new byte[] {9}, 0, 1)).isInstanceOf(IOException.class);

    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeByte(AeMessage.PULL);
      out.writeInt(Integer.MAX_VALUE);
    }
    assertThatThrownBy(() -> AeMessage.decode(bytes.toByteArray(), 0, bytes.size())).isInstanceOf(IOException.class);

    bytes.reset();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeByte(AeMessage.BUNDLE);
      out.writeUTF("../etc");
    }
    assertThatThrownBy(() -> AeMessage.decode(bytes.toByteArray(), 0, bytes.size()))
        .isInstanceOf(IOException.class).hasMessageContaining("name");

    bytes.reset();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeByte(AeMessage.BUNDLE);
      out.writeUTF("a");
      out.writeInt(1 << 30);
    }
    assertThatThrownBy(() -> AeMessage.decode(bytes.toByteArray(), 0, bytes.size())).isInstanceOf(IOException.class);
  }

  private static AeMessage roundTrip(AeMessage m) throws IOException {
    byte[] framed = new byte[3];
    byte[] encoded = AeMessage.encode(m);
    byte[] withOffset = Arrays.copyOf(framed, framed.length + encoded.length);
    System.arraycopy(encoded, 0, withOffset, framed.length, encoded.length);
    return AeMessage.decode(withOffset, framed.length, encoded.length);
  }
}
