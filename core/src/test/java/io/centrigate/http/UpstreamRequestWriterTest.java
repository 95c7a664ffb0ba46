package io.centrigate.http;

import static io.centrigate.http.Wire.head;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

final class UpstreamRequestWriterTest
{
    private static final byte[] CLIENT = "192.0.2.7".getBytes(StandardCharsets.US_ASCII);

    private final RequestHead head = new RequestHead(32);
    private final UpstreamRequestWriter writer = new UpstreamRequestWriter();
    private final UnsafeBuffer dst = new UnsafeBuffer(ByteBuffer.allocateDirect(4096));

    private String rewrite(final String request, final boolean https)
    {
        final UnsafeBuffer src = Wire.offHeap(request);
        assertTrue(head.parse(src, request.length()), () -> String.valueOf(head.error()));
        final int written = writer.write(head, src, dst, 0, dst.capacity(), CLIENT, CLIENT.length, https);
        assertTrue(written > 0);
        return Wire.text(dst, 0, written);
    }

    @Test
    void dropsForgedAndHopByHopFieldsAndAppendsTheProxysOwn()
    {
        final String request = head(
            "GET /api/info?x=1 HTTP/1.1",
            "Host: example.com",
            "X-Real-IP: 6.6.6.6",
            "X-Forwarded-For: 10.0.0.1",
            "Connection: keep-alive, X-Secret",
            "X-Secret: s",
            "Keep-Alive: timeout=5",
            "X-Forwarded-Proto: https",
            "X-Scheme: https",
            "Proxy-Connection: keep-alive",
            "TE: trailers",
            "Trailer: X-Checksum",
            "Upgrade: h2c",
            "origin: https://example.com",
            "x-forwarded-for:  10.0.0.2, 10.0.0.3 ",
            "X-REAL-IP: 6.6.6.7",
            "Cookie: a=b;  c=d");
        assertEquals(head(
            "GET /api/info?x=1 HTTP/1.1",
            "Host: example.com",
            "origin: https://example.com",
            "Cookie: a=b;  c=d",
            "X-Real-IP: 192.0.2.7",
            "X-Forwarded-For: 10.0.0.1, 10.0.0.2, 10.0.0.3, 192.0.2.7",
            "X-Forwarded-Proto: http",
            "X-Scheme: http",
            "Connection: close"), rewrite(request, false));
    }

    @Test
    void regeneratesTheUpgradeFieldsOfAWebSocketHandshake()
    {
        assertEquals(head(
            "GET /connection/websocket HTTP/1.1",
            "Host: centrifugo.example.com",
            "Pragma: no-cache",
            "Cache-Control: no-cache",
            "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 " +
                "Safari/537.36",
            "Origin: https://app.example.com",
            "Sec-WebSocket-Version: 13",
            "Accept-Encoding: gzip, deflate, br, zstd",
            "Accept-Language: en-US,en;q=0.9",
            "Cookie: session=abc123; theme=dark",
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
            "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits",
            "X-Real-IP: 192.0.2.7",
            "X-Forwarded-For: 192.0.2.7",
            "X-Forwarded-Proto: https",
            "X-Scheme: https",
            "Upgrade: websocket",
            "Connection: Upgrade"), rewrite(Requests.CHROME_UPGRADE, true));
    }

    @Test
    void keepsFramingFieldsAndHostEvenWhenConnectionNamesThem()
    {
        final String request = head(
            "POST /p HTTP/1.1",
            "Host: a",
            "Content-Length: 5",
            "Connection: Content-Length, Host, X-Drop",
            "x-drop: 1");
        assertEquals(head(
            "POST /p HTTP/1.1",
            "Host: a",
            "Content-Length: 5",
            "X-Real-IP: 192.0.2.7",
            "X-Forwarded-For: 192.0.2.7",
            "X-Forwarded-Proto: http",
            "X-Scheme: http",
            "Connection: close"), rewrite(request, false));
    }

