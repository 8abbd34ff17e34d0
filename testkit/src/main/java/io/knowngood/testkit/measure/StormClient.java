package io.knowngood.testkit.measure;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The boot storm's load generator: thousands of simulated VMs, each one keep-alive HTTP/1.1
 * connection sending a fixed sequence of GETs, all driven by one selector thread. Purpose-built
 * because the JDK {@code HttpClient} it replaces spent about 12 CPU-seconds on the storm's 15,000
 * requests while the node spent 1.4: on two shared cores the bench measured its own client. It
 * speaks only what the node sends (responses with a Content-Length; anything else is an error) and
 * checks every status and, where given, every body byte.
 */
public final class StormClient implements AutoCloseable {

    /**
     * One request of a VM's sequence. {@code body} null accepts any body. The last step may be a
     * long-poll that is sent and left parked: the VM counts as served before it.
     */
    public record Step(String path, int status, byte[] body) {}

    /** What the storm did: per-VM time from its start to its last awaited answer, and the first errors. */
    public record Result(Percentiles perVm, int errors, List<String> firstErrors) {}

    private final InetSocketAddress target;
    private final List<Step> steps;
    private final boolean lastParks;
    private final byte[][] requests;
    private final Selector selector;
    private final ByteBuffer readBuffer = ByteBuffer.allocate(256 * 1024);
    private final Percentiles perVm = new Percentiles();
    private final AtomicInteger errors = new AtomicInteger();
    private final AtomicInteger parked = new AtomicInteger();
    private final List<String> firstErrors = Collections.synchronizedList(new ArrayList<>());
    private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private final List<SocketChannel> channels = new ArrayList<>();
    private volatile CountDownLatch finished = new CountDownLatch(0);
    private Thread loop;

