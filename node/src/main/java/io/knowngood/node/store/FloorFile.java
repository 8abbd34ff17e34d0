package io.knowngood.node.store;

import io.knowngood.crypto.bundle.BundleName;
import io.knowngood.crypto.bundle.Sha256;
import io.knowngood.crypto.files.AtomicFile;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The durable rollback floor: for every name, the highest version ever accepted and its manifest
 * digest. It lives outside the data dir on purpose, so restoring an older copy of the data dir
 * (a backup, a snapshot) cannot lower it. The digest lets exactly that version come back (from a
 * peer) after its copy was lost, and nothing else of the same number.
 *
 * <p>Text, one {@code name version digest} line per name, closed by a {@code sha256} line over the
 * preceding bytes so a damaged file is noticed; always replaced atomically.
 */
final class FloorFile {

    private static final String HEADER = "# knowngood rollback floor v1 (do not restore from backups)\n";

    /** The floor for one name. */
    record Entry(long version, String digest) {}

    /** What was read, and whether the file was damaged (its entries are then only partially trusted). */
    record Read(Map<String, Entry> entries, Optional<String> problem) {}

    private final Path file;

    FloorFile(Path file) {
        this.file = file;
    }

    Path path() {
        return file;
    }

    Read read() throws IOException {
        if (Files.isDirectory(file)) { // else the JDK's bare "Is a directory", without the path
            throw new IOException("floor file " + file + " is a directory (--floor-file names a file, kept apart from the data dir)");
        }
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            return new Read(Map.of(), Optional.empty());
        }
        String text = new String(bytes, StandardCharsets.UTF_8);
        Map<String, Entry> entries = new TreeMap<>();
        int sumAt = text.lastIndexOf("sha256 ");
        Optional<String> problem = Optional.empty();
        if (sumAt < 0 || !text.endsWith("\n") || !text.substring(sumAt + 7, text.length() - 1).equals(sha256(text.substring(0, sumAt)))) {
            problem = Optional.of("floor file " + file + " is damaged (checksum missing or wrong); using the entries that parse");
            sumAt = text.length();
        }
        for (String line : text.substring(0, sumAt).split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            String[] f = line.split(" ");
            if (f.length != 3 || !BundleName.isValid(f[0]) || !Sha256.isHex(f[2])) {
                problem = Optional.of("floor file " + file + " has an unreadable line");
                continue;
            }
            try {
                long v = Long.parseLong(f[1]);
                entries.merge(f[0], new Entry(v, f[2]), (a, b) -> a.version() >= b.version() ? a : b);
            } catch (NumberFormatException e) {
                problem = Optional.of("floor file " + file + " has an unreadable version");
            }
        }
        return new Read(entries, problem);
    }

    void write(Map<String, Entry> entries) throws IOException {
        AtomicFile.write(file, encode(entries));
    }

    /** The file's content for {@code entries}, for a caller that writes it together with other files. */
    AtomicFile.Content content(Map<String, Entry> entries) {
        return new AtomicFile.Content(file, encode(entries));
    }

    private static byte[] encode(Map<String, Entry> entries) {
        StringBuilder sb = new StringBuilder(HEADER);
        new TreeMap<>(entries).forEach((name, e) -> sb.append(name).append(' ').append(e.version()).append(' ').append(e.digest()).append('\n'));
        String body = sb.toString();
        String all = body + "sha256 " + sha256(body) + "\n";
        return all.getBytes(StandardCharsets.UTF_8);
    }

    private static String sha256(String s) {
        return Sha256.hex(s.getBytes(StandardCharsets.UTF_8));
    }
}
