package io.centrigate.tunnel;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.GatheringByteChannel;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;

import io.centrigate.buffer.Chunk;
import io.centrigate.buffer.ChunkPool;
import io.centrigate.loop.Connection;
import io.centrigate.loop.KernelPipe;

/**
 * One direction of a proxied connection. Bytes are read straight into a pooled off-heap chunk and written
 * out of that same chunk; the chunk goes back to the pool the moment it is fully written, so a quiet
 * direction holds no memory at all. While a write is pending the caller stops reading the source: memory
 * per slow consumer is bounded by the chunks queued here (one in the steady state).
 * <p>
 * A short queue (at most {@link #MAX_QUEUED} chunks) lets a head rewritten into one chunk be followed by
 * body bytes that arrived with it in another, in order, without copying them.
 * <p>
 * On a native transport the payload of a large frame can instead go through a kernel pipe ({@link #startSplice}):
 * socket to pipe to socket with splice(2), never through a chunk. Only one of the two paths is in use at a time
 * (a splice starts with the chunk queue empty and ends before the next chunk is read), so bytes stay in order, and
 * the kernel pipe, like a chunk, is filled only while nothing waits to be written.
 */
public final class Pipe
{
    public static final int EOF = -1;
    public static final int NO_BUFFER = -2;
    static final int MAX_QUEUED = 4;

    private final ChunkPool pool;
    /** Queued chunks, linked through {@link Chunk#next()}: no array per pipe (see Chunk). */
    private Chunk first;
    private Chunk tail;
    private int count;
    private long bytesIn;
    private long bytesOut;
    private boolean sourceEnded;
    private boolean sinkShut;
    /** While a payload is spliced: the pipe, its pool, both sockets, and the payload bytes still to take in. */
    private KernelPipe kernel;
    private KernelPipePool kernelPool;
    private Connection spliceSource;
    private Connection spliceSink;
    private long spliceLeft;
    private long spliced;
    /** The last large frame of this direction was spliced: the next header is worth peeking at. */
    private boolean spliceHint;

    public Pipe(final ChunkPool pool)
    {
        this.pool = pool;
    }

    /**
     * Reads once from {@code src} into a fresh chunk and queues what was read.
     *
     * @param max at most this many bytes (for bodies of known length).
     * @return bytes read, 0 if none were ready, {@link #EOF}, or {@link #NO_BUFFER} when the pool is dry.
     */
    public int fill(final ReadableByteChannel src, final long max) throws IOException
    {
        final Chunk chunk = pool.acquire();
        if (chunk == null)
        {
            return NO_BUFFER;
        }
        final ByteBuffer bb = chunk.byteBuffer();
        if (max < bb.capacity())
        {
            bb.limit((int)max);
        }
        final int n;
        try
        {
            n = src.read(bb);
        }
        catch (final IOException e)
        {
            pool.release(chunk);
            throw e;
        }
        if (n <= 0)
        {
            pool.release(chunk);
            return n < 0 ? EOF : 0;
        }
        bb.flip();
        enqueue(chunk, false);
        bytesIn += n;
        return n;
    }

    /** Queues a chunk whose bytes to send lie between its byte buffer's position and limit. */
    public void offer(final Chunk chunk)
    {
        if (chunk.byteBuffer().hasRemaining())
        {
            enqueue(chunk, false);
        }
        else
        {
            pool.release(chunk);
        }
    }

    /** Queues a chunk the caller keeps ownership of: it is written but not given back to the pool. */
    public void offerRetained(final Chunk chunk)
    {
        enqueue(chunk, true);
    }

    /** Forgets a retained chunk if it is still queued (the caller releases it). */
    public void dropRetained(final Chunk chunk)
    {
        Chunk before = null;
        for (Chunk c = first; c != null; before = c, c = c.next())
        {
            if (c == chunk)
            {
                final Chunk after = c.next();
                if (before == null)
                {
                    first = after;
                }
                else
                {
                    before.next(after);
                }
                if (tail == c)
                {
                    tail = before;
                }
                c.next(null);
                c.retained(false);
                count--;
                return;
            }
        }
    }

    private void enqueue(final Chunk chunk, final boolean retained)
    {
        if (count == MAX_QUEUED)
        {
            if (!retained)
            {
                pool.release(chunk);
            }
            throw new IllegalStateException("pipe queue full: the caller must not read while a write is pending");
        }
        chunk.next(null);
        chunk.retained(retained);
        if (tail == null)
        {
            first = chunk;
        }
        else
        {
            tail.next(chunk);
        }
        tail = chunk;
        count++;
    }

    /** The chunk most recently queued (to let a caller look at what was just read), or null. */
    public Chunk last()
    {
        return tail;
    }

