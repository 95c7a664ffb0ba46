package io.centrigate.buffer;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The off-heap chunks of one event loop. Slabs of {@code chunksPerSlab} chunks are allocated as direct
 * memory when the free list runs dry, up to {@code maxChunks}; after that {@link #acquire()} returns
 * {@code null} and the caller waits (stops reading) instead of growing memory. Chunks go back on a LIFO
 * free list so the most recently used, cache-warm memory is handed out first.
 * <p>
 * Single-threaded: owned by its loop, no synchronisation.
 */
public final class ChunkPool
{
    /** The most chunks one gathering write takes. */
    public static final int GATHER_MAX = 8;

    private final int chunkSize;
    private final int chunksPerSlab;
    private final int maxChunks;
    private Chunk[] free;
    private int freeCount;
    private int allocated;
    private int highWater;
    private long exhausted;
    /** Scratch for gathering writes of the loop's pipes (one thread, one write at a time). */
    private final ByteBuffer[] gather = new ByteBuffer[GATHER_MAX];

    public ChunkPool(final int chunkSize, final int chunksPerSlab, final int maxChunks)
    {
        if (chunkSize <= 0 || chunksPerSlab <= 0 || maxChunks < chunksPerSlab)
        {
            throw new IllegalArgumentException("bad chunk pool sizes: chunk=" + chunkSize + " slab=" + chunksPerSlab +
                " max=" + maxChunks);
        }
        this.chunkSize = chunkSize;
        this.chunksPerSlab = chunksPerSlab;
        this.maxChunks = maxChunks;
        this.free = new Chunk[chunksPerSlab];
        addSlab();
    }

    /** A cleared chunk, or {@code null} when the pool is at its limit. */
    public Chunk acquire()
    {
        if (freeCount == 0 && !addSlab())
        {
            exhausted++;
            return null;
        }
        final Chunk chunk = free[--freeCount];
        free[freeCount] = null;
        chunk.free = false;
        chunk.byteBuffer().clear();
        final int inUse = allocated - freeCount;
        if (inUse > highWater)
        {
            highWater = inUse;
        }
        return chunk;
    }

    public void release(final Chunk chunk)
    {
        if (chunk.free)
        {
            throw new IllegalStateException("chunk " + chunk.index() + " released twice");
        }
        chunk.free = true;
        free[freeCount++] = chunk;
    }

    private boolean addSlab()
    {
        if (allocated + chunksPerSlab > maxChunks)
        {
            return false;
        }
        // Cold path: runs a handful of times in a loop's life.
        final ByteBuffer slab = ByteBuffer.allocateDirect(chunksPerSlab * chunkSize).order(ByteOrder.nativeOrder());
        if (free.length < allocated + chunksPerSlab)
        {
            final Chunk[] grown = new Chunk[Math.min(maxChunks, Math.max(free.length * 2, allocated + chunksPerSlab))];
            System.arraycopy(free, 0, grown, 0, freeCount);
            free = grown;
        }
        for (int i = 0; i < chunksPerSlab; i++)
        {
            final ByteBuffer slice = slab.slice(i * chunkSize, chunkSize);
            final Chunk chunk = new Chunk(allocated + i, slice);
            chunk.free = true;
            free[freeCount++] = chunk;
        }
        allocated += chunksPerSlab;
        return true;
    }

    /**
     * The array a pipe fills for one gathering write and clears after it: shared by every pipe of the loop
     * instead of one per pipe (idle tunnels are the common case, and they never write).
     */
    public ByteBuffer[] gatherScratch()
    {
        return gather;
    }

    public int chunkSize()
    {
        return chunkSize;
    }

    /** Chunks whose memory exists (free or in use). */
    public int allocated()
    {
        return allocated;
    }

    /** Chunks free now (not counting slabs the pool may still add: see {@link #canAcquire()}). */
    public int available()
    {
        return freeCount;
    }

    /**
     * Whether {@link #acquire()} would hand out a chunk: one is free, or the pool may still add a slab. A caller
     * that checked {@link #available()} instead waited at every slab boundary for a chunk to come back although the
     * memory limit was far (the head stage during a ramp held by one slab of in-flight handshakes).
     */
    public boolean canAcquire()
    {
        // Both sides always evaluated ('|', not '||'): the right one matters only when no chunk is free, which a
        // warm-up rarely sees at this call, and C2 turned the never-taken short cut into a trap that sent the head
        // stage back to the interpreter at a real ramp's first slab boundary.
        return freeCount > 0 | allocated + chunksPerSlab <= maxChunks;
    }

    public int inUse()
    {
        return allocated - freeCount;
    }

    public int highWater()
    {
        return highWater;
    }

    /** How often a caller found the pool at its limit. */
    public long exhaustedCount()
    {
        return exhausted;
    }

    public int maxChunks()
    {
        return maxChunks;
    }
}
