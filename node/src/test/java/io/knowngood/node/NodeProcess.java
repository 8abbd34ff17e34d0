package io.knowngood.node;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** A real kgnode process started from the shaded jar, on free loopback ports. */
final class NodeProcess implements AutoCloseable {

    static final String TOKEN = "process-test-token-0123456789";

    final Path dir;
    final int vmPort;
    final int adminPort;
    final List<String> extraArgs;
    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private Process process;
    private int starts;

    NodeProcess(Path dir, List<String> extraArgs) throws IOException {
        this.dir = dir;
        this.vmPort = freePort();
        this.adminPort = freePort();
        this.extraArgs = List.copyOf(extraArgs);
        Files.writeString(dir.resolve("admin.token"), TOKEN + "\n");
    }

    static Path jar() {
        return Path.of(System.getProperty("kgnode.jar", "target/kgnode.jar")).toAbsolutePath();
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    Path dataDir() {
        return dir.resolve("data");
    }

    Path log() {
        return dir.resolve("node.log");
    }

    /** Starts the process; {@code jvmArgs} go before -jar. Returns System.nanoTime() just before the start. */
    long start(List<String> jvmArgs) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(System.getProperty("java.bin", "java"));
        // The JVM options bin/kgnode uses.
        cmd.addAll(List.of("-Xmx128m", "-Xss512k", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xlog:cds=off", "-Xlog:cds+dynamic=off"));
        cmd.addAll(jvmArgs);
        cmd.addAll(List.of("-jar", jar().toString(), "run",
                "--node-id", "proc-node",
                "--data-dir", dataDir().toString(),
                "--floor-file", dir.resolve("floor").toString(),
                "--vm-bind", "127.0.0.1:" + vmPort,
                "--admin-bind", "127.0.0.1:" + adminPort,
                "--admin-token-file", dir.resolve("admin.token").toString(),
                "--trust-key", dir.resolve("publisher.pub").toString(),
                "--scrub-interval", "0"));
        cmd.addAll(extraArgs);
        starts++;
        Files.writeString(log(), "---- start #" + starts + ": " + String.join(" ", cmd) + "\n",
                StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        long t0 = System.nanoTime();
        process = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log().toFile())).start();
        return t0;
    }

    /** SIGTERM and wait: the node's shutdown hook runs (and the JVM writes a CDS archive if asked to). */
    void stop() throws InterruptedException {
        if (process != null && process.isAlive()) {
            process.destroy();
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    boolean alive() {
        return process != null && process.isAlive();
    }

    HttpResponse<byte[]> get(String path) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + vmPort + path)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofByteArray());
    }

    HttpResponse<String> adminGet(String path) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + path))
                .header("Authorization", "Bearer " + TOKEN).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    }

    int publish(String name, byte[] archive) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + "/v1/bundles/" + name))
                        .header("Authorization", "Bearer " + TOKEN).timeout(Duration.ofSeconds(30))
                        .PUT(HttpRequest.BodyPublishers.ofByteArray(archive)).build(),
                HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    /** True once GET {@code path} answers 200 (connection refused counts as not yet). */
    boolean answers200(String path) {
        try {
            return get(path).statusCode() == 200;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    @Override
    public void close() throws InterruptedException {
        stop();
    }
}
