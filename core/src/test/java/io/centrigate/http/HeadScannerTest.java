package io.centrigate.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

final class HeadScannerTest
{
    /** Counts reads, to show the scanner never goes back over bytes it has seen. */
    private static final class CountingBuffer extends UnsafeBuffer
    {
        long reads;

        CountingBuffer(final byte[] bytes)
        {
            super(ByteBuffer.allocateDirect(bytes.length));
            putBytes(0, bytes);
        }

        @Override
        public byte getByte(final int index)
        {
            reads++;
            return super.getByte(index);
        }
    }

    @Test
    void judgesARequestLineAtItsCrlfWhenMadeForRequests()
    {
        // RFC 9112 §2.3, §3: "GET /" (HTTP/0.9) can never become a valid request; nothing after it is needed.
        final byte[] raw = Wire.bytes("GET /path\r\n");
        final HeadScanner scanner = new HeadScanner(8192, 65536, 100, true);
        assertEquals(HeadScanner.ERROR, scanner.scan(Wire.offHeap(raw), raw.length));
        assertEquals(HttpError.UNSUPPORTED_VERSION, scanner.error());

        final byte[] noColon = Wire.bytes("GET / HTTP/1.1\r\nHost: a\r\nno colon\r\n");
        scanner.reset();
        assertEquals(HeadScanner.ERROR, scanner.scan(Wire.offHeap(noColon), noColon.length));
        assertEquals(HttpError.INVALID_FIELD_NAME, scanner.error());

        final HeadScanner plain = new HeadScanner(8192, 65536, 100);
        assertEquals(HeadScanner.NEED_MORE, plain.scan(Wire.offHeap(raw), raw.length), "only a request scanner judges");
    }

