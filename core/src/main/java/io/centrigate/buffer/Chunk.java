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
}
