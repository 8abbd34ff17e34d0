package io.knowngood.chaos;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** One real kgnode process on its own loopback address, started from the built jar. */
final class NodeProcess {
    final String id;
    final String ip;
    final int clusterPort;
    final int vmPort;
    final int adminPort;
    final Path dataDir;
    final Path log;
    private final List<String> baseArgs;
    private Process process;
    private int starts;
    /** Wraps the java command (e.g. unshare for a private resolv.conf); empty for none. */
    private List<String> prefix = List.of();
    private java.util.Map<String, String> env = java.util.Map.of();

    NodeProcess(String id, String ip, int clusterPort, int vmPort, int adminPort, Path dataDir, Path log, List<String> baseArgs) {
        this.id = id;
        this.ip = ip;
        this.clusterPort = clusterPort;
        this.vmPort = vmPort;
        this.adminPort = adminPort;
        this.dataDir = dataDir;
        this.log = log;
        this.baseArgs = List.copyOf(baseArgs);
    }

    String vmUrl() {
        return "http://" + ip + ":" + vmPort;
    }

    String adminUrl() {
        return "http://" + ip + ":" + adminPort;
    }

    String clusterAddress() {
        return ip + ":" + clusterPort;
    }

    /** Takes effect at the next start. */
    synchronized void wrap(List<String> prefix, java.util.Map<String, String> env) {
        this.prefix = List.copyOf(prefix);
        this.env = java.util.Map.copyOf(env);
    }

    synchronized void start(List<String> peers) throws IOException {
        if (isAlive()) {
            return;
        }
        List<String> cmd = new ArrayList<>(prefix);
        cmd.addAll(baseArgs);
        cmd.addAll(List.of("--node-id", id, "--data-dir", dataDir.toString(),
                "--cluster-bind", clusterAddress(), "--vm-bind", ip + ":" + vmPort, "--admin-bind", ip + ":" + adminPort));
        if (!peers.isEmpty()) {
            cmd.add("--peers");
            cmd.add(String.join(",", peers));
        }
        Files.createDirectories(dataDir);
        starts++;
        Files.writeString(log, "---- start #" + starts + ": " + String.join(" ", cmd) + "\n",
                java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        pb.environment().putAll(env);
        process = pb.start();
    }

    synchronized long pid() {
        if (process == null) {
            throw new IllegalStateException(id + " was never started");
        }
        return process.pid();
    }

    /** utime + stime of the running process in clock ticks (100 a second on Linux), from /proc. */
    long cpuTicks() throws IOException {
        String stat = Files.readString(Path.of("/proc/" + pid() + "/stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(f[11]) + Long.parseLong(f[12]);
    }

    synchronized boolean isAlive() {
        return process != null && process.isAlive();
    }

    /** kill -9: no shutdown hook, no flush. */
    synchronized void kill9() throws InterruptedException {
        if (process != null) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }

    synchronized void stop() throws InterruptedException {
        if (process != null && process.isAlive()) {
            process.destroy();
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    synchronized void signal(String sig) throws IOException, InterruptedException {
        if (process != null && process.isAlive()) {
            new ProcessBuilder("kill", "-" + sig, Long.toString(process.pid())).inheritIO().start().waitFor(5, TimeUnit.SECONDS);
        }
    }

    @Override
    public String toString() {
        return id + "@" + ip;
    }

    static Duration startDeadline() {
        return Duration.ofSeconds(30);
    }
}
