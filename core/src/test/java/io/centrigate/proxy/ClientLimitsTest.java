package io.centrigate.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.centrigate.config.ProxyContext;
import io.centrigate.limit.ClientTable;
import io.centrigate.metrics.LoopSnapshot;
import io.centrigate.metrics.LoopStats;
import io.centrigate.testing.RawClient;
import io.centrigate.testing.RawUpstream;
import io.centrigate.testing.WsEchoUpstream;

/**
 * Issue 15, limits per client address: concurrent connections ({@code --max-connections-per-client}) and WebSocket
 * handshakes per second with a burst ({@code --handshake-rate-per-client}), answered 429 with {@code Retry-After}
 * before anything reaches a node; the client is the peer, the source a PROXY header names (an IPv6 /64 counts as one
 * client) or the X-Forwarded-For client of a trusted forwarder; and no count outlives its connection.
 */
@Timeout(180)
class ClientLimitsTest
{
    private static long key(final String address) throws IOException
    {
        return ClientTable.key(InetAddress.getByName(address));
    }

    private static String upgrade()
    {
        return RawClient.upgradeRequest(RawClient.newKey(), "");
    }

    /** Polls the table (a bounded wait, not a sleep as synchronisation). */
    private static void awaitConnections(final Proxy proxy, final String address, final int n) throws Exception
    {
        final long key = key(address);
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (proxy.clientTable().connections(key) != n)
        {
            if (System.nanoTime() - deadline > 0)
            {
                throw new AssertionError(address + " holds " + proxy.clientTable().connections(key) + ", not " + n);
            }
            Thread.sleep(5);
        }
    }

