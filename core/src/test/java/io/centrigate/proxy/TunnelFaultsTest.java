package io.centrigate.proxy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.centrigate.metrics.LoopSnapshot;
import io.centrigate.testing.RawClient;
import io.centrigate.testing.RawUpstream;

/** Acceptance 4, tunnels: half-close, resets, slow consumers, and upstream answers that are not a tunnel. */
@Timeout(60)
class TunnelFaultsTest
{
    private static RawUpstream.Accepted openTunnel(final RawUpstream upstream, final RawClient client) throws Exception
    {
        final String key = RawClient.newKey();
        client.send(RawClient.upgradeRequest(key, ""));
        final RawUpstream.Accepted side = upstream.take();
        final String head = client.readHead();
        assertTrue(head.startsWith("HTTP/1.1 101 "), head);
        assertEquals(RawUpstream.acceptFor(key), RawUpstream.header(head, "Sec-WebSocket-Accept"));
        return side;
    }

    @Test
    void passesAClientHalfCloseOnAndKeepsTheOtherDirectionFlowing() throws Exception
    {
        try (RawUpstream upstream = new RawUpstream();
            Proxy proxy = TestProxies.start(TestProxies.context(upstream.address()));
            RawClient client = new RawClient(TestProxies.address(proxy)))
        {
            final Socket up = openTunnel(upstream, client).socket();
            final byte[] frame = RawClient.maskedFrame(1, "hello".getBytes(StandardCharsets.UTF_8));
            client.send(frame);
            client.socket().shutdownOutput();
            final InputStream upIn = up.getInputStream();
            assertArrayEquals(frame, upIn.readNBytes(frame.length));
            assertEquals(-1, upIn.read(), "the client's FIN reaches the upstream");
            up.getOutputStream().write("late reply".getBytes(StandardCharsets.UTF_8));
            assertEquals("late reply", new String(client.readExactly(10), StandardCharsets.UTF_8));
            up.close();
            assertTrue(client.closedByPeer());
            TestProxies.awaitIdle(proxy, 10_000);
        }
    }

    @Test
    void passesAnUpstreamHalfCloseOnAndKeepsTheOtherDirectionFlowing() throws Exception
    {
        try (RawUpstream upstream = new RawUpstream();
            Proxy proxy = TestProxies.start(TestProxies.context(upstream.address()));
            RawClient client = new RawClient(TestProxies.address(proxy)))
        {
            final Socket up = openTunnel(upstream, client).socket();
            up.getOutputStream().write("bye".getBytes(StandardCharsets.UTF_8));
            up.shutdownOutput();
            assertEquals("bye", new String(client.readExactly(3), StandardCharsets.UTF_8));
            assertEquals(-1, client.socket().getInputStream().read(), "the upstream's FIN reaches the client");
            final byte[] frame = RawClient.maskedFrame(2, new byte[1000]);
            client.send(frame);
            assertArrayEquals(frame, up.getInputStream().readNBytes(frame.length));
            client.close();
            assertEquals(-1, up.getInputStream().read());
            TestProxies.awaitIdle(proxy, 10_000);
        }
    }

    @Test
    void closesTheClientWhenTheUpstreamResetsMidTunnel() throws Exception
    {
        try (RawUpstream upstream = new RawUpstream();
            Proxy proxy = TestProxies.start(TestProxies.context(upstream.address()));
            RawClient client = new RawClient(TestProxies.address(proxy)))
        {
            final Socket up = openTunnel(upstream, client).socket();
            client.send(RawClient.maskedFrame(1, new byte[10]));
            up.getInputStream().readNBytes(16);
            up.setSoLinger(true, 0);
            up.close(); // RST
            assertTrue(client.closedByPeer());
            final List<LoopSnapshot> idle = TestProxies.awaitIdle(proxy, 10_000);
            assertEquals(1, idle.stream().mapToLong(LoopSnapshot::tunnelsOpened).sum());
        }
    }

    @Test
    void passesAClientResetOnToTheUpstreamAsAReset() throws Exception
    {
        try (RawUpstream upstream = new RawUpstream();
            Proxy proxy = TestProxies.start(TestProxies.context(upstream.address()));
            RawClient client = new RawClient(TestProxies.address(proxy)))
        {
            final Socket up = openTunnel(upstream, client).socket();
            up.setSoTimeout(10_000);
            client.send(RawClient.maskedFrame(1, new byte[10]));
            up.getInputStream().readNBytes(16);
            client.socket().setSoLinger(true, 0);
            client.close(); // RST
            // A FIN would read as -1; the abort must arrive as an abort (and leave no TIME_WAIT at the proxy).
            final java.net.SocketException reset = org.junit.jupiter.api.Assertions.assertThrows(
                java.net.SocketException.class, () -> up.getInputStream().read());
            assertTrue(String.valueOf(reset.getMessage()).contains("reset"), String.valueOf(reset.getMessage()));
            TestProxies.awaitIdle(proxy, 10_000);
        }
    }