    /**
     * Moves the next {@code length} bytes of the source through {@code pipe} in the kernel instead of through
     * chunks, until they are all written or the source ends. The chunk queue must be empty.
     */
    public void startSplice(
        final KernelPipe pipe, final KernelPipePool pool, final Connection source, final Connection sink,
        final long length)
    {
        if (first != null || kernel != null)
        {
            throw new IllegalStateException("splice over queued bytes");
        }
        kernel = pipe;
        kernelPool = pool;
        spliceSource = source;
        spliceSink = sink;
        spliceLeft = length;
        spliceHint = true;
    }

    /** Whether large frames come in this direction (a splice began and no small frame was peeked at since). */
    public boolean spliceHint()
    {
        return spliceHint;
    }

    public void spliceHint(final boolean hint)
    {
        spliceHint = hint;
    }

    /** Whether a splice is under way: reads go through {@link #spliceIn()}, not {@link #fill}. */
    public boolean splicing()
    {
        return kernel != null;
    }

    /**
     * Moves the next bytes of the spliced payload from the source into the kernel pipe (only while it is empty,
     * as {@link #fill} reads only while nothing is queued).
     *
     * @return bytes moved, 0 when none now, {@link #EOF} at the source's FIN.
     */
    public long spliceIn() throws IOException
    {
        if (kernel.buffered() != 0 || spliceLeft == 0)
        {
            return 0;
        }
        final long n = kernel.fill(spliceSource, spliceLeft);
        if (n > 0)
        {
            spliceLeft -= n;
            bytesIn += n;
            spliced += n;
        }
        return n < 0 ? EOF : n;
    }

    /** Bytes that went through a kernel pipe in this direction. */
    public long spliced()
    {
        return spliced;
    }

    /**
     * Writes what is queued until the sink would block.
     *
     * @return true when nothing is left (every chunk went back to the pool, a finished splice's pipe too).
     */
    public boolean flush(final WritableByteChannel dst) throws IOException
    {
        if (kernel != null)
        {
            return flushKernel();
        }
        if (count > 1 && dst instanceof GatheringByteChannel)
        {
            // A head and its body in two chunks go out in one writev, not two writes.
            final ByteBuffer[] gather = pool.gatherScratch();
            int n = 0;
            for (Chunk c = first; c != null; c = c.next())
            {
                gather[n++] = c.byteBuffer();
            }
            try
            {
                bytesOut += ((GatheringByteChannel)dst).write(gather, 0, n);
            }
            finally
            {
                for (int i = 0; i < n; i++)
                {
                    gather[i] = null;
                }
            }
        }
        while (first != null)
        {
            final Chunk chunk = first;
            final ByteBuffer bb = chunk.byteBuffer();
            if (bb.hasRemaining())
            {
                bytesOut += dst.write(bb);
            }
            if (bb.hasRemaining())
            {
                return false;
            }
            first = chunk.next();
            if (first == null)
            {
                tail = null;
            }
            count--;
            final boolean keep = chunk.retained();
            chunk.next(null);
            chunk.retained(false);
            if (!keep)
            {
                pool.release(chunk);
            }
        }
        return true;
    }

    private boolean flushKernel() throws IOException
    {
        while (kernel.buffered() != 0)
        {
            final long n = kernel.drain(spliceSink);
            if (n == 0)
            {
                return false;
            }
            bytesOut += n;
        }
        if (spliceLeft == 0 || sourceEnded)
        {
            endSplice();
        }
        return true;
    }

    private void endSplice()
    {
        kernelPool.release(kernel); // closed there if it still holds bytes
        kernel = null;
        kernelPool = null;
        spliceSource = null;
        spliceSink = null;
        spliceLeft = 0;
    }

    /** Nothing waits to be written: no chunk queued, no byte in a kernel pipe. */
    public boolean isEmpty()
    {
        return first == null && (kernel == null || kernel.buffered() == 0);
    }

    /** Gives every queued chunk back without writing it, and a kernel pipe in use (closed if it holds bytes). */
    public void discard()
    {
        if (kernel != null)
        {
            endSplice();
        }
        while (first != null)
        {
            final Chunk chunk = first;
            first = chunk.next();
            chunk.next(null);
            if (!chunk.retained())
            {
                pool.release(chunk);
            }
            chunk.retained(false);
        }
        tail = null;
        count = 0;
    }

    public boolean sourceEnded()
    {
        return sourceEnded;
    }

    public void sourceEnded(final boolean ended)
    {
        sourceEnded = ended;
    }

    /** Whether the end of this direction (FIN) was passed on to the sink. */
    public boolean sinkShut()
    {
        return sinkShut;
    }

    public void sinkShut(final boolean shut)
    {
        sinkShut = shut;
    }

    public long bytesIn()
    {
        return bytesIn;
    }

    public long bytesOut()
    {
        return bytesOut;
    }
}
