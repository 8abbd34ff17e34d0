package io.knowngood.crypto.bundle;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Structure-aware mutations of tar archives, for fuzzing the verifier: bit flips, byte sets,
 * truncations, splices from other archives, inserted/removed/duplicated/swapped entries, random
 * headers (with a valid checksum, so they get past the first check), header field edits, PAX
 * records. Every decision comes from a {@link Choices}, so the fuzz engine (or a seeded random)
 * steers it and a failing input replays exactly.
 */
final class ArchiveMutator {
    /** Where the mutator's decisions come from. */
    interface Choices {
        /** A number in [0, bound). */
        int pick(int bound);

        byte[] bytes(int maxLength);
    }

    private static final String[] NAMES = {
        "manifest.json", "signatures.json", "files/a.txt", "files/etc/b.conf", "files/../a.txt", "/files/a.txt",
        "files\\a.txt", "files/", "files/a.txt/", "", ".", "..", "files/a.txt\u0000x", "files/zz", "PaxHeaders/0",
        "././@LongLink", "files/" + "d".repeat(120), "FILES/A.TXT", "files//a.txt", "files/./a.txt",
    };
    private static final byte[] TYPES = {'0', '\0', '1', '2', '3', '4', '5', '6', '7', 'x', 'g', 'X', 'L', 'K', 'S', 'M', 'V', 'D', 'N', 'A', 'Z'};
    private static final String[] PAX_KEYS = {
        "path", "linkpath", "size", "mtime", "uid", "gid", "uname", "GNU.sparse.size", "GNU.sparse.map", "GNU.sparse.major",
        "GNU.sparse.minor", "GNU.sparse.name", "GNU.sparse.realsize", "SCHILY.devmajor", "SCHILY.filetype", "comment", "charset", "hdrcharset",
    };
    private static final String[] PAX_VALUES = {
        "/files/a.txt", "files/a.txt", "files/../a.txt", "0", "1", "-1", "6", "99999999999999999999", "1.0", "", "0,0", "1,0,0,1",
        "files/a.txt\u0000/../x", "BINARY", "ISO-IR 10646 2000 UTF-8", "x".repeat(300), "9223372036854775807",
    };
    private static final int[] INTERESTING_BYTES = {0, 0xff, 0x7f, 0x80, '/', '.', ' ', '0', '7', '8', '\\', '"', '{', '}', ',', ':', '\n', 'x', 'g', 'L'};

    private ArchiveMutator() {
    }

    /** Applies 1 to 4 mutations to a copy of {@code original}; {@code others} are splice donors. */
    static byte[] mutate(byte[] original, List<byte[]> others, Choices c) {
        byte[] b = original.clone();
        int steps = 1 + c.pick(4);
        for (int i = 0; i < steps; i++) {
            b = mutateOnce(b, others, c);
        }
        return b;
    }

    static byte[] mutateOnce(byte[] b, List<byte[]> others, Choices c) {
        List<int[]> entries = entries(b); // {header offset, end offset}
        switch (c.pick(15)) {
            case 0:
                return flipBit(b, position(b, c), c.pick(8));
            case 1:
                return setByte(b, position(b, c), c.pick(2) == 0 ? INTERESTING_BYTES[c.pick(INTERESTING_BYTES.length)] : c.pick(256));
            case 2:
                return Arrays.copyOf(b, b.length == 0 ? 0 : c.pick(b.length));
            case 3:
                return splice(b, others.get(c.pick(others.size())), c);
            case 4:
                return insertAt(b, boundary(b, entries, c), entry(NAMES[c.pick(NAMES.length)], TYPES[c.pick(TYPES.length)], c.bytes(700), c));
            case 5:
                return entries.isEmpty() ? b : removeEntry(b, entries.get(c.pick(entries.size())));
            case 6:
                return entries.isEmpty() ? b : duplicateEntry(b, entries.get(c.pick(entries.size())), boundary(b, entries, c));
            case 7:
                return entries.size() < 2 ? b : swapEntries(b, entries, c.pick(entries.size()), c.pick(entries.size()));
            case 8:
                return entries.isEmpty() ? b : overwrite(b, entries.get(c.pick(entries.size()))[0], randomHeader(c));
            case 9:
                return entries.isEmpty() ? b : editHeaderField(b, entries.get(c.pick(entries.size()))[0], c);
            case 10:
                return insertAt(b, boundary(b, entries, c), paxEntry(c));
            case 11:
                return deleteRange(b, position(b, c), 1 + c.pick(1024));
            case 12: {
                int from = position(b, c);
                return insertAt(b, position(b, c), Arrays.copyOfRange(b, from, Math.min(b.length, from + 1 + c.pick(1024))));
            }
            case 13:
                return insertAt(b, b.length, c.pick(2) == 0 ? new byte[512 * (1 + c.pick(20))] : c.bytes(1024));
            default:
                return insertAt(b, position(b, c), c.bytes(64));
        }
    }