    @Test
    void forwardsAChunkedBodysTransferEncoding()
    {
        final String request = head("POST /p HTTP/1.1", "Host: a", "Transfer-Encoding: chunked", "X-Forwarded-For:");
        assertEquals(head(
            "POST /p HTTP/1.1",
            "Host: a",
            "Transfer-Encoding: chunked",
            "X-Real-IP: 192.0.2.7",
            "X-Forwarded-For: 192.0.2.7",
            "X-Forwarded-Proto: https",
            "X-Scheme: https",
            "Connection: close"), rewrite(request, true));
    }

    @Test
    void forwardsOneContentLengthForAListOrRepeatsOfIdenticalValues()
    {
        // RFC 9110 §8.6: a recipient may replace a list of identical values by one.
        final String expected = head(
            "POST /x HTTP/1.1",
            "Host: a",
            "Content-Length: 5",
            "X-B: c",
            "X-Real-IP: 192.0.2.7",
            "X-Forwarded-For: 192.0.2.7",
            "X-Forwarded-Proto: http",
            "X-Scheme: http",
            "Connection: close");
        assertEquals(expected, rewrite(head("POST /x HTTP/1.1", "Host: a", "Content-Length: 5, 005", "X-B: c"), false));
        assertEquals(expected, rewrite(head("POST /x HTTP/1.1", "Host: a", "Content-Length: 5", "X-B: c",
            "content-length:5"), false));
        assertEquals(expected.replace("Content-Length: 5", "content-length:  5"),
            rewrite(head("POST /x HTTP/1.1", "Host: a", "content-length:  5", "X-B: c"), false), "a single one as it was");
    }

    @Test
    void forwardsAnAbsoluteFormTargetInOriginFormWithItsAuthorityAsHost()
    {
        // RFC 9112 §3.2.2: the authority replaces Host.
        assertEquals(head(
            "GET /a?b HTTP/1.1",
            "X-A: 1",
            "Host: Other.example:8080",
            "X-Real-IP: 192.0.2.7",
            "X-Forwarded-For: 192.0.2.7",
            "X-Forwarded-Proto: http",
            "X-Scheme: http",
            "Connection: close"), rewrite(head("GET http://Other.example:8080/a?b HTTP/1.1", "X-A: 1", "Host: a"), false));
        assertEquals(head(
            "GET /?q HTTP/1.0",
            "Host: b.example",
            "X-Real-IP: 192.0.2.7",
            "X-Forwarded-For: 192.0.2.7",
            "X-Forwarded-Proto: http",
            "X-Scheme: http",
            "Connection: close"), rewrite(head("GET http://b.example?q HTTP/1.0"), false));
    }

    @Test
    void copiesAnHttp10RequestLineAsItIs()
    {
        assertEquals(head(
            "GET / HTTP/1.0",
            "X-Real-IP: 192.0.2.7",
            "X-Forwarded-For: 192.0.2.7",
            "X-Forwarded-Proto: http",
            "X-Scheme: http",
            "Connection: close"), rewrite(head("GET / HTTP/1.0", "Connection: keep-alive"), false));
    }

    @Test
    void writesAtAnOffsetAndFailsWithoutOverrunningWhenSpaceIsShort()
    {
        final String expected = rewrite(Requests.CHROME_UPGRADE, true);
        final UnsafeBuffer src = Wire.offHeap(Requests.CHROME_UPGRADE);
        assertTrue(head.parse(src, Requests.CHROME_UPGRADE.length()));
        final int offset = 100;
        for (int capacity = 0; capacity < expected.length(); capacity++)
        {
            dst.setMemory(0, dst.capacity(), (byte)'#');
            assertEquals(-1, writer.write(head, src, dst, offset, capacity, CLIENT, CLIENT.length, true), "capacity " + capacity);
            for (int i = offset + capacity; i < dst.capacity(); i++)
            {
                assertEquals('#', dst.getByte(i), "wrote past its capacity " + capacity + " at " + i);
            }
        }
        assertEquals(expected.length(),
            writer.write(head, src, dst, offset, expected.length(), CLIENT, CLIENT.length, true));
        assertEquals(expected, Wire.text(dst, offset, expected.length()));
    }

