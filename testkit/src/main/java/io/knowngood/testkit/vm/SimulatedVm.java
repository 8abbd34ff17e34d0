package io.knowngood.testkit.vm;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A VM as a node sees it: requests from its own source address (a loopback address such as
 * 127.0.3.7, so every simulated VM counts as a distinct VM), over a raw socket with
 * {@code Connection: close}, exactly what curl in a guest sends. Fetches record the rollout headers;
 * reports are {@code POST /v1/reports}.
 */
public final class SimulatedVm {

    /** An answer: status, headers (lower-case names), body. Status -1: no answer (refused, timed out). */
    public record Answer(int status, Map<String, String> headers, byte[] body, String error) {
        public String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }

        public long version() {
            String v = header("X-Knowngood-Version");
            return v == null ? 0 : Long.parseLong(v);
        }

        /** {@code X-Knowngood-State}: good, rolling, fallback (null if absent). */
        public String state() {
            return header("X-Knowngood-State");
        }

        public String bodyText() {
            return new String(body, StandardCharsets.UTF_8);
        }
    }

    private final String address;
    private final int timeoutMs;

    /** {@code address}: the loopback source address this VM sends from. */
    public SimulatedVm(String address, int timeoutMs) {
        this.address = address;
        this.timeoutMs = timeoutMs;
    }

    public String address() {
        return address;
    }

    public Answer get(String nodeIp, int port, String path) {
        return send(nodeIp, port, "GET", path, null);
    }

    /** Reports {@code result} ({@code ok} or {@code failed}) for {@code name@version}. */
    public Answer report(String nodeIp, int port, String name, long version, String result, String detail) {
        String body = "{\"name\":\"" + name + "\",\"version\":" + version + ",\"result\":\"" + result + "\",\"detail\":\""
                + detail.replace("\\", "\\\\").replace("\"", "\\\"") + "\"}";
        return send(nodeIp, port, "POST", "/v1/reports", body.getBytes(StandardCharsets.UTF_8));
    }

    public Answer send(String nodeIp, int port, String method, String path, byte[] body) {
        return send(nodeIp, port, method, path, body, Map.of());
    }

    /** As {@link #send(String, int, String, String, byte[])}, with extra request headers (e.g. one a VM might forge). */
    public Answer send(String nodeIp, int port, String method, String path, byte[] body, Map<String, String> extraHeaders) {
        try (Socket s = new Socket()) {
            s.bind(new InetSocketAddress(address, 0));
            s.connect(new InetSocketAddress(nodeIp, port), timeoutMs);
            s.setSoTimeout(timeoutMs);
            StringBuilder head = new StringBuilder(method + " " + path + " HTTP/1.1\r\nHost: " + nodeIp + "\r\nConnection: close\r\n");
            extraHeaders.forEach((k, v) -> head.append(k).append(": ").append(v).append("\r\n"));
            if (body != null) {
                head.append("Content-Type: application/json\r\nContent-Length: ").append(body.length).append("\r\n");
            }
            head.append("\r\n");
            s.getOutputStream().write(head.toString().getBytes(StandardCharsets.US_ASCII));
            if (body != null) {
                s.getOutputStream().write(body);
            }
            s.getOutputStream().flush();
            return parse(s.getInputStream());
        } catch (IOException | RuntimeException e) {
            return new Answer(-1, Map.of(), new byte[0], e.toString());
        }
    }

    private static Answer parse(InputStream in) throws IOException {
        byte[] all = in.readAllBytes();
        int end = indexOf(all, "\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        if (end < 0) {
            return new Answer(-1, Map.of(), all, "no complete response head");
        }
        String[] lines = new String(all, 0, end, StandardCharsets.ISO_8859_1).split("\r\n");
        Map<String, String> headers = new HashMap<>();
        for (int i = 1; i < lines.length; i++) {
            int c = lines[i].indexOf(':');
            if (c > 0) {
                headers.put(lines[i].substring(0, c).trim().toLowerCase(Locale.ROOT), lines[i].substring(c + 1).trim());
            }
        }
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.write(all, end + 4, all.length - end - 4);
        return new Answer(Integer.parseInt(lines[0].split(" ")[1]), headers, body.toByteArray(), null);
    }

    private static int indexOf(byte[] a, byte[] p) {
        outer:
        for (int i = 0; i + p.length <= a.length; i++) {
            for (int j = 0; j < p.length; j++) {
                if (a[i + j] != p[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