    @Test
    void aClientThatNeverReadsCostsBoundedMemoryAndOthersAreUnaffected() throws Exception
    {
        try (RawUpstream upstream = new RawUpstream();
            Proxy proxy = TestProxies.start(TestProxies.context(upstream.address()).loops(1));
            RawClient sleeper = new RawClient(TestProxies.address(proxy));
            RawClient other = new RawClient(TestProxies.address(proxy)))
        {
            final Socket flooded = openTunnel(upstream, sleeper).socket();
            final AtomicLong written = new AtomicLong();
            final Thread flood = new Thread(() ->
            {
                final byte[] block = new byte[64 * 1024];
                try
                {
                    final OutputStream out = flooded.getOutputStream();
                    for (int i = 0; i < 4096; i++) // 256 MiB: far more than every socket buffer on the way
                    {
                        out.write(block);
                        written.addAndGet(block.length);
                    }
                }
                catch (final Exception ignore)
                {
                    // Closed at the end of the test.
                }
            }, "flood");
            flood.setDaemon(true);
            flood.start();
            // Wait (bounded) until the flood stalls: the proxy stopped reading because the client does not.
            long last = -1;
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (written.get() != last && System.nanoTime() < deadline)
            {
                last = written.get();
                flood.join(500);
            }
            assertTrue(flood.isAlive(), "the flood must be held back, not buffered: wrote " + written.get());

            final Socket up = openTunnel(upstream, other).socket();
            final byte[] frame = RawClient.maskedFrame(1, "ping".getBytes(StandardCharsets.UTF_8));
            other.send(frame);
            assertArrayEquals(frame, up.getInputStream().readNBytes(frame.length));
            up.getOutputStream().write(new byte[] {(byte)0x81, 2, 'o', 'k'});
            assertArrayEquals(new byte[] {(byte)0x81, 2, 'o', 'k'}, other.readExactly(4));

            final LoopSnapshot snap = proxy.snapshot(5, TimeUnit.SECONDS).get(0);
            assertTrue(snap.chunksInUse() <= 1, "one chunk per stalled direction: " + snap);
            assertTrue(snap.chunksHighWater() <= 4, "memory stays bounded: " + snap);
            flooded.setSoLinger(true, 0);
            flooded.close();
            up.close();
        }
    }

    @Test
    void relaysANon101AnswerToAnUpgradeAsAnOrdinaryResponse() throws Exception
    {
        try (RawUpstream upstream = new RawUpstream();
            Proxy proxy = TestProxies.start(TestProxies.context(upstream.address()));
            RawClient client = new RawClient(TestProxies.address(proxy)))
        {
            upstream.respondWith(head ->
                "HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: 6\r\nConnection: keep-alive\r\n\r\ndenied");
            client.send(RawClient.upgradeRequest(RawClient.newKey(), ""));
            final String response = client.readAll();
            assertTrue(response.startsWith("HTTP/1.1 403 Forbidden\r\n"), response);
            assertTrue(response.endsWith("\r\n\r\ndenied"), response);
            assertTrue(response.contains("Connection: close"), response);
            TestProxies.awaitIdle(proxy, 10_000);
        }
    }

    @Test
    void answers502ToA101WithAWrongAcceptKeyAndHoldsBackEarlyFrames() throws Exception
    {
        try (RawUpstream upstream = new RawUpstream();
            Proxy proxy = TestProxies.start(TestProxies.context(upstream.address()));
            RawClient client = new RawClient(TestProxies.address(proxy)))
        {
            upstream.respondWith(head -> "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
                "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n");
            // A request smuggled behind the upgrade must never reach the upstream as HTTP.
            client.send(RawClient.upgradeRequest(RawClient.newKey(), "") + "GET /admin HTTP/1.1\r\nHost: a\r\n\r\n");
            final RawUpstream.Accepted side = upstream.take();
            final String response = client.readAll();
            assertTrue(response.startsWith("HTTP/1.1 502 "), response);
            side.socket().setSoTimeout(5000);
            final byte[] rest = side.socket().getInputStream().readAllBytes();
            assertEquals(0, rest.length, "bytes after the upgrade head were forwarded: " + new String(rest));
        }
    }

