package io.knowngood.node.http;

import io.knowngood.api.ApiJson;
import io.knowngood.api.ErrorBody;
import io.knowngood.api.ErrorCode;
import io.knowngood.node.config.HttpLimits;
import io.knowngood.node.config.IpEndpoint;
import io.knowngood.replication.IpText;
import io.undertow.UndertowOptions;
import io.undertow.connector.ByteBufferPool;
import io.undertow.server.HttpHandler;
import io.undertow.server.protocol.http.HttpOpenListener;
import java.io.BufferedReader;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import javax.net.ssl.SSLContext;
import io.undertow.protocols.ssl.UndertowXnioSsl;
import org.xnio.ssl.SslConnection;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xnio.ChannelListener;
import org.xnio.ChannelListeners;
import org.xnio.IoUtils;
import org.xnio.OptionMap;
import org.xnio.Options;
import org.xnio.StreamConnection;
import org.xnio.XnioWorker;
import org.xnio.channels.AcceptingChannel;

/**
 * An Undertow HTTP/1.1 listener set up like a metadata service: bounded request heads, a deadline
 * for receiving them (slowloris), idle keep-alive connections closed, no URL decoding by Undertow
 * (the routes parse raw paths strictly), and a cap on open connections per client IP and in total.
 * Undertow has no per-client cap of its own, so the listener is assembled here (as {@code
 * Undertow.start()} does) with a counting wrapper around the open listener.
 */
