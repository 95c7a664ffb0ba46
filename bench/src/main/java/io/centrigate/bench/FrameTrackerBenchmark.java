package io.centrigate.bench;

import java.nio.ByteBuffer;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import org.agrona.concurrent.UnsafeBuffer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

import io.centrigate.config.ProxyContext;
import io.centrigate.websocket.FrameTracker;

/**
 * Frame tracking over one full read's worth of client-to-server bytes (a default 32 KiB chunk), the work a tunnel
 * does per read on top of moving the bytes:
 * <ul>
 * <li>{@link #smallFrames()}: the chunk packed with masked text frames of 64 payload bytes (2-byte header, 4-byte
 * masking key), {@value #SMALL_FRAMES} frames per call: the per-header cost dominates.</li>
 * <li>{@link #bigFrame()}: the chunk is one masked binary frame (16-bit extended length) whose payload fills the
 * rest: one header, then the payload is skipped, never read.</li>
 * </ul>
 * Each buffer ends exactly on a frame boundary, so every call starts and ends between frames and all calls
 * are alike. Divide by {@value #SMALL_FRAMES} for the cost per small frame.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(jvmArgsAppend = BenchmarkJvm.AGRONA_EXPORTS)
public class FrameTrackerBenchmark
{
    static final int CHUNK = ProxyContext.DEFAULT_CHUNK_SIZE;
    static final int SMALL_PAYLOAD = 64;
    static final int SMALL_FRAME = 2 + 4 + SMALL_PAYLOAD;
    static final int SMALL_FRAMES = CHUNK / SMALL_FRAME;
    static final int BIG_HEADER = 2 + 2 + 4;

    // As a tunnel's trackers run: close codes and live loop/node traffic counted (ForwardPathBenchmark.counting).
    private final FrameTracker smallTracker = ForwardPathBenchmark.counting(new long[5000]);
    private final FrameTracker bigTracker = ForwardPathBenchmark.counting(new long[5000]);
    private UnsafeBuffer small;
    private int smallLength;
    private UnsafeBuffer big;

    @Setup
    public void setup()
    {
        final SplittableRandom random = new SplittableRandom(42);

        small = new UnsafeBuffer(ByteBuffer.allocateDirect(CHUNK));
        int p = 0;
        for (int i = 0; i < SMALL_FRAMES; i++)
        {
            small.putByte(p++, (byte)(0x80 | FrameTracker.OPCODE_TEXT));  // FIN, text
            small.putByte(p++, (byte)(0x80 | SMALL_PAYLOAD));              // MASK, 7-bit length
            for (int j = 0; j < 4 + SMALL_PAYLOAD; j++)                   // masking key, masked payload
            {
                small.putByte(p++, (byte)random.nextInt(256));
            }
        }
        smallLength = p;

        big = new UnsafeBuffer(ByteBuffer.allocateDirect(CHUNK));
        final int payload = CHUNK - BIG_HEADER;
        big.putByte(0, (byte)(0x80 | FrameTracker.OPCODE_BINARY));
        big.putByte(1, (byte)(0x80 | 126));                                // MASK, 16-bit extended length
        big.putByte(2, (byte)(payload >>> 8));
        big.putByte(3, (byte)payload);
        for (int i = 4; i < CHUNK; i++)
        {
            big.putByte(i, (byte)random.nextInt(256));
        }

        check(smallTracker, small, smallLength, SMALL_FRAMES);
        check(bigTracker, big, CHUNK, 1);
    }

    private static void check(final FrameTracker tracker, final UnsafeBuffer buf, final int length, final int frames)
    {
        tracker.reset();
        tracker.onBytes(buf, 0, length);
        if (tracker.frames() != frames || !tracker.atFrameBoundary() || tracker.protocolError())
        {
            throw new IllegalStateException("benchmark frames are not what they should be: " + tracker);
        }
        tracker.reset();
    }

    @Benchmark
    public long smallFrames()
    {
        smallTracker.onBytes(small, 0, smallLength);
        return smallTracker.frames();
    }

    @Benchmark
    public long bigFrame()
    {
        bigTracker.onBytes(big, 0, CHUNK);
        return bigTracker.frames();
    }
}
