package io.centrigate.proxy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.centrigate.config.ProxyContext;
import io.centrigate.testing.HttpUpstream;
import io.centrigate.tls.TestCertificates;

/**
 * Issue 16, second step: HTTP/2 on the TLS listener with {@code --http2 on}, each stream proxied to an HTTP/1.1 node,
 * driven by the JDK's HttpClient (HTTP/2 over TLS, ALPN h2) on real sockets.
 */
@Timeout(120)
class Http2ProxyTest
{
    private static HttpClient client(final HttpClient.Version version)
    {
        return HttpClient.newBuilder().sslContext(TestCertificates.ec().clientContext()).version(version)
            .connectTimeout(Duration.ofSeconds(5)).build();
    }

    private static Proxy start(final HttpUpstream upstream, final boolean http2) throws Exception
    {
        final TestCertificates cert = TestCertificates.ec();
        return TestProxies.start(new ProxyContext().loops(1).http2(http2)
            .tlsListen(new InetSocketAddress("127.0.0.1", 0)).tlsCert(cert.certificatePem())
            .tlsKey(cert.privateKeyPem()).upstream(upstream.address()));
    }

    private static URI uri(final Proxy proxy, final String path)
    {
        return URI.create("https://127.0.0.1:" + proxy.boundTlsAddresses().get(0).getPort() + path);
    }

    private static byte[] random(final int n, final int seed)
    {
        final byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    @Test
    void getAndPostByteExactOverHttp2() throws Exception
    {
        final byte[] big = random(1 << 20, 16);
        try (HttpUpstream upstream = new HttpUpstream();
            Proxy proxy = start(upstream, true))
        {
            upstream.handler((r, out) ->
            {
                if (r.requestLine().startsWith("GET /big "))
                {
                    writeAnswer(out, big, false);
                    return true;
                }
                if (r.requestLine().startsWith("GET /chunked "))
                {
                    writeAnswer(out, big, true);
                    return true;
                }
                return HttpUpstream.echo(r, out);
            });
            final HttpClient http = client(HttpClient.Version.HTTP_2);

            final HttpResponse<byte[]> small = http.send(HttpRequest.newBuilder(uri(proxy, "/api/small")).GET().build(),
                HttpResponse.BodyHandlers.ofByteArray());
            assertEquals(HttpClient.Version.HTTP_2, small.version());
            assertEquals(200, small.statusCode());
            assertEquals(0, small.body().length);
            assertEquals("GET", small.headers().firstValue("x-method").orElse(null));

            final HttpResponse<byte[]> got = http.send(HttpRequest.newBuilder(uri(proxy, "/big")).GET().build(),
                HttpResponse.BodyHandlers.ofByteArray());
            assertEquals(HttpClient.Version.HTTP_2, got.version());
            assertArrayEquals(big, got.body());

            final HttpResponse<byte[]> chunked = http.send(HttpRequest.newBuilder(uri(proxy, "/chunked")).GET().build(),
                HttpResponse.BodyHandlers.ofByteArray());
            assertArrayEquals(big, chunked.body());
            assertTrue(chunked.headers().firstValue("transfer-encoding").isEmpty(), "no HTTP/1.1 framing in h2");

            final HttpResponse<byte[]> posted = http.send(HttpRequest.newBuilder(uri(proxy, "/api/echo"))
                .POST(HttpRequest.BodyPublishers.ofByteArray(big)).build(), HttpResponse.BodyHandlers.ofByteArray());
            assertEquals(200, posted.statusCode());
            assertArrayEquals(big, posted.body());

            // A body of unknown length (no content-length field): chunk-encoded for the node.
            final HttpResponse<byte[]> streamed = http.send(HttpRequest.newBuilder(uri(proxy, "/api/echo"))
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(big))).build(),
                HttpResponse.BodyHandlers.ofByteArray());
            assertArrayEquals(big, streamed.body());

            final HttpResponse<byte[]> head = http.send(HttpRequest.newBuilder(uri(proxy, "/api/echo"))
                .method("HEAD", HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofByteArray());
            assertEquals(200, head.statusCode());
            assertEquals(0, head.body().length);

            final HttpResponse<byte[]> empty = http.send(HttpRequest.newBuilder(uri(proxy, "/api/echo"))
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofByteArray());
            assertEquals(200, empty.statusCode());
            assertEquals(0, empty.body().length);

            final HttpUpstream.Request last = upstream.proxiedRequests().get(upstream.proxiedRequests().size() - 3);
            assertEquals("https", last.header("X-Forwarded-Proto"));
            assertEquals("127.0.0.1:" + proxy.boundTlsAddresses().get(0).getPort(), last.header("Host"));
            assertEquals("chunked", last.header("Transfer-Encoding"));
            assertEquals(1, proxy.snapshot(5, TimeUnit.SECONDS).get(0).accepted(), "one HTTP/2 connection");
            awaitChunksBack(proxy);
        }
    }

