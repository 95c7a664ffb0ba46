package io.centrigate.h2;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Random;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

final class HuffmanTest
{
    private final UnsafeBuffer coded = new UnsafeBuffer(ByteBuffer.allocateDirect(4096));
    private final UnsafeBuffer decoded = new UnsafeBuffer(ByteBuffer.allocateDirect(4096));

    @Test
    void everyByteValueRoundTripsAloneAndTogether()
    {
        final UnsafeBuffer all = new UnsafeBuffer(ByteBuffer.allocateDirect(256));
        for (int b = 0; b < 256; b++)
        {
            all.putByte(b, (byte)b);
            assertRoundTrip(all, b, 1);
        }
        assertRoundTrip(all, 0, 256);
    }

    @Test
    void randomStringsRoundTrip()
    {
        final Random random = new Random(7541);
        final UnsafeBuffer text = new UnsafeBuffer(ByteBuffer.allocateDirect(300));
        for (int round = 0; round < 2000; round++)
        {
            final int length = random.nextInt(300);
            for (int i = 0; i < length; i++)
            {
                text.putByte(i, (byte)random.nextInt(256));
            }
            assertRoundTrip(text, 0, length);
        }
    }

    @Test
    void encodesTheRfcExamples()
    {
        // RFC 7541 C.4.1 and C.6.1
        assertEncodes("www.example.com", "f1e3c2e5f23a6ba0ab90f4ff");
        assertEncodes("no-cache", "a8eb10649cbf");
        assertEncodes("custom-key", "25a849e95ba97d7f");
        assertEncodes("302", "6402");
        assertEncodes("Mon, 21 Oct 2013 20:13:21 GMT", "d07abe941054d444a8200595040b8166e082a62d1bff");
    }

    @Test
    void countsButDoesNotWritePastTheLimit()
    {
        final UnsafeBuffer text = Bytes.offHeap("www.example.com".getBytes(StandardCharsets.US_ASCII));
        final int length = Huffman.encode(text, 0, 15, coded, 0);
        decoded.setMemory(0, 32, (byte)'#');
        assertEquals(15, Huffman.decode(coded, 0, length, decoded, 0, 3));
        assertEquals("www###", Bytes.text(decoded, 0, 6));
    }

    private void assertEncodes(final String text, final String hex)
    {
        final UnsafeBuffer src = Bytes.offHeap(text.getBytes(StandardCharsets.ISO_8859_1));
        final int length = Huffman.encode(src, 0, text.length(), coded, 0);
        assertEquals(hex, Bytes.toHex(coded, 0, length));
        assertEquals(length, Huffman.encodedLength(src, 0, text.length()));
    }

    private void assertRoundTrip(final UnsafeBuffer src, final int offset, final int length)
    {
        final int codedLength = Huffman.encode(src, offset, length, coded, 0);
        assertEquals(Huffman.encodedLength(src, offset, length), codedLength);
        assertEquals(length, Huffman.decode(coded, 0, codedLength, decoded, 0, decoded.capacity()));
        assertEquals(Bytes.toHex(src, offset, length), Bytes.toHex(decoded, 0, length));
    }
}
