package io.knowngood.cli;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A file named on the command line, read as a file. The JDK's read of a directory fails with
 * "Is a directory" and no path, which kgctl printed as it came ({@code kgctl publish: Is a directory});
 * here it is exit 3 naming the path, as a missing file is.
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

    private static Path aFile(Path file) {
        if (Files.isDirectory(file)) {
            throw new CliFailure(ExitCode.IO, "is a directory: " + file);
        }
        return file;
    }
}