    /** The node's onOpen runs on its own thread, a moment after its 101: a bounded wait for the count. */
    private static void assertOpened(final WsEchoUpstream ws, final int n, final String message) throws Exception
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (ws.opened() < n && System.nanoTime() - deadline < 0)
        {
            Thread.sleep(5);
        }
        assertEquals(n, ws.opened(), message);
    }

    private static void awaitTableEmpty(final Proxy proxy) throws Exception
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (proxy.clientTable().census(System.nanoTime()).connections() != 0)
        {
            if (System.nanoTime() - deadline > 0)
            {
                throw new AssertionError("the client table still counts " +
                    proxy.clientTable().census(System.nanoTime()));
            }
            Thread.sleep(10);
        }
    }

    private static long limitCount(final Proxy proxy, final int index) throws Exception
    {
        long n = 0;
        for (final LoopSnapshot s : proxy.snapshot(5, TimeUnit.SECONDS))
        {
            n += s.limits()[index];
        }
        return n;
    }

    private static void assertTooManyRequests(final String answer, final String retryAfter)
    {
        assertTrue(answer.startsWith("HTTP/1.1 429 Too Many Requests\r\n"), answer);
        assertTrue(answer.contains("\r\nConnection: close\r\n"), answer);
        assertEquals(retryAfter, RawUpstream.header(answer, "Retry-After"), answer);
    }

    @Test
    void theConnectionPastTheLimitOfAnAddressGets429AndNeverReachesANode() throws Exception
    {
        try (WsEchoUpstream ws = WsEchoUpstream.start(0);
            Proxy proxy = TestProxies.start(TestProxies.context(ws.address()).maxConnectionsPerClient(3)))
        {
            final InetSocketAddress address = TestProxies.address(proxy);
            final List<RawClient> tunnels = new ArrayList<>();
            for (int i = 0; i < 3; i++)
            {
                final RawClient c = new RawClient(address, "127.0.0.1");
                c.send(upgrade());
                assertTrue(c.readHead().startsWith("HTTP/1.1 101 "));
                tunnels.add(c);
            }
            awaitConnections(proxy, "127.0.0.1", 3);
            try (RawClient fourth = new RawClient(address, "127.0.0.1"))
            {
                // Answered at accept, before it sent anything: nothing of it can reach a node.
                assertTooManyRequests(fourth.readAll(), "1");
            }
            try (RawClient other = new RawClient(address, "127.0.0.2"))
            {
                other.send(upgrade());
                assertTrue(other.readHead().startsWith("HTTP/1.1 101 "), "another address has its own limit");
            }
            assertOpened(ws, 4, "the node saw the three tunnels and the other address only");
            assertEquals(1, limitCount(proxy, LoopStats.REFUSED_CONNECTIONS));

            tunnels.remove(0).close();
            awaitConnections(proxy, "127.0.0.1", 2);
            try (RawClient again = new RawClient(address, "127.0.0.1"))
            {
                again.send(upgrade());
                assertTrue(again.readHead().startsWith("HTTP/1.1 101 "), "a closed connection frees its place");
            }
            for (final RawClient c : tunnels)
            {
                c.close();
            }
            awaitTableEmpty(proxy);
        }
    }

    /**
     * Issue 15, acceptance 2: a sprayer of 100,000 distinct source addresses (a bound loop over 127.0.0.0/8, up to
     * 2,000 connections open at once against a table of 1,024 slots) grows nothing: the table keeps its slots, what
     * it cannot hold is let through untracked, and a client holding its limit meanwhile keeps its count and its 429.
     */
    @Test
    void aSprayerOfAddressesGrowsNothingAndCannotEvictAClientAtItsLimit() throws Exception
    {
        try (WsEchoUpstream ws = WsEchoUpstream.start(0);
            Proxy proxy = TestProxies.start(TestProxies.context(ws.address()).maxConnectionsPerClient(3)
                .clientTableSize(1024)))
        {
            final InetSocketAddress address = TestProxies.address(proxy);
            final List<RawClient> heavy = new ArrayList<>();
            for (int i = 0; i < 3; i++)
            {
                final RawClient c = new RawClient(address, "127.0.0.1");
                c.send(upgrade());
                assertTrue(c.readHead().startsWith("HTTP/1.1 101 "));
                heavy.add(c);
            }
            awaitConnections(proxy, "127.0.0.1", 3);
            final int slots = proxy.clientTable().slots();
            final int sprayed = spray(address, 100_000, 2_000);
            assertEquals(100_000, sprayed, "every sprayed connection was accepted and closed by its client");
            assertEquals(slots, proxy.clientTable().slots(), "the table never grows");
            assertTrue(limitCount(proxy, LoopStats.CLIENT_UNTRACKED) > 0, "more addresses at once than slots: "
                + "some went untracked (fail open)");
            assertEquals(3, proxy.clientTable().connections(key("127.0.0.1")), "the client at its limit kept its count");
            try (RawClient fourth = new RawClient(address, "127.0.0.1"))
            {
                assertTooManyRequests(fourth.readAll(), "1");
            }
            for (final RawClient c : heavy)
            {
                c.close();
            }
            awaitTableEmpty(proxy);
        }
    }

    /**
     * {@code total} connections, each from its own address of 127.0.0.0/8 (127.1.0.0 on), the last {@code open}
     * kept open (the oldest closed as each new one connects); returns how many connected.
     */
    private static int spray(final InetSocketAddress target, final int total, final int open) throws Exception
    {
        int started = 0;
        int connected = 0;
        final java.util.ArrayDeque<java.nio.channels.SocketChannel> held = new java.util.ArrayDeque<>();
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        try (java.nio.channels.Selector selector = java.nio.channels.Selector.open())
        {
            while (connected < total)
            {
                if (System.nanoTime() - deadline > 0)
                {
                    throw new AssertionError("spray stuck at " + connected + " of " + total);
                }
                while (started < total && started - connected < 256)
                {
                    final int n = started + 65_536;
                    final java.nio.channels.SocketChannel ch = java.nio.channels.SocketChannel.open();
                    ch.configureBlocking(false);
                    ch.bind(new InetSocketAddress(InetAddress.getByAddress(
                        new byte[] {127, (byte)(n >>> 16), (byte)(n >>> 8), (byte)n}), 0));
                    ch.connect(target);
                    ch.register(selector, java.nio.channels.SelectionKey.OP_CONNECT);
                    started++;
                }
                selector.select(100);
                for (final java.nio.channels.SelectionKey k : selector.selectedKeys())
                {
                    final java.nio.channels.SocketChannel ch = (java.nio.channels.SocketChannel)k.channel();
                    try
                    {
                        if (ch.finishConnect())
                        {
                            k.cancel();
                            connected++;
                            held.add(ch);
                            if (held.size() > open)
                            {
                                held.poll().close();
                            }
                        }
                    }
                    catch (final IOException e)
                    {
                        throw new AssertionError("a sprayed connection failed after " + connected, e);
                    }
                }
                selector.selectedKeys().clear();
            }
        }
        finally
        {
            for (final java.nio.channels.SocketChannel ch : held)
            {
                ch.close();
            }
        }
        return connected;
    }

    @Test
    void handshakesPastTheBurstGet429WithTheBucketsWaitAsRetryAfter() throws Exception
    {
        try (WsEchoUpstream ws = WsEchoUpstream.start(0);
            Proxy proxy = TestProxies.start(TestProxies.context(ws.address()).handshakeRatePerClient("1/m:3")))
        {
            final InetSocketAddress address = TestProxies.address(proxy);
            for (int i = 0; i < 3; i++)
            {
                try (RawClient c = new RawClient(address, "127.0.0.3"))
                {
                    c.send(upgrade());
                    assertTrue(c.readHead().startsWith("HTTP/1.1 101 "), "burst " + i);
                }
            }
            try (RawClient c = new RawClient(address, "127.0.0.3"))
            {
                c.send(upgrade());
                final String answer = c.readAll();
                assertTrue(answer.startsWith("HTTP/1.1 429 Too Many Requests\r\n"), answer);
                final int retryAfter = Integer.parseInt(RawUpstream.header(answer, "Retry-After"));
                assertTrue(retryAfter >= 55 && retryAfter <= 60, "one token a minute: " + answer);
                assertTrue(answer.endsWith("too many WebSocket handshakes from this client address\n"), answer);
            }
            try (RawClient c = new RawClient(address, "127.0.0.4"))
            {
                c.send(upgrade());
                assertTrue(c.readHead().startsWith("HTTP/1.1 101 "), "another address has its own bucket");
            }
            assertOpened(ws, 4, "the refused handshake never reached the node");
            assertEquals(1, limitCount(proxy, LoopStats.REFUSED_HANDSHAKE_RATE));
            awaitTableEmpty(proxy);
        }
    }

    /**
     * Behind a PROXY protocol balancer the client is the header's source, not the balancer; two addresses of one
     * IPv6 /64 are one client (one subscriber's line), another /64 and an IPv4 source are others.
     */
    @Test
    void clientsNamedByAProxyHeaderAreCountedByAddressAndIpv6Slash64() throws Exception
    {
        try (WsEchoUpstream ws = WsEchoUpstream.start(0);
            Proxy proxy = TestProxies.start(TestProxies.context(ws.address()).maxConnectionsPerClient(1)
                .proxyProtocol(List.of("plain"))))
        {
            final InetSocketAddress address = TestProxies.address(proxy);
            final List<RawClient> open = new ArrayList<>();
            for (final String source : List.of("TCP6 2001:db8:1:2::7 2001:db8::1", "TCP6 2001:db8:1:3::7 2001:db8::1",
                "TCP4 203.0.113.9 10.0.0.1"))
            {
                final RawClient c = new RawClient(address);
                c.send("PROXY " + source + " 5000 8080\r\n" + upgrade());
                assertTrue(c.readHead().startsWith("HTTP/1.1 101 "), source);
                open.add(c);
            }
            awaitConnections(proxy, "2001:db8:1:2::7", 1);
            assertEquals(0, proxy.clientTable().connections(key("127.0.0.1")), "the balancer is not a client");
            try (RawClient sameSlash64 = new RawClient(address))
            {
                sameSlash64.send("PROXY TCP6 2001:db8:1:2:ffff::8 2001:db8::1 5001 8080\r\n" + upgrade());
                assertTooManyRequests(sameSlash64.readAll(), "1");
            }
            assertOpened(ws, 3, "the refused connection never reached the node");
            for (final RawClient c : open)
            {
                c.close();
            }
            awaitTableEmpty(proxy);
        }
    }

    /** On a TLS listener the 429 comes over TLS, once the handshake is done. */
    @Test
    void aTlsClientPastTheLimitGets429OverTls() throws Exception
    {
        final io.centrigate.tls.TestCertificates cert = io.centrigate.tls.TestCertificates.ec();
        try (WsEchoUpstream ws = WsEchoUpstream.start(0);
            Proxy proxy = TestProxies.start(TestProxies.context(ws.address()).maxConnectionsPerClient(1)
                .tlsListen(new InetSocketAddress("127.0.0.1", 0)).tlsCert(cert.certificatePem())
                .tlsKey(cert.privateKeyPem())))
        {
            final InetSocketAddress tls = proxy.boundTlsAddresses().get(0);
            final javax.net.ssl.SSLSocketFactory factory = cert.clientContext().getSocketFactory();
            try (javax.net.ssl.SSLSocket first = (javax.net.ssl.SSLSocket)factory.createSocket(tls.getAddress(),
                tls.getPort()))
            {
                first.setSoTimeout(10_000);
                first.startHandshake();
                awaitConnections(proxy, "127.0.0.1", 1);
                try (javax.net.ssl.SSLSocket second = (javax.net.ssl.SSLSocket)factory.createSocket(tls.getAddress(),
                    tls.getPort()))
                {
                    second.setSoTimeout(10_000);
                    final String answer = new String(second.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
                    assertTooManyRequests(answer, "1");
                }
                first.getOutputStream().write(upgrade().getBytes(StandardCharsets.US_ASCII));
                assertTrue(RawUpstream.readHead(first.getInputStream()).startsWith("HTTP/1.1 101 "));
            }
            assertOpened(ws, 1, "only the first reached the node");
            awaitTableEmpty(proxy);
        }
    }

    /** A TLS listener behind a PROXY balancer: the header's client past its limit gets 429 over TLS. */
    @Test
    void aClientNamedByAProxyHeaderOnATlsListenerGets429OverTls() throws Exception
    {
        final io.centrigate.tls.TestCertificates cert = io.centrigate.tls.TestCertificates.ec();
        try (WsEchoUpstream ws = WsEchoUpstream.start(0);
            Proxy proxy = TestProxies.start(TestProxies.context(ws.address()).maxConnectionsPerClient(1)
                .tlsListen(new InetSocketAddress("127.0.0.1", 0)).tlsCert(cert.certificatePem())
                .tlsKey(cert.privateKeyPem()).proxyProtocol(List.of("tls"))))
        {
            final InetSocketAddress tls = proxy.boundTlsAddresses().get(0);
            final javax.net.ssl.SSLSocketFactory factory = cert.clientContext().getSocketFactory();
            final byte[] header = "PROXY TCP4 203.0.113.5 10.0.0.1 5000 443\r\n".getBytes(StandardCharsets.US_ASCII);
            try (java.net.Socket raw = new ProxyProtocolTest.PrefixedSocket(tls, header);
                javax.net.ssl.SSLSocket first = (javax.net.ssl.SSLSocket)factory.createSocket(raw, "localhost",
                    tls.getPort(), true))
            {
                first.startHandshake();
                first.getOutputStream().write(upgrade().getBytes(StandardCharsets.US_ASCII));
                assertTrue(RawUpstream.readHead(first.getInputStream()).startsWith("HTTP/1.1 101 "));
                // The header and the ClientHello in one segment, as a balancer sends them.
                try (java.net.Socket raw2 = new ProxyProtocolTest.PrefixedSocket(tls, header);
                    javax.net.ssl.SSLSocket second = (javax.net.ssl.SSLSocket)factory.createSocket(raw2, "localhost",
                        tls.getPort(), true))
                {
                    second.startHandshake();
                    final String answer = new String(second.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
                    assertTooManyRequests(answer, "1");
                }
            }
            assertOpened(ws, 1, "only the first reached the node");
            awaitTableEmpty(proxy);
        }
    }

    /** Behind a trusted forwarder each upgrade's X-Forwarded-For client is counted, never the forwarder itself. */
    @Test
    void behindATrustedForwarderTheForwardedClientIsCountedAtItsUpgrade() throws Exception
    {
        try (WsEchoUpstream ws = WsEchoUpstream.start(0);
            Proxy proxy = TestProxies.start(TestProxies.context(ws.address()).maxConnectionsPerClient(1)
                .trustedProxies(List.of("127.0.0.0/8"))))
        {
            final InetSocketAddress address = TestProxies.address(proxy);
            try (RawClient a = new RawClient(address); RawClient b = new RawClient(address))
            {
                a.send(RawClient.upgradeRequest(RawClient.newKey(), "X-Forwarded-For: 198.51.100.1\r\n"));
                assertTrue(a.readHead().startsWith("HTTP/1.1 101 "));
                b.send(RawClient.upgradeRequest(RawClient.newKey(), "X-Forwarded-For: 198.51.100.2\r\n"));
                assertTrue(b.readHead().startsWith("HTTP/1.1 101 "), "the forwarder's own address is not limited");
                try (RawClient c = new RawClient(address))
                {
                    c.send(RawClient.upgradeRequest(RawClient.newKey(), "X-Forwarded-For: 198.51.100.1\r\n"));
                    assertTooManyRequests(c.readAll(), "1");
                }
                assertOpened(ws, 2, "the refused upgrade never reached the node");
                assertEquals(1, proxy.clientTable().connections(key("198.51.100.1")));
            }
            awaitTableEmpty(proxy);
        }
    }

    /**
     * 10,000 connections end in every way a connection can end (the client closes before a byte, resets, is refused
     * by a limit, is answered an error, has a tunnel it closes or resets, is cut by the header timeout, or is closed
     * when the proxy closes); afterwards the table counts nothing.
     */
    @Test
    void noCountOutlivesItsConnectionWhicheverWayItEnds() throws Exception
    {
        try (WsEchoUpstream ws = WsEchoUpstream.start(0);
            Proxy proxy = TestProxies.start(TestProxies.context(ws.address()).maxConnectionsPerClient(4)
                .handshakeRatePerClient("100000/s:100000").headerTimeoutNs(TimeUnit.MILLISECONDS.toNanos(200))))
        {
            final InetSocketAddress address = TestProxies.address(proxy);
            final int threads = 8;
            final int perThread = 1_250;
            final ExecutorService pool = Executors.newFixedThreadPool(threads);
            try
            {
                final List<Future<?>> done = new ArrayList<>();
                for (int t = 0; t < threads; t++)
                {
                    final String local = "127.0.0." + (10 + t);
                    done.add(pool.submit(() ->
                    {
                        for (int i = 0; i < perThread; i++)
                        {
                            endOneConnection(proxy, address, local, i);
                        }
                        return null;
                    }));
                }
                for (final Future<?> f : done)
                {
                    f.get(150, TimeUnit.SECONDS);
                }
            }
            finally
            {
                pool.shutdownNow();
            }
            awaitTableEmpty(proxy);
            assertTrue(limitCount(proxy, LoopStats.REFUSED_CONNECTIONS) >= threads * (perThread / 16),
                "the limit refused its share");
            // Rate refusals, after a reload to a bucket of one a minute.
            proxy.reload(TestProxies.context(ws.address()).maxConnectionsPerClient(4).handshakeRatePerClient("1/m:1")
                .listen(address));
            for (int i = 0; i < 3; i++)
            {
                try (RawClient c = new RawClient(address, "127.0.0.30"))
                {
                    c.send(upgrade());
                    assertTrue(c.readHead().startsWith(i == 0 ? "HTTP/1.1 101 " : "HTTP/1.1 429 "));
                }
            }
            // Open ones are released when the proxy closes them.
            final ClientTable table = proxy.clientTable();
            final RawClient idle = new RawClient(address, "127.0.0.31");
            final RawClient tunnel = new RawClient(address, "127.0.0.31");
            tunnel.send(upgrade());
            assertTrue(tunnel.readHead().startsWith("HTTP/1.1 101 "));
            awaitConnections(proxy, "127.0.0.31", 2);
            proxy.close();
            assertEquals(0, table.census(System.nanoTime()).connections(), table.census(System.nanoTime()).toString());
            idle.close();
            tunnel.close();
        }
    }

    private static void refuseTheFifth(final Proxy proxy, final InetSocketAddress address, final String local)
        throws Exception
    {
        awaitConnections(proxy, local, 0);
        final List<RawClient> held = new ArrayList<>();
        try
        {
            for (int k = 0; k < 4; k++)
            {
                held.add(new RawClient(address, local));
            }
            awaitConnections(proxy, local, 4);
            try (RawClient fifth = new RawClient(address, local))
            {
                assertTooManyRequests(fifth.readAll(), "1");
            }
        }
        finally
        {
            for (final RawClient c : held)
            {
                c.close();
            }
        }
    }

    /** One connection of client {@code local}, ended the way {@code i} selects; a 429 is one way too. */
    private static void endOneConnection(final Proxy proxy, final InetSocketAddress address, final String local,
        final int i) throws Exception
    {
        switch (i % 8)
        {
            case 0: // connects and leaves without a byte
                new RawClient(address, local).close();
                break;
            case 1: // resets
                try (RawClient c = new RawClient(address, local))
                {
                    c.socket().setSoLinger(true, 0);
                }
                break;
            case 2: // a bad request: 400
                try (RawClient c = new RawClient(address, local))
                {
                    c.send("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n");
                    final String answer = c.readAll();
                    assertTrue(answer.startsWith("HTTP/1.1 400 ") || answer.startsWith("HTTP/1.1 429 "), answer);
                }
                break;
            case 3: // a tunnel the client closes
            case 4: // a tunnel the client resets
                try (RawClient c = new RawClient(address, local))
                {
                    c.send(upgrade());
                    final String head = c.readHead();
                    assertTrue(head.startsWith("HTTP/1.1 101 ") || head.startsWith("HTTP/1.1 429 "), head);
                    if (head.startsWith("HTTP/1.1 101 "))
                    {
                        c.send(RawClient.maskedFrame(0x1, "hi".getBytes(StandardCharsets.US_ASCII)));
                        c.readExactly(4);
                    }
                    if (i % 8 == 4)
                    {
                        c.socket().setSoLinger(true, 0);
                    }
                }
                break;
            case 5: // half a head, then the header timeout: 408
                if (i % 64 == 5)
                {
                    try (RawClient c = new RawClient(address, local))
                    {
                        c.send("GET / HTTP/1.1\r\nHost: a\r\n");
                        final String answer = c.readAll();
                        assertTrue(answer.startsWith("HTTP/1.1 408 ") || answer.startsWith("HTTP/1.1 429 "), answer);
                    }
                    break;
                }
                new RawClient(address, local).close();
                break;
            case 6: // refused by the connection limit: four held, the fifth gets 429
                if (i % 16 == 6)
                {
                    // An address of its own: a connection the client above closed may still wait in the backlog,
                    // and take a place when the proxy accepts it.
                    final String limited = local.replace("127.0.0.", "127.0.1.");
                    refuseTheFifth(proxy, address, limited);
                    break;
                }
                new RawClient(address, local).close();
                break;
            default: // a plain request the node answers
                try (RawClient c = new RawClient(address, local))
                {
                    c.send("GET /health HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
                    final String answer = c.readAll();
                    assertTrue(answer.startsWith("HTTP/1.1 200 ") || answer.startsWith("HTTP/1.1 429 "), answer);
                }
                break;
        }
    }
}
