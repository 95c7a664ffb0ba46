package io.centrigate.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.centrigate.config.ProxyContext;
import io.centrigate.loop.Transports;
import io.centrigate.metrics.LoopSnapshot;
import io.centrigate.testing.HttpUpstream;
import io.centrigate.testing.RawClient;
import io.centrigate.testing.RawUpstream;
import io.centrigate.testing.WsClient;
import io.centrigate.testing.WsEchoUpstream;

/** {@code --warmup}: loopback traffic through the proxy's own code before the real listeners bind. */
@Timeout(60)
class WarmupTest
{
    private static final long WARMUP_NS = TimeUnit.MILLISECONDS.toNanos(300);

    private static ProxyContext context(final WsEchoUpstream node, final HttpUpstream site)
    {
        return TestProxies.context(node.address())
            .groupUpstream("site", site.address(), 1).virtualHost("site.test", "site")
            .warmupNs(WARMUP_NS);
    }

    @Test
    void warmsUpOnATemporaryListenerThenServesRealClients() throws Exception
    {
        try (WsEchoUpstream node = WsEchoUpstream.start(0);
            HttpUpstream site = new HttpUpstream();
            Proxy proxy = TestProxies.start(context(node, site)))
        {
            final Warmup.Result warmup = proxy.warmup();
            assertNotNull(warmup);
            assertNull(warmup.error(), warmup.line());
            assertTrue(warmup.upgrades() > 0, warmup.line());
            assertTrue(warmup.requests() > 0, warmup.line());
            assertTrue(warmup.line().startsWith("centrigate: warmed up in "), warmup.line());
            assertEquals(proxy.context().transportInUse(), warmup.transport(),
                "the warm-up compiles the transport that serves");
            assertEquals(0, node.opened(), "warm-up traffic stays on its own node");
            assertTrue(site.requests().isEmpty(), "warm-up traffic stays on its own node");

            // The temporary listener is gone (unless the kernel happened to hand its port to the real one).
            if (warmup.listener().getPort() != TestProxies.address(proxy).getPort())
            {
                assertThrows(ConnectException.class, () -> new Socket().connect(warmup.listener(), 5_000));
            }

            final HttpClient http = HttpClient.newHttpClient();
            final WsClient ws = WsClient.connect(http, TestProxies.address(proxy), "/connection/websocket");
            assertEquals("after warm-up", ws.echoText("after warm-up"));
            try (RawClient client = new RawClient(TestProxies.address(proxy)))
            {
                client.send("POST /publish HTTP/1.1\r\nHost: site.test\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello");
                final String answer = client.readAll();
                assertTrue(answer.startsWith("HTTP/1.1 200 "), answer);
                assertTrue(answer.endsWith("hello"), answer);
            }
            ws.socket().sendClose(1000, "").get(10, TimeUnit.SECONDS);

            // The warm-up's connections were counted by its own proxy, not by this one.
            final List<LoopSnapshot> snapshot = TestProxies.awaitIdle(proxy, 10_000);
            assertEquals(2, snapshot.stream().mapToLong(LoopSnapshot::accepted).sum());
            assertEquals(1, snapshot.stream().mapToLong(LoopSnapshot::tunnelsOpened).sum());
        }
    }

    /**
     * The warm-up compiles what serves: a proxy asked for a transport other than the tests' default warms up on it
     * (it once warmed up on the default whatever was asked, so {@code --transport epoll --warmup 5s} left epoll's
     * paths cold). Needs a second transport here (JDK 22+ on Linux); on JDK 17 only NIO exists.
     */
    @Test
    void theWarmupRunsOnTheTransportThatServes() throws Exception
    {
        final String usual = new ProxyContext().transport();
        final List<String> others = java.util.stream.Stream.of(Transports.NIO, Transports.EPOLL, Transports.IO_URING)
            .filter(t -> !t.equals(usual) && Transports.unavailableReason(t) == null)
            .toList();
        org.junit.jupiter.api.Assumptions.assumeFalse(others.isEmpty(),
            "no transport but " + usual + " here: " + Transports.unavailableReason(Transports.EPOLL));
        for (final String transport : others)
        {
            try (WsEchoUpstream node = WsEchoUpstream.start(0);
                HttpUpstream site = new HttpUpstream();
                Proxy proxy = TestProxies.start(context(node, site).transport(transport)))
            {
                final Warmup.Result warmup = proxy.warmup();
                assertNull(warmup.error(), warmup.line());
                assertEquals(transport, proxy.context().transportInUse());
                assertEquals(transport, warmup.transport(), warmup.line());
                assertTrue(warmup.upgrades() > 0, warmup.line());
            }
        }
    }