    @Test
    void aRequestScannerResetForAResponseAcceptsAStatusLine()
    {
        final byte[] raw = Wire.bytes("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        final HeadScanner scanner = new HeadScanner(8192, 65536, 100, true);
        scanner.resetForResponse();
        assertEquals(raw.length, scanner.scan(Wire.offHeap(raw), raw.length));
        scanner.reset();
        assertEquals(HeadScanner.ERROR, scanner.scan(Wire.offHeap(raw), raw.length), "a status line is no request line");
    }

    @Test
    void findsTheEndOfAHeadAndNotTheBodyAfterIt()
    {
        final byte[] raw = Wire.bytes(Requests.POST_WITH_BODY);
        final HeadScanner scanner = new HeadScanner(8192, 65536, 100);
        final int headLength = scanner.scan(Wire.offHeap(raw), raw.length);
        assertEquals(Requests.POST_WITH_BODY.indexOf("\r\n\r\n") + 4, headLength);
        assertEquals(headLength, scanner.position());
    }

    @Test
    void looksAtEachByteAFixedNumberOfTimesWhenBytesArriveOneAtATime()
    {
        final byte[] raw = Wire.bytes(Requests.CHROME_UPGRADE);
        final CountingBuffer buffer = new CountingBuffer(raw);
        final HeadScanner scanner = new HeadScanner(8192, 65536, 100);
        int result = 0;
        for (int limit = 1; limit <= raw.length && result == 0; limit++)
        {
            result = scanner.scan(buffer, limit);
        }
        assertEquals(raw.length, result);
        // One read of the byte itself and one of the byte before it, whatever the number of calls.
        assertTrue(buffer.reads <= 2L * raw.length, () -> buffer.reads + " reads for " + raw.length + " bytes");
    }

    @Test
    void needsMoreUntilTheEmptyLineIsComplete()
    {
        final String raw = Wire.head("GET / HTTP/1.1", "Host: a");
        final UnsafeBuffer buffer = Wire.offHeap(raw);
        final HeadScanner scanner = new HeadScanner(8192, 65536, 100);
        for (int limit = 0; limit < raw.length(); limit++)
        {
            assertEquals(HeadScanner.NEED_MORE, scanner.scan(buffer, limit), "limit " + limit);
        }
        assertEquals(raw.length(), scanner.scan(buffer, raw.length()));
    }

    @Test
    void keepsAnsweringTheSameUntilReset()
    {
        final HeadScanner scanner = new HeadScanner(8192, 65536, 100);
        final UnsafeBuffer bad = Wire.offHeap("GET / HTTP/1.1\n\r\n");
        assertEquals(HeadScanner.ERROR, scanner.scan(bad, 18));
        assertEquals(HttpError.BARE_LF, scanner.error());
        assertEquals(HeadScanner.ERROR, scanner.scan(bad, 18));

        scanner.reset();
        final String good = Wire.head("GET / HTTP/1.1", "Host: a");
        final UnsafeBuffer buffer = Wire.offHeap(good + "GET");
        assertEquals(good.length(), scanner.scan(buffer, good.length() + 3));
        assertEquals(good.length(), scanner.scan(buffer, good.length() + 3));
        assertEquals(null, scanner.error());
    }

    @Test
    void scansUpstreamResponseHeads()
    {
        final String raw = Wire.head("HTTP/1.1 101 Switching Protocols", "Upgrade: websocket", "Connection: Upgrade",
            "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
        final HeadScanner scanner = new HeadScanner(8192, 65536, 100);
        assertEquals(raw.length(), scanner.scan(Wire.offHeap(raw + "\u0081\u0005hello"), raw.length() + 7));
    }

    @ParameterizedTest(name = "line limit {0}, head limit {1}, field limit {2}: {3} -> {4}")
    @CsvSource(delimiter = '|', value = {
        // The request line limit counts the line without its CRLF.
        "14 | 1024 | 4 | GET / HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n        | 27",
        "13 | 1024 | 4 | GET / HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n        | REQUEST_LINE_TOO_LONG",
        // The head limit counts every byte up to and including the final CRLFCRLF.
        "64 | 27   | 4 | GET / HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n        | 27",
        "64 | 26   | 4 | GET / HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n        | HEAD_TOO_LARGE",
        "64 | 1024 | 1 | GET / HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n        | 27",
        "64 | 1024 | 0 | GET / HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n        | TOO_MANY_FIELDS",
        "64 | 1024 | 0 | GET / HTTP/1.0\\r\\n\\r\\n                    | 18",
        // The field limit is enforced at the first byte of the line too many, before the line is complete.
        "64 | 1024 | 1 | GET / HTTP/1.1\\r\\nHost: a\\r\\nX           | TOO_MANY_FIELDS",
        "64 | 1024 | 1 | \\r\\nGET / HTTP/1.1\\r\\n\\r\\n                | MALFORMED_REQUEST_LINE",
        "64 | 1024 | 1 | \\n                                        | BARE_LF",
        "64 | 1024 | 1 | GET / HTTP/1.1\\r                          | 0",
        "64 | 1024 | 1 | GET / HTTP/1.1\\r\\nHost: a\\r\\n\\r            | 0",
        "64 | 1024 | 1 | GET / HTTP/1.1\\r\\nHost: a\\r\\n\\rX           | BARE_CR",
    })
    void enforcesEachLimitAtItsExactBoundary(
        final int maxLine, final int maxHead, final int maxFields, final String escaped, final String expected)
    {
        final String raw = escaped.replace("\\r", "\r").replace("\\n", "\n");
        final byte[] bytes = Wire.bytes(raw);
        for (final int[] split : Wire.splits(bytes.length, 16))
        {
            final HeadScanner scanner = new HeadScanner(maxLine, maxHead, maxFields);
            final UnsafeBuffer buffer = Wire.offHeap(bytes);
            int result = 0;
            for (final int end : split)
            {
                result = scanner.scan(buffer, end);
                if (result != 0)
                {
                    break;
                }
            }
            assertEquals(expected, result == HeadScanner.ERROR ? scanner.error().name() : String.valueOf(result));
        }
    }

    @Test
    void refusesLimitsThatCannotHoldAHead()
    {
        assertThrows(IllegalArgumentException.class, () -> new HeadScanner(0, 1024, 10));
        assertThrows(IllegalArgumentException.class, () -> new HeadScanner(10, 3, 10));
        assertThrows(IllegalArgumentException.class, () -> new HeadScanner(10, 1024, -1));
    }

    /**
     * The scanner skips plain bytes eight at a time; fed one byte per call it never can (a word needs eight bytes
     * below the limit), so that is the byte-by-byte reference. Random heads from the pieces that matter (CR, LF,
     * colons, whitespace at line starts, lines across the word edges and the limits) must get the same result and
     * error both ways, for request and response scanners.
     */
    @Test
    void skippingWordsDecidesExactlyAsByteByByte()
    {
        final String[] pieces = {"GET / HTTP/1.1", "\r\n", "\r", "\n", ":", " ", "\t", "Host", "a", "abcdefgh",
            "x-forwarded-for: 1.2.3.4", "HTTP/1.1 200 OK", "GET /path", "\r\n\r\n", "0123456789abcdef"};
        final java.util.Random random = new java.util.Random(20261208);
        int heads = 0;
        int errors = 0;
        for (int round = 0; round < 20_000; round++)
        {
            final StringBuilder head = new StringBuilder(round % 2 == 0 ? "GET / HTTP/1.1\r\n" : "");
            final int n = 1 + random.nextInt(24);
            for (int i = 0; i < n; i++)
            {
                head.append(pieces[random.nextInt(pieces.length)]);
            }
            if (random.nextBoolean())
            {
                head.append("\r\n\r\n");
            }
            final byte[] raw = Wire.bytes(head.toString());
            final UnsafeBuffer buf = Wire.offHeap(raw);
            final int line = 8 + random.nextInt(48);
            final int max = 16 + random.nextInt(200);
            final boolean requests = random.nextBoolean();
            final HeadScanner whole = new HeadScanner(line, max, 6, requests);
            final HeadScanner bytewise = new HeadScanner(line, max, 6, requests);
            if (round % 3 == 0)
            {
                whole.resetForResponse();
                bytewise.resetForResponse();
            }
            final int a = whole.scan(buf, raw.length);
            int b = HeadScanner.NEED_MORE;
            for (int limit = 1; limit <= raw.length && b == HeadScanner.NEED_MORE; limit++)
            {
                b = bytewise.scan(buf, limit);
            }
            assertEquals(b, a, () -> "result for " + new String(raw, java.nio.charset.StandardCharsets.ISO_8859_1).replace("\r", "\\r").replace("\n", "\\n") + " line " + line + " head " + max);
            assertEquals(bytewise.error(), whole.error(), () -> "error for " + new String(raw, java.nio.charset.StandardCharsets.ISO_8859_1).replace("\r", "\\r").replace("\n", "\\n"));
            heads += a > 0 ? 1 : 0;
            errors += a == HeadScanner.ERROR ? 1 : 0;
        }
        assertTrue(heads > 1000 && errors > 1000, heads + " heads, " + errors + " errors: the cases must reach both");
    }
}