    @Test
    void usesOnlyTheGivenLengthOfTheClientAddress()
    {
        final byte[] address = "2001:db8::1\0\0\0\0".getBytes(StandardCharsets.US_ASCII);
        final String request = head("GET / HTTP/1.1", "Host: a");
        final UnsafeBuffer src = Wire.offHeap(request);
        assertTrue(head.parse(src, request.length()));
        final int written = writer.write(head, src, dst, 0, dst.capacity(), address, 11, false);
        assertTrue(Wire.text(dst, 0, written).contains("\r\nX-Real-IP: 2001:db8::1\r\nX-Forwarded-For: 2001:db8::1\r\n"));
    }

    private String rewriteBehind(final String request, final boolean trustedPeer, final boolean https)
    {
        final byte[] client = "203.0.113.9\0\0".getBytes(StandardCharsets.US_ASCII);
        final byte[] peer = "10.0.0.2".getBytes(StandardCharsets.US_ASCII);
        final UnsafeBuffer src = Wire.offHeap(request);
        assertTrue(head.parse(src, request.length()), () -> String.valueOf(head.error()));
        final int written = writer.write(head, src, dst, 0, dst.capacity(), client, 11, peer, peer.length, https, true,
            0, trustedPeer);
        assertTrue(written > 0);
        return Wire.text(dst, 0, written);
    }

    @Test
    void behindATrustedForwarderTheClientIsTheRealIpAndThePeerIsAppended()
    {
        assertEquals(head(
            "GET / HTTP/1.1",
            "Host: a",
            "X-Forwarded-Proto: https",
            "X-Real-IP: 203.0.113.9",
            "X-Forwarded-For: 203.0.113.9, 10.0.0.2",
            "X-Scheme: https"),
            rewriteBehind(head("GET / HTTP/1.1", "Host: a", "X-Forwarded-For: 203.0.113.9", "X-Real-IP: 1.1.1.1",
                "X-Forwarded-Proto: https", "X-Scheme: http"), true, false));
    }

    @Test
    void aTrustedForwardersProtoListGivesTheSchemeOfItsFirstElement()
    {
        final String out = rewriteBehind(head("GET / HTTP/1.1", "Host: a", "X-Forwarded-Proto: http , https"), true, true);
        assertTrue(out.contains("X-Forwarded-Proto: http , https\r\n"), out);
        assertTrue(out.contains("X-Scheme: http\r\n"), out);
        assertEquals(1, out.split("X-Forwarded-Proto").length - 1, out);
        final String upper = rewriteBehind(head("GET / HTTP/1.1", "Host: a", "X-Forwarded-Proto: HTTPS"), true, false);
        assertTrue(upper.contains("X-Scheme: https\r\n"), upper);
    }

    @Test
    void withoutAProtoFromTheTrustedForwarderTheProxysOwnIsWritten()
    {
        final String out = rewriteBehind(head("GET / HTTP/1.1", "Host: a"), true, true);
        assertTrue(out.endsWith("X-Forwarded-Proto: https\r\nX-Scheme: https\r\n\r\n"), out);
    }

    @Test
    void anUntrustedPeersProtoIsNeverBelieved()
    {
        final String out = rewriteBehind(head("GET / HTTP/1.1", "Host: a", "X-Forwarded-Proto: https"), false, false);
        assertTrue(out.endsWith("X-Forwarded-Proto: http\r\nX-Scheme: http\r\n\r\n"), out);
        assertEquals(1, out.split("X-Forwarded-Proto").length - 1, out);
    }
}
