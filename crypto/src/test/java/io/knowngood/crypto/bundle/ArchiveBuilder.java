package io.knowngood.crypto.bundle;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.function.Consumer;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

/**
 * Builds bundle archives entry by entry with commons-compress, so a test can make exactly one thing
 * wrong: the manifest text (re-signed unless the signatures are set by hand), the signatures, or the
 * tar entries (names, types, order, content). Starts from a valid two-file bundle.
 */
final class ArchiveBuilder {
    static final Instant CREATED = Instant.parse("2026-11-25T10:00:00Z");
    static final String NAME = "desktop-base";
    static final long VERSION = 3;

    /** One tar entry as it will be written; {@code pax} adds PAX extended header records. */
    record Entry(String name, byte type, byte[] content, String linkName, Map<String, String> pax) {
        static Entry file(String name, byte[] content) {
            return new Entry(name, TarConstants.LF_NORMAL, content, null, Map.of());
        }

        static Entry file(String name, String content) {
            return file(name, content.getBytes(StandardCharsets.UTF_8));
        }

        static Entry special(String name, byte type) {
            return new Entry(name, type, new byte[0], null, Map.of());
        }

        static Entry link(String name, byte type, String target) {
            return new Entry(name, type, new byte[0], target, Map.of());
        }

        Entry withPax(String key, String value) {
            Map<String, String> p = new LinkedHashMap<>(pax);
            p.put(key, value);
            return new Entry(name, type, content, linkName, p);
        }
    }

    private final List<KeyPair> signers = new ArrayList<>();
    private final SortedMap<String, byte[]> files = new TreeMap<>();
    private byte[] manifest;
    private byte[] signatures;
    private Consumer<List<Entry>> entryEdit = list -> { };

    private ArchiveBuilder(KeyPair signer) {
        signers.add(signer);
    }

    /** A valid bundle: {@code a.txt} and {@code etc/b.conf}, signed by {@code signer}. */
    static ArchiveBuilder valid(KeyPair signer) {
        return new ArchiveBuilder(signer)
                .file("a.txt", "alpha\n")
                .file("etc/b.conf", "bravo=charlie\n");
    }

    static ArchiveBuilder empty(KeyPair signer) {
        return new ArchiveBuilder(signer);
    }

    ArchiveBuilder file(String path, String content) {
        return file(path, content.getBytes(StandardCharsets.UTF_8));
    }

    ArchiveBuilder file(String path, byte[] content) {
        files.put(path, content);
        return this;
    }

    /** The canonical manifest.json the packer would write for the current files. */
    String canonicalManifest() {
        List<FileEntry> list = new ArrayList<>();
        files.forEach((p, c) -> list.add(new FileEntry(p, c.length, Sha256.hex(c))));
        Manifest m = new Manifest(Manifest.SCHEMA, NAME, VERSION, CREATED, Optional.empty(), list, Map.of(), false);
        return new String(ManifestCodec.write(m), StandardCharsets.UTF_8);
    }

    /** Replaces manifest.json with these exact bytes (UTF-8); still signed by the signers unless {@link #signatures} is set. */
    ArchiveBuilder manifest(String json) {
        this.manifest = json.getBytes(StandardCharsets.UTF_8);
        return this;
    }

    /** Byte surgery on the canonical manifest: replaces the first occurrence of {@code from}. */
    ArchiveBuilder manifestReplacing(String from, String to) {
        String m = canonicalManifest();
        if (!m.contains(from)) {
            throw new IllegalArgumentException(from + " is not in " + m);
        }
        return manifest(m.replaceFirst(java.util.regex.Pattern.quote(from), java.util.regex.Matcher.quoteReplacement(to)));
    }

    ArchiveBuilder signedBy(KeyPair... keys) {
        signers.clear();
        signers.addAll(List.of(keys));
        return this;
    }

    /** Replaces signatures.json with these exact bytes. */
    ArchiveBuilder signatures(String json) {
        this.signatures = json.getBytes(StandardCharsets.UTF_8);
        return this;
    }

    /** Edits the list of tar entries (manifest.json, signatures.json, files/...) before writing. */
    ArchiveBuilder entries(Consumer<List<Entry>> edit) {
        this.entryEdit = this.entryEdit.andThen(edit);
        return this;
    }

    byte[] manifestBytes() {
        return manifest != null ? manifest : canonicalManifest().getBytes(StandardCharsets.UTF_8);
    }

