package io.centrigate.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

final class HttpErrorTest
{
    @Test
    void buildsTheCompleteAnswerForAMalformedRequestLine()
    {
        assertEquals(
            "HTTP/1.1 400 Bad Request\r\n" +
            "Content-Type: text/plain; charset=utf-8\r\n" +
            "Content-Length: 40\r\n" +
            "Connection: close\r\n" +
            "\r\n" +
            "400 Bad Request: malformed request line\n",
            new String(HttpError.MALFORMED_REQUEST_LINE.response(), StandardCharsets.UTF_8));
    }

    @Test
    void tellsAnOldWebSocketClientWhichVersionToUse()
    {
        final String response = new String(HttpError.WEBSOCKET_VERSION.response(), StandardCharsets.UTF_8);
        assertTrue(response.startsWith("HTTP/1.1 426 Upgrade Required\r\n"), response);
        assertTrue(response.contains("\r\nConnection: close\r\nSec-WebSocket-Version: 13\r\n\r\n"), response);
    }

    @Test
    void asksAClientToRetryWhenOverloaded()
    {
        final String response = new String(HttpError.OVERLOADED.response(), StandardCharsets.UTF_8);
        assertTrue(response.startsWith("HTTP/1.1 503 Service Unavailable\r\n"), response);
        assertTrue(response.contains("\r\nRetry-After: 1\r\n\r\n503 Service Unavailable: connection limit reached\n"),
            response);
    }

    @ParameterizedTest
    @EnumSource(HttpError.class)
    void everyAnswerIsAWellFramedResponseThatClosesTheConnection(final HttpError error)
    {
        final byte[] response = error.response();
        final String text = new String(response, StandardCharsets.UTF_8);
        assertTrue(text.startsWith("HTTP/1.1 " + error.status() + " " + error.reason() + "\r\n"), text);
        assertTrue(text.contains("\r\nConnection: close\r\n"), text);

        final HeadScanner scanner = new HeadScanner(1024, 4096, 16);
        scanner.reset();
        final int headLength = scanner.scan(Wire.offHeap(response), response.length);
        assertTrue(headLength > 0, text);

        final ResponseHead head = new ResponseHead(16);
        assertTrue(head.parse(Wire.offHeap(response), headLength), text);
        assertEquals(error.status(), head.status());
        assertEquals(response.length - headLength, head.contentLength());
        assertTrue(head.connectionClose());
        assertEquals(error.status() + " " + error.reason() + ": " + error.detail() + "\n",
            new String(response, headLength, response.length - headLength, StandardCharsets.UTF_8));
        assertEquals(response.length, error.responseLength());
        assertEquals(text, Wire.text(error.responseBuffer(), 0, response.length));
    }
}
