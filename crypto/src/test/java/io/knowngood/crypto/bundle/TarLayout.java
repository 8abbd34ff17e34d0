package io.knowngood.crypto.bundle;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Where each entry's header and data sit in a well-formed archive, found by walking the 512-byte
 * headers. Tests use it to aim mutations at the signed and hashed bytes (entry data) or at the
 * parts that may change harmlessly (padding, mtime).
 */
record TarLayout(byte[] seed, List<Region> entries, int end) {
    /** One entry: header at {@code header}, {@code size} data bytes from {@code data}, padded to 512. */
    record Region(String name, byte type, int header, int data, int size) {
        int paddingEnd() {
            return data + (size + 511) / 512 * 512;
        }
    }

    static TarLayout of(byte[] tar) {
        List<Region> out = new ArrayList<>();
        int h = 0;
        while (h + 512 <= tar.length && tar[h] != 0) {
            String name = new String(tar, h, 100, StandardCharsets.UTF_8);
            int nul = name.indexOf('\0');
            name = nul < 0 ? name : name.substring(0, nul);
            int size = Integer.parseInt(new String(tar, h + 124, 11, StandardCharsets.US_ASCII).trim(), 8);
            Region r = new Region(name, tar[h + 156], h, h + 512, size);
            out.add(r);
            h = r.paddingEnd();
        }
        return new TarLayout(tar, List.copyOf(out), h);
    }

    /** The data bytes of regular entries (manifest.json, signatures.json, files/...): what is signed or hashed. */
    List<Region> regularData() {
        return entries.stream().filter(r -> r.type() == '0' && r.size() > 0).toList();
    }

    int regularDataBytes() {
        return regularData().stream().mapToInt(Region::size).sum();
    }

    /** The {@code n}-th byte (0-based) of all regular entries' data, as an offset in the archive. */
    int regularDataOffset(int n) {
        for (Region r : regularData()) {
            if (n < r.size()) {
                return r.data() + n;
            }
            n -= r.size();
        }
        throw new IndexOutOfBoundsException(n);
    }
}
