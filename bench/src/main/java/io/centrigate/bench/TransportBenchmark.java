package io.centrigate.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
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

import io.centrigate.config.ProxyContext;
import io.centrigate.loop.Connection;
import io.centrigate.loop.Listener;
import io.centrigate.loop.Poller;
import io.centrigate.loop.Transports;

/**
 * The read/write path of a transport (issue 14): one round trip of a {@code size}-byte message over a connected
 * loopback TCP pair made through the {@link Poller} API, as the loop makes its sockets (listen, connect, accept,
 * adopt; TCP_NODELAY on, non-blocking):
 * <pre>
 *   A ──write──▶ B ──read──▶ chunk ──write──▶ A ──read──▶ chunk
 * </pre>
 * Both ends write from and read into direct buffers, as the proxy does with its pooled chunks, and the reads get a
 * whole chunk's room ({@link ProxyContext#DEFAULT_CHUNK_SIZE}), so a read comes back short as it does in the
 * proxy (which is also what clears the epoll transport's latched readiness). One operation is at least four
 * system calls: two sends and two receives.
 * <ul>
 * <li>{@link #roundTrip()}: the calls alone; a read that finds nothing yet is simply retried (the sockets are
 * non-blocking, so it cannot hang; on loopback the bytes are there as soon as the send returns, so it is rare).</li>
 * <li>{@link #gatheringRoundTrip()}: both writes are gathering writes of three buffers (a head, a middle, a tail,
 * as a head rewrite or a frame header in front of a payload would be).</li>
 * <li>{@link #polledRoundTrip()}: the loop's way: after A's write the poller is polled without waiting
 * ({@code pollNow}) until the handlers have done the rest: B's handler reads and echoes, A's reads. This adds
 * {@code epoll_wait} or {@code selectNow} and the dispatch to the calls above.</li>
 * <li>{@link #roundTripCountingEmptyReads()}: {@link #roundTrip()} with one branch more in its caller, which was
 * enough to make the epoll path allocate (see there).</li>
 * </ul>
 * {@code transport=io_uring} makes the same socket calls as epoll (readiness comes from multishot polls on a ring
 * instead of {@code epoll_wait}), so it differs from epoll in {@link #polledRoundTrip()} only; Linux 5.19 or later.
 * {@code transport=epoll} needs JDK 22 or later on Linux (the jar's {@code META-INF/versions/22}); elsewhere its
 * set-up fails with the reason, so run {@code -p transport=nio} there. The content is checked once per variant at
 * set-up and the byte count at tear-down, so a broken path fails the run instead of producing a fast number.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(jvmArgsAppend = {BenchmarkJvm.AGRONA_EXPORTS, BenchmarkJvm.NATIVE_ACCESS})
public class TransportBenchmark
{
    private static final long SETUP_MILLIS = 5_000;

    @Param({"nio", "epoll", "io_uring"})
    String transport;

    @Param({"64", "4096"})
    int size;

    private Poller poller;
    private Connection a;
    private Connection b;

    /** A's message; and its three parts for the gathering write (slices: they share its bytes). */
    private ByteBuffer message;
    private ByteBuffer[] messageParts;
    /** What B reads into, and its parts for the gathering echo. */
    private ByteBuffer chunkB;
    private ByteBuffer[] chunkBParts;
    /** What A reads the echo into. */
    private ByteBuffer chunkA;

    private boolean echoed;
    private long roundTrips;
    private long bytesBack;
    private long emptyReads;

    @Setup
    public void setup() throws IOException
    {
        // Fails here, with the reason, when epoll cannot run (JDK < 22, not Linux, native access denied).
        final String resolved = Transports.resolve(transport);
        if (!resolved.equals(transport))
        {
            // io_uring falls back to epoll where the kernel refuses it: that would be epoll's figure under its name
            throw new IllegalStateException(Transports.fallbackNotice(transport, resolved));
        }
        poller = Transports.factory(resolved).apply(() -> { });
        connectPair();

        message = ByteBuffer.allocateDirect(size);
        final SplittableRandom random = new SplittableRandom(7);
        for (int i = 0; i < size; i++)
        {
            message.put(i, (byte)random.nextInt(256));
        }
        chunkB = ByteBuffer.allocateDirect(ProxyContext.DEFAULT_CHUNK_SIZE);
        chunkA = ByteBuffer.allocateDirect(ProxyContext.DEFAULT_CHUNK_SIZE);
        messageParts = parts(message, size);
        chunkBParts = parts(chunkB, size);

        checkContent("roundTrip", this::roundTrip);
        checkContent("roundTripCountingEmptyReads", this::roundTripCountingEmptyReads);
        checkContent("gatheringRoundTrip", this::gatheringRoundTrip);
        checkContent("polledRoundTrip", this::polledRoundTrip);
        roundTrips = 0;
        bytesBack = 0;
        emptyReads = 0;
    }

    /**
     * A connects to a listener of the same poller; the accepted socket is adopted as B. The listener goes once the
     * pair stands, so the poller has the two connections only.
     */
    private void connectPair() throws IOException
    {
        final Listener listener = poller.listen(
            new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 1, false, l -> { });
        try
        {
            a = poller.connect(listener.localAddress(), this::onReadyA);
            Object accepted = null;
            final long deadline = System.currentTimeMillis() + SETUP_MILLIS;
            while (accepted == null || a.isConnectionPending())
            {
                if (System.currentTimeMillis() > deadline)
                {
                    throw new IllegalStateException("no loopback connection within " + SETUP_MILLIS + " ms");
                }
                poller.poll(10);
                if (accepted == null)
                {
                    accepted = listener.accept();
                }
                if (a.isConnectionPending())
                {
                    a.finishConnect();
                }
            }
            b = poller.adopt(accepted, this::onReadyB);
            // Only polledRoundTrip polls; the other variants never let a handler run.
            a.interest(Connection.OP_READ);
            b.interest(Connection.OP_READ);
        }
        finally
        {
            listener.close();
        }
    }

    /** Head, middle and tail of {@code buffer}'s first {@code size} bytes; slices of a direct buffer are direct. */
    private static ByteBuffer[] parts(final ByteBuffer buffer, final int size)
    {
        final int head = Math.max(1, size / 8);
        final int middle = size / 2;
        return new ByteBuffer[] {
            buffer.slice(0, head), buffer.slice(head, middle - head), buffer.slice(middle, size - middle)};
    }

    private interface RoundTrip
    {
        int run() throws IOException;
    }

    /** One round trip with the echo compared to the message, byte for byte. */
    private void checkContent(final String variant, final RoundTrip roundTrip) throws IOException
    {
        chunkA.clear().put(0, (byte)~message.get(0));
        roundTrip.run();
        if (chunkA.position() != size || !chunkA.flip().equals(message.clear()))
        {
            throw new IllegalStateException(variant + ": the echo differs from the message (" + chunkA + ")");
        }
    }

    @Benchmark
    public int roundTrip() throws IOException
    {
        message.clear();
        writeFully(a, message);
        readMessage(b, chunkB);
        chunkB.flip();
        writeFully(b, chunkB);
        readMessage(a, chunkA);
        return countRoundTrip();
    }

    /**
     * {@link #roundTrip()} with its caller counting the reads that found nothing: one never-taken branch more. It
     * is here because on JDK 25 that branch alone made C2 keep one allocation per round trip on the epoll path
     * (the errno capture segment the JDK's linker slices per downcall, {@code SharedUtils.checkCaptureSegment},
     * at B's read): whether the native path allocates depends on how its caller compiles, which this keeps
     * measurable.
     */
    @Benchmark
    public int roundTripCountingEmptyReads() throws IOException
    {
        message.clear();
        writeFully(a, message);
        readMessageCounting(b, chunkB);
        chunkB.flip();
        writeFully(b, chunkB);
        readMessageCounting(a, chunkA);
        return countRoundTrip();
    }

    @Benchmark
    public int gatheringRoundTrip() throws IOException
    {
        writeFully(a, messageParts);
        readMessage(b, chunkB);
        writeFully(b, chunkBParts);
        readMessage(a, chunkA);
        return countRoundTrip();
    }

    @Benchmark
    public int polledRoundTrip() throws IOException
    {
        message.clear();
        chunkB.clear();
        chunkA.clear();
        echoed = false;
        writeFully(a, message);
        while (!echoed)
        {
            poller.pollNow();
        }
        return countRoundTrip();
    }

    private int countRoundTrip()
    {
        roundTrips++;
        bytesBack += chunkA.position();
        return chunkA.get(size - 1);
    }

    /** B's handler in {@link #polledRoundTrip()}: one read per readiness, as a session does; the echo once whole. */
    private void onReadyB(final Connection connection, final int readyOps)
    {
        if ((readyOps & Connection.OP_READ) == 0)
        {
            return;
        }
        try
        {
            if (connection.read(chunkB) < 0)
            {
                throw new IllegalStateException("A closed");
            }
            if (chunkB.position() == size)
            {
                chunkB.flip();
                writeFully(connection, chunkB);
                chunkB.clear();
            }
        }
        catch (final IOException e)
        {
            throw new UncheckedIOException(e);
        }
    }

    /** A's handler: reads the echo; the set-up's connect readiness is the set-up loop's business. */
    private void onReadyA(final Connection connection, final int readyOps)
    {
        if ((readyOps & Connection.OP_READ) == 0)
        {
            return;
        }
        try
        {
            if (connection.read(chunkA) < 0)
            {
                throw new IllegalStateException("B closed");
            }
            echoed = chunkA.position() == size;
        }
        catch (final IOException e)
        {
            throw new UncheckedIOException(e);
        }
    }

    /** Into a whole chunk's room (so the last read comes back short, as in the proxy) until the message is in. */
    private void readMessage(final Connection connection, final ByteBuffer chunk) throws IOException
    {
        chunk.clear();
        while (chunk.position() < size)
        {
            if (connection.read(chunk) < 0)
            {
                throw new IllegalStateException("peer closed");
            }
        }
    }

    private void readMessageCounting(final Connection connection, final ByteBuffer chunk) throws IOException
    {
        chunk.clear();
        while (chunk.position() < size)
        {
            final int n = connection.read(chunk);
            if (n < 0)
            {
                throw new IllegalStateException("peer closed");
            }
            if (n == 0)
            {
                emptyReads++;
            }
        }
    }

    /** A small message into an idle socket goes out whole; the loop only guards against a short write. */
    private static void writeFully(final Connection connection, final ByteBuffer src) throws IOException
    {
        while (src.hasRemaining())
        {
            connection.write(src);
        }
    }

    private void writeFully(final Connection connection, final ByteBuffer[] parts) throws IOException
    {
        for (final ByteBuffer part : parts)
        {
            part.clear();
        }
        long left = size;
        while (left > 0)
        {
            left -= connection.write(parts, 0, parts.length);
        }
    }

    @TearDown
    public void tearDown()
    {
        try
        {
            // Nothing printed here: the GC profiler counts a trial's tear-down into its last iteration.
            if (poller != null && bytesBack != roundTrips * size)
            {
                throw new IllegalStateException("byte counts disagree: " + roundTrips + " round trips of " + size +
                    " B, " + bytesBack + " B back");
            }
        }
        finally
        {
            if (a != null)
            {
                a.close();
            }
            if (b != null)
            {
                b.close();
            }
            if (poller != null)
            {
                poller.close();
            }
        }
    }
}
