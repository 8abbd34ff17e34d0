package io.knowngood.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;

/**
 * Issue 18: the floor of an HTTP/1.1 server on the JDK's own NIO on this machine. No library: two
 * threads, each with its own selector and its own listening socket on the same address
 * ({@code SO_REUSEPORT}, as nginx's two workers), a request read into a direct buffer, its path looked
 * up, and one gathering write of a pre-built head (kgnode's ten headers with a Date made once a second)
 * and the body from direct memory. Keep-alive, 304 on If-None-Match, 404; nothing else: no limits,
 * no timeouts, no metrics. What a server written by hand on the JDK would cost per answer, at best.
 *   java ... io.knowngood.bench.ServerSpike jdknio IP PORT DIR
 */
final class NioSpike {

    private static final DateTimeFormatter DATE = DateTimeFormatter.RFC_1123_DATE_TIME;
    private static final byte[] END = {'\r', '\n', '\r', '\n'};
    private static final byte[] INM = "\r\nif-none-match:".getBytes(StandardCharsets.US_ASCII);
    private static final ByteBuffer NOT_FOUND = ByteBuffer.allocateDirect(64)
            .put("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".getBytes(StandardCharsets.US_ASCII)).flip();

    /** One file: its body in direct memory, its ETag, and its heads (200 and 304), made again each second. */
    private static final class Answer {
        final ByteBuffer body;
        final String etag;
        final byte[] etagBytes;
        volatile ByteBuffer ok;
        volatile ByteBuffer notModified;

        Answer(byte[] bytes) throws Exception {
            body = ByteBuffer.allocateDirect(bytes.length).put(bytes).flip();
            etag = "\"" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes)) + "\"";
            etagBytes = etag.getBytes(StandardCharsets.US_ASCII);
            heads(ZonedDateTime.now(ZoneOffset.UTC));
        }

        void heads(ZonedDateTime now) {
            String common = "Cache-Control: no-cache\r\nX-Knowngood-Latest: 1\r\nX-Knowngood-Version: 1\r\nDate: "
                    + DATE.format(now) + "\r\nX-Knowngood-In-Touch: false\r\nETag: " + etag
                    + "\r\nX-Knowngood-Last-Contact: never\r\nX-Knowngood-State: good\r\n";
            ok = direct("HTTP/1.1 200 OK\r\n" + common + "Content-Type: application/octet-stream\r\nContent-Length: "
                    + body.remaining() + "\r\n\r\n");
            notModified = direct("HTTP/1.1 304 Not Modified\r\n" + common + "\r\n");
        }

        private static ByteBuffer direct(String s) {
            byte[] b = s.getBytes(StandardCharsets.US_ASCII);
            return ByteBuffer.allocateDirect(b.length).put(b).flip();
        }
    }

    /** One connection: what was read and not yet answered, and what is still to be written. */
    private static final class Conn {
        final ByteBuffer in = ByteBuffer.allocateDirect(8192);
        ByteBuffer[] out;
    }

    private final Map<String, Answer> answers = new HashMap<>();

    private NioSpike(Path dir) throws Exception {
        try (var files = Files.list(dir)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                answers.put("/v1/bundles/bench/files/" + f.getFileName(), new Answer(Files.readAllBytes(f)));
            }
        }
    }

    static void run(String ip, int port, Path dir) throws Exception {
        NioSpike spike = new NioSpike(dir);
        for (int i = 0; i < 2; i++) {
            ServerSocketChannel server = ServerSocketChannel.open();
            server.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            server.setOption(StandardSocketOptions.SO_REUSEPORT, true);
            server.bind(new InetSocketAddress(ip, port), 4096);
            server.configureBlocking(false);
            Selector selector = Selector.open();
            server.register(selector, SelectionKey.OP_ACCEPT);
            Thread t = new Thread(() -> spike.loop(selector), "nio-spike-" + i);
            t.start();
        }
        System.out.println("jdk nio spike listening on " + ip + ":" + port + " serving " + spike.answers.keySet());
        while (true) {
            Thread.sleep(1000 - System.currentTimeMillis() % 1000);
            ZonedDateTime now = ZonedDateTime.now(ZoneOffset.UTC);
            for (Answer a : spike.answers.values()) {
                a.heads(now);
            }
        }
    }

    private void loop(Selector selector) {
        try {
            while (true) {
                selector.select(this::ready);
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private void ready(SelectionKey key) {
        try {
            if (key.isAcceptable()) {
                SocketChannel ch = ((ServerSocketChannel) key.channel()).accept();
                if (ch != null) {
                    ch.configureBlocking(false);
                    ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
                    ch.register(key.selector(), SelectionKey.OP_READ, new Conn());
                }
                return;
            }
            SocketChannel ch = (SocketChannel) key.channel();
            Conn c = (Conn) key.attachment();
            if (key.isWritable()) {
                ch.write(c.out);
                if (c.out[c.out.length - 1].hasRemaining()) {
                    return;
                }
                c.out = null;
                key.interestOps(SelectionKey.OP_READ);
            }
            if (key.isReadable() && c.out == null) {
                if (ch.read(c.in) < 0) {
                    key.cancel();
                    ch.close();
                    return;
                }
                answer(key, ch, c);
            }
        } catch (IOException e) {
            key.cancel();
            try {
                key.channel().close();
            } catch (IOException ignored) {
                // closing a broken connection
            }
        }
    }

    /** Answers every whole request in the buffer, in order; stops at a write that would block. */
    private void answer(SelectionKey key, SocketChannel ch, Conn c) throws IOException {
        ByteBuffer in = c.in;
        int start = 0;
        int limit = in.position();
        while (true) {
            int end = find(in, start, limit, END);
            if (end < 0) {
                break;
            }
            // "GET /path HTTP/1.1"
            int p = start + 4;
            int q = p;
            while (q < end && in.get(q) != ' ') {
                q++;
            }
            byte[] path = new byte[q - p];
            in.get(p, path);
            Answer a = answers.get(new String(path, StandardCharsets.US_ASCII));
            ByteBuffer[] out;
            if (a == null) {
                out = new ByteBuffer[] {NOT_FOUND.duplicate()};
            } else {
                int h = findIgnoreCase(in, q, end + 2, INM);
                boolean match = h >= 0 && find(in, h, end, a.etagBytes) >= 0;
                out = match ? new ByteBuffer[] {a.notModified.duplicate()} : new ByteBuffer[] {a.ok.duplicate(), a.body.duplicate()};
            }
            start = end + END.length;
            ch.write(out);
            if (out[out.length - 1].hasRemaining()) {
                c.out = out;
                key.interestOps(SelectionKey.OP_WRITE);
                break;
            }
        }
        // keep what is not yet answered at the front
        in.limit(limit).position(start);
        in.compact();
        if (!in.hasRemaining()) {
            throw new IOException("request head larger than 8 KiB");
        }
    }

    private static int find(ByteBuffer b, int from, int to, byte[] what) {
        outer:
        for (int i = from; i + what.length <= to; i++) {
            for (int j = 0; j < what.length; j++) {
                if (b.get(i + j) != what[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    private static int findIgnoreCase(ByteBuffer b, int from, int to, byte[] lower) {
        outer:
        for (int i = from; i + lower.length <= to; i++) {
            for (int j = 0; j < lower.length; j++) {
                int x = b.get(i + j);
                if ((x >= 'A' && x <= 'Z' ? x + 32 : x) != lower[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
