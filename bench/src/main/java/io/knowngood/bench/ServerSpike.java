package io.knowngood.bench;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.HttpUtil;
import io.undertow.Undertow;
import io.undertow.UndertowOptions;
import io.undertow.util.HeaderMap;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import org.xnio.Options;

/**
 * Issue 18, step 1: would the VM endpoint on Netty spend less CPU per answer than kgnode on Undertow
 * at C1? Two minimal HTTP/1.1 servers answering {@code GET /v1/bundles/bench/files/NAME} from memory,
 * 304 when If-None-Match holds the ETag, nothing else (no hardening, no routing, no metrics): the least
 * a server on either library costs per answer.
 * <ul>
 *   <li>{@code netty}: netty-codec-http's request decoder, NIO transport (the native epoll jar does not
 *       resolve from the registry here), one pre-built full response per file (status line, headers
 *       with an ETag, body) held as one buffer and written with {@code retainedDuplicate()};
 *   <li>{@code undertow}: a handler on Undertow's I/O threads that puts the headers and sends the body
 *       from a heap buffer, as the node does. kgnode's CPU minus this one is the node's own work per
 *       request, which a Netty port would keep.
 * </ul>
 * {@code -Dspike.heapBody=true}: Netty's body is the heap array itself (as the node holds bundles),
 * not a direct copy. {@code -Dspike.kgHeaders=true}: both send kgnode's nine headers, not five.
 * Run by {@code BENCH_SPIKES="netty undertow" bench/fetch-vs-nginx.sh} with the node's shipped JVM flags.
 *   java ... io.knowngood.bench.ServerSpike netty|undertow|jdknio IP PORT DIR   (serves every file in DIR)
 * ({@code jdknio}: {@link NioSpike}, no library at all.)
 */
public final class ServerSpike {

    private static final boolean HEAP_BODY = Boolean.getBoolean("spike.heapBody");
    /** The four headers kgnode adds to the five above (freshness and rollout). */
    private static final boolean KG_HEADERS = Boolean.getBoolean("spike.kgHeaders");
    private static final String[][] MORE = {{"X-Knowngood-In-Touch", "true"}, {"X-Knowngood-Last-Contact", "2026-12-01T22:00:00Z"},
        {"X-Knowngood-State", "good"}, {"X-Knowngood-Latest", "1"}};

    private ServerSpike() {
    }