    /** @param lastParks the last step is a long-poll: send it, count it as parked, and do not wait for it */
    public StormClient(InetSocketAddress target, List<Step> steps, boolean lastParks) throws IOException {
        this.target = target;
        this.steps = List.copyOf(steps);
        this.lastParks = lastParks;
        this.requests = new byte[steps.size()][];
        String host = target.getAddress().getHostAddress() + ":" + target.getPort();
        for (int i = 0; i < steps.size(); i++) {
            requests[i] = ("GET " + steps.get(i).path() + " HTTP/1.1\r\nHost: " + host + "\r\nUser-Agent: kg-bootstorm\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII);
        }
        this.selector = Selector.open();
    }

    /** Starts {@code vms} VMs at once and waits until each is served or failed, or the deadline passes. */
    public Result run(int vms, Duration deadline) throws InterruptedException {
        CountDownLatch done = new CountDownLatch(vms);
        finished = done;
        loop = new Thread(() -> loop(vms), "storm-client");
        loop.setDaemon(true);
        loop.start();
        if (!done.await(deadline.toMillis(), TimeUnit.MILLISECONDS)) {
            long left = done.getCount();
            errors.addAndGet((int) left);
            firstErrors.add(left + " VMs not served within " + deadline);
        }
        return new Result(perVm, errors.get(), List.copyOf(firstErrors));
    }

    /** Long-polls sent and still open (neither answered nor closed). */
    public int parked() {
        return parked.get();
    }

    private void loop(int vms) {
        try {
            for (int i = 0; i < vms; i++) {
                open(new Vm(System.nanoTime()));
            }
            while (selector.isOpen()) {
                selector.select(100);
                for (SelectionKey key : selector.selectedKeys()) {
                    Vm vm = (Vm) key.attachment();
                    try {
                        if (key.isConnectable()) {
                            ((SocketChannel) key.channel()).finishConnect();
                            send(vm, key);
                        } else if (key.isWritable()) {
                            flush(vm, key);
                        } else if (key.isReadable()) {
                            read(vm, key);
                        }
                    } catch (IOException | RuntimeException e) {
                        vm.fail(key, e.toString());
                    }
                }
                selector.selectedKeys().clear();
                for (Runnable t; (t = tasks.poll()) != null; ) {
                    t.run();
                }
            }
        } catch (ClosedSelectorException e) {
            // closed by close()
        } catch (IOException e) {
            firstErrors.add("client loop: " + e);
        }
    }

    private void open(Vm vm) throws IOException {
        SocketChannel ch = SocketChannel.open();
        channels.add(ch);
        ch.configureBlocking(false);
        ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
        if (ch.connect(target)) {
            send(vm, ch.register(selector, 0, vm));
        } else {
            ch.register(selector, SelectionKey.OP_CONNECT, vm);
        }
    }

    private void send(Vm vm, SelectionKey key) throws IOException {
        vm.out = ByteBuffer.wrap(requests[vm.step]);
        vm.headLength = 0;
        vm.headTooLong = false;
        vm.remaining = -1;
        vm.bodyAt = 0;
        flush(vm, key);
    }

    private void flush(Vm vm, SelectionKey key) throws IOException {
        ((SocketChannel) key.channel()).write(vm.out);
        key.interestOps(vm.out.hasRemaining() ? SelectionKey.OP_WRITE : SelectionKey.OP_READ);
    }

    private void read(Vm vm, SelectionKey key) throws IOException {
        SocketChannel ch = (SocketChannel) key.channel();
        while (true) {
            readBuffer.clear();
            int n = ch.read(readBuffer);
            if (n < 0) {
                vm.fail(key, "connection closed by the node at step " + vm.step);
                return;
            }
            if (n == 0) {
                return;
            }
            if (!consume(vm, key, readBuffer.array(), n)) {
                return;
            }
        }
    }

    /** Feeds {@code n} received bytes to the VM's response; false once the VM is finished or failed. */
    private boolean consume(Vm vm, SelectionKey key, byte[] data, int n) throws IOException {
        int at = 0;
        if (vm.remaining < 0) {
            at = vm.appendHead(data, n);
            if (at < 0) {
                return true;
            }
            String problem = vm.parseHead();
            if (problem != null) {
                vm.fail(key, problem);
                return false;
            }
        }
        int take = (int) Math.min(vm.remaining, n - at);
        byte[] expected = steps.get(vm.step).body();
        if (expected != null && take > 0
                && (vm.bodyAt + take > expected.length || !Arrays.equals(data, at, at + take, expected, vm.bodyAt, vm.bodyAt + take))) {
            vm.fail(key, "step " + vm.step + ": body differs at or after byte " + vm.bodyAt);
            return false;
        }
        vm.bodyAt += take;
        vm.remaining -= take;
        if (at + take < n) {
            vm.fail(key, "step " + vm.step + ": bytes after the response");
            return false;
        }
        if (vm.remaining > 0) {
            return true;
        }
        return vm.answered(key);
    }

    @Override
    public void close() throws IOException {
        tasks.add(() -> {
            for (SocketChannel ch : channels) {
                try {
                    ch.close();
                } catch (IOException e) {
                    // closing anyway
                }
            }
        });
        selector.wakeup();
        if (loop != null) {
            try {
                loop.join(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        selector.close();
    }

    /** One simulated VM: its connection's progress through the steps. */
    private final class Vm {
        final long started;
        int step;
        ByteBuffer out;
        byte[] head = new byte[512];
        int headLength;
        boolean headTooLong;
        int status;
        long remaining = -1;
        int bodyAt;
        boolean parked;
        boolean over;

        Vm(long started) {
            this.started = started;
        }

        /** Appends to the response head; returns how many of the {@code n} bytes belonged to it once it is whole, else -1. */
        int appendHead(byte[] data, int n) {
            int before = headLength;
            int from = Math.max(0, headLength - 3);
            if (headLength + n > head.length) {
                head = Arrays.copyOf(head, Math.max(head.length * 2, headLength + n));
            }
            System.arraycopy(data, 0, head, headLength, n);
            headLength += n;
            for (int i = from; i + 3 < headLength; i++) {
                if (head[i] == '\r' && head[i + 1] == '\n' && head[i + 2] == '\r' && head[i + 3] == '\n') {
                    headLength = i + 4;
                    return headLength - before;
                }
            }
            if (headLength > 16 * 1024) {
                headTooLong = true;
                return n;
            }
            return -1;
        }

        /** Reads status and Content-Length; returns a problem or null. */
        String parseHead() {
            if (headTooLong) {
                return "step " + step + ": response head over 16 KiB";
            }
            String text = new String(head, 0, headLength, StandardCharsets.ISO_8859_1);
            String[] lines = text.split("\r\n");
            String[] statusLine = lines[0].split(" ", 3);
            if (statusLine.length < 2 || !statusLine[0].startsWith("HTTP/1.")) {
                return "step " + step + ": not an HTTP/1.x response: " + lines[0];
            }
            status = Integer.parseInt(statusLine[1]);
            long length = -1;
            for (int i = 1; i < lines.length; i++) {
                String l = lines[i].toLowerCase(Locale.ROOT);
                if (l.startsWith("content-length:")) {
                    length = Long.parseLong(l.substring(15).trim());
                } else if (l.startsWith("transfer-encoding:")) {
                    return "step " + step + ": Transfer-Encoding is not supported by this client";
                }
            }
            if (length < 0) {
                return "step " + step + ": status " + status + " without Content-Length";
            }
            Step s = steps.get(step);
            if (status != s.status()) {
                return "step " + step + " " + s.path() + ": status " + status + ", expected " + s.status();
            }
            remaining = length;
            return null;
        }

        /** A whole response arrived; returns false when this VM has nothing more to read now. */
        boolean answered(SelectionKey key) throws IOException {
            byte[] expected = steps.get(step).body();
            if (expected != null && bodyAt != expected.length) {
                fail(key, "step " + step + ": body is " + bodyAt + " bytes, expected " + expected.length);
                return false;
            }
            if (parked) {
                parked = false;
                StormClient.this.parked.decrementAndGet();
                over = true;
                return false;
            }
            step++;
            boolean parks = lastParks && step == steps.size() - 1;
            if (parks) {
                // counted before the VM counts as served, so a caller woken by the last one sees all parked
                parked = true;
                StormClient.this.parked.incrementAndGet();
            }
            if (parks || step == steps.size()) {
                perVm.add((System.nanoTime() - started) / 1e6);
                finished.countDown();
            }
            if (step == steps.size()) {
                over = true;
                return false;
            }
            send(this, key);
            return false;
        }

        void fail(SelectionKey key, String problem) {
            if (parked) {
                parked = false;
                StormClient.this.parked.decrementAndGet();
            } else if (!over) {
                over = true;
                if (errors.incrementAndGet() <= 5) {
                    firstErrors.add(problem);
                }
                finished.countDown();
            }
            over = true;
            key.cancel();
            try {
                key.channel().close();
            } catch (IOException e) {
                // already failing
            }
        }
    }
}
