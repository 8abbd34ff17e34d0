package io.knowngood.bench;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * PropagationBench's clients: one keep-alive HTTP/1.1 connection, blocking reads on the caller's
 * thread, the arrival time taken when the last byte of an answer (or of a streamed line) has been
 * read. The JDK {@code HttpClient} the bench used before added 1.5-11 ms (p50 3.5 ms) between the
 * node's write of a long-poll answer and its callback on this 2-core machine (strace of the node's
 * writev against the callback, 2026-12-02, 3 nodes): the bench measured its own client. Speaks only
 * what kgnode and etcd send: a Content-Length or chunked body.
 */
final class LeanHttp implements AutoCloseable {
    /** A whole answer: status, headers (lower-case names), body, and when its last byte was read. */
    record Response(int status, Map<String, String> headers, byte[] body, long arrivedNanos) {
        String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }
    }

    private final String host;
    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    LeanHttp(URI base) throws IOException {
        this.host = base.getHost() + ":" + base.getPort();
        this.socket = new Socket();
        socket.setTcpNoDelay(true);
        socket.connect(new InetSocketAddress(base.getHost(), base.getPort()), 2000);
        this.in = new BufferedInputStream(socket.getInputStream(), 256 * 1024);
        this.out = socket.getOutputStream();
    }

    /** Sends a GET and reads the whole answer. */
    Response get(String pathAndQuery) throws IOException {
        send("GET", pathAndQuery, null);
        Map<String, String> headers = new HashMap<>();
        int status = readHead(headers);
        byte[] body;
        String length = headers.get("content-length");
        if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            byte[] chunk;
            while ((chunk = readChunk()).length > 0) {
                all.write(chunk);
            }
            body = all.toByteArray();
        } else {
            body = in.readNBytes(length == null ? 0 : Integer.parseInt(length.trim()));
        }
        return new Response(status, headers, body, System.nanoTime());
    }

    /**
     * Sends a POST whose answer is a chunked stream of lines (etcd's watch), and hands each line with
     * the time its last byte was read to {@code line} until the stream or the connection ends.
     */
    void postStreamingLines(String path, String body, LineSink line) throws IOException {
        send("POST", path, body.getBytes(StandardCharsets.UTF_8));
        Map<String, String> headers = new HashMap<>();
        int status = readHead(headers);
        if (status != 200) {
            throw new IOException("POST " + path + ": " + status);
        }
        ByteArrayOutputStream pending = new ByteArrayOutputStream();
        byte[] chunk;
        while ((chunk = readChunk()).length > 0) {
            long now = System.nanoTime();
            for (byte b : chunk) {
                if (b == '\n') {
                    line.accept(pending.toString(StandardCharsets.UTF_8), now);
                    pending.reset();
                } else {
                    pending.write(b);
                }
            }
        }
    }

    /** A streamed line and when it had fully arrived. */
    interface LineSink {
        void accept(String line, long arrivedNanos);
    }

    private void send(String method, String path, byte[] body) throws IOException {
        StringBuilder head = new StringBuilder(method).append(' ').append(path).append(" HTTP/1.1\r\nHost: ").append(host)
                .append("\r\nUser-Agent: kg-propagation-bench\r\n");
        if (body != null) {
            head.append("Content-Type: application/json\r\nContent-Length: ").append(body.length).append("\r\n");
        }
        out.write(head.append("\r\n").toString().getBytes(StandardCharsets.US_ASCII));
        if (body != null) {
            out.write(body);
        }
        out.flush();
    }

    /** Reads the status line and headers; returns the status. */
    private int readHead(Map<String, String> headers) throws IOException {
        String status = readLine();
        if (!status.startsWith("HTTP/1.1 ") || status.length() < 12) {
            throw new IOException("not an HTTP/1.1 answer: " + status);
        }
        String line;
        while (!(line = readLine()).isEmpty()) {
            int colon = line.indexOf(':');
            if (colon > 0) {
                headers.put(line.substring(0, colon).trim().toLowerCase(Locale.ROOT), line.substring(colon + 1).trim());
            }
        }
        return Integer.parseInt(status.substring(9, 12));
    }

    /** One chunk of a chunked body; empty at the last chunk (its trailer read). */
    private byte[] readChunk() throws IOException {
        String size = readLine();
        int semicolon = size.indexOf(';');
        int n = Integer.parseInt((semicolon >= 0 ? size.substring(0, semicolon) : size).trim(), 16);
        if (n == 0) {
            while (!readLine().isEmpty()) {
                // trailer fields: none expected
            }
            return new byte[0];
        }
        byte[] chunk = in.readNBytes(n);
        if (chunk.length < n) {
            throw new EOFException("connection closed inside a chunk");
        }
        readLine(); // the CRLF after the chunk
        return chunk;
    }

    private String readLine() throws IOException {
        StringBuilder line = new StringBuilder();
        int c;
        while ((c = in.read()) != '\n') {
            if (c < 0) {
                throw new EOFException("connection closed");
            }
            if (c != '\r') {
                line.append((char) c);
            }
        }
        return line.toString();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }

    /** Runs {@code loop} on a daemon thread named {@code name}; an IOException ending it goes to {@code failed}. */
    static Thread start(String name, IoLoop loop, Consumer<IOException> failed) {
        Thread t = new Thread(() -> {
            try {
                loop.run();
            } catch (IOException e) {
                failed.accept(e);
            }
        }, name);
        t.setDaemon(true);
        t.start();
        return t;
    }

    interface IoLoop {
        void run() throws IOException;
    }
}