    @Test
    void answers502ToAnUnsolicited101() throws Exception
    {
        try (RawUpstream upstream = new RawUpstream();
            Proxy proxy = TestProxies.start(TestProxies.context(upstream.address()));
            RawClient client = new RawClient(TestProxies.address(proxy)))
        {
            upstream.respondWith(head -> "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
            client.send("GET /api HTTP/1.1\r\nHost: a\r\n\r\n");
            final String response = client.readAll();
            assertTrue(response.startsWith("HTTP/1.1 502 "), response);
        }
    }

    @Test
    void proxiesAPlainRequestWithItsBody() throws Exception
    {
        try (RawUpstream upstream = new RawUpstream();
            Proxy proxy = TestProxies.start(TestProxies.context(upstream.address()));
            RawClient client = new RawClient(TestProxies.address(proxy)))
        {
            upstream.respondWith(head -> null);
            client.send("POST /api/publish HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello");
            final RawUpstream.Accepted side = upstream.take();
            assertTrue(side.requestHead().startsWith("POST /api/publish HTTP/1.1\r\n"), side.requestHead());
            assertNull(RawUpstream.header(side.requestHead(), "Connection"), "HTTP/1.1 upstream keep-alive");
            assertEquals("hello", new String(side.socket().getInputStream().readNBytes(5), StandardCharsets.UTF_8));
            side.socket().getOutputStream().write(
                "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".getBytes(StandardCharsets.ISO_8859_1));
            final String response = client.readAll();
            assertTrue(response.startsWith("HTTP/1.1 200 OK\r\n") && response.endsWith("\r\n\r\nok"), response);
            TestProxies.awaitIdle(proxy, 10_000);
        }
    }

    @Test
    void answers504WhenTheUpstreamSaysNothingWithinTheReadTimeout() throws Exception
    {
        try (RawUpstream upstream = new RawUpstream();
            Proxy proxy = TestProxies.start(TestProxies.context(upstream.address()).readTimeoutNs(300_000_000L));
            RawClient client = new RawClient(TestProxies.address(proxy)))
        {
            upstream.respondWith(head -> null);
            client.send(RawClient.upgradeRequest(RawClient.newKey(), ""));
            final String response = client.readAll();
            assertTrue(response.startsWith("HTTP/1.1 504 "), response);
        }
    }

    @Test
    void closesATunnelIdleForLongerThanTheTunnelIdleTimeout() throws Exception
    {
        try (RawUpstream upstream = new RawUpstream();
            Proxy proxy = TestProxies.start(TestProxies.context(upstream.address()).tunnelIdleTimeoutNs(300_000_000L));
            RawClient client = new RawClient(TestProxies.address(proxy)))
        {
            final Socket up = openTunnel(upstream, client).socket();
            assertTrue(client.closedByPeer());
            assertEquals(-1, up.getInputStream().read());
            TestProxies.awaitIdle(proxy, 10_000);
        }
    }

    @Test
    void framesSentBeforeThe101ReachTheNodeOnlyAfterIt() throws Exception
    {
        try (RawUpstream upstream = new RawUpstream();
            Proxy proxy = TestProxies.start(TestProxies.context(upstream.address()));
            RawClient client = new RawClient(TestProxies.address(proxy)))
        {
            upstream.respondWith(head -> null);
            final String key = RawClient.newKey();
            client.send(RawClient.upgradeRequest(key, ""));
            final RawUpstream.Accepted side = upstream.take();
            final byte[] early = RawClient.maskedFrame(1, "too early".getBytes(StandardCharsets.UTF_8));
            client.send(early);
            side.socket().setSoTimeout(300);
            try
            {
                final int b = side.socket().getInputStream().read();
                throw new AssertionError("a byte reached the node before its 101: " + b);
            }
            catch (final java.net.SocketTimeoutException expected)
            {
                // Held back, as it must be.
            }
            side.socket().setSoTimeout(10_000);
            side.socket().getOutputStream().write(RawUpstream.switchingProtocols(side.requestHead())
                .getBytes(StandardCharsets.ISO_8859_1));
            assertTrue(client.readHead().startsWith("HTTP/1.1 101 "));
            assertArrayEquals(early, side.socket().getInputStream().readNBytes(early.length));
        }
    }
}
