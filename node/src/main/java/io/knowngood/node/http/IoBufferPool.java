package io.knowngood.node.http;

import io.undertow.connector.ByteBufferPool;
import io.undertow.connector.PooledByteBuffer;
import io.undertow.server.DirectByteBufferDeallocator;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;

/**
 * The buffers Undertow reads requests into and writes response heads from: a few kept per thread,
 * the rest released at once (as Undertow's {@code DefaultByteBufferPool} does with no shared pool).
 * Undertow's pool finds a thread's cache through a synchronized {@code WeakHashMap} on every allocate
 * and every free; under wrk that lock and the map's stale-entry sweep were about 6 % of the I/O
 * threads' samples (JFR, full JIT). A {@link ThreadLocal} finds the same cache without a lock.
 */
final class IoBufferPool implements ByteBufferPool {

    private final boolean direct;
    private final int bufferSize;
    private final int perThread;
    private final ThreadLocal<ArrayDeque<ByteBuffer>> cache = ThreadLocal.withInitial(ArrayDeque::new);
    private final IoBufferPool arrayBacked;
    private volatile boolean closed;

    IoBufferPool(boolean direct, int bufferSize, int perThread) {
        this.direct = direct;
        this.bufferSize = bufferSize;
        this.perThread = perThread;
        this.arrayBacked = direct ? new IoBufferPool(false, bufferSize, perThread) : this;
    }

    @Override
    public PooledByteBuffer allocate() {
        if (closed) {
            throw new IllegalStateException("buffer pool closed");
        }
        ByteBuffer b = cache.get().poll();
        if (b == null) {
            b = direct ? ByteBuffer.allocateDirect(bufferSize) : ByteBuffer.allocate(bufferSize);
        } else {
            b.clear();
        }
        return new Pooled(b);
    }

    private void free(ByteBuffer b) {
        ArrayDeque<ByteBuffer> mine = closed ? null : cache.get();
        if (mine != null && mine.size() < perThread) {
            mine.push(b);
        } else if (direct) {
            DirectByteBufferDeallocator.free(b);
        }
    }

    /** Buffers cached on this thread (for tests). */
    int cachedOnThisThread() {
        return cache.get().size();
    }

    @Override
    public ByteBufferPool getArrayBackedPool() {
        return arrayBacked;
    }

    @Override
    public void close() {
        closed = true;
        if (arrayBacked != this) {
            arrayBacked.close();
        }
    }

    @Override
    public int getBufferSize() {
        return bufferSize;
    }

    @Override
    public boolean isDirect() {
        return direct;
    }

    /** One buffer lent out; closing it twice returns it once. */
    private final class Pooled implements PooledByteBuffer {
        private ByteBuffer buffer;

        Pooled(ByteBuffer buffer) {
            this.buffer = buffer;
        }

        @Override
        public ByteBuffer getBuffer() {
            ByteBuffer b = buffer;
            if (b == null) {
                throw new IllegalStateException("buffer already returned to the pool");
            }
            return b;
        }

        @Override
        public void close() {
            ByteBuffer b = buffer;
            if (b != null) {
                buffer = null;
                free(b);
            }
        }

        @Override
        public boolean isOpen() {
            return buffer != null;
        }

        @Override
        public String toString() {
            return "IoBufferPool buffer " + (buffer == null ? "(returned)" : buffer);
        }
    }
}
