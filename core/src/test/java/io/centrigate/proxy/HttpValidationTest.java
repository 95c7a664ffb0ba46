package io.centrigate.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import io.centrigate.http.HttpError;
import io.centrigate.testing.HttpUpstream;
import io.centrigate.testing.RawClient;
import io.centrigate.testing.RawUpstream;

/**
 * Issue 4, acceptance 3: smuggling-shaped request bodies never reach the upstream; malformed upstream answers
 * get the client a 502 and nothing more, and the upstream connection is dropped.
 */
@Timeout(30)
class HttpValidationTest
{
    static Stream<Arguments> badBodies()
    {
        final String chunkedPost = "POST /api HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";
        return Stream.of(
            Arguments.of("chunked not the final coding", "POST /api HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n"),
            Arguments.of("chunked twice", "POST /api HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
            Arguments.of("invalid chunk size", chunkedPost + "zz\r\nhello\r\n0\r\n\r\n"),
            Arguments.of("chunk size overflow", chunkedPost + "fffffffffffffffffff\r\nx\r\n0\r\n\r\n"),
            Arguments.of("bare LF after chunk size", chunkedPost + "5\nhello\r\n0\r\n\r\n"),
            Arguments.of("no CRLF after chunk data", chunkedPost + "5\r\nhelloXX0\r\n\r\n"),
            Arguments.of("invalid chunk extension", chunkedPost + "5;=x\r\nhello\r\n0\r\n\r\n"),
            Arguments.of("CL list that disagrees", "POST /api HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\nhello"),
            Arguments.of("CL with TE", "POST /api HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badBodies")
    void rejectsAMalformedBodyBeforeAnythingReachesTheUpstream(final String name, final String request) throws Exception
    {
        try (RawUpstream upstream = new RawUpstream();
            Proxy proxy = TestProxies.start(TestProxies.context(upstream.address()));
            RawClient client = new RawClient(TestProxies.address(proxy)))
        {
            client.send(request);
            final String response = client.readAll();
            assertTrue(response.startsWith("HTTP/1.1 400 Bad Request\r\n"), name + ": " + response);
            assertNull(upstream.poll(100), "nothing may reach the upstream");
        }
    }

    @Test
    void answers413ToABodyOverTheLimitWithoutContactingTheUpstream() throws Exception
    {
        try (RawUpstream upstream = new RawUpstream();
            Proxy proxy = TestProxies.start(TestProxies.context(upstream.address()).maxBodySize(1000));
            RawClient client = new RawClient(TestProxies.address(proxy)))
        {
            client.send("POST /api HTTP/1.1\r\nHost: a\r\nContent-Length: 1001\r\n\r\n");
            assertTrue(client.readAll().startsWith("HTTP/1.1 413 "));
            assertNull(upstream.poll(100));
        }
    }

    static Stream<Arguments> badAnswers()
    {
        return Stream.of(
            Arguments.of("status not a number", "HTTP/1.1 2x0 OK\r\nContent-Length: 2\r\n\r\nok"),
            Arguments.of("status below 100", "HTTP/1.1 099 Odd\r\nContent-Length: 2\r\n\r\nok"),
            Arguments.of("status above 599", "HTTP/1.1 600 Odd\r\nContent-Length: 2\r\n\r\nok"),
            Arguments.of("not HTTP", "HTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
            Arguments.of("invalid Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: 2x\r\n\r\nok"),
            Arguments.of("two different Content-Lengths", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok"),
            Arguments.of("CL with TE", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"),
            Arguments.of("header without a colon", "HTTP/1.1 200 OK\r\nBroken header\r\nContent-Length: 2\r\n\r\nok"),
            Arguments.of("obs-fold", "HTTP/1.1 200 OK\r\nX-A: a\r\n b\r\nContent-Length: 2\r\n\r\nok"),
            Arguments.of("broken chunking", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nok\r\n0\r\n\r\n"),
            Arguments.of("unsolicited 101", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badAnswers")
    void answers502AndNothingMoreToAMalformedUpstreamAnswer(final String name, final String answer) throws Exception
    {
        try (HttpUpstream upstream = new HttpUpstream();
            Proxy proxy = TestProxies.start(TestProxies.context(upstream.address()));
            RawClient client = new RawClient(TestProxies.address(proxy)))
        {
            upstream.handler((r, out) ->
            {
                out.write(answer.getBytes(StandardCharsets.ISO_8859_1));
                out.flush();
                return true; // the upstream would keep the connection: the proxy must drop it
            });
            client.send("GET /api/info HTTP/1.1\r\nHost: a\r\n\r\n");
            final String response = client.readAll();
            final String expected = new String(HttpError.BAD_UPSTREAM_RESPONSE.response(), StandardCharsets.ISO_8859_1);
            assertEquals(expected, response, name);
            client.close();
            TestProxies.awaitIdle(proxy, 10_000);
            assertEquals(0, proxy.snapshot(5, java.util.concurrent.TimeUnit.SECONDS).stream()
                .mapToInt(s -> s.pooledIdle()).sum(), "the upstream connection is not pooled");
        }
    }

    @Test
    void servesTheOperatorsErrorPage(@TempDir final Path dir) throws Exception
    {
        final Path page = dir.resolve("50x.html");
        Files.writeString(page, "<h1>Centrifugo is restarting</h1>");
        try (Proxy proxy = TestProxies.start(TestProxies.context(UpstreamChoiceTest.closedPort()).errorPage(502, page));
            RawClient client = new RawClient(TestProxies.address(proxy)))
        {
            client.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
            final String response = client.readAll();
            assertTrue(response.startsWith("HTTP/1.1 502 Bad Gateway\r\n"), response);
            assertTrue(response.contains("Content-Type: text/html; charset=utf-8\r\n"), response);
            assertTrue(response.contains("Content-Length: 33\r\n"), response);
            assertTrue(response.endsWith("\r\n\r\n<h1>Centrifugo is restarting</h1>"), response);
        }
    }
}
