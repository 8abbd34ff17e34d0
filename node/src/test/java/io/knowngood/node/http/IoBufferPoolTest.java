package io.knowngood.node.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.undertow.connector.PooledByteBuffer;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

class IoBufferPoolTest {

    @Test
    void aReturnedBufferIsLentAgainOnTheSameThread_cleared() {
        IoBufferPool pool = new IoBufferPool(true, 1024, 2);
        PooledByteBuffer first = pool.allocate();
        ByteBuffer b = first.getBuffer();
        assertThat(b.isDirect()).isTrue();
        assertThat(b.capacity()).isEqualTo(1024);
        b.put((byte) 1).flip();
        first.close();
        assertThat(first.isOpen()).isFalse();
        assertThatThrownBy(first::getBuffer).isInstanceOf(IllegalStateException.class);
        PooledByteBuffer second = pool.allocate();
        assertThat(second.getBuffer()).isSameAs(b);
        assertThat(second.getBuffer().position()).isZero();
        assertThat(second.getBuffer().limit()).isEqualTo(1024);
        second.close();
    }

    @Test
    void closingTwiceReturnsOnce_andAThreadKeepsAtMostItsShare() {
        IoBufferPool pool = new IoBufferPool(false, 512, 2);
        PooledByteBuffer a = pool.allocate();
        a.close();
        a.close();
        assertThat(pool.cachedOnThisThread()).isEqualTo(1);
        PooledByteBuffer x = pool.allocate();
        PooledByteBuffer y = pool.allocate();
        PooledByteBuffer z = pool.allocate();
        assertThat(x.getBuffer()).isNotSameAs(y.getBuffer()).isNotSameAs(z.getBuffer());
        x.close();
        y.close();
        z.close();
        assertThat(pool.cachedOnThisThread()).isEqualTo(2);
    }

    @Test
    void theArrayBackedPoolLendsHeapBuffers_andAClosedPoolLendsNothing() {
        IoBufferPool pool = new IoBufferPool(true, 256, 1);
        assertThat(pool.getArrayBackedPool().isDirect()).isFalse();
        assertThat(pool.getArrayBackedPool().allocate().getBuffer().hasArray()).isTrue();
        assertThat(pool.getBufferSize()).isEqualTo(256);
        pool.close();
        assertThatThrownBy(pool::allocate).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> pool.getArrayBackedPool().allocate()).isInstanceOf(IllegalStateException.class);
    }
}
