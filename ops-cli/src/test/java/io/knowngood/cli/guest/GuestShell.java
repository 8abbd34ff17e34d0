package io.knowngood.cli.guest;

import io.knowngood.testkit.Ci;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The shell and userland a guest script runs with in these tests: dash with this machine's tools, or
 * busybox sh with nothing on the PATH but busybox's applets and the three tools busybox lacks (curl,
 * openssl, and age for {@code -i}), as in a minimal image.
 */
record GuestShell(String name, List<String> prefix, Optional<Path> path) {

    /** What kg-fetch.sh needs that busybox does not provide. */
    static final List<String> BEYOND_BUSYBOX = List.of("curl", "openssl", "age");

    static GuestShell dash() {
        return new GuestShell("dash", List.of(which("dash").toString()), Optional.empty());
    }

    /** busybox sh; {@code binDir} is filled with one link per applet plus curl, openssl and age. */
    static GuestShell busybox(Path binDir) throws IOException, InterruptedException {
        Path busybox = which("busybox");
        Process p = new ProcessBuilder(busybox.toString(), "--list").redirectErrorStream(true).start();
        String list = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException("busybox --list failed: " + list);
        }
        Files.createDirectories(binDir);
        for (String applet : list.split("\\s+")) {
            if (!applet.isEmpty() && !applet.contains("/")) {
                Files.createSymbolicLink(binDir.resolve(applet), busybox);
            }
        }
        for (String tool : BEYOND_BUSYBOX) {
            if (!Files.exists(binDir.resolve(tool), java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                Files.createSymbolicLink(binDir.resolve(tool), which(tool));
            }
        }
        return new GuestShell("busybox", List.of(busybox.toString(), "sh"), Optional.of(binDir));
    }

    /**
     * This shell with {@code tool} taken off its PATH: {@code binDir} gets a link to every other
     * program on the PATH it had (the machine's, for dash).
     */
    GuestShell without(String tool, Path binDir) throws IOException {
        Files.createDirectories(binDir);
        String from = path.map(Path::toString).orElse(System.getenv().getOrDefault("PATH", ""));
        for (String d : from.split(java.io.File.pathSeparator)) {
            Path dirOnPath = Path.of(d);
            if (d.isEmpty() || !Files.isDirectory(dirOnPath)) {
                continue;
            }
            try (var programs = Files.list(dirOnPath)) {
                for (Path p : (Iterable<Path>) programs::iterator) {
                    Path link = binDir.resolve(p.getFileName().toString());
                    if (!p.getFileName().toString().equals(tool) && Files.isExecutable(p) && !Files.isDirectory(p)
                            && !Files.exists(link, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                        Files.createSymbolicLink(link, p.toAbsolutePath());
                    }
                }
            }
        }
        return new GuestShell(name + " without " + tool, prefix, Optional.of(binDir));
    }

    /**
     * This shell with {@code tool} replaced by a sh script ({@code body}), in which {@code $REAL}
     * is the tool it replaces.
     */
    GuestShell wrapping(String tool, String body, Path binDir) throws IOException {
        Path real = null;
        String from = path.map(Path::toString).orElse(System.getenv().getOrDefault("PATH", ""));
        for (String d : from.split(java.io.File.pathSeparator)) {
            if (!d.isEmpty() && Files.isExecutable(Path.of(d, tool))) {
                real = Path.of(d, tool).toAbsolutePath();
                break;
            }
        }
        if (real == null) {
            throw new IllegalStateException(tool + " is not on " + name + "'s PATH");
        }
        GuestShell without = without(tool, binDir);
        Path wrapper = binDir.resolve(tool);
        Files.writeString(wrapper, "#!/bin/sh\nREAL='" + real + "'\n" + body);
        wrapper.toFile().setExecutable(true);
        return new GuestShell(name + " with a wrapped " + tool, without.prefix(), without.path());
    }

    /** Why this shell cannot be used here, or null (the caller skips, or fails under CI). */
    static String missing(String shell) {
        List<String> tools = new ArrayList<>(List.of(shell, "curl", "openssl"));
        if (shell.equals("dash")) {
            tools.addAll(List.of("tar", "awk", "sed"));
        }
        return Ci.missingTools(tools.toArray(String[]::new));
    }

    /** A process running {@code script} with {@code args} under this shell (and its PATH). */
    ProcessBuilder run(Path script, List<String> args) {
        List<String> cmd = new ArrayList<>(prefix);
        cmd.add(script.toString());
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd);
        path.ifPresent(dir -> pb.environment().put("PATH", dir.toString()));
        return pb;
    }

    private static Path which(String tool) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            Path p = Path.of(dir, tool);
            if (!dir.isEmpty() && Files.isExecutable(p)) {
                return p.toAbsolutePath();
            }
        }
        throw new IllegalStateException(tool + " is not on the PATH");
    }

    @Override
    public String toString() {
        return name;
    }
}
