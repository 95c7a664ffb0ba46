package io.centrigate.tunnel;

import io.centrigate.loop.KernelPipe;
import io.centrigate.loop.Poller;

/**
 * One loop's kernel pipes for splicing frame payloads (see {@link Pipe#startSplice}). A pipe costs two descriptors
 * and, while it holds bytes, up to its size in kernel memory, so at most {@code max} exist per loop; a tunnel holds
 * one only while a payload is in flight and gives it back empty. When every pipe is taken the payload is copied
 * through a chunk instead ({@link #exhausted()} counts those). Loop thread only; no allocation once warm.
 */
public final class KernelPipePool
{
    private final Poller poller;
    private final KernelPipe[] free;
    private int freeCount;
    /** Pipes open now: free ones and those lent out. */
    private int open;
    private long exhausted;

    public KernelPipePool(final Poller poller, final int max)
    {
        this.poller = poller;
        this.free = new KernelPipe[max];
    }

    /** A pipe, empty, or null when {@code max} are lent out or the kernel refused a new one (EMFILE). */
    public KernelPipe acquire()
    {
        if (freeCount > 0)
        {
            final KernelPipe pipe = free[--freeCount];
            free[freeCount] = null;
            return pipe;
        }
        if (open == free.length)
        {
            exhausted++;
            return null;
        }
        final KernelPipe pipe = poller.openPipe();
        if (pipe == null)
        {
            exhausted++;
            return null;
        }
        open++;
        return pipe;
    }

    /** Takes a pipe back: kept when empty, closed when it holds bytes nobody will read. */
    public void release(final KernelPipe pipe)
    {
        if (pipe.buffered() == 0 && freeCount < free.length)
        {
            free[freeCount++] = pipe;
            return;
        }
        pipe.close();
        open--;
    }

    /** Times a payload was copied because no pipe was left. */
    public long exhausted()
    {
        return exhausted;
    }

    /** Pipes open now (lent out or free). */
    public int open()
    {
        return open;
    }

    /** Closes the free pipes (the loop is ending; lent ones are closed by their tunnels). */
    public void close()
    {
        while (freeCount > 0)
        {
            final KernelPipe pipe = free[--freeCount];
            free[freeCount] = null;
            pipe.close();
            open--;
        }
    }
}
