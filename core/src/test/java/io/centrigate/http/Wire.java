package io.centrigate.http;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/** Test helpers: raw bytes from strings, off-heap buffers like the proxy's, and ways to split input across reads. */
final class Wire
{
    static final long SEED = 0x5EED_CE47L;

    private Wire()
    {
    }

    /** Each char becomes one byte (ISO-8859-1), so {@code "\u0080"} is byte 0x80 and {@code "\0"} is NUL. */
    static byte[] bytes(final String raw)
    {
        return raw.getBytes(StandardCharsets.ISO_8859_1);
    }

    /** A request or response head: the lines joined with CRLF, then the empty line. */
    static String head(final String... lines)
    {
        return String.join("\r\n", lines) + "\r\n\r\n";
    }

    /** The bytes in a direct (off-heap) buffer, as the proxy's chunks are. */
    static UnsafeBuffer offHeap(final byte[] bytes)
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(java.nio.ByteBuffer.allocateDirect(Math.max(bytes.length, 1)));
        buffer.putBytes(0, bytes);
        return buffer;
    }

    static UnsafeBuffer offHeap(final String raw)
    {
        return offHeap(bytes(raw));
    }

    static String text(final DirectBuffer buffer, final int offset, final int length)
    {
        final byte[] bytes = new byte[length];
        buffer.getBytes(offset, bytes);
        return new String(bytes, StandardCharsets.ISO_8859_1);
    }

    /**
     * Ways to cut {@code length} bytes into reads, each given as the end index of every read: all at once, in two
     * at every byte boundary, one byte at a time, and {@code randomSplits} seeded random cuttings.
     */
    static List<int[]> splits(final int length, final int randomSplits)
    {
        final List<int[]> splits = new ArrayList<>();
        splits.add(new int[]{length});
        for (int cut = 1; cut < length; cut++)
        {
            splits.add(new int[]{cut, length});
        }
        final int[] single = new int[length];
        for (int i = 0; i < length; i++)
        {
            single[i] = i + 1;
        }
        splits.add(single);
        splits.addAll(randomSplits(length, randomSplits, length));
        return splits;
    }

    /** Seeded random cuttings whose reads are 1 to {@code maxPiece} bytes. */
    static List<int[]> randomSplits(final int length, final int count, final int maxPiece)
    {
        final Random random = new Random(SEED ^ length);
        final List<int[]> splits = new ArrayList<>();
        for (int n = 0; n < count; n++)
        {
            final List<Integer> ends = new ArrayList<>();
            int at = 0;
            while (at < length)
            {
                at = Math.min(length, at + 1 + random.nextInt(Math.max(1, Math.min(maxPiece, 1 + random.nextInt(64)))));
                ends.add(at);
            }
            splits.add(ends.stream().mapToInt(Integer::intValue).toArray());
        }
        return splits;
    }
}
