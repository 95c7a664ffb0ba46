package io.centrigate.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.TimeUnit;

import io.centrigate.config.ProxyContext;
import io.centrigate.metrics.LoopSnapshot;
import io.centrigate.testing.HttpUpstream;
import io.centrigate.testing.RawClient;
import io.centrigate.testing.SaturatedListener;
import io.centrigate.testing.WsEchoUpstream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Under overload a proxy should serve late rather than fail (issue 11): a connect that times out is tried again
 * elsewhere, a client is never blamed for the proxy's own lateness, and a connection that has sent nothing waits
 * longer than a half-sent head may.
 */
@Timeout(60)
class OverloadTest
{
    private static final long MS = 1_000_000L;

    @Test
    void aConnectThatTimesOutMovesOnToTheNextNodeEvenForAPost() throws Exception
    {
        try (SaturatedListener saturated = new SaturatedListener();
            HttpUpstream node = new HttpUpstream();
            Proxy proxy = TestProxies.start(new ProxyContext().listen(new java.net.InetSocketAddress("127.0.0.1", 0))
                .loops(1).balance(ProxyContext.Balance.ROUND_ROBIN)
                .upstream(saturated.address()).upstream(node.address()).connectTimeoutNs(200 * MS)))
        {
            // Round robin starts with the first node, the saturated one: every request meets it once.
            for (final String method : List.of("GET", "POST"))
            {
                try (RawClient client = new RawClient(TestProxies.address(proxy)))
                {
                    client.send(method + " /connection/http_stream HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n" +
                        "Connection: close\r\n\r\nhi");
                    final String response = client.readAll();
                    assertTrue(response.startsWith("HTTP/1.1 200 "), method + ": " + response);
                    assertTrue(response.endsWith("\r\n\r\nhi"), response);
                }
            }
            assertEquals(2, node.requests().size(), "each request reached the healthy node once");
            assertTrue(total(proxy).upstreamConnectFailures() >= 1, "the saturated node was tried");
        }
    }

    @Test
    void aLoneSaturatedNodeIsTriedAgainUntilTheNextUpstreamTimeout() throws Exception
    {
        try (SaturatedListener saturated = new SaturatedListener();
            Proxy proxy = TestProxies.start(TestProxies.context(saturated.address()).loops(1)
                .connectTimeoutNs(100 * MS).nextUpstreamTimeoutNs(1_000 * MS)))
        {
            try (RawClient client = new RawClient(TestProxies.address(proxy)))
            {
                client.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
                assertTrue(client.readAll().startsWith("HTTP/1.1 502 "));
            }
            final long attempts = total(proxy).upstreamConnectFailures();
            assertTrue(attempts >= 3, "fresh connects within the budget, got " + attempts);
        }
    }

    @Test
    void withoutANextUpstreamTimeoutEachNodeIsTriedOnce() throws Exception
    {
        try (SaturatedListener saturated = new SaturatedListener();
            Proxy proxy = TestProxies.start(TestProxies.context(saturated.address()).loops(1)
                .connectTimeoutNs(100 * MS).nextUpstreamTimeoutNs(0)))
        {
            try (RawClient client = new RawClient(TestProxies.address(proxy)))
            {
                client.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
                assertTrue(client.readAll().startsWith("HTTP/1.1 502 "));
            }
            assertEquals(1, total(proxy).upstreamConnectFailures());
        }
    }

    @Test
    void aConnectionThatSendsNothingIsClosedSilentlyAfterTheFirstByteTimeout() throws Exception
    {
        try (HttpUpstream node = new HttpUpstream();
            Proxy proxy = TestProxies.start(TestProxies.context(node.address()).loops(1)
                .firstByteTimeoutNs(200 * MS).headerTimeoutNs(60_000 * MS)))
        {
            try (RawClient client = new RawClient(TestProxies.address(proxy)))
            {
                assertEquals("", client.readAll(), "no 408 for a connection that never sent a byte (as Nginx)");
            }
            TestProxies.awaitIdle(proxy, 10_000);
        }
    }

    @Test
    void aHalfSentHeadKeepsTheShortHeaderTimeout() throws Exception
    {
        try (HttpUpstream node = new HttpUpstream();
            Proxy proxy = TestProxies.start(TestProxies.context(node.address()).loops(1)
                .firstByteTimeoutNs(60_000 * MS).headerTimeoutNs(200 * MS)))
        {
            try (RawClient client = new RawClient(TestProxies.address(proxy)))
            {
                client.send("GET / HTTP/1.1\r\nHo");
                assertTrue(client.readAll().startsWith("HTTP/1.1 408 "));
            }
            assertEquals(0, node.connections());
        }
    }

