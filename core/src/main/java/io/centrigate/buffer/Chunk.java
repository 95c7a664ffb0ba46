package io.centrigate.buffer;

import java.nio.ByteBuffer;

import org.agrona.concurrent.UnsafeBuffer;

/**
 * A fixed-size piece of a loop's off-heap slab. {@link #byteBuffer()} is what channels read into and write
 * from (a direct buffer, so the JDK does no copy); {@link #buffer()} views the same memory for parsers.
 */
public final class Chunk
{
    private final int index;
    private final ByteBuffer byteBuffer;
    private final UnsafeBuffer buffer;
    boolean free;
    /**
     * The queue a chunk waits in ({@code io.centrigate.tunnel.Pipe}) links through the chunk itself: a chunk is
     * in at most one queue at a time, and a link here costs nothing per connection where a queue array in every
     * pipe cost ~90 bytes per direction of every idle tunnel.
     */
    private Chunk next;
    private boolean retained;

    Chunk(final int index, final ByteBuffer byteBuffer)
    {
        this.index = index;
        this.byteBuffer = byteBuffer;
        this.buffer = new UnsafeBuffer(byteBuffer);
    }

    public int index()
    {
        return index;
    }

    public ByteBuffer byteBuffer()
    {
        return byteBuffer;
    }

    public UnsafeBuffer buffer()
    {
        return buffer;
    }

    public int capacity()
    {
        return byteBuffer.capacity();
    }

    /** The chunk queued after this one, while this one is queued. */
    public Chunk next()
    {
        return next;
    }

    public void next(final Chunk chunk)
    {
        next = chunk;
    }

    /** Queued by a caller that keeps it (written but not given back to the pool when written). */
    public boolean retained()
    {
        return retained;
    }

    public void retained(final boolean kept)
    {
        retained = kept;
    }
}
