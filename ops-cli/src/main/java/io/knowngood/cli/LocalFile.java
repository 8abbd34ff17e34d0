package io.knowngood.cli;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Paths named on the command line, used as what they must be. The JDK's read of a directory fails with
 * "Is a directory" and no path, which kgctl printed as it came ({@code kgctl publish: Is a directory}),
 * and making a directory where a file is says "already exists"; here either is exit 3 naming the path
 * and what was expected.
 */
public final class LocalFile {
    private LocalFile() {
    }

    public static byte[] bytes(Path file) throws IOException {
        return Files.readAllBytes(aFile(file));
    }

    public static String text(Path file) throws IOException {
        return Files.readString(aFile(file), StandardCharsets.UTF_8);
    }

    public static InputStream open(Path file) throws IOException {
        return Files.newInputStream(aFile(file));
    }

    /**
     * {@code dir} for an option that names a directory (to read from, or to create): a file there is
     * exit 3, "OPTION DIR: not a directory (WHAT)". A missing one is left to the caller.
     */
    public static Path directory(String option, Path dir, String what) {
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new CliFailure(ExitCode.IO, option + " " + dir + ": not a directory (" + what + ")");
        }
        return dir;
    }

    /**
     * {@code file} for an option that names a file (to read, or to write): a directory there is exit 3,
     * "OPTION FILE: is a directory (WHAT)". The twin of {@link #directory}.
     */
    public static Path file(String option, Path file, String what) {
        if (Files.isDirectory(file)) {
            throw new CliFailure(ExitCode.IO, option + " " + file + ": is a directory (" + what + ")");
        }
        return file;
    }

    private static Path aFile(Path file) {
        if (Files.isDirectory(file)) {
            throw new CliFailure(ExitCode.IO, "is a directory: " + file);
        }
        return file;
    }
}
