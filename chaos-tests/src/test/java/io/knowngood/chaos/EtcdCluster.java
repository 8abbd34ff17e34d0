package io.knowngood.chaos;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** etcd members (Debian's etcd-server) on loopback addresses: the anchor the benchmarks compare with. */
final class EtcdCluster implements AutoCloseable {
    static final String BIN = "/usr/bin/etcd";
    final List<String> clientUrls = new ArrayList<>();
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

    void startAll(Path logDir) throws IOException {
        for (int i = 0; i < commands.size(); i++) {
            processes.add(new ProcessBuilder(commands.get(i)).redirectErrorStream(true)
                    .redirectOutput(logDir.resolve("etcd-" + i + ".log").toFile()).start());
        }
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