    @Test
    void tenMebibytesEachWay() throws Exception
    {
        final byte[] huge = random(10 << 20, 10);
        try (HttpUpstream upstream = new HttpUpstream();
            Proxy proxy = start(upstream, true))
        {
            upstream.handler((r, out) ->
            {
                if (r.requestLine().startsWith("GET "))
                {
                    writeAnswer(out, huge, false);
                    return true;
                }
                return HttpUpstream.echo(r, out);
            });
            final HttpClient http = client(HttpClient.Version.HTTP_2);
            final HttpResponse<byte[]> got = http.send(HttpRequest.newBuilder(uri(proxy, "/huge")).GET().build(),
                HttpResponse.BodyHandlers.ofByteArray());
            assertEquals(HttpClient.Version.HTTP_2, got.version());
            assertArrayEquals(huge, got.body());
            final HttpResponse<byte[]> posted = http.send(HttpRequest.newBuilder(uri(proxy, "/api/echo"))
                .POST(HttpRequest.BodyPublishers.ofByteArray(huge)).build(), HttpResponse.BodyHandlers.ofByteArray());
            assertArrayEquals(huge, posted.body());
            awaitChunksBack(proxy);
        }
    }

    @Test
    void concurrentStreamsOnOneConnection() throws Exception
    {
        try (HttpUpstream upstream = new HttpUpstream();
            Proxy proxy = start(upstream, true))
        {
            final HttpClient http = client(HttpClient.Version.HTTP_2);
            // One request first, so the client has its connection before the others start (it then shares it).
            assertEquals(200, http.send(HttpRequest.newBuilder(uri(proxy, "/api/warm")).GET().build(),
                HttpResponse.BodyHandlers.discarding()).statusCode());
            final List<byte[]> bodies = new ArrayList<>();
            final List<CompletableFuture<HttpResponse<byte[]>>> answers = new ArrayList<>();
            for (int i = 0; i < 20; i++)
            {
                final byte[] body = random(100_000 + i * 1000, i);
                bodies.add(body);
                answers.add(http.sendAsync(HttpRequest.newBuilder(uri(proxy, "/api/echo/" + i))
                    .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
                    HttpResponse.BodyHandlers.ofByteArray()));
            }
            for (int i = 0; i < 20; i++)
            {
                final HttpResponse<byte[]> r = answers.get(i).get(30, TimeUnit.SECONDS);
                assertEquals(HttpClient.Version.HTTP_2, r.version());
                assertArrayEquals(bodies.get(i), r.body(), "stream " + i);
            }
            assertEquals(1, proxy.snapshot(5, TimeUnit.SECONDS).get(0).accepted(), "all streams on one connection");
            awaitChunksBack(proxy);
        }
    }