    public static void main(String[] args) throws Exception {
        String ip = args[1];
        int port = Integer.parseInt(args[2]);
        if (args[0].equals("jdknio")) {
            NioSpike.run(ip, port, Path.of(args[3]));
            return;
        }
        if (args[0].equals("undertow")) {
            undertow(ip, port, Path.of(args[3]));
            return;
        }
        Map<String, ByteBuf[]> answers = new HashMap<>();
        try (var files = Files.list(Path.of(args[3]))) {
            for (Path f : (Iterable<Path>) files::iterator) {
                byte[] body = Files.readAllBytes(f);
                String etag = "\"" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(body), 0, 16) + "\"";
                String head = "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nETag: " + etag
                        + "\r\nCache-Control: no-cache\r\nX-Knowngood-Version: 1\r\nContent-Length: " + body.length + "\r\n"
                        + (KG_HEADERS ? MORE[0][0] + ": " + MORE[0][1] + "\r\n" + MORE[1][0] + ": " + MORE[1][1] + "\r\n"
                        + MORE[2][0] + ": " + MORE[2][1] + "\r\n" + MORE[3][0] + ": " + MORE[3][1] + "\r\n" : "") + "\r\n";
                byte[] h = head.getBytes(StandardCharsets.US_ASCII);
                // heap body: head in a direct buffer, body the heap array, one composite (Netty copies the heap part per write)
                ByteBuf full = HEAP_BODY ? Unpooled.wrappedUnmodifiableBuffer(Unpooled.directBuffer(h.length).writeBytes(h),
                        Unpooled.wrappedBuffer(body))
                        : Unpooled.directBuffer(h.length + body.length).writeBytes(h).writeBytes(body);
                ByteBuf notModified = Unpooled.directBuffer().writeBytes(("HTTP/1.1 304 Not Modified\r\nETag: " + etag
                        + "\r\nCache-Control: no-cache\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                answers.put("/v1/bundles/bench/files/" + f.getFileName(), new ByteBuf[] {
                        Unpooled.unreleasableBuffer(full), Unpooled.unreleasableBuffer(notModified),
                        Unpooled.unreleasableBuffer(Unpooled.copiedBuffer(etag, StandardCharsets.US_ASCII))});
            }
        }
        ByteBuf notFound = Unpooled.unreleasableBuffer(Unpooled.directBuffer().writeBytes(
                "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".getBytes(StandardCharsets.US_ASCII)));
        // -Dspike.transport=epoll|io_uring: Netty's native transports (JNI) instead of the JDK's NIO selector
        String transport = System.getProperty("spike.transport", "nio");
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(2, switch (transport) {
            case "epoll" -> EpollIoHandler.newFactory();
            case "io_uring" -> IoUringIoHandler.newFactory();
            default -> NioIoHandler.newFactory();
        });
        Class<? extends ServerChannel> serverChannel = switch (transport) {
            case "epoll" -> EpollServerSocketChannel.class;
            case "io_uring" -> IoUringServerSocketChannel.class;
            default -> NioServerSocketChannel.class;
        };
        HttpDecoderConfig config = new HttpDecoderConfig().setMaxInitialLineLength(1024).setMaxHeaderSize(8192)
                .setValidateHeaders(false);
        new ServerBootstrap().group(group).channel(serverChannel)
                .option(ChannelOption.SO_BACKLOG, 4096)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new HttpRequestDecoder(config), new SimpleChannelInboundHandler<HttpObject>() {
                            @Override
                            protected void channelRead0(ChannelHandlerContext ctx, HttpObject msg) {
                                if (!(msg instanceof HttpRequest req)) {
                                    return;
                                }
                                ByteBuf[] a = answers.get(req.uri());
                                ByteBuf out;
                                if (a == null) {
                                    out = notFound.retainedDuplicate();
                                } else {
                                    String inm = req.headers().get(HttpHeaderNames.IF_NONE_MATCH);
                                    out = inm != null && inm.contains(a[2].toString(StandardCharsets.US_ASCII))
                                            ? a[1].retainedDuplicate() : a[0].retainedDuplicate();
                                }
                                if (HttpUtil.isKeepAlive(req)) {
                                    ctx.write(out, ctx.voidPromise());
                                } else {
                                    ctx.write(out).addListener(ChannelFutureListener.CLOSE);
                                }
                            }

                            @Override
                            public void channelReadComplete(ChannelHandlerContext ctx) {
                                ctx.flush();
                            }
                        });
                    }
                })
                .bind(new InetSocketAddress(ip, port)).sync();
        System.out.println("netty spike (" + transport + ") listening on " + ip + ":" + port + " serving " + answers.keySet());
        Thread.currentThread().join();
    }

    private static void undertow(String ip, int port, Path dir) throws Exception {
        Map<String, Object[]> answers = new HashMap<>();
        try (var files = Files.list(dir)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                byte[] body = Files.readAllBytes(f);
                String etag = "\"" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(body), 0, 16) + "\"";
                answers.put("/v1/bundles/bench/files/" + f.getFileName(), new Object[] {ByteBuffer.wrap(body), etag,
                        Integer.toString(body.length)});
            }
        }
        HttpString version = new HttpString("X-Knowngood-Version");
        HttpString[] more = new HttpString[MORE.length];
        for (int i = 0; i < MORE.length; i++) {
            more[i] = new HttpString(MORE[i][0]);
        }
        Undertow.builder().setIoThreads(2).setWorkerThreads(2)
                .setServerOption(UndertowOptions.DECODE_URL, false)
                .setServerOption(UndertowOptions.ALWAYS_SET_KEEP_ALIVE, false)
                .setSocketOption(Options.TCP_NODELAY, true)
                .setSocketOption(Options.BACKLOG, 4096)
                .addHttpListener(port, ip)
                .setHandler(exchange -> {
                    Object[] a = answers.get(exchange.getRequestPath());
                    if (a == null) {
                        exchange.setStatusCode(404);
                        exchange.endExchange();
                        return;
                    }
                    HeaderMap h = exchange.getResponseHeaders();
                    h.put(Headers.ETAG, (String) a[1]);
                    h.put(Headers.CACHE_CONTROL, "no-cache");
                    h.put(version, "1");
                    if (KG_HEADERS) {
                        for (int i = 0; i < more.length; i++) {
                            h.put(more[i], MORE[i][1]);
                        }
                    }
                    String inm = exchange.getRequestHeaders().getFirst(Headers.IF_NONE_MATCH);
                    if (inm != null && inm.contains((String) a[1])) {
                        exchange.setStatusCode(304);
                        exchange.endExchange();
                        return;
                    }
                    h.put(Headers.CONTENT_TYPE, "application/octet-stream");
                    h.put(Headers.CONTENT_LENGTH, (String) a[2]);
                    exchange.getResponseSender().send(((ByteBuffer) a[0]).duplicate());
                })
                .build().start();
        System.out.println("undertow spike listening on " + ip + ":" + port + " serving " + answers.keySet());
        Thread.currentThread().join();
    }
}
