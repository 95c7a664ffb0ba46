package io.centrigate.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import io.centrigate.testing.RawClient;
import io.centrigate.testing.RawUpstream;

/** Acceptance 4, heads: every malformed head gets its status and never reaches the upstream. */
@Timeout(30)
class HeadRejectionTest
{
    private static RawUpstream upstream;
    private static Proxy proxy;

    @BeforeAll
    static void start() throws Exception
    {
        upstream = new RawUpstream();
        proxy = TestProxies.start(TestProxies.context(upstream.address()).headerTimeoutNs(500_000_000L));
    }

    @AfterAll
    static void stop() throws Exception
    {
        proxy.close();
        upstream.close();
    }

    static Stream<Arguments> malformed()
    {
        final String key = "dGhlIHNhbXBsZSBub25jZQ==";
        return Stream.of(
            Arguments.of("NUL in a value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n", 400),
            Arguments.of("obs-fold", "GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n", 400),
            Arguments.of("bare CR", "GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n", 400),
            Arguments.of("bare LF", "GET / HTTP/1.1\nHost: a\r\n\r\n", 400),
            Arguments.of("space before colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400),
            Arguments.of("invalid field name", "GET / HTTP/1.1\r\nHost: a\r\nX(y): b\r\n\r\n", 400),
            Arguments.of("no colon", "GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n", 400),
            Arguments.of("two Host fields", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
            Arguments.of("missing Host in HTTP/1.1", "GET / HTTP/1.1\r\nX: a\r\n\r\n", 400),
            Arguments.of("CL with TE", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
            Arguments.of("conflicting CL", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n", 400),
            Arguments.of("CL not a number", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +3\r\n\r\n", 400),
            Arguments.of("TE not chunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", 400),
            Arguments.of("HTTP/2.0 in a request line", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", 400),
            Arguments.of("HTTP/0.9", "GET /\r\n\r\n", 400),
            Arguments.of("request line over 8 KiB", "GET /" + "a".repeat(9000) + " HTTP/1.1\r\nHost: a\r\n\r\n", 414),
            Arguments.of("head over 16 KiB", "GET / HTTP/1.1\r\nHost: a\r\n" + "X-Big: " + "b".repeat(17000) + "\r\n\r\n", 431),
            Arguments.of("more than 100 fields", "GET / HTTP/1.1\r\nHost: a\r\n" + "X-F: v\r\n".repeat(101) + "\r\n", 431),
            Arguments.of("websocket key not 16 bytes", RawClient.upgradeRequest("c2hvcnQ=", ""), 400),
            Arguments.of("websocket upgrade by POST",
                RawClient.upgradeRequest(key, "").replaceFirst("GET", "POST"), 400),
            Arguments.of("websocket version 8",
                RawClient.upgradeRequest(key, "").replace("Sec-WebSocket-Version: 13", "Sec-WebSocket-Version: 8"), 426));
    }

    @ParameterizedTest(name = "{0} -> {2}")
    @MethodSource("malformed")
    void rejectsWithItsStatusAndConnectionClose(final String name, final String request, final int status)
        throws Exception
    {
        try (RawClient client = new RawClient(TestProxies.address(proxy)))
        {
            client.send(request);
            final String response = client.readAll();
            assertTrue(response.startsWith("HTTP/1.1 " + status + " "), name + ": " + response);
            assertTrue(response.contains("\r\nConnection: close\r\n"), response);
            if (status == 426)
            {
                assertTrue(response.contains("\r\nSec-WebSocket-Version: 13\r\n"), response);
            }
            final int body = response.indexOf("\r\n\r\n") + 4;
            final String length = RawUpstream.header(response, "Content-Length");
            assertEquals(response.length() - body, Integer.parseInt(length), "Content-Length matches the body");
        }
        assertNull(upstream.poll(50), "nothing may reach the upstream");
    }

    @Test
    void answers408ToAHalfHeadAfterTheHeaderTimeoutAndFreesTheConnection() throws Exception
    {
        try (RawClient client = new RawClient(TestProxies.address(proxy)))
        {
            client.send("GET /connection/websocket HTTP/1.1\r\nHost: a\r\nUpgr");
            final String response = client.readAll();
            assertTrue(response.startsWith("HTTP/1.1 408 "), response);
        }
        TestProxies.awaitIdle(proxy, 10_000);
        assertNull(upstream.poll(50));
    }

    @Test
    void aConnectionAfterALongIdleSpellStillGetsItsWholeHeaderTimeout() throws Exception
    {
        // Regression: the loop's cached clock was stale after a long blocking select, so a new connection's
        // deadline lay in the past and it got 408 at once.
        try (RawUpstream up = new RawUpstream();
            Proxy idle = TestProxies.start(TestProxies.context(up.address()).loops(1).headerTimeoutNs(400_000_000L)))
        {
            Thread.sleep(800); // let the loop block in select with no timer pending: the condition under test
            try (RawClient client = new RawClient(TestProxies.address(idle)))
            {
                final String request = RawClient.upgradeRequest(RawClient.newKey(), "");
                client.send(request.substring(0, 20));
                Thread.sleep(50); // well inside the 400 ms timeout
                client.send(request.substring(20));
                final String head = client.readHead();
                assertTrue(head.startsWith("HTTP/1.1 101 "), head);
            }
        }
    }
}