    /** Every chunk the loop holds goes back once the streams are over (the HTTP/2 connection itself may stay). */
    private static void awaitChunksBack(final Proxy proxy) throws Exception
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        List<io.centrigate.metrics.LoopSnapshot> snap;
        do
        {
            snap = proxy.snapshot(5, TimeUnit.SECONDS);
            if (snap.stream().allMatch(l -> l.chunksInUse() == 0 && l.sessions() <= 1))
            {
                return;
            }
            Thread.sleep(10); // polling interval of a bounded wait
        }
        while (System.nanoTime() < deadline);
        throw new AssertionError("chunks still held: " + snap);
    }

    private static boolean sse(final java.util.concurrent.Semaphore step, final int events,
        final OutputStream out) throws Exception
    {
        out.write("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
            .getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
        for (int i = 0; i < events; i++)
        {
            if (step != null && !step.tryAcquire(10, TimeUnit.SECONDS))
            {
                throw new AssertionError("event " + (i - 1) + " never reached the client");
            }
            final byte[] event = ("data: " + i + "\n\n").getBytes(StandardCharsets.ISO_8859_1);
            out.write((Integer.toHexString(event.length) + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
            out.write(event);
            out.write("\r\n".getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
        }
        out.write("0\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
        return true;
    }

    @Test
    void sseLockStepAndHundredStreamsInOrder() throws Exception
    {
        final java.util.concurrent.Semaphore step = new java.util.concurrent.Semaphore(0);
        try (HttpUpstream upstream = new HttpUpstream();
            Proxy proxy = start(upstream, true))
        {
            upstream.handler((r, out) -> sse(r.requestLine().startsWith("GET /lockstep ") ? step : null,
                r.requestLine().startsWith("GET /lockstep ") ? 10 : 50, out));
            final HttpClient http = client(HttpClient.Version.HTTP_2);

            // Lock-step: the node writes the next event only once the client has read the last one, so any
            // buffering on the way would stall it.
            step.release();
            final HttpResponse<java.util.stream.Stream<String>> lockstep = http.send(HttpRequest.newBuilder(
                uri(proxy, "/lockstep")).GET().build(), HttpResponse.BodyHandlers.ofLines());
            assertEquals(HttpClient.Version.HTTP_2, lockstep.version());
            final List<String> seen = new ArrayList<>();
            lockstep.body().forEach(line ->
            {
                if (line.startsWith("data: "))
                {
                    seen.add(line);
                    step.release();
                }
            });
            assertEquals(10, seen.size());

            final List<CompletableFuture<HttpResponse<java.util.stream.Stream<String>>>> streams = new ArrayList<>();
            for (int i = 0; i < 100; i++)
            {
                streams.add(http.sendAsync(HttpRequest.newBuilder(uri(proxy, "/events/" + i)).GET().build(),
                    HttpResponse.BodyHandlers.ofLines()));
            }
            for (int i = 0; i < 100; i++)
            {
                final List<String> events = streams.get(i).get(60, TimeUnit.SECONDS).body()
                    .filter(l -> l.startsWith("data: ")).toList();
                final List<String> expected = new ArrayList<>();
                for (int e = 0; e < 50; e++)
                {
                    expected.add("data: " + e);
                }
                assertEquals(expected, events, "stream " + i);
            }
            assertEquals(1, proxy.snapshot(5, TimeUnit.SECONDS).get(0).accepted(), "one HTTP/2 connection");
            awaitChunksBack(proxy);
        }
    }

    @Test
    void http2OffKeepsHttp11() throws Exception
    {
        try (HttpUpstream upstream = new HttpUpstream();
            Proxy proxy = start(upstream, false))
        {
            final HttpResponse<String> r = client(HttpClient.Version.HTTP_2).send(HttpRequest.newBuilder(
                uri(proxy, "/api/echo")).POST(HttpRequest.BodyPublishers.ofString("one")).build(),
                HttpResponse.BodyHandlers.ofString());
            assertEquals(HttpClient.Version.HTTP_1_1, r.version());
            assertEquals("one", r.body());
        }
    }

    private static void writeAnswer(final OutputStream out, final byte[] body, final boolean chunked) throws Exception
    {
        if (!chunked)
        {
            out.write(("HTTP/1.1 200 OK\r\nContent-Length: " + body.length + "\r\n\r\n")
                .getBytes(StandardCharsets.ISO_8859_1));
            out.write(body);
        }
        else
        {
            out.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
            for (int p = 0; p < body.length; p += 10_000)
            {
                final int n = Math.min(10_000, body.length - p);
                out.write((Integer.toHexString(n) + ";ext=1\r\n").getBytes(StandardCharsets.ISO_8859_1));
                out.write(body, p, n);
                out.write("\r\n".getBytes(StandardCharsets.ISO_8859_1));
            }
            out.write("0\r\nX-Trailer: t\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
        }
        out.flush();
    }
}
