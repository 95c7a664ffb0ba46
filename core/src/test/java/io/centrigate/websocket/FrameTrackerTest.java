package io.centrigate.websocket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

final class FrameTrackerTest
{
    private static final long SEED = 0x5EED_F4A3L;

    /** A frame as RFC 6455 §5.2 lays it out, with random payload bytes (which may look like headers). */
    private static byte[] frame(final boolean fin, final int opcode, final int length, final boolean masked, final Random random)
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write((fin ? 0x80 : 0) | opcode);
        final int mask = masked ? 0x80 : 0;
        if (length < 126)
        {
            out.write(mask | length);
        }
        else if (length <= 0xFFFF)
        {
            out.write(mask | 126);
            out.write(length >>> 8);
            out.write(length & 0xFF);
        }
        else
        {
            out.write(mask | 127);
            for (int shift = 56; shift >= 0; shift -= 8)
            {
                out.write((int)(((long)length >>> shift) & 0xFF));
            }
        }
        final byte[] rest = new byte[(masked ? 4 : 0) + length];
        random.nextBytes(rest);
        out.write(rest, 0, rest.length);
        return out.toByteArray();
    }

    private static byte[] concat(final List<byte[]> frames)
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        frames.forEach(f -> out.write(f, 0, f.length));
        return out.toByteArray();
    }

    private static UnsafeBuffer offHeap(final byte[] bytes)
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(ByteBuffer.allocateDirect(Math.max(1, bytes.length)));
        buffer.putBytes(0, bytes);
        return buffer;
    }

    private static List<int[]> randomSplits(final int length, final int count, final int maxPiece)
    {
        final Random random = new Random(SEED ^ length);
        final List<int[]> splits = new ArrayList<>();
        for (int n = 0; n < count; n++)
        {
            final List<Integer> ends = new ArrayList<>();
            int at = 0;
            while (at < length)
            {
                at = Math.min(length, at + 1 + random.nextInt(maxPiece));
                ends.add(at);
            }
            splits.add(ends.stream().mapToInt(Integer::intValue).toArray());
        }
        return splits;
    }

    private static FrameTracker feed(final UnsafeBuffer buffer, final int[] readEnds)
    {
        final FrameTracker tracker = new FrameTracker();
        int previous = 0;
        for (final int end : readEnds)
        {
            tracker.onBytes(buffer, previous, end - previous);
            previous = end;
        }
        return tracker;
    }

    @ParameterizedTest(name = "payload {0}, masked {1}")
    @CsvSource({"0, false", "0, true", "1, true", "125, false", "125, true", "126, false", "126, true",
        "127, true", "65535, false", "65535, true", "65536, false", "65536, true", "1048576, true", "1048576, false"})
    void findsTheEndOfAFrameOfEverySizeHoweverItIsSplit(final int length, final boolean masked)
    {
        final Random random = new Random(SEED + length);
        final byte[] one = frame(true, FrameTracker.OPCODE_BINARY, length, masked, random);
        final byte[] stream = concat(List.of(one, frame(true, FrameTracker.OPCODE_CLOSE, 2, masked, random)));
        final UnsafeBuffer buffer = offHeap(stream);

        final List<int[]> splits = new ArrayList<>(randomSplits(stream.length, 64, Math.max(16, stream.length / 8)));
        splits.addAll(randomSplits(stream.length, 4, 4096));
        if (stream.length <= 1024)
        {
            for (int cut = 1; cut < stream.length; cut++)
            {
                splits.add(new int[]{cut, stream.length});
            }
        }
        for (final int[] split : splits)
        {
            final FrameTracker tracker = feed(buffer, split);
            assertEquals(2, tracker.frames());
            assertEquals(1, tracker.closeFrames());
            assertEquals(FrameTracker.OPCODE_CLOSE, tracker.lastOpcode());
            assertEquals(stream.length, tracker.bytes());
            assertTrue(tracker.atFrameBoundary());
            assertFalse(tracker.protocolError());
        }

        // Cut right after the first frame and one byte either side of it.
        final FrameTracker exact = feed(buffer, new int[]{one.length});
        assertTrue(exact.atFrameBoundary());
        assertEquals(1, exact.frames());
        assertEquals(FrameTracker.OPCODE_BINARY, exact.lastOpcode());
        assertEquals(0, exact.closeFrames());
        if (one.length > 2)
        {
            final FrameTracker before = feed(buffer, new int[]{one.length - 1});
            assertFalse(before.atFrameBoundary());
            assertEquals(0, before.frames());
            assertEquals(-1, before.lastOpcode());
        }
        assertFalse(feed(buffer, new int[]{one.length + 1}).atFrameBoundary());
    }

    @Test
    void skippedPayloadIsCountedAndEndsTheFrameAtItsBoundary()
    {
        final long[] loop = new long[4];
        final long[] node = new long[1];
        final FrameTracker t = new FrameTracker().countInto(loop, 0, node, 0);
        // A 100,000-byte binary frame (64-bit length), masked: the header alone is walked.
        final byte[] header = {(byte)0x82, (byte)(0x80 | 127), 0, 0, 0, 0, 0, 1, (byte)0x86, (byte)0xA0, 1, 2, 3, 4};
        t.onBytes(new UnsafeBuffer(header), 0, header.length);
        assertEquals(100_000, t.dataPayloadRemaining());
        t.skipPayload(60_000);
        assertEquals(40_000, t.dataPayloadRemaining());
        assertFalse(t.atFrameBoundary());
        t.skipPayload(40_000);
        assertTrue(t.atFrameBoundary());
        assertEquals(1, t.frames());
        assertEquals(header.length + 100_000, t.bytes());
        assertEquals(header.length + 100_000, loop[0]);
        assertEquals(1, loop[1]);
        assertEquals(header.length + 100_000, node[0]);
        assertEquals(0, t.dataPayloadRemaining());
    }

    @Test
    void aControlFrameIsNeverOfferedForSkipping()
    {
        final FrameTracker t = new FrameTracker();
        t.onBytes(new UnsafeBuffer(new byte[] {(byte)0x88, 100}), 0, 2);
        assertEquals(0, t.dataPayloadRemaining(), "a close frame's code is read, not skipped");
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> t.skipPayload(1));
    }

    @Test
    void knowsTheFrameBoundaryAfterEveryByteOfAMixedStream()
    {
        final Random random = new Random(SEED);
        final List<byte[]> frames = new ArrayList<>();
        final int[] lengths = {0, 1, 125, 126, 127, 200, 65535, 65536, 3, 0};
        for (int i = 0; i < lengths.length; i++)
        {
            final int opcode = i == 0 ? FrameTracker.OPCODE_TEXT : i % 3 == 0 ? FrameTracker.OPCODE_CONTINUATION : FrameTracker.OPCODE_BINARY;
            frames.add(frame(i % 3 != 1, opcode, lengths[i], i % 2 == 0, random));
        }
        frames.add(frame(true, FrameTracker.OPCODE_PING, 125, true, random));
        frames.add(frame(true, FrameTracker.OPCODE_PONG, 0, false, random));
        frames.add(frame(true, FrameTracker.OPCODE_CLOSE, 0, true, random));
        final byte[] stream = concat(frames);
        final UnsafeBuffer buffer = offHeap(stream);

        final boolean[] boundaryAfter = new boolean[stream.length + 1];
        int at = 0;
        boundaryAfter[0] = true;
        for (final byte[] frame : frames)
        {
            at += frame.length;
            boundaryAfter[at] = true;
        }

        final FrameTracker tracker = new FrameTracker();
        int completed = 0;
        for (int i = 0; i < stream.length; i++)
        {
            tracker.onBytes(buffer, i, 1);
            if (boundaryAfter[i + 1])
            {
                completed++;
            }
            assertEquals(boundaryAfter[i + 1], tracker.atFrameBoundary(), "after byte " + i);
            assertEquals(completed, tracker.frames(), "after byte " + i);
        }
        assertEquals(frames.size(), tracker.frames());
        assertEquals(1, tracker.closeFrames());
        assertEquals(FrameTracker.OPCODE_CLOSE, tracker.lastOpcode());
        assertFalse(tracker.protocolError());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "a 64-bit length with its top bit set | 82 7F 80 00 00 00 00 00 00 01",
        "reserved opcode 3                    | 83 00",
        "reserved opcode 0xB                  | 8B 00",
        "a fragmented close frame             | 08 00",
        "a ping longer than 125 bytes         | 89 7E 00 7E",
    })
    void flagsProtocolErrorsFromTheHeader(final String why, final String hex)
    {
        final String[] parts = hex.trim().split(" ");
        final byte[] bytes = new byte[parts.length + 32];
        for (int i = 0; i < parts.length; i++)
        {
            bytes[i] = (byte)Integer.parseInt(parts[i], 16);
        }
        final UnsafeBuffer buffer = offHeap(bytes);
        for (int cut = 1; cut < bytes.length; cut++)
        {
            final FrameTracker tracker = feed(buffer, new int[]{cut, bytes.length});
            assertTrue(tracker.protocolError(), why);
            assertFalse(tracker.atFrameBoundary(), why);
            assertEquals(0, tracker.frames(), why);
            assertEquals(bytes.length, tracker.bytes(), why);
        }
    }

    @Test
    void neverChangesTheBytesItWalks()
    {
        final byte[] stream = frame(true, FrameTracker.OPCODE_TEXT, 300, true, new Random(SEED));
        final UnsafeBuffer buffer = offHeap(stream);
        new FrameTracker().onBytes(buffer, 0, stream.length);
        final byte[] after = new byte[stream.length];
        buffer.getBytes(0, after);
        assertEquals(java.util.Arrays.toString(stream), java.util.Arrays.toString(after));
    }

    @Test
    void startsOverAfterReset()
    {
        final byte[] stream = frame(true, FrameTracker.OPCODE_CLOSE, 2, false, new Random(SEED));
        final UnsafeBuffer buffer = offHeap(stream);
        final FrameTracker tracker = new FrameTracker();
        tracker.onBytes(buffer, 0, 3);
        assertFalse(tracker.atFrameBoundary());
        tracker.reset();
        assertTrue(tracker.atFrameBoundary());
        assertEquals(0, tracker.bytes());
        tracker.onBytes(buffer, 0, stream.length);
        assertEquals(1, tracker.frames());
        assertEquals(1, tracker.closeFrames());
    }

    @Test
    void tracksWithoutAllocating()
    {
        final Random random = new Random(SEED);
        final byte[] stream = concat(List.of(frame(true, 1, 10, true, random), frame(true, 2, 70000, false, random)));
        final UnsafeBuffer buffer = offHeap(stream);
        final FrameTracker tracker = new FrameTracker();
        final com.sun.management.ThreadMXBean threads =
            (com.sun.management.ThreadMXBean)ManagementFactory.getThreadMXBean();
        for (int i = 0; i < 20_000; i++)
        {
            tracker.onBytes(buffer, 0, 7);
            tracker.onBytes(buffer, 7, stream.length - 7);
        }
        final long before = threads.getCurrentThreadAllocatedBytes();
        for (int i = 0; i < 10_000; i++)
        {
            tracker.onBytes(buffer, 0, 7);
            tracker.onBytes(buffer, 7, stream.length - 7);
        }
        final long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        assertEquals(60_000, tracker.frames());
        assertTrue(allocated < 16 * 1024, allocated + " bytes allocated");
    }

    /** A close frame with {@code code} (no reason), masked with a fixed key when {@code masked}. */
    private static byte[] closeFrame(final int code, final boolean masked)
    {
        final byte[] key = {0x5A, (byte)0xC3, 0x11, 0x7E};
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(0x88);
        out.write((masked ? 0x80 : 0) | 4);
        if (masked)
        {
            out.write(key, 0, 4);
        }
        final byte[] payload = {(byte)(code >>> 8), (byte)code, 'o', 'k'};
        for (int i = 0; i < payload.length; i++)
        {
            out.write(masked ? payload[i] ^ key[i & 3] : payload[i]);
        }
        return out.toByteArray();
    }

    @ParameterizedTest
    @CsvSource({"4001,true", "1000,false", "3001,false", "1012,true", "999,false", "5000,true"})
    void closeCodesAreCountedWhereverTheReadsSplitTheFrame(final int code, final boolean masked)
    {
        final byte[] text = frame(true, FrameTracker.OPCODE_TEXT, 3, masked, new Random(SEED));
        final byte[] stream = concat(List.of(text, closeFrame(code, masked)));
        final int slot = code >= 1000 && code < 5000 ? code : 1;
        for (int split = 0; split <= stream.length; split++)
        {
            for (int split2 = split; split2 <= stream.length; split2++)
            {
                final long[] counts = new long[5000];
                final FrameTracker tracker = new FrameTracker(counts);
                final UnsafeBuffer buf = offHeap(stream);
                tracker.onBytes(buf, 0, split);
                tracker.onBytes(buf, split, split2 - split);
                tracker.onBytes(buf, split2, stream.length - split2);
                assertEquals(1, counts[slot], "split at " + split + "/" + split2);
                assertEquals(slot, tracker.lastCloseCode());
                assertEquals(2, tracker.frames());
            }
        }
    }

    @Test
    void aCloseFrameWithoutCodeCountsAsNone()
    {
        final long[] counts = new long[5000];
        final FrameTracker tracker = new FrameTracker(counts);
        tracker.onBytes(offHeap(new byte[] {(byte)0x88, 0x00}), 0, 2);
        assertEquals(1, counts[0]);
        assertEquals(0, tracker.lastCloseCode());
    }

    /** The first close frame's code, masked or not, read whole or a byte at a time; later close frames ignored. */
    @ParameterizedTest
    @CsvSource({"true,1", "true,1000", "false,1", "false,1000"})
    void readsTheCodeOfTheFirstCloseFrame(final boolean masked, final int step)
    {
        final byte[] key = {0x11, (byte)0xA2, 0x3C, (byte)0xF4};
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(0x81);
        out.write(2);
        out.write('h');
        out.write('i');
        for (final int code : new int[] {4001, 1000})
        {
            final byte[] payload = {(byte)(code >> 8), (byte)code, 'b', 'y', 'e'};
            out.write(0x88);
            out.write((masked ? 0x80 : 0) | payload.length);
            if (masked)
            {
                out.write(key, 0, 4);
            }
            for (int i = 0; i < payload.length; i++)
            {
                out.write(payload[i] ^ (masked ? key[i & 3] : 0));
            }
        }
        final byte[] bytes = out.toByteArray();
        final FrameTracker tracker = new FrameTracker();
        assertEquals(-1, tracker.closeCode());
        final UnsafeBuffer buf = new UnsafeBuffer(bytes);
        for (int p = 0; p < bytes.length; p += step)
        {
            tracker.onBytes(buf, p, Math.min(step, bytes.length - p));
        }
        assertEquals(3, tracker.frames());
        assertEquals(2, tracker.closeFrames());
        assertEquals(4001, tracker.closeCode());
        assertTrue(tracker.atFrameBoundary());
    }

    @Test
    void aCloseFrameWithoutCodeHasNone()
    {
        final FrameTracker tracker = new FrameTracker();
        tracker.onBytes(new UnsafeBuffer(new byte[] {(byte)0x88, 0}), 0, 2);
        assertEquals(1, tracker.closeFrames());
        assertEquals(-1, tracker.closeCode());
    }
}