    byte[] signaturesBytes() {
        if (signatures != null) {
            return signatures;
        }
        byte[] m = manifestBytes();
        StringBuilder b = new StringBuilder("[");
        for (KeyPair k : signers) {
            if (b.length() > 1) {
                b.append(',');
            }
            b.append(signatureJson(k, Ed25519Keys.sign(k.getPrivate(), m)));
        }
        return b.append(']').toString().getBytes(StandardCharsets.UTF_8);
    }

    static String signatureJson(KeyPair k, byte[] sig) {
        return "{\"keyid\":\"" + KeyId.of(k.getPublic()).hex() + "\",\"sig\":\"" + Base64.getEncoder().encodeToString(sig) + "\"}";
    }

    static String keyId(KeyPair k) {
        return KeyId.of(k.getPublic()).hex();
    }

    List<Entry> entryList() {
        List<Entry> list = new ArrayList<>();
        list.add(Entry.file("manifest.json", manifestBytes()));
        list.add(Entry.file("signatures.json", signaturesBytes()));
        files.forEach((p, c) -> list.add(Entry.file("files/" + p, c)));
        entryEdit.accept(list);
        return list;
    }

    byte[] build() {
        return write(entryList());
    }

    static byte[] write(List<Entry> entries) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes, StandardCharsets.UTF_8.name())) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
            for (Entry e : entries) {
                if (!e.pax().isEmpty()) {
                    byte[] records = paxRecords(e.pax());
                    TarArchiveEntry x = new TarArchiveEntry("PaxHeaders/" + e.pax().size(), TarConstants.LF_PAX_EXTENDED_HEADER_LC, true);
                    x.setSize(records.length);
                    tar.putArchiveEntry(x);
                    tar.write(records);
                    tar.closeArchiveEntry();
                }
                TarArchiveEntry t = new TarArchiveEntry(e.name(), e.type(), true);
                if (e.linkName() != null) {
                    t.setLinkName(e.linkName());
                }
                t.setSize(e.content().length);
                t.setModTime(CREATED.toEpochMilli());
                tar.putArchiveEntry(t);
                tar.write(e.content());
                tar.closeArchiveEntry();
            }
            tar.finish();
        } catch (IOException ex) {
            throw new IllegalStateException("writing to memory cannot fail", ex);
        }
        return bytes.toByteArray();
    }

    /** PAX records written by hand ("LEN key=value\n", LEN counting itself), so any value can be stored verbatim. */
    static byte[] paxRecords(Map<String, String> pax) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        pax.forEach((k, v) -> {
            byte[] body = (" " + k + "=" + v + "\n").getBytes(StandardCharsets.UTF_8);
            int len = body.length + 1;
            while (len != body.length + Integer.toString(len).length()) {
                len = body.length + Integer.toString(len).length();
            }
            out.writeBytes(Integer.toString(len).getBytes(StandardCharsets.US_ASCII));
            out.writeBytes(body);
        });
        return out.toByteArray();
    }

    /** Byte surgery: changes the type flag of the first header of type {@code from} and fixes its checksum. */
    static byte[] retypeFirst(byte[] archive, byte from, byte to) {
        byte[] out = archive.clone();
        for (int h = 0; h + 512 <= out.length; h += 512) {
            if (out[h + 156] == from && isHeader(Arrays.copyOfRange(out, h, h + 512))) {
                out[h + 156] = to;
                long sum = 0;
                for (int i = 0; i < 512; i++) {
                    sum += (i >= 148 && i < 156) ? ' ' : out[h + i] & 0xff;
                }
                byte[] field = String.format("%06o\0 ", sum).getBytes(StandardCharsets.US_ASCII);
                System.arraycopy(field, 0, out, h + 148, 8);
                return out;
            }
        }
        throw new IllegalArgumentException("no header of type " + (char) from);
    }

    private static boolean isHeader(byte[] record) {
        try {
            return org.apache.commons.compress.archivers.tar.TarUtils.verifyCheckSum(record);
        } catch (IllegalArgumentException notOctal) {
            return false;
        }
    }

    static int indexOf(List<Entry> entries, String name) {
        for (int i = 0; i < entries.size(); i++) {
            if (entries.get(i).name().equals(name)) {
                return i;
            }
        }
        throw new IllegalArgumentException("no entry " + name);
    }

    static void replace(List<Entry> entries, String name, Entry with) {
        entries.set(indexOf(entries, name), with);
    }
}
