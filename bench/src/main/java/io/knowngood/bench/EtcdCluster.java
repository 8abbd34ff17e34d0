package io.knowngood.bench;

import io.knowngood.testkit.process.FileTrees;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * etcd members (Debian's etcd-server) on loopback addresses: the reference the benchmarks compare
 * with. Member i gets client port portBase+i and peer port portBase+100+i on 127.0.0.(ipBase+i).
 */
final class EtcdCluster implements AutoCloseable {
    static final String BIN = "/usr/bin/etcd";
    static final String MISSING = "etcd-server not installed (apt-get install -y etcd-server)";
    private final List<String> clientUrls = new ArrayList<>();
    private final List<Process> processes = new ArrayList<>();
    private final List<List<String>> commands = new ArrayList<>();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();

    EtcdCluster(Path dir, int size, int ipBase, int portBase) throws IOException {
        StringBuilder initial = new StringBuilder();
        for (int i = 0; i < size; i++) {
            String ip = "127.0.0." + (ipBase + i);
            if (i > 0) {
                initial.append(',');
            }
            initial.append("e").append(i).append("=http://").append(ip).append(':').append(portBase + 100 + i);
        }
        for (int i = 0; i < size; i++) {
            String ip = "127.0.0." + (ipBase + i);
            String client = "http://" + ip + ":" + (portBase + i);
            String peer = "http://" + ip + ":" + (portBase + 100 + i);
            clientUrls.add(client);
            Path data = dir.resolve("etcd-" + i);
            // a new cluster every run: a member's data dir left by a run that was stopped belongs to that
            // cluster, and etcd then ignores --initial-cluster-state new and never reaches a quorum
            FileTrees.delete(data);
            Files.createDirectories(data);
            commands.add(List.of(BIN, "--name", "e" + i, "--data-dir", data.toString(),
                    "--listen-client-urls", client, "--advertise-client-urls", client,
                    "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                    "--initial-cluster", initial.toString(), "--initial-cluster-state", "new",
                    "--initial-cluster-token", "kg-bench-" + portBase, "--log-level", "error"));
        }
    }

    static boolean available() {
        return Files.isExecutable(Path.of(BIN));
    }

    /** "etcd 3.4" (major.minor of the installed server), for the table's row label. */
    static String version() {
        try {
            Process p = new ProcessBuilder(BIN, "--version").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            p.waitFor(10, TimeUnit.SECONDS);
            Matcher m = Pattern.compile("etcd Version: (\\d+\\.\\d+)").matcher(out);
            return m.find() ? "etcd " + m.group(1) : "etcd";
        } catch (IOException e) {
            return "etcd";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "etcd";
        }
    }

    String clientUrl(int i) {
        return clientUrls.get(i);
    }

    void startAll(Path logDir) throws IOException {
        for (int i = 0; i < commands.size(); i++) {
            start(i, logDir);
        }
    }

    /** User + system CPU ticks (1/100 s) of every member started so far, from /proc. */
    long cpuTicks() throws IOException {
        long sum = 0;
        for (Process p : processes) {
            if (p.isAlive()) {
                sum += io.knowngood.testkit.process.NodeProcess.cpuTicksOf(p.pid());
            }
        }
        return sum;
    }

    Process start(int i, Path logDir) throws IOException {
        Process p = new ProcessBuilder(commands.get(i)).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(logDir.resolve("etcd-" + i + ".log").toFile())).start();
        processes.add(p);
        return p;
    }

    boolean healthy(int i) {
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(clientUrls.get(i) + "/health"))
                    .timeout(Duration.ofSeconds(1)).build(), HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 && r.body().contains("true");
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    @Override
    public void close() throws InterruptedException {
        for (Process p : processes) {
            p.destroy();
        }
        for (Process p : processes) {
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        }
    }
}
