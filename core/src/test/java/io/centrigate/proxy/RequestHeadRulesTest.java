package io.centrigate.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import io.centrigate.testing.HttpUpstream;
import io.centrigate.testing.RawClient;

/**
 * Issue 11, point 3: the MUSTs of RFC 9110/9112 on a request head, end to end through a started proxy over
 * loopback. A refused request gets a 400 and the node sees no connection at all; a request that may be
 * repaired reaches the node repaired.
 */
@Timeout(30)
class RequestHeadRulesTest
{
    private static final String KEY = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
    private static final String VERSION = "Sec-WebSocket-Version: 13\r\n";
    private static final String UPGRADE = "GET /connection/websocket HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n" +
        "Connection: Upgrade\r\n";

    static Stream<Arguments> refused()
    {
        return Stream.of(
            // RFC 9110 §8.6, RFC 9112 §6.3 item 5: differing or invalid Content-Length is unrecoverable.
            Arguments.of("RFC 9110 8.6: a Content-Length list of differing values",
                "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\nhello"),
            Arguments.of("RFC 9110 8.6: two Content-Length fields with differing values",
                "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello"),
            Arguments.of("RFC 9110 8.6: a Content-Length list with an invalid member",
                "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5, x\r\n\r\nhello"),
            Arguments.of("RFC 9110 8.6: a Content-Length list with an empty member",
                "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5, , 5\r\n\r\nhello"),
            // RFC 9112 §3.2: a Host field with an invalid value, or more than one Host field line, is a 400.
            Arguments.of("RFC 9112 3.2: Host with a space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n"),
            Arguments.of("RFC 9112 3.2: Host with a slash", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n"),
            Arguments.of("RFC 9112 3.2: Host with userinfo", "GET / HTTP/1.1\r\nHost: user@a\r\n\r\n"),
            Arguments.of("RFC 9112 3.2: Host with a query", "GET / HTTP/1.1\r\nHost: a?b\r\n\r\n"),
            Arguments.of("RFC 9112 3.2: Host with a fragment", "GET / HTTP/1.1\r\nHost: a#b\r\n\r\n"),
            Arguments.of("RFC 9112 3.2: Host with a quote", "GET / HTTP/1.1\r\nHost: a\"b\r\n\r\n"),
            Arguments.of("RFC 9112 3.2: Host with a bad percent-encoding", "GET / HTTP/1.1\r\nHost: a%zz\r\n\r\n"),
            Arguments.of("RFC 9112 3.2: Host with a non-numeric port", "GET / HTTP/1.1\r\nHost: a:8x\r\n\r\n"),
            Arguments.of("RFC 9112 3.2: Host with two ports", "GET / HTTP/1.1\r\nHost: a:80:80\r\n\r\n"),
            Arguments.of("RFC 9112 3.2: Host with an unclosed IP-literal", "GET / HTTP/1.1\r\nHost: [::1\r\n\r\n"),
            Arguments.of("RFC 9112 3.2: Host with a byte above 0x7F",
                "GET / HTTP/1.1\r\nHost: caf\u00e9.example\r\n\r\n"),
            Arguments.of("RFC 9112 3.2: two Host fields", "GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n"),
            // RFC 9112 §3.2.2, RFC 9110 §4.2.1 and §4.2.4: the authority of an absolute-form target.
            Arguments.of("RFC 9110 4.2.4: absolute-form with userinfo",
                "GET http://user@a.example/x HTTP/1.1\r\nHost: a.example\r\n\r\n"),
            Arguments.of("RFC 9110 4.2.1: absolute-form with an empty host",
                "GET http:///x HTTP/1.1\r\nHost: a.example\r\n\r\n"),
            Arguments.of("RFC 9112 3.2: a target of no request-target form",
                "GET ftp://a.example/api HTTP/1.1\r\nHost: a.example\r\n\r\n"),
            // RFC 6455 §11.3.1, §11.3.5: single-valued in a request.
            Arguments.of("RFC 6455 11.3.1: Sec-WebSocket-Key twice", UPGRADE + VERSION + KEY + KEY + "\r\n"),
            Arguments.of("RFC 6455 11.3.5: Sec-WebSocket-Version twice", UPGRADE + VERSION + VERSION + KEY + "\r\n"),
            Arguments.of("RFC 6455 11.3.5: Sec-WebSocket-Version as a list",
                UPGRADE + "Sec-WebSocket-Version: 13, 13\r\n" + KEY + "\r\n"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("refused")
    void answers400AndNothingReachesTheNode(final String rule, final String request) throws Exception
    {
        try (HttpUpstream node = new HttpUpstream();
            Proxy proxy = TestProxies.start(TestProxies.context(node.address()));
            RawClient client = new RawClient(TestProxies.address(proxy)))
        {
            client.send(request.getBytes(StandardCharsets.ISO_8859_1));
            final String answer = client.readAll();
            assertTrue(answer.startsWith("HTTP/1.1 400 Bad Request\r\n"), rule + ": " + answer);
            client.close(); // ends the proxy's lingering close, so the session is gone when we look at the node
            TestProxies.awaitIdle(proxy, 10_000);
            assertEquals(0, node.connections(), rule + ": nothing may reach the node");
        }
    }

    static Stream<Arguments> repairedContentLength()
    {
        return Stream.of(
            Arguments.of("RFC 9110 8.6: a list of identical values", "Content-Length: 5, 5\r\n"),
            Arguments.of("RFC 9110 8.6: a list of identical values, one with leading zeros", "Content-Length: 5,005\r\n"),
            Arguments.of("RFC 9110 8.6: repeated identical fields", "Content-Length: 5\r\nX-A: b\r\ncontent-length: 5\r\n"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("repairedContentLength")
    void forwardsExactlyOneContentLengthForIdenticalValues(final String rule, final String fields) throws Exception
    {
        try (HttpUpstream node = new HttpUpstream();
            Proxy proxy = TestProxies.start(TestProxies.context(node.address()));
            RawClient client = new RawClient(TestProxies.address(proxy)))
        {
            client.send("POST /x HTTP/1.1\r\nHost: a\r\n" + fields + "Connection: close\r\n\r\nhello");
            final String answer = client.readAll();
            assertTrue(answer.startsWith("HTTP/1.1 200 "), rule + ": " + answer);
            assertTrue(answer.endsWith("\r\n\r\nhello"), rule + ": the echoed body: " + answer);
            assertEquals(1, node.requests().size());
            final HttpUpstream.Request seen = node.requests().get(0);
            final List<String> lengths = Arrays.stream(seen.head().split("\r\n"))
                .filter(line -> line.regionMatches(true, 0, "Content-Length:", 0, 15)).toList();
            assertEquals(List.of("Content-Length: 5"), lengths, rule + ": " + seen.head());
            assertEquals("hello", new String(seen.body(), StandardCharsets.ISO_8859_1));
        }
    }

    static Stream<Arguments> judgedAtTheirCrlf()
    {
        return Stream.of(
            Arguments.of("RFC 9112 2.3, 3: an HTTP/0.9 request line", "GET /path\r\n"),
            Arguments.of("RFC 9112 3: a request line with two spaces", "GET  /path HTTP/1.1\r\n"),
            Arguments.of("RFC 9112 3: a request line with an unsupported version", "GET /path HTTP/2.0\r\n"),
            Arguments.of("RFC 9112 5.1: a field line without a colon", "GET /path HTTP/1.1\r\nHost: a\r\nno colon\r\n"),
            Arguments.of("RFC 9112 5.2: obs-fold", "GET /path HTTP/1.1\r\nHost: a\r\n folded"));
    }

    /**
     * A line that can never start a valid head is answered when its CRLF arrives, not when the header timeout
     * (60 s here) fires: the test's own timeout is far below it, with no timing assertion of its own.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("judgedAtTheirCrlf")
    @Timeout(10)
    void answers400AtTheLineThatCanNeverBeValid(final String rule, final String incompleteHead) throws Exception
    {
        try (HttpUpstream node = new HttpUpstream();
            Proxy proxy = TestProxies.start(TestProxies.context(node.address())
                .headerTimeoutNs(TimeUnit.SECONDS.toNanos(60)));
            RawClient client = new RawClient(TestProxies.address(proxy)))
        {
            client.send(incompleteHead);
            final String answer = client.readAll();
            assertTrue(answer.startsWith("HTTP/1.1 400 Bad Request\r\n"), rule + ": " + answer);
            assertEquals(0, node.connections(), rule + ": nothing may reach the node");
        }
    }

    @Test
    void absoluteFormIsRoutedAndGuardedByItsPathNotTheWholeTarget() throws Exception
    {
        // RFC 9112 §3.2.2: the target's authority replaces Host; its path is what the node serves, so the guard of
        // internal endpoints must look at that path. 127.0.0.66 stands for an internet client.
        try (HttpUpstream node = new HttpUpstream();
            Proxy proxy = TestProxies.start(TestProxies.context(node.address()).internalAllow(List.of("127.0.0.1/32")));
            RawClient client = new RawClient(TestProxies.address(proxy), "127.0.0.66"))
        {
            client.send("POST http://a.example/api/publish HTTP/1.1\r\nHost: a.example\r\nContent-Length: 0\r\n\r\n");
            final String answer = client.readAll();
            assertTrue(answer.startsWith("HTTP/1.1 403 Forbidden\r\n"), answer);
            client.close();
            TestProxies.awaitIdle(proxy, 10_000);
            assertEquals(0, node.connections(), "nothing may reach the node");
        }
    }

    @Test
    void absoluteFormReachesTheNodeInOriginFormWithItsAuthorityAsHost() throws Exception
    {
        // RFC 9112 §3.2.2: a recipient MUST ignore Host and use the authority of an absolute-form target.
        try (HttpUpstream node = new HttpUpstream();
            Proxy proxy = TestProxies.start(TestProxies.context(node.address()));
            RawClient client = new RawClient(TestProxies.address(proxy)))
        {
            client.send("GET HTTP://Other.example:8080/connection/sse?cf=1 HTTP/1.1\r\nHost: a.example\r\n" +
                "Connection: close\r\n\r\n");
            assertTrue(client.readAll().startsWith("HTTP/1.1 200 "));
            client.close();
            try (RawClient second = new RawClient(TestProxies.address(proxy)))
            {
                second.send("GET http://b.example HTTP/1.0\r\n\r\n");
                assertTrue(second.readAll().startsWith("HTTP/1.1 200 "));
            }
            assertEquals(2, node.requests().size());
            final HttpUpstream.Request first = node.requests().get(0);
            assertEquals("GET /connection/sse?cf=1 HTTP/1.1", first.requestLine());
            assertEquals("Other.example:8080", first.header("Host"));
            assertEquals(1, first.head().split("(?i)\r\nHost:", -1).length - 1, first.head());
            final HttpUpstream.Request http10 = node.requests().get(1);
            assertEquals("GET / HTTP/1.0", http10.requestLine());
            assertEquals("b.example", http10.header("Host"));
        }
    }
}
