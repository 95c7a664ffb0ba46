package io.centrigate.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

final class BodyFramingTest
{
    /** A body of "hello world" in two chunks, followed by the next pipelined request. */
    private static final String CHUNKED = "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
    private static final String NEXT = "GET / HTTP/1.1\r\n";

    @Test
    void aNewFramingHasNoBody()
    {
        final BodyFraming body = new BodyFraming();
        assertEquals(BodyFraming.NONE, body.kind());
        assertEquals(0, body.take(Wire.offHeap(NEXT), 0, NEXT.length()), "bytes after a bodiless head are the next request");
        assertTrue(body.isComplete());
        assertEquals(Long.MAX_VALUE, body.readLimit());
    }

    @Test
    void aContentLengthEndsTheBodyAtThatManyBytesHoweverTheReadsFall()
    {
        final String raw = "0123456789" + NEXT;
        for (final int[] ends : Wire.splits(raw.length(), 50))
        {
            final BodyFraming body = new BodyFraming();
            body.length(10);
            assertEquals(10, body.readLimit());
            assertFalse(body.isComplete());
            final UnsafeBuffer buf = Wire.offHeap(raw);
            int taken = 0;
            int from = 0;
            for (final int end : ends)
            {
                taken += body.take(buf, from, end - from);
                from = end;
            }
            assertEquals(10, taken);
            assertTrue(body.isComplete());
            assertEquals(0, body.readLimit(), "nothing more to read for this body");
        }
    }

    @Test
    void aChunkedBodyEndsAfterItsLastChunkHoweverTheReadsFall()
    {
        final String raw = CHUNKED + NEXT;
        for (final int[] ends : Wire.splits(raw.length(), 50))
        {
            final BodyFraming body = new BodyFraming();
            body.chunked();
            assertEquals(Long.MAX_VALUE, body.readLimit(), "a chunked body announces no length");
            final UnsafeBuffer buf = Wire.offHeap(raw);
            int taken = 0;
            int from = 0;
            for (final int end : ends)
            {
                final int n = body.take(buf, from, end - from);
                assertTrue(n >= 0);
                taken += n;
                from = end;
            }
            assertEquals(CHUNKED.length(), taken);
            assertTrue(body.isComplete());
        }
    }

    @Test
    void rejectsAMalformedChunkedBody()
    {
        final BodyFraming body = new BodyFraming();
        body.chunked();
        final String raw = "5\nhello\r\n"; // bare LF after the size (RFC 9112 §7.1 wants CRLF)
        assertEquals(-1, body.take(Wire.offHeap(raw), 0, raw.length()));
        assertFalse(body.isComplete());
    }

    @Test
    void aBodyUntilCloseTakesEverythingAndNeverCompletes()
    {
        final BodyFraming body = new BodyFraming();
        body.untilClose();
        assertEquals(NEXT.length(), body.take(Wire.offHeap(NEXT), 0, NEXT.length()));
        assertFalse(body.isComplete(), "only the connection's close ends it");
        assertEquals(Long.MAX_VALUE, body.readLimit());
    }

    @Test
    void isReusedForTheNextMessage()
    {
        final BodyFraming body = new BodyFraming();
        body.chunked();
        assertEquals(3, body.take(Wire.offHeap("5\r\nhello"), 0, 3));
        body.chunked(); // a new message starts its chunked body from the beginning
        assertEquals(CHUNKED.length(), body.take(Wire.offHeap(CHUNKED), 0, CHUNKED.length()));
        assertTrue(body.isComplete());
        body.length(2);
        assertFalse(body.isComplete());
        body.none();
        assertTrue(body.isComplete());
    }
}
