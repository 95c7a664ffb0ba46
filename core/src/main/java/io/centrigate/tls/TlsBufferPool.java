package io.centrigate.tls;

import java.nio.ByteBuffer;

/**
 * The encrypted-side buffers of one event loop's TLS connections. A {@link TlsChannel} borrows a buffer only
 * while it holds bytes (ciphertext in or out, or decrypted bytes that did not fit the caller's buffer) and
 * gives it back the moment it is empty, so an idle connection holds none and a loop's TLS memory follows its
 * busy connections, not its open ones. Buffers go back on a LIFO free list (cache-warm first); beyond
 * {@code maxFree} they are dropped to the garbage collector rather than kept forever after a burst.
 * <p>
 * Single-threaded: owned by its loop, no synchronisation.
 */
public final class TlsBufferPool
{
    /**
     * Large enough for any record the JDK engine writes or accepts by default
     * ({@code SSLSession.getPacketBufferSize()} is 16709 on JDK 17); a larger need is met by a one-off buffer.
     */
    public static final int DEFAULT_BUFFER_SIZE = 16 * 1024 + 512;
    public static final int DEFAULT_MAX_FREE = 256;

    private final int bufferSize;
    private final boolean direct;
    private final ByteBuffer[] free;
    private int freeCount;
    private long allocations;

    public TlsBufferPool()
    {
        this(DEFAULT_BUFFER_SIZE, DEFAULT_MAX_FREE);
    }

    public TlsBufferPool(final int bufferSize, final int maxFree)
    {
        this(bufferSize, maxFree, true);
    }

    /**
     * @param direct off-heap buffers (the default). Measured on JDK 17: its engine makes about 3.6 KB of garbage
     *               per 16 KiB record with direct buffers and about 1.5 KB with heap ones (echo loop, AES-GCM;
     *               the cause inside the JDK was not investigated), so heap buffers are worth benchmarking.
     */
    public TlsBufferPool(final int bufferSize, final int maxFree, final boolean direct)
    {
        if (bufferSize <= 0 || maxFree < 0)
        {
            throw new IllegalArgumentException("bad TLS buffer pool sizes: buffer=" + bufferSize + " maxFree=" + maxFree);
        }
        this.bufferSize = bufferSize;
        this.direct = direct;
        this.free = new ByteBuffer[maxFree];
    }

    /** A cleared buffer of at least {@code minSize} bytes. */
    public ByteBuffer acquire(final int minSize)
    {
        if (minSize > bufferSize)
        {
            // Rare (a peer negotiated larger records): a one-off buffer, dropped again by release().
            allocations++;
            return allocate(minSize);
        }
        if (freeCount == 0)
        {
            allocations++;
            return allocate(bufferSize);
        }
        final ByteBuffer buffer = free[--freeCount];
        free[freeCount] = null;
        return buffer;
    }

    private ByteBuffer allocate(final int size)
    {
        return direct ? ByteBuffer.allocateDirect(size) : ByteBuffer.allocate(size);
    }

    public void release(final ByteBuffer buffer)
    {
        if (buffer.capacity() == bufferSize && freeCount < free.length)
        {
            buffer.clear();
            free[freeCount++] = buffer;
        }
    }

    public int bufferSize()
    {
        return bufferSize;
    }

    public int freeCount()
    {
        return freeCount;
    }

    /** Direct buffers allocated since the pool was made: flat in the steady state. */
    public long allocations()
    {
        return allocations;
    }
}
