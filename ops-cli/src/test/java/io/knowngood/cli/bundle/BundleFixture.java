package io.knowngood.cli.bundle;

import static org.assertj.core.api.Assertions.assertThat;

import io.knowngood.cli.KgctlRunner;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/** A key pair and a small source tree in a temp directory, and ways to pack and pick apart archives. */
public final class BundleFixture {
    public final KgctlRunner kgctl = new KgctlRunner();
    public final Path dir;
    public final Path key;
    public final Path pub;
    public final Path src;

    public BundleFixture(Path dir) throws IOException {
        this.dir = dir;
        KgctlRunner.Run r = kgctl.run("keys", "generate", "--out", dir.resolve("keys").toString(), "--name", "pub1");
        assertThat(r.exitCode()).as(r.err()).isZero();
        key = dir.resolve("keys/pub1.key");
        pub = dir.resolve("keys/pub1.pub");
        src = dir.resolve("src");
        Files.createDirectories(src.resolve("etc"));
        Files.writeString(src.resolve("etc/app.conf"), "key=value\n");
        Files.writeString(src.resolve("readme.txt"), "hello");
    }

    public Path pack(String name, long version) {
        Path out = dir.resolve(name + "-" + version + ".tar");
        KgctlRunner.Run r = kgctl.run("bundle", "pack", src.toString(), "--name", name, "--version", Long.toString(version),
                "--key", key.toString(), "--out", out.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        return out;
    }

    /** Every entry of a tar archive, in order. */
    public static Map<String, byte[]> entries(Path archive) throws IOException {
        Map<String, byte[]> m = new LinkedHashMap<>();
        try (TarArchiveInputStream tar = new TarArchiveInputStream(new ByteArrayInputStream(Files.readAllBytes(archive)))) {
            TarArchiveEntry e;
            while ((e = tar.getNextEntry()) != null) {
                m.put(e.getName(), tar.readAllBytes());
            }
        }
        return m;
    }

    /** Flips the first occurrence of {@code from} in the archive bytes into {@code to} (same length). */
    public static Path tamper(Path archive, String from, String to) throws IOException {
        byte[] b = Files.readAllBytes(archive);
        byte[] f = from.getBytes(StandardCharsets.UTF_8);
        byte[] t = to.getBytes(StandardCharsets.UTF_8);
        outer:
        for (int i = 0; i + f.length <= b.length; i++) {
            for (int j = 0; j < f.length; j++) {
                if (b[i + j] != f[j]) {
                    continue outer;
                }
            }
            System.arraycopy(t, 0, b, i, t.length);
            Path out = archive.resolveSibling("tampered-" + archive.getFileName());
            Files.write(out, b);
            return out;
        }
        throw new AssertionError("\"" + from + "\" not found in " + archive);
    }
}
