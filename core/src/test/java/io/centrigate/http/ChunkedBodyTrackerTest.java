package io.centrigate.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.stream.Stream;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

final class ChunkedBodyTrackerTest
{
    /** What follows the body on the connection: the next request, which the tracker must leave alone. */
    private static final String NEXT = "GET / HTTP/1.1\r\n";

    static Stream<Arguments> validBodies()
    {
        return Stream.of(
            body("the last chunk alone", "0\r\n\r\n"),
            body("one chunk", "5\r\nhello\r\n0\r\n\r\n"),
            body("several chunks", "3\r\nabc\r\n1\r\nd\r\n10\r\n0123456789abcdef\r\n0\r\n\r\n"),
            body("hex digits in both cases", "fF\r\n" + "x".repeat(255) + "\r\nA\r\n0123456789\r\n0\r\n\r\n"),
            body("leading zeros", "0005\r\nhello\r\n000\r\n\r\n"),
            body("data that looks like framing", "7\r\n0\r\n\r\n\r\n\r\n1\r\n\r\r\n0\r\n\r\n"),
            body("an extension with a token value", "5;name=value\r\nhello\r\n0\r\n\r\n"),
            body("an extension without a value", "5;flag\r\nhello\r\n0;last\r\n\r\n"),
            body("extensions with whitespace", "5 ; a = b ;c\t;d=\"q\"\r\nhello\r\n0\r\n\r\n"),
            body("a quoted extension value with escapes", "5;a=\"x \\\" ;y\\\\\"\r\nhello\r\n0\r\n\r\n"),
            body("trailer fields", "5\r\nhello\r\n0\r\nX-Checksum: abc\r\nY:\r\n\r\n"),
            body("an extension of the maximum length",
                "1;" + "e".repeat(ChunkedBodyTracker.MAX_EXTENSION_BYTES - 1) + "\r\nx\r\n0\r\n\r\n"));
    }

    static Stream<Arguments> invalidBodies()
    {
        return Stream.of(
            body("an empty size line", "\r\n"),
            body("a size that is not hex", "g\r\n"),
            body("a negative size", "-5\r\nhello\r\n"),
            body("a size over 2^62", "4000000000000001\r\n"),
            body("a size far beyond a long", "ffffffffffffffffffff\r\n"),
            body("a bare LF after the size", "5\nhello\r\n0\r\n\r\n"),
            body("a bare CR after the size", "5\rhello\r\n0\r\n\r\n"),
            body("whitespace before the CRLF", "5 \r\nhello\r\n0\r\n\r\n"),
            body("no CRLF after the data", "5\r\nhello0\r\n\r\n"),
            body("a bare LF after the data", "5\r\nhello\n0\r\n\r\n"),
            body("data longer than its size", "5\r\nhello!\r\n0\r\n\r\n"),
            body("an empty extension name", "5;\r\nhello\r\n0\r\n\r\n"),
            body("an empty extension value", "5;a=\r\nhello\r\n0\r\n\r\n"),
            body("an extension name with a space inside", "5;a b\r\nhello\r\n0\r\n\r\n"),
            body("an extension name with a separator", "5;a/b\r\nhello\r\n0\r\n\r\n"),
            body("an unterminated quoted value", "5;a=\"x\r\nhello\r\n0\r\n\r\n"),
            body("text after a quoted value", "5;a=\"x\"y\r\nhello\r\n0\r\n\r\n"),
            body("an extension one byte over the limit",
                "1;" + "e".repeat(ChunkedBodyTracker.MAX_EXTENSION_BYTES) + "\r\nx\r\n0\r\n\r\n"),
            body("a trailer with a bare LF", "0\r\nX: 1\n\r\n"),
            body("a folded trailer", "0\r\n X: 1\r\n\r\n"),
            body("a trailer without a colon", "0\r\nnocolon\r\n\r\n"),
            body("a trailer with NUL", "0\r\nX: \0\r\n\r\n"),
            body("a final CR without LF", "0\r\n\r\r"),
            body("a trailer section over its limit",
                "0\r\nX: " + "v".repeat(ChunkedBodyTracker.MAX_TRAILER_BYTES) + "\r\n\r\n"));
    }