    /** Headers of the archive as far as they can be walked: {header, end of padded data}. */
    static List<int[]> entries(byte[] b) {
        List<int[]> out = new ArrayList<>();
        int h = 0;
        while (h >= 0 && h + 512 <= b.length && b[h] != 0 && out.size() < 10_000) {
            long size = octal(b, h + 124, 12);
            if (size < 0 || size > b.length) {
                break;
            }
            int end = h + 512 + (int) ((size + 511) / 512 * 512);
            out.add(new int[] {h, Math.min(end, b.length)});
            h = end;
        }
        return out;
    }

    private static long octal(byte[] b, int off, int len) {
        long v = 0;
        boolean any = false;
        for (int i = off; i < off + len; i++) {
            int d = b[i];
            if (d == 0 || d == ' ') {
                if (any) {
                    break;
                }
                continue;
            }
            if (d < '0' || d > '7') {
                return -1;
            }
            v = v * 8 + (d - '0');
            any = true;
        }
        return v;
    }

    private static int position(byte[] b, Choices c) {
        return b.length == 0 ? 0 : c.pick(b.length);
    }

    private static int boundary(byte[] b, List<int[]> entries, Choices c) {
        int i = c.pick(entries.size() + 1);
        return i < entries.size() ? entries.get(i)[0] : entries.isEmpty() ? 0 : entries.get(entries.size() - 1)[1];
    }

    private static byte[] flipBit(byte[] b, int at, int bit) {
        if (b.length == 0) {
            return b;
        }
        b[at] ^= (byte) (1 << bit);
        return b;
    }

    private static byte[] setByte(byte[] b, int at, int value) {
        if (b.length == 0) {
            return b;
        }
        b[at] = (byte) value;
        return b;
    }

    private static byte[] splice(byte[] b, byte[] donor, Choices c) {
        if (donor.length == 0 || b.length == 0) {
            return b;
        }
        int from = c.pick(donor.length);
        int len = 1 + c.pick(Math.min(4096, donor.length - from));
        byte[] piece = Arrays.copyOfRange(donor, from, from + len);
        int at = c.pick(b.length);
        if (c.pick(2) == 0) {
            return insertAt(b, at, piece);
        }
        byte[] out = b.length >= at + len ? b : Arrays.copyOf(b, at + len);
        System.arraycopy(piece, 0, out, at, len);
        return out;
    }

    static byte[] insertAt(byte[] b, int at, byte[] piece) {
        at = Math.max(0, Math.min(at, b.length));
        byte[] out = new byte[b.length + piece.length];
        System.arraycopy(b, 0, out, 0, at);
        System.arraycopy(piece, 0, out, at, piece.length);
        System.arraycopy(b, at, out, at + piece.length, b.length - at);
        return out;
    }

    private static byte[] deleteRange(byte[] b, int at, int len) {
        int end = Math.min(b.length, at + len);
        byte[] out = new byte[b.length - (end - at)];
        System.arraycopy(b, 0, out, 0, at);
        System.arraycopy(b, end, out, at, b.length - end);
        return out;
    }

    private static byte[] removeEntry(byte[] b, int[] e) {
        return deleteRange(b, e[0], e[1] - e[0]);
    }

    private static byte[] duplicateEntry(byte[] b, int[] e, int at) {
        return insertAt(b, at, Arrays.copyOfRange(b, e[0], e[1]));
    }

