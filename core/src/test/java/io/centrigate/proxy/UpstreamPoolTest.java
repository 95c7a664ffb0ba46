package io.centrigate.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.centrigate.metrics.LoopSnapshot;
import io.centrigate.testing.HttpUpstream;
import io.centrigate.testing.RawClient;

/** Issue 4, acceptance 4: upstream keep-alive pool, nodes that close idle connections, and safe retries. */
@Timeout(120)
class UpstreamPoolTest
{
    private static final int REQUESTS = 10_000;

    private static HttpClient http()
    {
        return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
    }

    @Test
    void tenThousandSequentialRequestsUseAtMostTwoUpstreamConnectionsPerLoop() throws Exception
    {
        try (HttpUpstream upstream = new HttpUpstream();
            Proxy proxy = TestProxies.start(TestProxies.context(upstream.address())))
        {
            final HttpClient http = http();
            final URI uri = URI.create("http://127.0.0.1:" + TestProxies.address(proxy).getPort() + "/api/info");
            for (int i = 0; i < REQUESTS; i++)
            {
                final HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri)
                    .POST(HttpRequest.BodyPublishers.ofString("{\"n\":" + i + "}")).timeout(Duration.ofSeconds(5)).build(),
                    HttpResponse.BodyHandlers.ofString());
                assertEquals(200, r.statusCode());
                assertEquals("{\"n\":" + i + "}", r.body());
            }
            final int loops = proxy.context().loops();
            assertTrue(upstream.connections() <= loops * 2,
                upstream.connections() + " upstream connections for " + REQUESTS + " requests");
            final List<LoopSnapshot> snap = proxy.snapshot(5, TimeUnit.SECONDS);
            assertEquals(REQUESTS, snap.stream().mapToLong(LoopSnapshot::requests).sum());
            assertTrue(snap.stream().mapToLong(LoopSnapshot::pooledReuses).sum() >= REQUESTS - loops * 2);
        }
    }

    @Test
    void anUpstreamThatClosesIdleConnectionsAfterOneSecondCausesNoClientError() throws Exception
    {
        try (HttpUpstream upstream = new HttpUpstream().idleClose(1000);
            Proxy proxy = TestProxies.start(TestProxies.context(upstream.address()).loops(1)))
        {
            final HttpClient http = http();
            final URI uri = URI.create("http://127.0.0.1:" + TestProxies.address(proxy).getPort() + "/api/info");
            for (int round = 0; round < 3; round++)
            {
                for (int i = 0; i < 5; i++)
                {
                    final HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri)
                        .POST(HttpRequest.BodyPublishers.ofString("r" + round + i)).build(), HttpResponse.BodyHandlers.ofString());
                    assertEquals(200, r.statusCode());
                    assertEquals("r" + round + i, r.body());
                }
                Thread.sleep(1300); // idle longer than the upstream keeps connections: the condition under test
            }
            assertEquals(3, upstream.connections(), "one upstream connection per round, each closed by the node");
            assertTrue(upstream.failures().isEmpty(), upstream.failures().toString());
        }
    }

    /** A node that takes a second request on a connection and then closes it unanswered, as if it had timed out. */
    private static HttpUpstream closingOnSecondRequest(final Map<Integer, AtomicInteger> perConnection)
    {
        final HttpUpstream upstream;
        try
        {
            upstream = new HttpUpstream();
        }
        catch (final java.io.IOException e)
        {
            throw new IllegalStateException(e);
        }
        return upstream.handler((r, out) ->
        {
            if (perConnection.computeIfAbsent(r.connection(), c -> new AtomicInteger()).incrementAndGet() == 2)
            {
                return false;
            }
            return HttpUpstream.echo(r, out);
        });
    }

    @Test
    void retriesARequestOnceOnAFreshConnectionWhenAPooledOneWasClosedUnderIt() throws Exception
    {
        final Map<Integer, AtomicInteger> perConnection = new ConcurrentHashMap<>();
        try (HttpUpstream upstream = closingOnSecondRequest(perConnection);
            Proxy proxy = TestProxies.start(TestProxies.context(upstream.address()).loops(1));
            RawClient client = new RawClient(TestProxies.address(proxy)))
        {
            client.send("POST /api/publish HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\none");
            assertTrue(client.readHead().startsWith("HTTP/1.1 200 "));
            assertEquals("one", new String(client.readExactly(3), StandardCharsets.ISO_8859_1));
            client.send("GET /api/info HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\ntwo");
            assertTrue(client.readHead().startsWith("HTTP/1.1 200 "), "retried on a fresh connection");
            assertEquals("two", new String(client.readExactly(3), StandardCharsets.ISO_8859_1));
            assertEquals(2, upstream.connections());
            assertEquals(1, proxy.snapshot(5, TimeUnit.SECONDS).get(0).retries());
        }
    }

    @Test
    void neverReplaysAnEmulationPost() throws Exception
    {
        final Map<Integer, AtomicInteger> perConnection = new ConcurrentHashMap<>();
        try (HttpUpstream upstream = closingOnSecondRequest(perConnection);
            Proxy proxy = TestProxies.start(TestProxies.context(upstream.address()).loops(1));
            RawClient client = new RawClient(TestProxies.address(proxy)))
        {
            client.send("POST /emulation HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\none");
            assertTrue(client.readHead().startsWith("HTTP/1.1 200 "));
            client.readExactly(3);
            client.send("POST /emulation HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\ntwo");
            final String response = client.readAll();
            assertTrue(response.startsWith("HTTP/1.1 502 "), response);
            assertEquals(1, upstream.connections(), "not replayed");
            assertEquals(2, upstream.requests().size());
        }
    }
}
