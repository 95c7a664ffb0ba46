package io.centrigate.proxy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

/**
 * The warm-up generator's own framing: it reads answers out of partial reads, so a message split anywhere must be
 * seen as incomplete until its last byte, and complete exactly there.
 */
class WarmupTrafficTest
{
    private static ByteBuffer filled(final byte[] bytes, final int length)
    {
        final ByteBuffer b = ByteBuffer.allocate(bytes.length + 16);
        b.put(bytes, 0, length);
        return b;
    }

    @Test
    void aFrameIsCompleteOnlyAtItsLastByteWhateverItsLengthEncoding()
    {
        for (final int size : new int[] {0, 125, 126, 1_000, 65_535, 65_536})
        {
            for (final boolean masked : new boolean[] {true, false})
            {
                final byte[] payload = new byte[size];
                for (int i = 0; i < size; i++)
                {
                    payload[i] = (byte)(i * 31);
                }
                final byte[] wire = WarmupTraffic.Frame.encode(2, payload, masked);
                for (final int cut : new int[] {0, 1, 2, 3, wire.length / 2, wire.length - 1})
                {
                    assertNull(WarmupTraffic.Frame.parse(filled(wire, Math.min(cut, wire.length - 1))),
                        size + " bytes cut at " + cut);
                }
                final WarmupTraffic.Frame frame = WarmupTraffic.Frame.parse(filled(wire, wire.length));
                assertEquals(2, frame.opcode());
                assertEquals(wire.length, frame.length());
                assertArrayEquals(payload, frame.payload(), size + " bytes, masked " + masked);
            }
        }
    }

    @Test
    void anHttpMessageEndsAfterItsContentLengthOrItsLastChunkAndTrailers()
    {
        final String[] messages = {
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n10\r\n0123456789abcdef\r\n0\r\n\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-Trailer: 1\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
        };
        for (final String message : messages)
        {
            // followed by the start of the next message, which must not count
            final byte[] bytes = (message + "HTTP/1.1 200").getBytes(StandardCharsets.US_ASCII);
            final int end = message.length();
            for (int cut = 0; cut < end; cut++)
            {
                assertEquals(-1, WarmupTraffic.Http.messageEnd(filled(bytes, cut)), message + " cut at " + cut);
            }
            assertEquals(end, WarmupTraffic.Http.messageEnd(filled(bytes, bytes.length)), message);
        }
    }

    @Test
    void theNodeAnswersTheKeyOfRfc6455sExample()
    {
        assertEquals("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", WarmupTraffic.accept("dGhlIHNhbXBsZSBub25jZQ=="));
    }
}
