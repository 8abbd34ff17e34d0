package io.knowngood.testkit.process;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * Copying and deleting a node's directories (data dirs, backups, whole cluster dirs) between runs and
 * inside faults. Symbolic links are copied as what they point to; nothing here follows them out.
 */
public final class FileTrees {
    private FileTrees() {
    }

    /** Copies every file under {@code from} to the same place under {@code to}; creates {@code to} when {@code from} is absent. */
    public static void copy(Path from, Path to) throws IOException {
        if (!Files.exists(from)) {
            Files.createDirectories(to);
            return;
        }
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : s.sorted().toList()) {
                Path dest = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(dest);
                } else {
                    Files.copy(p, dest, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.COPY_ATTRIBUTES);
                }
            }
        }
    }

    /** Deletes {@code root} and everything under it; nothing when it does not exist. */
    public static void delete(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
