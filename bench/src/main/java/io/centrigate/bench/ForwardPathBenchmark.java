package io.centrigate.bench;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.Channel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import io.centrigate.buffer.ChunkPool;
import io.centrigate.config.ProxyContext;
import io.centrigate.tunnel.Pipe;
import io.centrigate.websocket.FrameTracker;

/**
 * One message through one direction of a tunnel over real loopback TCP, as a loop moves it:
 * <pre>
 *   peer ──write──▶ [source] ══ Pipe.fill ══▶ chunk ══ Pipe.flush ══▶ [sink] ──read──▶ far end
 * </pre>
 * Two connected socket pairs on 127.0.0.1, all four ends non-blocking with TCP_NODELAY as the proxy sets them.
 * One operation is one message of {@code size} bytes written by the peer, moved by the pipe (fill only while
 * nothing is queued, as the proxy does; flush until the sink would block) and read by the far end, looping until
 * the far end has all of it. So the time includes the peer's write and the far end's read: at least four
 * system calls per message, two of which are the proxy's. Non-blocking ends mean no step can hang; a step
 * that finds nothing ready just returns 0 and the loop goes round again.
 * <p>
 * {@link #forwardTracked()} is the same with the tunnel's frame tracker walking each filled chunk, as the proxy
 * does for every read of a tunnel (the message is one unmasked binary frame): the path the metrics' frame and
 * close-code counting lives on. Its tracker counts close codes into a per-loop array when the core has that
 * (found by reflection at setup, so the same benchmark runs against a core from before it).
 * <p>
 * The byte counts are checked at tear-down, and the content once at setup, so a broken path fails the run
 * instead of producing a fast number.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(jvmArgsAppend = BenchmarkJvm.AGRONA_EXPORTS)
public class ForwardPathBenchmark
{
    @Param({"1024", "16384"})
    int size;

    private ServerSocketChannel acceptor;
    private SocketChannel peer;
    private SocketChannel source;
    private SocketChannel sink;
    private SocketChannel farEnd;
    private ChunkPool pool;
    private Pipe pipe;
    private ByteBuffer message;
    private ByteBuffer received;
    private long messages;
    private long bytesReceived;
    private FrameTracker tracker;
    private long trackedMessages;

    @Setup
    public void setup() throws IOException
    {
        acceptor = ServerSocketChannel.open();
        acceptor.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        final SocketChannel[] first = connectedPair();
        peer = first[0];
        source = first[1];
        final SocketChannel[] second = connectedPair();
        sink = second[0];
        farEnd = second[1];

        pool = new ChunkPool(ProxyContext.DEFAULT_CHUNK_SIZE, ProxyContext.DEFAULT_CHUNKS_PER_SLAB,
            ProxyContext.DEFAULT_CHUNKS_PER_SLAB);
        pipe = new Pipe(pool);

        message = ByteBuffer.allocateDirect(size);
        final SplittableRandom random = new SplittableRandom(7);
        for (int i = 0; i < size; i++)
        {
            message.put(i, (byte)random.nextInt(256));
        }
        // One binary frame, unmasked, 16-bit length: header 4 bytes, the rest payload.
        message.put(0, (byte)0x82).put(1, (byte)126).put(2, (byte)((size - 4) >>> 8)).put(3, (byte)(size - 4));
        tracker = newTracker();
        // Room for a message and more, so a read never stops short because of the buffer.
        received = ByteBuffer.allocateDirect(Math.max(2 * size, 64 * 1024));

        checkContent();
    }

    private static FrameTracker newTracker()
    {
        return counting(new long[5000]);
    }

    /**
     * A tracker as a tunnel has one: counting close codes and, where the core has it, the live loop and node traffic
     * ({@code countInto}). Reflection keeps the benchmark runnable against older cores for before/after figures.
     */
    static FrameTracker counting(final long[] closeCodes)
    {
        FrameTracker tracker;
        try
        {
            tracker = FrameTracker.class.getConstructor(long[].class).newInstance((Object)closeCodes);
        }
        catch (final ReflectiveOperationException e)
        {
            return new FrameTracker(); // a core without close-code counting
        }
        try
        {
            FrameTracker.class.getMethod("countInto", long[].class, int.class, long[].class, int.class)
                .invoke(tracker, new long[4], 0, new long[3], 1);
        }
        catch (final ReflectiveOperationException e)
        {
            // A core that adds traffic only when a tunnel ends.
        }
        return tracker;
    }

    private SocketChannel[] connectedPair() throws IOException
    {
        final SocketChannel client = SocketChannel.open(acceptor.getLocalAddress());
        final SocketChannel server = acceptor.accept();
        for (final SocketChannel channel : new SocketChannel[] {client, server})
        {
            channel.setOption(StandardSocketOptions.TCP_NODELAY, Boolean.TRUE);
            channel.configureBlocking(false);
        }
        return new SocketChannel[] {client, server};
    }

    /** One message through the path with the far end's bytes kept and compared. */
    private void checkContent() throws IOException
    {
        final ByteBuffer whole = ByteBuffer.allocateDirect(size);
        message.clear();
        int got = 0;
        while (got < size)
        {
            step(true);
            received.flip();
            got += received.remaining();
            whole.put(received);
        }
        message.clear();
        whole.flip();
        if (got != size || !whole.equals(message))
        {
            throw new IllegalStateException("bytes changed on the way: got " + got + " of " + size);
        }
    }

    /** One round of every party; leaves what the far end read in {@code received} (position = bytes read). */
    private void step(final boolean track) throws IOException
    {
        if (message.hasRemaining())
        {
            peer.write(message);
        }
        if (pipe.isEmpty())
        {
            final int n = pipe.fill(source, Long.MAX_VALUE);
            if (n < 0)
            {
                throw new IllegalStateException("source ended or pool dry: " + n);
            }
            if (track && n > 0)
            {
                tracker.onBytes(pipe.last().buffer(), 0, n);
            }
        }
        if (!pipe.isEmpty())
        {
            pipe.flush(sink);
        }
        received.clear();
        if (farEnd.read(received) < 0)
        {
            throw new IllegalStateException("far end closed");
        }
    }

    @Benchmark
    public long forward() throws IOException
    {
        message.clear();
        long got = 0;
        while (got < size)
        {
            step(false);
            got += received.position();
        }
        messages++;
        bytesReceived += got;
        return got;
    }

    @Benchmark
    public long forwardTracked() throws IOException
    {
        message.clear();
        long got = 0;
        while (got < size)
        {
            step(true);
            got += received.position();
        }
        messages++;
        trackedMessages++;
        bytesReceived += got;
        return got;
    }

    @TearDown
    public void tearDown() throws IOException
    {
        try
        {
            // + 1 for the message of checkContent().
            final long expected = (messages + 1) * size;
            if (bytesReceived != messages * size || pipe.bytesIn() != expected || pipe.bytesOut() != expected ||
                pool.inUse() != 0 || tracker.frames() != trackedMessages + 1 || tracker.protocolError())
            {
                throw new IllegalStateException("byte counts disagree: messages=" + messages + " received=" +
                    bytesReceived + " in=" + pipe.bytesIn() + " out=" + pipe.bytesOut() + " inUse=" + pool.inUse() + " " + tracker);
            }
        }
        finally
        {
            closeAll(peer, source, sink, farEnd, acceptor);
        }
    }

    private static void closeAll(final Channel... channels) throws IOException
    {
        IOException first = null;
        for (final Channel channel : channels)
        {
            if (channel == null)
            {
                continue;
            }
            try
            {
                channel.close();
            }
            catch (final IOException e)
            {
                if (first == null)
                {
                    first = e;
                }
            }
        }
        if (first != null)
        {
            throw first;
        }
    }
}
