package io.knowngood.testkit.fault;

import io.knowngood.testkit.cluster.ChaosCluster;
import io.knowngood.testkit.process.FileTrees;
import io.knowngood.testkit.process.NodeProcess;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Faults in a node's last-known-good store ({@code <data-dir>/bundles/<name>/<version>.tar}): a
 * corrupted copy, a data dir restored from an older backup, a full disk.
 */
public final class StoreFaults {
    private StoreFaults() {
    }

    /** Every stored copy ({@code <data-dir>/bundles/<name>/<version>.tar}), sorted. */
    public static List<Path> copies(NodeProcess n) throws IOException {
        Path bundles = n.dataDir().resolve("bundles");
        if (!Files.isDirectory(bundles)) {
            return List.of();
        }
        try (Stream<Path> s = Files.walk(bundles)) {
            return s.filter(p -> p.toString().endsWith(".tar")).sorted().toList();
        }
    }

    /** Newest copy per bundle name: the ones the node serves. */
    public static List<Path> servedCopies(NodeProcess n) throws IOException {
        List<Path> out = new ArrayList<>();
        Path bundles = n.dataDir().resolve("bundles");
        if (!Files.isDirectory(bundles)) {
            return out;
        }
        try (Stream<Path> names = Files.list(bundles)) {
            for (Path dir : names.sorted().toList()) {
                try (Stream<Path> versions = Files.list(dir)) {
                    versions.filter(p -> p.toString().endsWith(".tar")).max(Comparator.naturalOrder()).ifPresent(out::add);
                }
            }
        }
        return out;
    }

    /**
     * Flips bytes in (or truncates) the copy a node serves, then kill -9 and restart it so it loads
     * from the damaged store. It must never serve the damaged bytes and must keep serving something
     * valid (an older copy, then a fresh one from peers).
     */
    public static final class CorruptServedCopy implements Fault {
        private NodeProcess victim;

        public String name() {
            return "corrupt-copy";
        }

        public String unavailableBecause() {
            return null;
        }

        public List<NodeProcess> inject(ChaosCluster c, Random random) throws Exception {
            victim = c.node(random.nextInt(c.nodes().size()));
            victim.kill9();
            List<Path> served = servedCopies(victim);
            if (!served.isEmpty()) {
                Path target = served.get(random.nextInt(served.size()));
                try (RandomAccessFile f = new RandomAccessFile(target.toFile(), "rw")) {
                    if (random.nextBoolean() && f.length() > 1024) {
                        f.setLength(f.length() / 2);
                    } else {
                        long at = 512 + random.nextInt((int) Math.max(1, f.length() - 1024));
                        f.seek(at);
                        int b = f.read();
                        f.seek(at);
                        f.write(b ^ 0x5a);
                    }
                }
            }
            victim.start();
            ChaosCluster.awaitUp(victim);
            // it withholds the damaged bundle until a peer refills it (or damaged-fallback-delay passes)
            return List.of(victim);
        }

        public void heal(ChaosCluster c) {
            // the node repairs itself; nothing to undo
        }
    }

    /**
     * The node's data dir is replaced by an older backup (taken at the previous injection or now),
     * while the rollback floor file kept apart survives. Served versions must not go down.
     */
    public static final class RestoreOldBackup implements Fault {
        private NodeProcess victim;
        private Path backup;

        public String name() {
            return "restore-old-backup";
        }

        public String unavailableBecause() {
            return null;
        }

        public List<NodeProcess> inject(ChaosCluster c, Random random) throws Exception {
            victim = c.node(random.nextInt(c.nodes().size()));
            backup = c.dir().resolve(victim.id() + "-backup");
            FileTrees.copy(victim.dataDir().resolve("bundles"), backup);
            // restored in heal(); it then withholds what is below its floor until a peer supplies it
            return List.of(victim);
        }

        public void heal(ChaosCluster c) throws Exception {
            // restore the backup after newer versions were published meanwhile
            victim.kill9();
            FileTrees.delete(victim.dataDir().resolve("bundles"));
            FileTrees.copy(backup, victim.dataDir().resolve("bundles"));
            FileTrees.delete(backup);
            victim.start();
            ChaosCluster.awaitUp(victim);
        }
    }

    /**
     * The node's data dir fills up: its store is moved onto a small tmpfs which is then filled.
     * Publishes to it must fail cleanly and it must keep serving what it has. Needs root (mount).
     */
    public static final class DiskFull implements Fault {
        private NodeProcess victim;
        private Path mount;

        public String name() {
            return "disk-full";
        }

        public String unavailableBecause() {
            return "root".equals(System.getProperty("user.name")) ? null : "disk-full needs root (mount tmpfs)";
        }

        public List<NodeProcess> inject(ChaosCluster c, Random random) throws Exception {
            victim = c.node(random.nextInt(c.nodes().size()));
            victim.kill9();
            Path bundles = victim.dataDir().resolve("bundles");
            Path saved = c.dir().resolve(victim.id() + "-bundles-saved");
            FileTrees.delete(saved);
            FileTrees.copy(bundles, saved);
            FileTrees.delete(bundles);
            Files.createDirectories(bundles);
            mount = bundles;
            run("mount", "-t", "tmpfs", "-o", "size=8m", "kgchaos", mount.toString());
            FileTrees.copy(saved, bundles);
            FileTrees.delete(saved);
            // fill what is left
            try (var out = Files.newOutputStream(bundles.resolve("filler"))) {
                byte[] block = new byte[64 * 1024];
                while (true) {
                    out.write(block);
                }
            } catch (IOException expected) {
                // ENOSPC: the disk is full now
            }
            victim.start();
            ChaosCluster.awaitUp(victim);
            return List.of();
        }

        @Override
        public void cleanup() throws Exception {
            if (mount != null) {
                new ProcessBuilder("umount", "-l", mount.toString()).start().waitFor(20, TimeUnit.SECONDS);
                mount = null;
            }
        }

        public void heal(ChaosCluster c) throws Exception {
            victim.kill9();
            Path bundles = mount;
            Files.deleteIfExists(bundles.resolve("filler"));
            Path saved = c.dir().resolve(victim.id() + "-bundles-saved");
            FileTrees.delete(saved);
            FileTrees.copy(bundles, saved);
            run("umount", mount.toString());
            mount = null;
            FileTrees.delete(bundles);
            FileTrees.copy(saved, bundles);
            FileTrees.delete(saved);
            victim.start();
            ChaosCluster.awaitUp(victim);
        }
    }

    /** Runs a command, throwing with its output when it fails or takes over 20 s. */
    public static void run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(20, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException(String.join(" ", cmd) + " failed: " + out);
        }
    }
}