    private static Arguments body(final String name, final String raw)
    {
        return Arguments.of(Named.of(name, raw));
    }

    /** Feeds the bytes read by read: "complete N", "error" or "incomplete N". */
    private static String feed(final ChunkedBodyTracker tracker, final byte[] raw, final int[] readEnds)
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(ByteBuffer.allocateDirect(raw.length));
        buffer.setMemory(0, raw.length, (byte)'\n');
        tracker.reset();
        int consumed = 0;
        int previous = 0;
        for (final int end : readEnds)
        {
            // Each read lands at the same place in the buffer as on the wire; the tracker sees only that read.
            final int length = end - previous;
            buffer.putBytes(previous, raw, previous, length);
            final int n = tracker.consume(buffer, previous, length);
            if (n < 0)
            {
                assertTrue(tracker.isMalformed());
                return "error";
            }
            consumed += n;
            previous = end;
            if (tracker.isComplete())
            {
                assertEquals(0, tracker.consume(buffer, 0, 0));
                return "complete " + consumed;
            }
            assertEquals(length, n, "an incomplete body takes the whole read");
        }
        return "incomplete " + consumed;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("validBodies")
    void findsTheEndOfAValidBodyHoweverItIsSplit(final String body)
    {
        final byte[] raw = Wire.bytes(body + NEXT);
        final ChunkedBodyTracker tracker = new ChunkedBodyTracker();
        for (final int[] split : Wire.splits(raw.length, 32))
        {
            assertEquals("complete " + body.length(), feed(tracker, raw, split), () -> Arrays.toString(split));
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalidBodies")
    void rejectsAMalformedBodyHoweverItIsSplit(final String body)
    {
        final byte[] raw = Wire.bytes(body + NEXT);
        final ChunkedBodyTracker tracker = new ChunkedBodyTracker();
        for (final int[] split : Wire.splits(raw.length, 32))
        {
            assertEquals("error", feed(tracker, raw, split), () -> Arrays.toString(split));
        }
    }

    @Test
    void waitsForMoreWhileTheBodyIsIncomplete()
    {
        final String body = "5\r\nhello\r\n0\r\n\r\n";
        final ChunkedBodyTracker tracker = new ChunkedBodyTracker();
        for (int length = 0; length < body.length(); length++)
        {
            final byte[] raw = Wire.bytes(body.substring(0, length));
            assertEquals("incomplete " + length, feed(tracker, raw, new int[]{length}));
            assertFalse(tracker.isComplete());
        }
    }

    @Test
    void acceptsAChunkSizeOf2To62AndSkipsItsDataWithoutReadingIt()
    {
        final ChunkedBodyTracker tracker = new ChunkedBodyTracker();
        final UnsafeBuffer buffer = Wire.offHeap("4000000000000000\r\n");
        assertEquals(18, tracker.consume(buffer, 0, 18));
        // The data is skipped by count: a large unread region costs nothing.
        final UnsafeBuffer data = new UnsafeBuffer(ByteBuffer.allocateDirect(1 << 20));
        data.setMemory(0, data.capacity(), (byte)'\n');
        for (int i = 0; i < 64; i++)
        {
            assertEquals(data.capacity(), tracker.consume(data, 0, data.capacity()));
        }
        assertFalse(tracker.isComplete());
        assertFalse(tracker.isMalformed());
    }

    @Test
    void staysMalformedUntilReset()
    {
        final ChunkedBodyTracker tracker = new ChunkedBodyTracker();
        final UnsafeBuffer bad = Wire.offHeap("x");
        assertEquals(-1, tracker.consume(bad, 0, 1));
        final UnsafeBuffer good = Wire.offHeap("0\r\n\r\n");
        assertEquals(-1, tracker.consume(good, 0, 5));
        tracker.reset();
        assertEquals(5, tracker.consume(good, 0, 5));
        assertTrue(tracker.isComplete());
    }
}