    /**
     * With a TLS listener the warm-up drives TLS too (half its rounds), with the real certificate, on its own
     * listener: the TLS engine is the coldest code a WSS client meets. The real TLS listener serves afterwards.
     */
    @Test
    void withATlsListenerTheWarmupAlsoUpgradesOverTls() throws Exception
    {
        final io.centrigate.tls.TestCertificates cert = io.centrigate.tls.TestCertificates.ec();
        try (WsEchoUpstream node = WsEchoUpstream.start(0);
            HttpUpstream site = new HttpUpstream();
            // longer than the others' 300 ms: a cold TLS round is slow on a busy box, and one is what is asked
            Proxy proxy = TestProxies.start(context(node, site).warmupNs(TimeUnit.SECONDS.toNanos(3))
                .tlsListen(new InetSocketAddress("127.0.0.1", 0))
                .tlsCert(cert.certificatePem()).tlsKey(cert.privateKeyPem())))
        {
            final Warmup.Result warmup = proxy.warmup();
            // Cold TLS rounds on a loaded box can outlast the grace after the duration; that client is left to end
            // with the temporary proxy (the start goes on), so that error is allowed here and only that one.
            assertTrue(warmup.error() == null || warmup.error().equals("a warm-up client did not finish in time"),
                warmup.line());
            assertTrue(warmup.tlsUpgrades() > 0, "TLS upgrades in the warm-up: " + warmup.tlsUpgrades());
            assertTrue(warmup.upgrades() > warmup.tlsUpgrades(), "plain ones too: " + warmup.line());
            assertEquals(0, node.opened(), "warm-up traffic stays on its own node");

            final InetSocketAddress tls = proxy.boundTlsAddresses().get(0);
            try (javax.net.ssl.SSLSocket client = (javax.net.ssl.SSLSocket)cert.clientContext().getSocketFactory()
                .createSocket(tls.getAddress(), tls.getPort()))
            {
                client.setSoTimeout(10_000);
                client.getOutputStream().write(("GET /connection/websocket HTTP/1.1\r\nHost: localhost\r\n" +
                    "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
                    "Sec-WebSocket-Version: 13\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                final byte[] head = new byte[12];
                int n = 0;
                while (n < head.length)
                {
                    final int r = client.getInputStream().read(head, n, head.length - n);
                    assertTrue(r > 0, "the real TLS listener answered nothing");
                    n += r;
                }
                assertEquals("HTTP/1.1 101", new String(head, StandardCharsets.US_ASCII));
            }
        }
    }

    /** Tight limits (from one address, as the warm-up drives) neither fail the warm-up nor carry its counts over. */
    @Test
    void theWarmupRunsUnderTheLimitsCodeWithoutSpendingTheRealLimits() throws Exception
    {
        try (WsEchoUpstream node = WsEchoUpstream.start(0);
            HttpUpstream site = new HttpUpstream();
            Proxy proxy = TestProxies.start(context(node, site).maxConnectionsPerClient(1)
                .handshakeRatePerClient("1/m:1").maxHandshakeRate("1/m:1").admissionWaitNs(0)))
        {
            final Warmup.Result warmup = proxy.warmup();
            assertNull(warmup.error(), warmup.line());
            assertTrue(warmup.upgrades() > 1, warmup.line());
            assertEquals(0, proxy.clientTable().census(System.nanoTime()).connections());
            try (RawClient client = new RawClient(TestProxies.address(proxy)))
            {
                client.send(RawClient.upgradeRequest(RawClient.newKey(), ""));
                final String head = client.readHead();
                assertTrue(head.startsWith("HTTP/1.1 101 "), "the real limits are untouched: " + head);
            }
        }
    }

    /** What a handover relies on: while the warm-up runs the real port is not bound, the old process keeps it. */
    @Test
    void theRealListenerIsBoundOnlyAfterTheWarmup() throws Exception
    {
        // A free port outside the ephemeral range: with one from it, the probe's own connect could be given that
        // very port as its source and connect to itself (TCP self-connect), which reads as "the port accepted".
        int free = -1;
        for (int attempt = 0; attempt < 200 && free < 0; attempt++)
        {
            final int candidate = 21_000 + java.util.concurrent.ThreadLocalRandom.current().nextInt(2_000);
            try (ServerSocket probe = new ServerSocket(candidate, 1, java.net.InetAddress.getLoopbackAddress()))
            {
                free = probe.getLocalPort();
            }
            catch (final IOException taken)
            {
                // In use: another one.
            }
        }
        final int port = free;
        assertTrue(port > 0, "no free port in 21000-22999");
        final java.util.concurrent.CompletableFuture<Boolean> boundDuringWarmup = new java.util.concurrent.CompletableFuture<>();
        try (WsEchoUpstream node = WsEchoUpstream.start(0);
            HttpUpstream site = new HttpUpstream();
            RawUpstream probingNode = new RawUpstream().respondWith(head ->
            {
                try (Socket s = new Socket())
                {
                    s.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
                    boundDuringWarmup.complete(true);
                }
                catch (final IOException e)
                {
                    boundDuringWarmup.complete(false);
                }
                return "HTTP/1.1 500 Probe Done\r\nContent-Length: 0\r\n\r\n";
            });
            Proxy proxy = Proxy.start(new ProxyContext().listen(new InetSocketAddress("127.0.0.1", port)).loops(2)
                .upstream(node.address()).groupUpstream("site", site.address(), 1).virtualHost("site.test", "site")
                .warmupNs(WARMUP_NS), new PrintStream(OutputStream.nullOutputStream()), probingNode.address()))
        {
            assertEquals(Boolean.FALSE, boundDuringWarmup.get(10, TimeUnit.SECONDS),
                "the real port accepted connections while the warm-up ran");
            assertEquals(port, TestProxies.address(proxy).getPort());
            try (RawClient client = new RawClient(TestProxies.address(proxy)))
            {
                client.send("GET / HTTP/1.1\r\nHost: site.test\r\nConnection: close\r\n\r\n");
                assertTrue(client.readAll().startsWith("HTTP/1.1 200 "));
            }
        }
    }

    @Test
    void anUnreachableWarmupNodeStopsTheWarmupNotTheStart() throws Exception
    {
        final InetSocketAddress refusing;
        try (ServerSocket closed = new ServerSocket(0))
        {
            refusing = new InetSocketAddress("127.0.0.1", closed.getLocalPort());
        }
        assertStartsAfterABrokenWarmup(refusing);
    }

    @Test
    void aWarmupNodeThatAnswersGarbageStopsTheWarmupNotTheStart() throws Exception
    {
        try (RawUpstream garbage = new RawUpstream().respondWith(head -> "this is not HTTP\r\n\r\n"))
        {
            assertStartsAfterABrokenWarmup(garbage.address());
        }
    }

    private static void assertStartsAfterABrokenWarmup(final InetSocketAddress warmupNode) throws Exception
    {
        final ByteArrayOutputStream log = new ByteArrayOutputStream();
        try (WsEchoUpstream node = WsEchoUpstream.start(0);
            HttpUpstream site = new HttpUpstream();
            Proxy proxy = Proxy.start(context(node, site), new PrintStream(log, true, StandardCharsets.UTF_8), warmupNode))
        {
            final Warmup.Result warmup = proxy.warmup();
            assertNotNull(warmup.error(), warmup.line());
            assertTrue(warmup.line().startsWith("centrigate: warm-up stopped early after "), warmup.line());
            assertEquals(1, warmup.line().lines().count());
            assertEquals("", log.toString(StandardCharsets.UTF_8), "the warm-up's own errors stay out of the log");

            try (RawClient client = new RawClient(TestProxies.address(proxy)))
            {
                client.send("GET / HTTP/1.1\r\nHost: site.test\r\nConnection: close\r\n\r\n");
                assertTrue(client.readAll().startsWith("HTTP/1.1 200 "));
            }
        }
        catch (final IOException e)
        {
            throw new AssertionError("the start failed", e);
        }
    }
}
