package io.centrigate.websocket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.Random;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

final class HandshakeDigestTest
{
    private final HandshakeDigest digest = new HandshakeDigest();

    private static UnsafeBuffer offHeap(final String text)
    {
        final byte[] bytes = text.getBytes(StandardCharsets.US_ASCII);
        final UnsafeBuffer buffer = new UnsafeBuffer(ByteBuffer.allocateDirect(Math.max(1, bytes.length)));
        buffer.putBytes(0, bytes);
        return buffer;
    }

    private boolean matches(final String key, final String accept)
    {
        // Surround both values with other bytes, as they are inside a head.
        final UnsafeBuffer request = offHeap("Sec-WebSocket-Key: " + key + "\r\n");
        final UnsafeBuffer response = offHeap("Sec-WebSocket-Accept: " + accept + "\r\n");
        return digest.acceptMatches(request, 19, key.length(), response, 22, accept.length());
    }

    @Test
    void acceptsTheExampleOfRfc6455()
    {
        // RFC 6455 §1.3.
        assertTrue(matches("dGhlIHNhbXBsZSBub25jZQ==", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
        assertEquals("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", digest.accept(offHeap("dGhlIHNhbXBsZSBub25jZQ=="), 0, 24));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "one character changed     | s3pPLMBiTxaQ9kYGzzhZRbK+xOp=",
        "different case            | S3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
        "missing padding           | s3pPLMBiTxaQ9kYGzzhZRbK+xOo",
        // A corrupted copy of the RFC example that circulates widely; the RFC's own value is the one above.
        "a corrupted example value | s3pPLMBiTxaQ9kQGdGhXdWtTKY8=",
        "extra character           | s3pPLMBiTxaQ9kYGzzhZRbK+xOo==",
        "empty                     | ''",
    })
    void rejectsAnAcceptThatIsNotExactlyRight(final String why, final String accept)
    {
        assertFalse(matches("dGhlIHNhbXBsZSBub25jZQ==", accept), why);
    }

    @Test
    void rejectsTheAcceptOfAnotherKey()
    {
        assertFalse(matches("AAAAAAAAAAAAAAAAAAAAAA==", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
    }

    @Test
    void agreesWithTheJdkForRandomKeys() throws Exception
    {
        final Random random = new Random(0x5EED);
        final MessageDigest sha1 = MessageDigest.getInstance("SHA-1");
        for (int i = 0; i < 1000; i++)
        {
            final byte[] nonce = new byte[16];
            random.nextBytes(nonce);
            final String key = Base64.getEncoder().encodeToString(nonce);
            final String expected = Base64.getEncoder().encodeToString(
                sha1.digest((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").getBytes(StandardCharsets.US_ASCII)));
            assertTrue(matches(key, expected), key);
        }
    }

    @Test
    void checksWithoutAllocating()
    {
        final UnsafeBuffer request = offHeap("dGhlIHNhbXBsZSBub25jZQ==");
        final UnsafeBuffer response = offHeap("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
        final com.sun.management.ThreadMXBean threads =
            (com.sun.management.ThreadMXBean)ManagementFactory.getThreadMXBean();
        boolean all = true;
        for (int i = 0; i < 20_000; i++)
        {
            all &= digest.acceptMatches(request, 0, 24, response, 0, 28);
        }
        final long before = threads.getCurrentThreadAllocatedBytes();
        for (int i = 0; i < 10_000; i++)
        {
            all &= digest.acceptMatches(request, 0, 24, response, 0, 28);
        }
        final long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        assertTrue(all);
        // A fixed allowance for the measurement itself; one allocation per check would be 10,000 times more.
        assertTrue(allocated < 16 * 1024, allocated + " bytes allocated by 10,000 checks");
    }
}
