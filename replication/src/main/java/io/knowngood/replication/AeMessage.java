package io.knowngood.replication;

import io.knowngood.crypto.bundle.BundleName;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Anti-entropy wire messages (on the FORK channel, so over the same TLS transport). Compact binary:
 * a digest entry is name, version and the 32-byte manifest digest. Decoding is bounded and a
 * malformed message from a member is an {@link IOException}, never a crash.
 */
sealed interface AeMessage {
  int MAX_ENTRIES = 200_000;
  int MAX_ARCHIVE_BYTES = 256 << 20;

  /** Everything the sender holds (highest version per name). */
  record Digest(Map<String, VersionStamp> entries) implements AeMessage {}

  /** The sender now holds this stamp (sent after each store: the acknowledgement {@link Mesh#publish} counts). */
  record Have(String name, VersionStamp stamp) implements AeMessage {}

  /** Please send me your highest version of these names. */
  record Pull(List<String> names) implements AeMessage {}

  /** One archive, in answer to a pull. Unverified until the receiver verifies it. */
  record Bundle(String name, byte[] archive) implements AeMessage {}

  byte DIGEST = 1;
  byte HAVE = 2;
  byte PULL = 3;
  byte BUNDLE = 4;

  static byte[] encode(AeMessage m) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(m instanceof Bundle b ? b.archive().length + 256 : 256);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      if (m instanceof Digest d) {
        out.writeByte(DIGEST);
        out.writeInt(d.entries().size());
        for (Map.Entry<String, VersionStamp> e : d.entries().entrySet()) {
          out.writeUTF(e.getKey());
          writeStamp(out, e.getValue());
        }
      } else if (m instanceof Have h) {
        out.writeByte(HAVE);
        out.writeUTF(h.name());
        writeStamp(out, h.stamp());
      } else if (m instanceof Pull p) {
        out.writeByte(PULL);
        out.writeInt(p.names().size());
        for (String n : p.names()) {
          out.writeUTF(n);
        }
      } else if (m instanceof Bundle b) {
        out.writeByte(BUNDLE);
        out.writeUTF(b.name());
        out.writeInt(b.archive().length);
        out.write(b.archive());
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  static AeMessage decode(byte[] buf, int offset, int length) throws IOException {
    DataInputStream in = new DataInputStream(new ByteArrayInputStream(buf, offset, length));
    AeMessage m = read(in);
    if (in.available() > 0) {
      throw new IOException("trailing bytes after anti-entropy message");
    }
    return m;
  }

  private static AeMessage read(DataInputStream in) throws IOException {
    byte type = in.readByte();
    switch (type) {
      case DIGEST: {
        int n = count(in.readInt());
        Map<String, VersionStamp> entries = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
          entries.put(name(in), readStamp(in));
        }
        return new Digest(entries);
      }
      case HAVE:
        return new Have(name(in), readStamp(in));
      case PULL: {
        int n = count(in.readInt());
        List<String> names = new ArrayList<>(Math.min(n, 1024));
        for (int i = 0; i < n; i++) {
          names.add(name(in));
        }
        return new Pull(names);
      }
      case BUNDLE: {
        String name = name(in);
        int len = in.readInt();
        if (len < 0 || len > MAX_ARCHIVE_BYTES || len > in.available()) {
          throw new IOException("bad archive length " + len);
        }
        byte[] archive = in.readNBytes(len);
        return new Bundle(name, archive);
      }
      default:
        throw new IOException("unknown anti-entropy message type " + type);
    }
  }

  private static int count(int n) throws IOException {
    if (n < 0 || n > MAX_ENTRIES) {
      throw new IOException("bad entry count " + n);
    }
    return n;
  }

  private static String name(DataInputStream in) throws IOException {
    String n = in.readUTF();
    if (!BundleName.isValid(n)) {
      throw new IOException("bad bundle name");
    }
    return n;
  }

  private static void writeStamp(DataOutputStream out, VersionStamp s) throws IOException {
    out.writeLong(s.version());
    byte[] d = HexFormat.of().parseHex(s.manifestDigest());
    out.writeByte(d.length);
    out.write(d);
  }

  private static VersionStamp readStamp(DataInputStream in) throws IOException {
    long v = in.readLong();
    int len = in.readUnsignedByte();
    if (v < 1 || len != 32) {
      throw new IOException("bad version stamp");
    }
    byte[] digest = new byte[len];
    in.readFully(digest);
    return new VersionStamp(v, HexFormat.of().formatHex(digest));
  }
}
