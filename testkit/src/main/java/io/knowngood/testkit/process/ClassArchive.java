package io.knowngood.testkit.process;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * One AppCDS archive of a node jar for every node process a test module starts with the default JVM
 * flags ({@code target/kgnode.jar.classes.jsa}), as {@code bin/kgnode} keeps one beside the jar on a
 * host. A node started with it reaches its mesh about a second sooner (2.9 instead of 3.9 s here). It
 * is written by the module's first chaos run ({@code ChaosCluster#shareClasses}) and used by every
 * later start until the jar is rebuilt.
 */
public final class ClassArchive {

    private static final List<String> QUIET = List.of("-Xlog:cds=off", "-Xlog:cds+dynamic=off");

    private ClassArchive() {
    }

    /**
     * Where the archive of {@code jar} lives: in the test module's target/, never beside the jar (which
     * may be in the local Maven repository). The JVM checks that the jar it archived is the one on its
     * class path, and runs without the archive if not.
     */
    public static Path of(Path jar) {
        return Path.of("target", jar.getFileName() + ".classes.jsa").toAbsolutePath();
    }

    /** The archive of {@code jar} if one was written after the jar was (a rebuilt jar makes it stale). */
    public static Optional<Path> fresh(Path jar) {
        Path archive = of(jar);
        try {
            return Files.isRegularFile(archive)
                    && Files.getLastModifiedTime(archive).compareTo(Files.getLastModifiedTime(jar)) > 0
                    ? Optional.of(archive) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** JVM flags that start a node with {@code archive} (or without it, silently, if the JVM cannot use it). */
    public static List<String> use(Path archive) {
        return concat(List.of("-XX:SharedArchiveFile=" + archive, "-Xshare:auto"));
    }

    /** JVM flags that have a node write the classes it loaded to {@code file} when it exits. */
    public static List<String> writeAtExit(Path file) {
        return concat(List.of("-XX:ArchiveClassesAtExit=" + file));
    }

    /**
     * Makes {@code written} the archive of {@code jar} if it is {@link #complete}; deletes it otherwise.
     * Returns the archive in place afterwards, if any.
     */
    public static Optional<Path> adopt(Path written, Path jar, int exitCode) throws IOException {
        if (complete(written, exitCode)) {
            Files.move(written, of(jar), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } else {
            Files.deleteIfExists(written);
        }
        return fresh(jar);
    }

    /**
     * Whether {@code written} is a whole archive: its node exited by itself or on SIGTERM (a JVM killed
     * while writing leaves a torn file, which can crash a JVM that maps it).
     */
    public static boolean complete(Path written, int exitCode) {
        return Files.isRegularFile(written) && (exitCode == 0 || exitCode == 143);
    }

    private static List<String> concat(List<String> flags) {
        return Stream.concat(flags.stream(), QUIET.stream()).toList();
    }
}
