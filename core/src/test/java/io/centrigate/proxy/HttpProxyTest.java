package io.centrigate.proxy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import com.sun.net.httpserver.HttpServer;

import io.centrigate.metrics.LoopSnapshot;
import io.centrigate.testing.HttpUpstream;
import io.centrigate.testing.RawClient;

/**
 * Issue 4, acceptance 1: plain HTTP through centrigate between the JDK's own HTTP server and client, every
 * method, body size and framing, byte-exact; keep-alive and pipelining seen in connection counts.
 */
@Timeout(120)
class HttpProxyTest
{
    private static HttpServer server;
    private static final Set<Integer> upstreamPorts = ConcurrentHashMap.newKeySet();

    @BeforeAll
    static void startServer() throws Exception
    {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 64);
        server.createContext("/", exchange ->
        {
            upstreamPorts.add(exchange.getRemoteAddress().getPort());
            final byte[] body;
            try (InputStream in = exchange.getRequestBody())
            {
                body = in.readAllBytes();
            }
            exchange.getResponseHeaders().add("X-Method", exchange.getRequestMethod());
            exchange.getResponseHeaders().add("X-Request-Length", String.valueOf(body.length));
            final boolean chunked = String.valueOf(exchange.getRequestURI().getQuery()).contains("chunked");
            if (exchange.getRequestMethod().equals("HEAD"))
            {
                exchange.sendResponseHeaders(200, -1);
            }
            else
            {
                exchange.sendResponseHeaders(200, chunked ? 0 : (body.length == 0 ? -1 : body.length));
                try (OutputStream out = exchange.getResponseBody())
                {
                    out.write(body);
                }
            }
            exchange.close();
        });
        server.setExecutor(Executors.newFixedThreadPool(4));
        server.start();
    }

    @AfterAll
    static void stopServer()
    {
        server.stop(0);
    }

    private static InetSocketAddress serverAddress()
    {
        return new InetSocketAddress("127.0.0.1", server.getAddress().getPort());
    }

    @Test
    void proxiesEveryMethodBodySizeAndFramingByteExactOverKeptAliveConnections() throws Exception
    {
        upstreamPorts.clear();
        try (Proxy proxy = TestProxies.start(TestProxies.context(serverAddress())))
        {
            final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5)).build();
            final String base = "http://127.0.0.1:" + TestProxies.address(proxy).getPort();
            final Random random = new Random(42);
            int requests = 0;
            for (final String method : List.of("GET", "POST", "PUT", "DELETE"))
            {
                for (final int size : new int[] {0, 1024, 10 * 1024 * 1024})
                {
                    final byte[] body = new byte[size];
                    random.nextBytes(body);
                    for (final boolean chunkedRequest : new boolean[] {false, true})
                    {
                        for (final boolean chunkedResponse : new boolean[] {false, true})
                        {
                            final HttpRequest.BodyPublisher publisher = chunkedRequest ?
                                HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(body)) :
                                HttpRequest.BodyPublishers.ofByteArray(body);
                            final HttpRequest request = HttpRequest.newBuilder(
                                URI.create(base + "/api/echo" + (chunkedResponse ? "?chunked" : "")))
                                .method(method, publisher).timeout(Duration.ofSeconds(30)).build();
                            final HttpResponse<byte[]> response = http.send(request, HttpResponse.BodyHandlers.ofByteArray());
                            final String what = method + " " + size + " B, request " +
                                (chunkedRequest ? "chunked" : "CL") + ", response " + (chunkedResponse ? "chunked" : "CL");
                            assertEquals(200, response.statusCode(), what);
                            assertEquals(method, response.headers().firstValue("X-Method").orElse(null), what);
                            assertArrayEquals(body, response.body(), what);
                            requests++;
                        }
                    }
                }
            }
            final HttpResponse<byte[]> head = http.send(HttpRequest.newBuilder(URI.create(base + "/api/info"))
                .method("HEAD", HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofByteArray());
            assertEquals(200, head.statusCode());
            assertEquals(0, head.body().length);
            requests++;

            final List<LoopSnapshot> snap = proxy.snapshot(5, TimeUnit.SECONDS);
            final long accepted = snap.stream().mapToLong(LoopSnapshot::accepted).sum();
            assertEquals(requests, snap.stream().mapToLong(LoopSnapshot::requests).sum());
            assertTrue(accepted <= 2, "client keep-alive: " + accepted + " connections for " + requests + " requests");
            assertTrue(upstreamPorts.size() <= 2, "upstream keep-alive: " + upstreamPorts.size() + " connections");
        }
    }

    @Test
    void answersPipelinedRequestsInOrderOnOneUpstreamConnection() throws Exception
    {
        try (HttpUpstream upstream = new HttpUpstream();
            Proxy proxy = TestProxies.start(TestProxies.context(upstream.address()));
            RawClient client = new RawClient(TestProxies.address(proxy)))
        {
            upstream.handler((r, out) ->
            {
                final String target = r.requestLine().split(" ")[1];
                out.write(("HTTP/1.1 200 OK\r\nContent-Length: " + target.length() + "\r\n\r\n" + target)
                    .getBytes(StandardCharsets.ISO_8859_1));
                return true;
            });
            client.send("GET /one HTTP/1.1\r\nHost: a\r\n\r\nPOST /two HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc" +
                "GET /three HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
            final String all = client.readAll();
            final int one = all.indexOf("\r\n\r\n/one");
            final int two = all.indexOf("\r\n\r\n/two");
            final int three = all.indexOf("\r\n\r\n/three");
            assertTrue(one > 0 && two > one && three > two, all);
            assertEquals(3, all.split("HTTP/1.1 200 OK").length - 1, all);
            assertTrue(all.substring(two).contains("Connection: close"), "the last answer says close: " + all);
            assertEquals(1, upstream.connections(), "one upstream connection for three pipelined requests");
            assertEquals("abc", new String(upstream.requests().get(1).body(), StandardCharsets.ISO_8859_1));
        }
    }

    @Test
    void relaysTheUpstreams100ContinueThenTheBody() throws Exception
    {
        try (io.centrigate.testing.RawUpstream upstream = new io.centrigate.testing.RawUpstream();
            Proxy proxy = TestProxies.start(TestProxies.context(upstream.address()));
            RawClient client = new RawClient(TestProxies.address(proxy)))
        {
            upstream.respondWith(head -> "HTTP/1.1 100 Continue\r\n\r\n");
            client.send("POST /api/publish HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n");
            final var side = upstream.take();
            assertEquals("100-continue", io.centrigate.testing.RawUpstream.header(side.requestHead(), "Expect"));
            assertEquals("HTTP/1.1 100 Continue\r\n\r\n", client.readHead());
            client.send("body");
            assertEquals("body", new String(side.socket().getInputStream().readNBytes(4), StandardCharsets.ISO_8859_1));
            side.socket().getOutputStream().write("HTTP/1.1 204 No Content\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
            assertTrue(client.readHead().startsWith("HTTP/1.1 204 "));
        }
    }

    @Test
    void passesTrailersOnAndServesHttp10ClientsOneRequestPerConnection() throws Exception
    {
        try (HttpUpstream upstream = new HttpUpstream();
            Proxy proxy = TestProxies.start(TestProxies.context(upstream.address())))
        {
            upstream.handler((r, out) ->
            {
                out.write(("HTTP/1.1 200 OK\r\nTrailer: X-Checksum\r\nTransfer-Encoding: chunked\r\n\r\n" +
                    "2\r\nok\r\n0\r\nX-Checksum: 42\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
                return true;
            });
            try (RawClient client = new RawClient(TestProxies.address(proxy)))
            {
                client.send("GET /stream HTTP/1.1\r\nHost: a\r\n\r\n");
                assertTrue(client.readHead().contains("Trailer: X-Checksum"));
                assertEquals("2\r\nok\r\n0\r\nX-Checksum: 42\r\n\r\n",
                    new String(client.readExactly(28), StandardCharsets.ISO_8859_1));
            }
            upstream.handler(HttpUpstream::echo);
            try (RawClient client = new RawClient(TestProxies.address(proxy)))
            {
                client.send("GET /old HTTP/1.0\r\n\r\n");
                final String response = client.readAll(); // ends: HTTP/1.0 gets one answer, then the close
                assertTrue(response.startsWith("HTTP/1.1 200 OK\r\n"), response);
                assertTrue(response.contains("Connection: close\r\n"), response);
                assertTrue(upstream.requests().get(upstream.requests().size() - 1).head().startsWith("GET /old HTTP/1.0\r\n"));
            }
        }
    }

    @Test
    void closesAnIdleKeepAliveConnectionSilentlyAndSetsForwardingHeaders() throws Exception
    {
        try (HttpUpstream upstream = new HttpUpstream();
            Proxy proxy = TestProxies.start(TestProxies.context(upstream.address()).keepAliveTimeoutNs(300_000_000L));
            RawClient client = new RawClient(TestProxies.address(proxy), "127.0.0.78"))
        {
            client.send("GET /health HTTP/1.1\r\nHost: node.example\r\nX-Real-IP: 6.6.6.6\r\nKeep-Alive: timeout=5\r\n\r\n");
            assertTrue(client.readHead().startsWith("HTTP/1.1 200 "));
            final HttpUpstream.Request seen = upstream.requests().get(0);
            assertEquals("127.0.0.78", seen.header("X-Real-IP"));
            assertEquals("127.0.0.78", seen.header("X-Forwarded-For"));
            assertEquals("http", seen.header("X-Forwarded-Proto"));
            assertEquals("node.example", seen.header("Host"));
            assertNull(seen.header("Keep-Alive"), "hop-by-hop fields stay on their hop");
            // No second request: after the keep-alive timeout the proxy closes without a word.
            assertEquals("", client.readAll());
        }
    }

    @Test
    void dropsAClientThatStopsReadingAfterTheSendTimeout() throws Exception
    {
        final java.util.concurrent.CountDownLatch upstreamCut = new java.util.concurrent.CountDownLatch(1);
        try (HttpUpstream upstream = new HttpUpstream();
            Proxy proxy = TestProxies.start(TestProxies.context(upstream.address()).loops(1).sendTimeoutNs(300_000_000L));
            RawClient client = new RawClient(TestProxies.address(proxy)))
        {
            upstream.handler((r, out) ->
            {
                out.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
                final byte[] chunk = ("8000\r\n" + "x".repeat(0x8000) + "\r\n").getBytes(StandardCharsets.ISO_8859_1);
                try
                {
                    for (int i = 0; i < 100_000; i++)
                    {
                        out.write(chunk);
                    }
                }
                catch (final java.io.IOException e)
                {
                    upstreamCut.countDown();
                }
                return false;
            });
            client.socket().setReceiveBufferSize(4096);
            client.send("GET /connection/sse HTTP/1.1\r\nHost: a\r\n\r\n");
            // The client reads nothing: once every buffer is full, the send timeout ends both connections.
            assertTrue(upstreamCut.await(30, TimeUnit.SECONDS), "the upstream side was closed");
            client.socket().setSoLinger(true, 0);
            client.close();
            TestProxies.awaitIdle(proxy, 10_000);
        }
    }
}