    private static byte[] swapEntries(byte[] b, List<int[]> entries, int i, int j) {
        if (i == j) {
            return b;
        }
        int[] first = entries.get(Math.min(i, j));
        int[] second = entries.get(Math.max(i, j));
        ByteArrayOutputStream out = new ByteArrayOutputStream(b.length);
        out.write(b, 0, first[0]);
        out.write(b, second[0], second[1] - second[0]);
        out.write(b, first[1], second[0] - first[1]);
        out.write(b, first[0], first[1] - first[0]);
        out.write(b, second[1], b.length - second[1]);
        return out.toByteArray();
    }

    private static byte[] overwrite(byte[] b, int at, byte[] piece) {
        byte[] out = b.length >= at + piece.length ? b : Arrays.copyOf(b, at + piece.length);
        System.arraycopy(piece, 0, out, at, piece.length);
        return out;
    }

    /** A header with random fields (sometimes plausible, sometimes not) and a correct checksum. */
    private static byte[] randomHeader(Choices c) {
        byte[] h = c.pick(2) == 0 ? Arrays.copyOf(c.bytes(512), 512) : new byte[512];
        put(h, 0, 100, NAMES[c.pick(NAMES.length)]);
        if (c.pick(2) == 0) {
            put(h, 124, 12, String.format("%011o", (long) c.pick(1 << 20)));
        }
        h[156] = TYPES[c.pick(TYPES.length)];
        if (c.pick(2) == 0) {
            put(h, 257, 8, "ustar\u000000");
        }
        fixChecksum(h, 0);
        return h;
    }

    private static byte[] entry(String name, byte type, byte[] data, Choices c) {
        byte[] h = new byte[512];
        put(h, 0, 100, name);
        put(h, 100, 8, "0000644");
        put(h, 124, 12, String.format("%011o", c.pick(4) == 0 ? (long) c.pick(1 << 30) : data.length));
        put(h, 136, 12, "15120722260");
        h[156] = type;
        if (type == '1' || type == '2') {
            put(h, 157, 100, "/etc/shadow");
        }
        put(h, 257, 8, "ustar\u000000");
        fixChecksum(h, 0);
        byte[] out = Arrays.copyOf(h, 512 + (data.length + 511) / 512 * 512);
        System.arraycopy(data, 0, out, 512, data.length);
        return out;
    }

    private static byte[] paxEntry(Choices c) {
        StringBuilder records = new StringBuilder();
        int n = 1 + c.pick(3);
        for (int i = 0; i < n; i++) {
            String body = " " + PAX_KEYS[c.pick(PAX_KEYS.length)] + "=" + PAX_VALUES[c.pick(PAX_VALUES.length)] + "\n";
            int len = body.getBytes(StandardCharsets.UTF_8).length;
            int total = len + String.valueOf(len).length();
            total = len + String.valueOf(total).length();
            records.append(c.pick(8) == 0 ? c.pick(1000) : total).append(body);
        }
        byte[] data = records.toString().getBytes(StandardCharsets.UTF_8);
        return entry("PaxHeaders/x", c.pick(6) == 0 ? (byte) 'g' : (byte) 'x', data, c);
    }

    private static byte[] editHeaderField(byte[] b, int header, Choices c) {
        int[][] fields = {{0, 100}, {100, 8}, {108, 8}, {116, 8}, {124, 12}, {136, 12}, {156, 1}, {157, 100}, {257, 8}, {265, 32}, {329, 8}, {345, 155}};
        int[] f = fields[c.pick(fields.length)];
        if (header + 512 > b.length) {
            return b;
        }
        byte[] value = c.pick(2) == 0 ? c.bytes(f[1]) : String.format("%0" + Math.max(1, f[1] - 1) + "o", (long) c.pick(Integer.MAX_VALUE))
                .getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(value, 0, b, header + f[0], Math.min(value.length, f[1]));
        if (c.pick(4) != 0) {
            fixChecksum(b, header);
        }
        return b;
    }

    private static void put(byte[] h, int off, int len, String s) {
        byte[] v = s.getBytes(StandardCharsets.UTF_8);
        System.arraycopy(v, 0, h, off, Math.min(len, v.length));
    }

    static void fixChecksum(byte[] b, int header) {
        long sum = 0;
        for (int i = 0; i < 512; i++) {
            sum += (i >= 148 && i < 156) ? ' ' : b[header + i] & 0xff;
        }
        byte[] field = String.format("%06o\0 ", sum).getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(field, 0, b, header + 148, 8);
    }
}