public final class HardenedServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(HardenedServer.class);

    private final String name;
    private final List<AcceptingChannel<? extends StreamConnection>> channels = new ArrayList<>();
    private final List<InetSocketAddress> bound = new ArrayList<>();
    private final ConcurrentHashMap<InetAddress, AtomicInteger> perClient = new ConcurrentHashMap<>();
    private final AtomicInteger total = new AtomicInteger();
    private final AtomicInteger refused = new AtomicInteger();

    private HardenedServer(String name) {
        this.name = name;
    }

    /**
     * Binds every address in {@code binds} (port 0 picks a free port) and starts accepting.
     *
     * @param longestRequest the longest a request may legitimately stay silent (long-poll wait), so
     *     the channel idle backstop never cuts a legitimate waiter
     */
    public static HardenedServer start(String name, XnioWorker worker, List<IpEndpoint> binds, HttpHandler root,
                                       HttpLimits limits, Duration longestRequest) throws IOException {
        return start(name, worker, binds, root, limits, longestRequest, Optional.empty());
    }

    /** As above; with {@code tls}, the listener speaks HTTPS (TLS 1.3/1.2 as the context allows, no client certificate asked). */
    public static HardenedServer start(String name, XnioWorker worker, List<IpEndpoint> binds, HttpHandler root,
                                       HttpLimits limits, Duration longestRequest, Optional<SSLContext> tls) throws IOException {
        HardenedServer server = new HardenedServer(name);
        OptionMap undertowOptions = OptionMap.builder()
                // Undertow drops the connection (no answer) above this; RequestGuard answers 431 below it.
                .set(UndertowOptions.MAX_HEADER_SIZE, limits.maxHeaderBytes() * 8)
                // As with parameters: no head within max-header-bytes reaches Undertow's bare 400 (a header
                // line takes at least 4 bytes); RequestGuard answers more than MAX_HEADER_FIELDS with 431.
                .set(UndertowOptions.MAX_HEADERS, Math.max(RequestGuard.MAX_HEADER_FIELDS + 1, limits.maxHeaderBytes() / 4))
                // Above this Undertow answers a bare 400 before any handler: no target within max-uri-bytes
                // reaches it, so RequestGuard answers too many parameters in JSON (MAX_QUERY_PARAMETERS).
                .set(UndertowOptions.MAX_PARAMETERS, Math.max(1000, limits.maxUriBytes()))
                // 0: Undertow would answer an oversized Content-Length with a bare 400 before any handler;
                // the endpoints check sizes themselves and answer 413 in JSON.
                .set(UndertowOptions.MAX_ENTITY_SIZE, 0L)
                .set(UndertowOptions.REQUEST_PARSE_TIMEOUT, (int) limits.headerTimeout().toMillis())
                .set(UndertowOptions.NO_REQUEST_TIMEOUT, (int) limits.idleTimeout().toMillis())
                .set(UndertowOptions.IDLE_TIMEOUT, (int) Math.min(Integer.MAX_VALUE,
                        longestRequest.plus(limits.idleTimeout()).toMillis()))
                .set(UndertowOptions.DECODE_URL, false)
                .set(UndertowOptions.ALLOW_ENCODED_SLASH, false)
                .set(UndertowOptions.ALLOW_UNESCAPED_CHARACTERS_IN_URL, false)
                .set(UndertowOptions.ENABLE_HTTP2, false)
                .set(UndertowOptions.ALWAYS_SET_KEEP_ALIVE, false)
                .set(UndertowOptions.BUFFER_PIPELINED_DATA, true)
                .getMap();
        ByteBufferPool buffers = new IoBufferPool(true, 16 * 1024, 4);
        HttpOpenListener open = new HttpOpenListener(buffers, undertowOptions);
        open.setRootHandler(root);
        ChannelListener<StreamConnection> capped = connection -> server.accept(connection, open, limits);
        ChannelListener<AcceptingChannel<StreamConnection>> acceptListener = ChannelListeners.openListenerAdapter(capped);
        ChannelListener<AcceptingChannel<SslConnection>> tlsAcceptListener = ChannelListeners.openListenerAdapter(capped);
        UndertowXnioSsl ssl = tls.map(ctx -> new UndertowXnioSsl(worker.getXnio(), OptionMap.EMPTY, ctx)).orElse(null);
        int backlog = listenBacklog(limits);
        OptionMap socketOptions = OptionMap.builder()
                .set(Options.TCP_NODELAY, true)
                .set(Options.REUSE_ADDRESSES, true)
                .set(Options.BACKLOG, backlog)
                .getMap();
        try {
            for (IpEndpoint bind : binds) {
                AcceptingChannel<? extends StreamConnection> channel = ssl == null
                        ? worker.createStreamConnectionServer(bind.socketAddress(), acceptListener, socketOptions)
                        : ssl.createSslConnectionServer(worker, bind.socketAddress(), tlsAcceptListener, socketOptions);
                channel.resumeAccepts();
                server.channels.add(channel);
                server.bound.add((InetSocketAddress) channel.getLocalAddress());
            }
        } catch (IOException e) {
            server.close();
            throw new IOException(name + " endpoint: cannot bind " + binds + ": " + e.getMessage(), e);
        }
        LOG.info("{} endpoint listening on {} ({}, listen backlog {})", name,
                server.bound.stream().map(a -> new IpEndpoint(a.getAddress(), a.getPort()).toString()).collect(Collectors.joining(", ")),
                ssl == null ? "http" : "https", backlog);
        return server;
    }

    /**
     * As many pending connections as the endpoint would accept (up to 64 Ki), capped by the kernel's
     * net.core.somaxconn. A full accept queue drops SYNs, and each drop costs a booting VM a 1 s (then
     * 3 s) retransmit: a boot storm of 5,000 VMs overflowed the former fixed 1,024.
     */
    static int listenBacklog(HttpLimits limits) {
        int wanted = Math.min(limits.maxConnections(), 65_535);
        OptionalInt somaxconn = somaxconn();
        if (somaxconn.isPresent() && somaxconn.getAsInt() < wanted && somaxconn.getAsInt() < 4096) {
            LOG.warn("net.core.somaxconn is {}: a boot storm may overflow the listen queue (raise it to {} or more)",
                    somaxconn.getAsInt(), Math.min(wanted, 4096));
        }
        return wanted;
    }

    /**
     * net.core.somaxconn; empty when there is no /proc (not Linux). Read in one call: Files.readString
     * starts a file of size 0 (as /proc files say they are) with a one-byte read, and the kernel answers
     * a read of an integer sysctl at a later offset with end of file, so 4096 read as 4.
     */
    static OptionalInt somaxconn() {
        try (BufferedReader r = Files.newBufferedReader(Path.of("/proc/sys/net/core/somaxconn"))) {
            String line = r.readLine();
            return line == null ? OptionalInt.empty() : OptionalInt.of(Integer.parseInt(line.trim()));
        } catch (IOException | RuntimeException e) {
            return OptionalInt.empty(); // not Linux, or no /proc: the kernel caps the backlog as it does
        }
    }

    private void accept(StreamConnection connection, HttpOpenListener open, HttpLimits limits) {
        InetSocketAddress peer = connection.getPeerAddress(InetSocketAddress.class);
        InetAddress ip = peer == null ? InetAddress.getLoopbackAddress() : peer.getAddress();
        AtomicInteger mine = perClient.computeIfAbsent(ip, k -> new AtomicInteger());
        int n = mine.incrementAndGet();
        int all = total.incrementAndGet();
        AtomicBoolean released = new AtomicBoolean();
        Runnable release = () -> {
            if (released.compareAndSet(false, true)) {
                total.decrementAndGet();
                if (mine.decrementAndGet() <= 0) {
                    perClient.remove(ip, mine);
                }
            }
        };
        if (n > limits.maxConnectionsPerClient() || all > limits.maxConnections()) {
            release.run();
            refused.incrementAndGet();
            LOG.debug("{} endpoint: refused connection from {} ({} open from it, {} in total)", name, IpText.of(ip), n, all);
            IoUtils.safeClose(connection);
            return;
        }
        open.handleEvent(connection);
        // Undertow installs its own close listener while opening: chain ours in front of it.
        ChannelListener<? super StreamConnection> undertows = connection.getCloseListener();
        connection.setCloseListener(c -> {
            release.run();
            if (undertows != null) {
                ChannelListeners.invokeChannelListener(c, undertows);
            }
        });
        if (!connection.isOpen()) {
            release.run();
        }
    }

    /** Loads the classes the first request needs, off the critical path (called while the store loads). */
    public static void warmUp() {
        ApiJson.encode(ErrorBody.of(ErrorCode.NOT_FOUND, "warm up"));
        new IoBufferPool(true, 1024, 1).allocate().close();
        new HttpOpenListener(new IoBufferPool(false, 1024, 1), OptionMap.EMPTY);
        RawPath.parse("/v1/bundles/warm%2Dup");
    }

    /** The addresses actually bound (useful with port 0). */
    public List<InetSocketAddress> boundAddresses() {
        return List.copyOf(bound);
    }

    /** Connections refused by the per-client or total cap since start. */
    public int refusedConnections() {
        return refused.get();
    }

    public int openConnections() {
        return total.get();
    }

    @Override
    public void close() {
        for (AcceptingChannel<? extends StreamConnection> channel : channels) {
            IoUtils.safeClose(channel);
        }
        channels.clear();
    }
}