    @Test
    void aClientWaitingForTheProxysBuffersIsNotBlamedForTheWait() throws Exception
    {
        final int chunk = 32 * 1024;
        final int chunks = ProxyContext.DEFAULT_CHUNKS_PER_SLAB; // the fewest a loop can have
        final List<RawClient> slow = new java.util.ArrayList<>();
        try (WsEchoUpstream node = WsEchoUpstream.start(0);
            Proxy proxy = TestProxies.start(TestProxies.context(node.address()).loops(1)
                .bufferMemory((long)chunks * chunk).chunkSize(chunk).headerTimeoutNs(1_000 * MS)
                .firstByteTimeoutNs(200 * MS)))
        {
            // Half-sent heads hold every chunk of the only loop; then a client sends a whole upgrade request.
            for (int i = 0; i < chunks; i++)
            {
                slow.add(new RawClient(TestProxies.address(proxy)).send("GET / HTTP/1.1\r\n"));
            }
            awaitChunksInUse(proxy, chunks);
            try (RawClient client = new RawClient(TestProxies.address(proxy)))
            {
                client.send(RawClient.upgradeRequest(RawClient.newKey(), ""));
                // The half-sent heads get their 408 after a second and free the chunks; only then can the proxy
                // read the request, long past its first-byte timeout: the wait was the proxy's, not the client's.
                for (final RawClient s : slow)
                {
                    assertTrue(s.readAll().startsWith("HTTP/1.1 408 "));
                }
                final String head = client.readHead();
                assertTrue(head.startsWith("HTTP/1.1 101 "), head);
            }
        }
        finally
        {
            for (final RawClient s : slow)
            {
                s.close();
            }
        }
    }

    @Test
    void aWholeHeadThatTakesTheLastChunkWaitsForASecondOneInsteadOfA503() throws Exception
    {
        final int chunk = 32 * 1024;
        final int chunks = ProxyContext.DEFAULT_CHUNKS_PER_SLAB;
        final List<RawClient> slow = new java.util.ArrayList<>();
        try (WsEchoUpstream node = WsEchoUpstream.start(0);
            Proxy proxy = TestProxies.start(TestProxies.context(node.address()).loops(1)
                .bufferMemory((long)chunks * chunk).chunkSize(chunk).headerTimeoutNs(1_000 * MS)))
        {
            // All chunks but one are held by half-sent heads: the upgrade request is read into the last one and
            // forwarding it needs another, which is free only once a half-sent head has had its 408.
            for (int i = 0; i < chunks - 1; i++)
            {
                slow.add(new RawClient(TestProxies.address(proxy)).send("GET / HTTP/1.1\r\n"));
            }
            awaitChunksInUse(proxy, chunks - 1);
            try (RawClient client = new RawClient(TestProxies.address(proxy)))
            {
                client.send(RawClient.upgradeRequest(RawClient.newKey(), ""));
                final String head = client.readHead();
                assertTrue(head.startsWith("HTTP/1.1 101 "), head);
            }
            for (final RawClient s : slow)
            {
                assertTrue(s.readAll().startsWith("HTTP/1.1 408 "));
            }
        }
        finally
        {
            for (final RawClient s : slow)
            {
                s.close();
            }
        }
    }

    private static void awaitChunksInUse(final Proxy proxy, final int chunks) throws Exception
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        LoopSnapshot snap;
        while ((snap = total(proxy)).chunksInUse() < chunks)
        {
            assertTrue(System.nanoTime() < deadline, "chunks never all in use: " + snap);
            Thread.sleep(5); // polling interval of a bounded wait
        }
    }

    private static LoopSnapshot total(final Proxy proxy) throws Exception
    {
        final List<LoopSnapshot> all = proxy.snapshot(5, TimeUnit.SECONDS);
        return all.size() == 1 ? all.get(0) : sum(all);
    }

    private static LoopSnapshot sum(final List<LoopSnapshot> all)
    {
        long failures = 0;
        int allocated = 0;
        int free = 0;
        for (final LoopSnapshot s : all)
        {
            failures += s.upstreamConnectFailures();
            allocated += s.chunksAllocated();
            free += s.chunksFree();
        }
        return new LoopSnapshot("all", 0, 0, 0, failures, 0, allocated, free, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            java.util.Map.of(), 0, 0, 0, 0, 0, 0, 0, List.of(), new long[0], new long[0], null, null, null, null, new long[1], new long[1], 0,
            new long[5], new long[7], null, new long[6], 0, 0, 0, 0);
    }
}
