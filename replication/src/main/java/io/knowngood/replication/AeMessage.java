package io.knowngood.replication;

import io.knowngood.crypto.bundle.BundleName;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Anti-entropy wire messages (on the FORK channel, so over the same TLS transport). Compact binary:
 * a digest entry is name, version and the 32-byte manifest digest. A round multicasts only a
 * {@link DigestHash} (37 bytes); the full {@link Digest} travels unicast, on request, when the hashes
 * differ. Decoding is bounded (counts, lengths, names) and a malformed message from a member is a
 * {@link Decoded.Malformed} result, never a crash. No version negotiation: every member of a mesh
 * runs the same format.
 */
sealed interface AeMessage {
  int MAX_ENTRIES = 200_000;
  int MAX_ARCHIVE_BYTES = 256 << 20;
  int HASH_BYTES = 32;

  /** Everything the sender holds (highest version per name). Sent unicast, in answer to a {@link DigestRequest}. */
  record Digest(Map<String, VersionStamp> entries) implements AeMessage {}

  /** A round: the hash of the sender's digest ({@link #hashOf}) and how many names it holds. */
  record DigestHash(byte[] hash, int entries) implements AeMessage {
    @Override
    public boolean equals(Object o) {
      return o instanceof DigestHash h && h.entries == entries && Arrays.equals(h.hash, hash);
    }

    @Override
    public int hashCode() {
      return 31 * Arrays.hashCode(hash) + entries;
    }

    @Override
    public String toString() {
      return "DigestHash[" + HexFormat.of().formatHex(hash, 0, Math.min(8, hash.length)) + ", " + entries + "]";
    }
  }

  /**
   * Sent with each {@link DigestHash}: the hash of the sender's copy of the receiver's own mesh records
   * ({@link ReplicatedRecords#hashOf}), so the receiver can tell a write of its own that the sender lost.
   */
  record RecordsHash(byte[] hash) implements AeMessage {
    public RecordsHash {
      if (hash.length != HASH_BYTES) {
        throw new IllegalArgumentException("a records hash is " + HASH_BYTES + " bytes, not " + hash.length);
      }
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof RecordsHash h && Arrays.equals(h.hash, hash);
    }

    @Override
    public int hashCode() {
      return Arrays.hashCode(hash);
    }

    @Override
    public String toString() {
      return "RecordsHash[" + HexFormat.of().formatHex(hash, 0, 8) + "]";
    }
  }

  /** Our digest hashes differ: please send me your full digest. */
  record DigestRequest() implements AeMessage {}

  /** The sender now holds this stamp (sent after each store: the acknowledgement {@link Mesh#publish} counts). */
  record Have(String name, VersionStamp stamp) implements AeMessage {}

  /** Please send me your highest version of these names. */
  record Pull(List<String> names) implements AeMessage {}

  /** One archive, in answer to a pull. Unverified until the receiver verifies it. */
  record Bundle(String name, byte[] archive) implements AeMessage {}

  /** What {@link #decode} made of some bytes. */
  sealed interface Decoded {}

  record Ok(AeMessage message) implements Decoded {}

  record Malformed(String reason) implements Decoded {}

  byte DIGEST = 1;
  byte HAVE = 2;
  byte PULL = 3;
  byte BUNDLE = 4;
  byte DIGEST_HASH = 5;
  byte DIGEST_REQUEST = 6;
  byte RECORDS_HASH = 7;

  /**
   * SHA-256 over the entries sorted by name: each is the name's UTF-8 bytes, a zero byte, the version
   * (8 bytes, big-endian), the manifest digest's UTF-8 bytes and a newline. Equal digests, equal hash,
   * whatever the map's order.
   */
  static byte[] hashOf(Map<String, VersionStamp> digest) {
    MessageDigest sha;
    try {
      sha = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required by the Java platform", e);
    }
    byte[] version = new byte[8];
    for (Map.Entry<String, VersionStamp> e : new TreeMap<>(digest).entrySet()) {
      sha.update(e.getKey().getBytes(StandardCharsets.UTF_8));
      sha.update((byte) 0);
      long v = e.getValue().version();
      for (int i = 7; i >= 0; i--) {
        version[i] = (byte) v;
        v >>>= 8;
      }
      sha.update(version);
      sha.update(e.getValue().manifestDigest().getBytes(StandardCharsets.UTF_8));
      sha.update((byte) '\n');
    }
    return sha.digest();
  }

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
      } else if (m instanceof DigestHash h) {
        out.writeByte(DIGEST_HASH);
        out.writeInt(h.entries());
        out.write(h.hash());
      } else if (m instanceof RecordsHash h) {
        out.writeByte(RECORDS_HASH);
        out.write(h.hash());
      } else if (m instanceof DigestRequest) {
        out.writeByte(DIGEST_REQUEST);
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

  static Decoded decode(byte[] buf, int offset, int length) {
    try {
      DataInputStream in = new DataInputStream(new ByteArrayInputStream(buf, offset, length));
      AeMessage m = read(in);
      if (in.available() > 0) {
        return new Malformed("trailing bytes after anti-entropy message");
      }
      return new Ok(m);
    } catch (IOException | RuntimeException e) {
      return new Malformed(e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage());
    }
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
      case DIGEST_HASH: {
        int n = count(in.readInt());
        byte[] hash = new byte[HASH_BYTES];
        in.readFully(hash);
        return new DigestHash(hash, n);
      }
      case RECORDS_HASH: {
        byte[] hash = new byte[HASH_BYTES];
        in.readFully(hash);
        return new RecordsHash(hash);
      }
      case DIGEST_REQUEST:
        return new DigestRequest();
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
