package io.centrigate.http;

import static io.centrigate.http.Wire.head;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.stream.Stream;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

final class ResponseHeadTest
{
    static final String SWITCHING = head(
        "HTTP/1.1 101 Switching Protocols",
        "Upgrade: websocket",
        "Connection: Upgrade",
        "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");

    private final ResponseHead head = new ResponseHead(16);

    private boolean parse(final String raw)
    {
        return head.parse(Wire.offHeap(raw), raw.length());
    }

    /** Responses, whether they are valid, and how their body ends (for a GET and for a HEAD request). */
    static Stream<Arguments> responses()
    {
        return Stream.of(
            valid("a 101 with its accept", SWITCHING, "NONE", "NONE"),
            valid("a 200 with Content-Length", head("HTTP/1.1 200 OK", "Content-Length: 12"), "CONTENT_LENGTH", "NONE"),
            valid("a 200 with a Content-Length list", head("HTTP/1.1 200 OK", "Content-Length: 3, 3"), "CONTENT_LENGTH",
                "NONE"),
            valid("a chunked 200", head("HTTP/1.1 200 OK", "Transfer-Encoding: chunked"), "CHUNKED", "NONE"),
            valid("gzip then chunked", head("HTTP/1.1 200 OK", "Transfer-Encoding: gzip, chunked"), "CHUNKED", "NONE"),
            valid("gzip alone ends at close", head("HTTP/1.1 200 OK", "Transfer-Encoding: gzip"), "UNTIL_CLOSE", "NONE"),
            valid("a 200 without framing", head("HTTP/1.1 200 OK", "Server: x"), "UNTIL_CLOSE", "NONE"),
            valid("an HTTP/1.0 200", head("HTTP/1.0 200 OK", "Content-Length: 1"), "CONTENT_LENGTH", "NONE"),
            valid("a 204", head("HTTP/1.1 204 No Content"), "NONE", "NONE"),
            valid("a 304 with Content-Length", head("HTTP/1.1 304 Not Modified", "Content-Length: 10"), "NONE", "NONE"),
            valid("a 100", head("HTTP/1.1 100 Continue"), "NONE", "NONE"),
            valid("an empty reason", head("HTTP/1.1 404 "), "UNTIL_CLOSE", "NONE"),
            valid("no reason and no space", head("HTTP/1.1 400", "Content-Length: 0"), "CONTENT_LENGTH", "NONE"),
            valid("a reason with obs-text and tabs", head("HTTP/1.1 599 N\u00e4h\tx"), "UNTIL_CLOSE", "NONE"),
            invalid("status 99", head("HTTP/1.1 099 Low"), HttpError.MALFORMED_STATUS_LINE),
            invalid("status 600", head("HTTP/1.1 600 High"), HttpError.MALFORMED_STATUS_LINE),
            invalid("a four-digit status", head("HTTP/1.1 2000 OK"), HttpError.MALFORMED_STATUS_LINE),
            invalid("a two-digit status", head("HTTP/1.1 20 OK"), HttpError.MALFORMED_STATUS_LINE),
            invalid("HTTP/2", head("HTTP/2 200 OK"), HttpError.MALFORMED_STATUS_LINE),
            invalid("HTTP/1.2", head("HTTP/1.2 200 OK"), HttpError.MALFORMED_STATUS_LINE),
            invalid("a lower-case version", head("http/1.1 200 OK"), HttpError.MALFORMED_STATUS_LINE),
            invalid("two spaces", head("HTTP/1.1  200 OK"), HttpError.MALFORMED_STATUS_LINE),
            invalid("a control character in the reason", head("HTTP/1.1 200 O\u0001K"), HttpError.MALFORMED_STATUS_LINE),
            invalid("obs-fold", head("HTTP/1.1 200 OK", "X: a", " b"), HttpError.OBS_FOLD),
            invalid("a space before the colon", head("HTTP/1.1 200 OK", "X : a"), HttpError.SPACE_BEFORE_COLON),
            invalid("a line without a colon", head("HTTP/1.1 200 OK", "Nope"), HttpError.INVALID_FIELD_NAME),
            invalid("NUL in a value", head("HTTP/1.1 200 OK", "X: \0"), HttpError.NUL_OR_CTL),
            invalid("a bare LF", "HTTP/1.1 200 OK\r\nX: a\n\r\n", HttpError.BARE_LF),
            invalid("differing Content-Length", head("HTTP/1.1 200 OK", "Content-Length: 1", "Content-Length: 2"),
                HttpError.CONFLICTING_CONTENT_LENGTH),
            invalid("an invalid Content-Length", head("HTTP/1.1 200 OK", "Content-Length: 1a"),
                HttpError.INVALID_CONTENT_LENGTH),
            invalid("Content-Length with Transfer-Encoding",
                head("HTTP/1.1 200 OK", "Content-Length: 1", "Transfer-Encoding: chunked"),
                HttpError.CONTENT_LENGTH_WITH_TRANSFER_ENCODING),
            invalid("Transfer-Encoding in HTTP/1.0", head("HTTP/1.0 200 OK", "Transfer-Encoding: chunked"),
                HttpError.TRANSFER_ENCODING_IN_HTTP10),
            invalid("chunked twice", head("HTTP/1.1 200 OK", "Transfer-Encoding: chunked", "Transfer-Encoding: chunked"),
                HttpError.UNSUPPORTED_TRANSFER_ENCODING),
            invalid("two accepts", head("HTTP/1.1 101 Switching Protocols", "Upgrade: websocket", "Connection: Upgrade",
                "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
                HttpError.INVALID_UPGRADE_RESPONSE));
    }

    private static Arguments valid(final String name, final String raw, final String getBody, final String headBody)
    {
        return Arguments.of(Named.of(name, raw), "valid " + getBody + " " + headBody);
    }

    private static Arguments invalid(final String name, final String raw, final HttpError violation)
    {
        return Arguments.of(Named.of(name, raw), violation.name());
    }

    private static String outcome(final byte[] raw, final int[] readEnds)
    {
        final HeadScanner scanner = new HeadScanner(1024, 4096, 16);
        final UnsafeBuffer buffer = new UnsafeBuffer(ByteBuffer.allocateDirect(raw.length));
        buffer.setMemory(0, raw.length, (byte)'\n');
        int received = 0;
        int result = 0;
        for (final int end : readEnds)
        {
            buffer.putBytes(received, raw, received, end - received);
            received = end;
            result = scanner.scan(buffer, received);
            if (result != 0)
            {
                break;
            }
        }
        if (result <= 0)
        {
            return result == 0 ? "incomplete" : scanner.error().name();
        }
        final ResponseHead head = new ResponseHead(16);
        if (!head.parse(buffer, result))
        {
            return head.violation().name();
        }
        return "valid " + head.bodyKind(false) + " " + head.bodyKind(true);
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("responses")
    void judgesEveryResponseByTheRulesHoweverItIsSplit(final String raw, final String expected)
    {
        final byte[] bytes = Wire.bytes(raw);
        for (final int[] split : Wire.splits(bytes.length, 16))
        {
            assertEquals(expected, outcome(bytes, split), () -> "split " + java.util.Arrays.toString(split));
        }
    }

    @Test
    void exposesTheWebSocketAnswer()
    {
        assertTrue(parse(SWITCHING));
        assertEquals(101, head.status());
        assertEquals(11, head.version());
        assertEquals(3, head.fieldCount());
        assertTrue(head.connectionUpgrade());
        assertTrue(head.upgradeWebSocket());
        assertEquals(2, head.webSocketAcceptField());
        assertEquals("Sec-WebSocket-Accept", head.name(2));
        assertEquals("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", head.value(head.webSocketAcceptField()));
        assertEquals(-1, head.contentLength());
        assertFalse(head.isChunked());
        assertEquals(null, head.violation());
        assertEquals(SWITCHING.indexOf('\r'), head.statusLineEnd());
    }

    @Test
    void reportsNoAcceptWhenThereIsNone()
    {
        assertTrue(parse(head("HTTP/1.1 400 Bad Request", "Content-Length: 0", "Connection: close")));
        assertEquals(-1, head.webSocketAcceptField());
        assertFalse(head.upgradeWebSocket());
        assertTrue(head.connectionClose());
        assertEquals(0, head.contentLength());
    }

    @Test
    void relaysARefusedUpgradeWithoutHopByHopFields()
    {
        final String raw = head(
            "HTTP/1.1 403 Forbidden",
            "Content-Type: text/plain",
            "Connection: keep-alive, X-Hop",
            "Keep-Alive: timeout=5",
            "X-Hop: 1",
            "Proxy-Connection: keep-alive",
            "Upgrade: websocket",
            "Content-Length: 9") + "forbidden";
        final int headLength = raw.indexOf("\r\n\r\n") + 4;
        final UnsafeBuffer src = Wire.offHeap(raw);
        assertTrue(head.parse(src, headLength));
        final UnsafeBuffer dst = new UnsafeBuffer(ByteBuffer.allocateDirect(1024));
        final String expected = head(
            "HTTP/1.1 403 Forbidden",
            "Content-Type: text/plain",
            "Content-Length: 9",
            "Connection: close");
        assertEquals(expected.length(), head.writeForClient(src, dst, 10, 1024 - 10));
        assertEquals(expected, Wire.text(dst, 10, expected.length()));
        for (int capacity = 0; capacity < expected.length(); capacity++)
        {
            assertEquals(-1, head.writeForClient(src, dst, 0, capacity));
        }
    }
}
