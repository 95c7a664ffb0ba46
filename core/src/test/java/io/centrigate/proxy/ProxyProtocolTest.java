package io.centrigate.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

import javax.net.ssl.SSLSocket;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.centrigate.config.ProxyContext;
import io.centrigate.metrics.LoopSnapshot;
import io.centrigate.metrics.LoopStats;
import io.centrigate.testing.HttpUpstream;
import io.centrigate.testing.RawClient;
import io.centrigate.testing.RawUpstream;
import io.centrigate.testing.WsEchoUpstream;
import io.centrigate.tls.TestCertificates;

/**
 * Issue 15, the client address behind other proxies: a load balancer's PROXY protocol header (v1, v2) on plain and
 * TLS listeners, the connections a bad header closes, and trusted forwarders' X-Forwarded-For.
 */
@Timeout(60)
class ProxyProtocolTest
{
    private static final String REQUEST = "GET /connection/http_stream HTTP/1.1\r\nHost: centrifugo.example.com\r\n\r\n";

    private static byte[] ascii(final String s)
    {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    private static byte[] concat(final byte[]... parts)
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (final byte[] p : parts)
        {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    /** A v2 PROXY header for TCP from {@code source} (IPv4 or IPv6) with {@code tlvs} after the addresses. */
    static byte[] v2(final String source, final int sourcePort, final byte[] tlvs) throws IOException
    {
        final byte[] src = InetAddress.getByName(source).getAddress();
        final ByteBuffer b = ByteBuffer.allocate(16 + 2 * src.length + 4 + tlvs.length);
        b.put(new byte[] {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A, 0x21});
        b.put((byte)(src.length == 4 ? 0x11 : 0x21)).putShort((short)(2 * src.length + 4 + tlvs.length));
        b.put(src).put(src.length == 4 ? new byte[] {10, 0, 0, 1} : InetAddress.getByName("2001:db8::1").getAddress());
        b.putShort((short)sourcePort).putShort((short)443).put(tlvs);
        return b.array();
    }

    private static final byte[] V2_LOCAL = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A, 0x20, 0x00,
        0x00, 0x00};

    /** An AWS-like TLV (0xEA, a VPC endpoint id) and an authority: what a real balancer adds. */
    private static final byte[] TLVS = concat(new byte[] {(byte)0xEA, 0, 22, 1}, ascii("vpce-0123456789abcdef"),
        new byte[] {0x02, 0, 11}, ascii("example.com"));

    private static ProxyContext context(final InetSocketAddress upstream, final String... proxyProtocol)
    {
        return TestProxies.context(upstream).proxyProtocol(List.of(proxyProtocol));
    }

    private static long refused(final Proxy proxy, final int reason) throws Exception
    {
        long n = 0;
        for (final LoopSnapshot s : proxy.snapshot(5, TimeUnit.SECONDS))
        {
            n += s.proxyHeaderRefused()[reason];
        }
        return n;
    }

    /** Sends {@code first} then a request and returns the answer's head. */
    private static String exchange(final InetSocketAddress proxy, final byte[] first, final String request)
        throws IOException
    {
        try (RawClient client = new RawClient(proxy))
        {
            client.send(concat(first, ascii(request)));
            return client.readHead();
        }
    }

    // ---------------------------------------------------------------- plain listener

    @Test
    void theNodeSeesTheAddressOfAV1HeaderOnEveryRequestOfTheConnection() throws Exception
    {
        try (HttpUpstream upstream = new HttpUpstream(); Proxy proxy = TestProxies.start(context(upstream.address(), "plain")))
        {
            try (RawClient client = new RawClient(TestProxies.address(proxy)))
            {
                client.send("PROXY TCP4 203.0.113.9 10.0.0.1 56324 8080\r\n" + REQUEST);
                assertTrue(client.readHead().startsWith("HTTP/1.1 200 "));
                client.send(REQUEST);
                assertTrue(client.readHead().startsWith("HTTP/1.1 200 "));
            }
            assertEquals(2, upstream.requests().size());
            for (final HttpUpstream.Request r : upstream.requests())
            {
                assertEquals("203.0.113.9", r.header("X-Real-IP"));
                assertEquals("203.0.113.9", r.header("X-Forwarded-For"));
                assertEquals("http", r.header("X-Forwarded-Proto"));
            }
            try (RawClient client = new RawClient(TestProxies.address(proxy)))
            {
                client.send("PROXY TCP6 2001:db8:0:0:0:0:0:7 2001:db8::1 56324 8080\r\n" + REQUEST);
                assertTrue(client.readHead().startsWith("HTTP/1.1 200 "));
            }
            assertEquals("2001:db8::7", upstream.requests().get(2).header("X-Real-IP"));
            TestProxies.awaitIdle(proxy, 10_000);
        }
    }

    @Test
    void aV2HeaderWithTlvsArrivingInPiecesAndApartFromTheHead() throws Exception
    {
        try (HttpUpstream upstream = new HttpUpstream(); Proxy proxy = TestProxies.start(context(upstream.address(), "plain")))
        {
            final byte[] header = v2("2001:db8::42", 4711, TLVS);
            try (RawClient client = new RawClient(TestProxies.address(proxy)))
            {
                client.socket().setTcpNoDelay(true);
                for (final byte b : header)
                {
                    client.send(new byte[] {b});
                }
                client.send(REQUEST.substring(0, 10));
                client.send(REQUEST.substring(10));
                assertTrue(client.readHead().startsWith("HTTP/1.1 200 "));
            }
            try (RawClient client = new RawClient(TestProxies.address(proxy)))
            {
                client.send(v2("198.51.100.23", 1, new byte[0]));
                client.send(REQUEST);
                assertTrue(client.readHead().startsWith("HTTP/1.1 200 "));
            }
            assertEquals("2001:db8::42", upstream.requests().get(0).header("X-Real-IP"));
            assertEquals("198.51.100.23", upstream.requests().get(1).header("X-Real-IP"));
            assertEquals(0, refused(proxy, LoopStats.PROXY_HEADER_MALFORMED));
        }
    }

    @Test
    void localAndUnknownKeepTheDirectPeer() throws Exception
    {
        try (HttpUpstream upstream = new HttpUpstream(); Proxy proxy = TestProxies.start(context(upstream.address(), "all")))
        {
            assertTrue(exchange(TestProxies.address(proxy), V2_LOCAL, REQUEST).startsWith("HTTP/1.1 200 "));
            assertTrue(exchange(TestProxies.address(proxy), ascii("PROXY UNKNOWN\r\n"), REQUEST).startsWith("HTTP/1.1 200 "));
            assertEquals("127.0.0.1", upstream.requests().get(0).header("X-Real-IP"));
            assertEquals("127.0.0.1", upstream.requests().get(1).header("X-Real-IP"));
        }
    }

    @Test
    void theInternalEndpointGuardJudgesTheAddressOfTheHeader() throws Exception
    {
        try (HttpUpstream upstream = new HttpUpstream(); Proxy proxy = TestProxies.start(context(upstream.address(), "plain")))
        {
            final String api = "POST /api HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n";
            // The peer is loopback (internal), but the client the load balancer names is not.
            assertTrue(exchange(TestProxies.address(proxy), ascii("PROXY TCP4 203.0.113.9 10.0.0.1 1 2\r\n"), api)
                .startsWith("HTTP/1.1 403 "));
            assertTrue(exchange(TestProxies.address(proxy), ascii("PROXY TCP4 10.2.3.4 10.0.0.1 1 2\r\n"), api)
                .startsWith("HTTP/1.1 200 "));
            assertEquals(1, upstream.requests().size());
            assertEquals("10.2.3.4", upstream.requests().get(0).header("X-Real-IP"));
        }
    }

    @Test
    void aWebSocketUpgradeCarriesTheAddressOfTheHeader() throws Exception
    {
        try (WsEchoUpstream ws = WsEchoUpstream.start(0); Proxy proxy = TestProxies.start(context(ws.address(), "plain")))
        {
            try (RawClient client = new RawClient(TestProxies.address(proxy)))
            {
                client.send(concat(v2("198.51.100.77", 5000, TLVS), ascii(RawClient.upgradeRequest(RawClient.newKey(), ""))));
                final String head = client.readHead();
                assertTrue(head.startsWith("HTTP/1.1 101 "), head);
                client.send(RawClient.maskedFrame(0x1, ascii("hello")));
                final byte[] echo = client.readExactly(7);
                assertEquals("hello", new String(echo, 2, 5, StandardCharsets.US_ASCII));
            }
            assertEquals("198.51.100.77", ws.handshakes().get(0).get("x-real-ip"));
            assertEquals("198.51.100.77", ws.handshakes().get(0).get("x-forwarded-for"));
        }
    }

    @Test
    void onlyTheNamedListenerRequiresTheHeader() throws Exception
    {
        try (HttpUpstream upstream = new HttpUpstream();
            Proxy proxy = TestProxies.start(TestProxies.context(upstream.address())
                .listen(new InetSocketAddress("127.0.0.2", 0)).proxyProtocol(List.of("127.0.0.2:0"))))
        {
            final InetSocketAddress other = proxy.boundAddresses().get(0);
            final InetSocketAddress named = proxy.boundAddresses().get(1);
            assertEquals("127.0.0.2", named.getAddress().getHostAddress());
            assertTrue(exchange(other, new byte[0], REQUEST).startsWith("HTTP/1.1 200 "));
            assertTrue(exchange(named, ascii("PROXY TCP4 203.0.113.9 10.0.0.1 1 2\r\n"), REQUEST).startsWith("HTTP/1.1 200 "));
            assertEquals("127.0.0.1", upstream.requests().get(0).header("X-Real-IP"));
            assertEquals("203.0.113.9", upstream.requests().get(1).header("X-Real-IP"));
        }
    }

    @Test
    void connectionsHandedToAnotherLoopByTheAcceptorRequireItToo() throws Exception
    {
        try (HttpUpstream upstream = new HttpUpstream();
            Proxy proxy = TestProxies.start(context(upstream.address(), "plain").loops(2)
                .acceptMode(ProxyContext.AcceptMode.ACCEPTOR)))
        {
            for (int i = 0; i < 6; i++)
            {
                assertTrue(exchange(TestProxies.address(proxy), ascii("PROXY TCP4 203.0.113." + i + " 10.0.0.1 1 2\r\n"),
                    REQUEST).startsWith("HTTP/1.1 200 "));
                assertEquals("203.0.113." + i, upstream.requests().get(i).header("X-Real-IP"));
            }
            for (int i = 0; i < 4; i++)
            {
                try (RawClient client = new RawClient(TestProxies.address(proxy)))
                {
                    client.send(REQUEST);
                    assertClosedSilently(client);
                }
            }
            assertEquals(4, refused(proxy, LoopStats.PROXY_HEADER_MISSING));
            final List<LoopSnapshot> loops = proxy.snapshot(5, TimeUnit.SECONDS);
            assertTrue(loops.stream().allMatch(l -> l.accepted() > 0), "both loops served some: " + loops);
        }
    }

    @Test
    void theRedirectListenerTakesTheHeaderToo() throws Exception
    {
        try (HttpUpstream upstream = new HttpUpstream();
            Proxy proxy = TestProxies.start(TestProxies.context(upstream.address())
                .redirectListen(new InetSocketAddress("127.0.0.1", 0)).proxyProtocol(List.of("all"))))
        {
            final String head = exchange(proxy.boundRedirectAddresses().get(0),
                ascii("PROXY TCP4 203.0.113.9 10.0.0.1 1 80\r\n"), "GET /x HTTP/1.1\r\nHost: example.com\r\n\r\n");
            assertTrue(head.startsWith("HTTP/1.1 301 "), head);
            assertEquals("https://example.com/x", RawUpstream.header(head, "Location"));
        }
    }

    // ---------------------------------------------------------------- refused

    /** The connection ends without an answer, and the node never hears of it. */
    private static void assertClosedSilently(final RawClient client) throws IOException
    {
        final InputStream in = client.socket().getInputStream();
        int n;
        try
        {
            n = in.read();
        }
        catch (final IOException reset)
        {
            n = -1;
        }
        assertEquals(-1, n, "no answer, only the close");
    }

    @Test
    void missingMalformedAndOversizedHeadersCloseTheConnectionAndAreCounted() throws Exception
    {
        try (HttpUpstream upstream = new HttpUpstream(); Proxy proxy = TestProxies.start(context(upstream.address(), "plain")))
        {
            final InetSocketAddress address = TestProxies.address(proxy);
            try (RawClient client = new RawClient(address))
            {
                client.send(REQUEST);
                assertClosedSilently(client);
            }
            try (RawClient client = new RawClient(address))
            {
                client.send("PROXY TCP4 203.0.113.009 10.0.0.1 1 2\r\n" + REQUEST);
                assertClosedSilently(client);
            }
            try (RawClient client = new RawClient(address))
            {
                client.send("PROXY TCP4 203.0.113.9 10.0.0.1 1 2\n" + REQUEST);
                assertClosedSilently(client);
            }
            try (RawClient client = new RawClient(address))
            {
                final byte[] bad = v2("203.0.113.9", 1, new byte[0]);
                bad[12] = 0x31; // version 3
                client.send(concat(bad, ascii(REQUEST)));
                assertClosedSilently(client);
            }
            try (RawClient client = new RawClient(address))
            {
                // 16 + 2,048 bytes announced, over the 1,536 bound: refused before the rest arrives.
                client.send(new byte[] {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A, 0x21, 0x11,
                    0x08, 0x00});
                assertClosedSilently(client);
            }
            try (RawClient client = new RawClient(address))
            {
                client.send("PROXY UNKNOWN " + "x".repeat(120) + "\r\n");
                assertClosedSilently(client);
            }
            try (RawClient client = new RawClient(address))
            {
                client.send("PROXY TCP4 203.0.113.9"); // then the peer leaves inside the header
                client.socket().shutdownOutput();
                assertClosedSilently(client);
            }
            assertEquals(1, refused(proxy, LoopStats.PROXY_HEADER_MISSING));
            assertEquals(4, refused(proxy, LoopStats.PROXY_HEADER_MALFORMED));
            assertEquals(2, refused(proxy, LoopStats.PROXY_HEADER_OVERSIZED));
            assertTrue(upstream.requests().isEmpty());
            TestProxies.awaitIdle(proxy, 10_000);
        }
    }

    @Test
    void aHalfSentHeaderIsClosedAtTheHeaderTimeout() throws Exception
    {
        try (HttpUpstream upstream = new HttpUpstream();
            Proxy proxy = TestProxies.start(context(upstream.address(), "plain").headerTimeoutNs(
                TimeUnit.MILLISECONDS.toNanos(300))))
        {
            try (RawClient client = new RawClient(TestProxies.address(proxy)))
            {
                client.send("PROXY TCP4 203.0.113.9 10.0");
                final long start = System.nanoTime();
                assertClosedSilently(client);
                assertTrue(System.nanoTime() - start >= TimeUnit.MILLISECONDS.toNanos(200), "not before the timeout");
            }
            assertEquals(1, refused(proxy, LoopStats.PROXY_HEADER_TIMEOUT));
        }
    }

    @Test
    void aPeerOutsideTheAllowedSetIsClosed() throws Exception
    {
        try (HttpUpstream upstream = new HttpUpstream();
            Proxy proxy = TestProxies.start(context(upstream.address(), "plain").proxyProtocolFrom(List.of("192.0.2.0/24"))))
        {
            try (RawClient client = new RawClient(TestProxies.address(proxy)))
            {
                client.send("PROXY TCP4 203.0.113.9 10.0.0.1 1 2\r\n" + REQUEST);
                assertClosedSilently(client);
            }
            assertEquals(1, refused(proxy, LoopStats.PROXY_HEADER_DISALLOWED));
            assertTrue(upstream.requests().isEmpty());
        }
        try (HttpUpstream upstream = new HttpUpstream();
            Proxy proxy = TestProxies.start(context(upstream.address(), "plain").proxyProtocolFrom(List.of("127.0.0.0/8"))))
        {
            assertTrue(exchange(TestProxies.address(proxy), ascii("PROXY TCP4 203.0.113.9 10.0.0.1 1 2\r\n"), REQUEST)
                .startsWith("HTTP/1.1 200 "));
            assertEquals("203.0.113.9", upstream.requests().get(0).header("X-Real-IP"));
        }
    }

    // ---------------------------------------------------------------- TLS listener

    /** A socket whose first write carries {@code prefix} in front: the PROXY header in the ClientHello's segment. */
    static final class PrefixedSocket extends Socket
    {
        private final byte[] prefix;
        private OutputStream out;

        PrefixedSocket(final InetSocketAddress to, final byte[] prefix) throws IOException
        {
            super(to.getAddress(), to.getPort());
            this.prefix = prefix;
            setSoTimeout(10_000);
        }

        @Override
        public synchronized OutputStream getOutputStream() throws IOException
        {
            if (out == null)
            {
                out = new FilterOutputStream(super.getOutputStream())
                {
                    private boolean sent;

                    @Override
                    public void write(final byte[] b, final int off, final int len) throws IOException
                    {
                        if (!sent)
                        {
                            sent = true;
                            final byte[] joined = new byte[prefix.length + len];
                            System.arraycopy(prefix, 0, joined, 0, prefix.length);
                            System.arraycopy(b, off, joined, prefix.length, len);
                            super.out.write(joined);
                            return;
                        }
                        super.out.write(b, off, len);
                    }
                };
            }
            return out;
        }
    }

    private static String httpsExchange(final SSLSocket tls, final String request) throws IOException
    {
        tls.startHandshake();
        tls.getOutputStream().write(ascii(request));
        tls.getOutputStream().flush();
        return RawUpstream.readHead(tls.getInputStream());
    }

    @Test
    void onATlsListenerTheHeaderComesBeforeTheClientHello() throws Exception
    {
        final TestCertificates cert = TestCertificates.ec();
        try (HttpUpstream upstream = new HttpUpstream();
            Proxy proxy = TestProxies.start(new ProxyContext().loops(2).tlsListen(new InetSocketAddress("127.0.0.1", 0))
                .tlsCert(cert.certificatePem()).tlsKey(cert.privateKeyPem()).upstream(upstream.address())
                .proxyProtocol(List.of("tls"))))
        {
            final InetSocketAddress address = proxy.boundTlsAddresses().get(0);
            final var factory = cert.clientContext().getSocketFactory();
            // In the ClientHello's own segment (one read takes both).
            try (Socket raw = new PrefixedSocket(address, v2("203.0.113.9", 1, TLVS));
                SSLSocket tls = (SSLSocket)factory.createSocket(raw, "localhost", address.getPort(), true))
            {
                assertTrue(httpsExchange(tls, REQUEST).startsWith("HTTP/1.1 200 "));
            }
            // Sent on its own before the handshake starts.
            try (Socket raw = new Socket(address.getAddress(), address.getPort()))
            {
                raw.setSoTimeout(10_000);
                raw.getOutputStream().write(ascii("PROXY TCP6 2001:db8::9 2001:db8::1 1 443\r\n"));
                raw.getOutputStream().flush();
                try (SSLSocket tls = (SSLSocket)factory.createSocket(raw, "localhost", address.getPort(), true))
                {
                    assertTrue(httpsExchange(tls, REQUEST).startsWith("HTTP/1.1 200 "));
                }
            }
            // LOCAL (a balancer's health check): the peer stays the client.
            try (Socket raw = new PrefixedSocket(address, V2_LOCAL);
                SSLSocket tls = (SSLSocket)factory.createSocket(raw, "localhost", address.getPort(), true))
            {
                assertTrue(httpsExchange(tls, REQUEST).startsWith("HTTP/1.1 200 "));
            }
            assertEquals("203.0.113.9", upstream.requests().get(0).header("X-Real-IP"));
            assertEquals("https", upstream.requests().get(0).header("X-Forwarded-Proto"));
            assertEquals("2001:db8::9", upstream.requests().get(1).header("X-Real-IP"));
            assertEquals("127.0.0.1", upstream.requests().get(2).header("X-Real-IP"));
            // A TLS client that came without the header.
            try (Socket raw = new Socket(address.getAddress(), address.getPort());
                SSLSocket tls = (SSLSocket)factory.createSocket(raw, "localhost", address.getPort(), true))
            {
                raw.setSoTimeout(10_000);
                boolean failed = false;
                try
                {
                    tls.startHandshake();
                }
                catch (final IOException expected)
                {
                    failed = true;
                }
                assertTrue(failed, "the handshake never happens");
            }
            assertEquals(1, refused(proxy, LoopStats.PROXY_HEADER_MISSING));
            assertEquals(3, upstream.requests().size());
            TestProxies.awaitIdle(proxy, 10_000);
        }
    }

    @Test
    void aSecureWebSocketBehindTheHeaderCarriesItsAddress() throws Exception
    {
        final TestCertificates cert = TestCertificates.ec();
        try (WsEchoUpstream ws = WsEchoUpstream.start(0);
            Proxy proxy = TestProxies.start(new ProxyContext().loops(1).tlsListen(new InetSocketAddress("127.0.0.1", 0))
                .tlsCert(cert.certificatePem()).tlsKey(cert.privateKeyPem()).upstream(ws.address())
                .proxyProtocol(List.of("all"))))
        {
            final InetSocketAddress address = proxy.boundTlsAddresses().get(0);
            try (Socket raw = new PrefixedSocket(address, ascii("PROXY TCP4 198.51.100.88 10.0.0.1 40000 443\r\n"));
                SSLSocket tls = (SSLSocket)cert.clientContext().getSocketFactory().createSocket(raw, "localhost",
                    address.getPort(), true))
            {
                final String head = httpsExchange(tls, RawClient.upgradeRequest(RawClient.newKey(), ""));
                assertTrue(head.startsWith("HTTP/1.1 101 "), head);
                tls.getOutputStream().write(RawClient.maskedFrame(0x1, ascii("over tls")));
                tls.getOutputStream().flush();
                final byte[] echo = tls.getInputStream().readNBytes(10);
                assertEquals("over tls", new String(echo, 2, 8, StandardCharsets.US_ASCII));
            }
            assertEquals("198.51.100.88", ws.handshakes().get(0).get("x-real-ip"));
            assertEquals("https", ws.handshakes().get(0).get("x-forwarded-proto"));
        }
    }

    // ---------------------------------------------------------------- trusted forwarders

    @Test
    void behindATrustedForwarderTheClientIsTheRightmostUntrustedForwardedForEntry() throws Exception
    {
        try (HttpUpstream upstream = new HttpUpstream();
            Proxy proxy = TestProxies.start(TestProxies.context(upstream.address()).trustedProxies(List.of("127.0.0.0/8",
                "10.0.0.0/8"))))
        {
            final InetSocketAddress address = TestProxies.address(proxy);
            try (RawClient client = new RawClient(address))
            {
                client.send("GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 198.51.100.1, 203.0.113.9, 10.0.0.2\r\n" +
                    "X-Forwarded-Proto: https\r\nX-Real-IP: 6.6.6.6\r\n\r\n");
                assertTrue(client.readHead().startsWith("HTTP/1.1 200 "));
                // The next request on the forwarder's connection is another client's.
                client.send("GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 198.51.100.2\r\n\r\n");
                assertTrue(client.readHead().startsWith("HTTP/1.1 200 "));
                client.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
                assertTrue(client.readHead().startsWith("HTTP/1.1 200 "));
                // The guard judges the client, not the forwarder.
                client.send("POST /api HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 203.0.113.9\r\nContent-Length: 0\r\n\r\n");
                assertTrue(client.readAll().startsWith("HTTP/1.1 403 "));
            }
            final HttpUpstream.Request first = upstream.requests().get(0);
            assertEquals("203.0.113.9", first.header("X-Real-IP"));
            assertEquals("198.51.100.1, 203.0.113.9, 10.0.0.2, 127.0.0.1", first.header("X-Forwarded-For"));
            assertEquals("https", first.header("X-Forwarded-Proto"));
            assertEquals("https", first.header("X-Scheme"));
            assertEquals("198.51.100.2", upstream.requests().get(1).header("X-Real-IP"));
            assertEquals("http", upstream.requests().get(1).header("X-Forwarded-Proto"));
            assertEquals("127.0.0.1", upstream.requests().get(2).header("X-Real-IP"));
            assertEquals(3, upstream.requests().size());
        }
    }

    @Test
    void anUntrustedPeersForwardedHeadersAreNeverBelieved() throws Exception
    {
        try (HttpUpstream upstream = new HttpUpstream();
            Proxy proxy = TestProxies.start(TestProxies.context(upstream.address()).trustedProxies(List.of("10.0.0.0/8"))))
        {
            assertTrue(exchange(TestProxies.address(proxy), new byte[0], "GET / HTTP/1.1\r\nHost: a\r\n" +
                "X-Forwarded-For: 203.0.113.9\r\nX-Forwarded-Proto: https\r\n\r\n").startsWith("HTTP/1.1 200 "));
            final HttpUpstream.Request r = upstream.requests().get(0);
            assertEquals("127.0.0.1", r.header("X-Real-IP"));
            assertEquals("203.0.113.9, 127.0.0.1", r.header("X-Forwarded-For"));
            assertEquals("http", r.header("X-Forwarded-Proto"));
        }
    }

    @Test
    void trustIsJudgedOnTheAddressTheProxyHeaderNames() throws Exception
    {
        try (HttpUpstream upstream = new HttpUpstream();
            Proxy proxy = TestProxies.start(context(upstream.address(), "plain").trustedProxies(List.of("10.0.0.0/8"))))
        {
            final String forwarded = "GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 203.0.113.9\r\n\r\n";
            // A CDN edge (trusted) behind the load balancer: its X-Forwarded-For names the client.
            assertTrue(exchange(TestProxies.address(proxy), ascii("PROXY TCP4 10.1.2.3 10.0.0.1 1 2\r\n"), forwarded)
                .startsWith("HTTP/1.1 200 "));
            // A client straight through the load balancer: what it writes there is not believed.
            assertTrue(exchange(TestProxies.address(proxy), ascii("PROXY TCP4 198.51.100.7 10.0.0.1 1 2\r\n"), forwarded)
                .startsWith("HTTP/1.1 200 "));
            assertEquals("203.0.113.9", upstream.requests().get(0).header("X-Real-IP"));
            assertEquals("203.0.113.9, 10.1.2.3", upstream.requests().get(0).header("X-Forwarded-For"));
            assertEquals("198.51.100.7", upstream.requests().get(1).header("X-Real-IP"));
            assertEquals("203.0.113.9, 198.51.100.7", upstream.requests().get(1).header("X-Forwarded-For"));
        }
    }

    @Test
    void theAccessLogNamesTheClientOfTheHeaderAndOfTheTrustedForwarder(@org.junit.jupiter.api.io.TempDir
        final java.nio.file.Path dir) throws Exception
    {
        final java.nio.file.Path log = dir.resolve("access.log");
        try (HttpUpstream upstream = new HttpUpstream())
        {
            final Proxy proxy = TestProxies.start(context(upstream.address(), "plain").trustedProxies(List.of("10.0.0.0/8"))
                .accessLog(log.toString()));
            try
            {
                try (RawClient client = new RawClient(TestProxies.address(proxy)))
                {
                    client.send("PROXY TCP4 198.51.100.7 10.0.0.1 1 2\r\n" + REQUEST);
                    assertTrue(client.readHead().startsWith("HTTP/1.1 200 "));
                }
                try (RawClient client = new RawClient(TestProxies.address(proxy)))
                {
                    client.send("PROXY TCP4 10.1.2.3 10.0.0.1 1 2\r\nGET /second HTTP/1.1\r\nHost: a\r\n" +
                        "X-Forwarded-For: 2001:db8::77\r\n\r\n");
                    assertTrue(client.readHead().startsWith("HTTP/1.1 200 "));
                }
                TestProxies.awaitIdle(proxy, 10_000);
            }
            finally
            {
                proxy.close();
            }
            final var lines = AccessLogTest.lines(log);
            assertEquals(2, lines.size(), lines.toString());
            final java.util.Map<Object, Object> clients = new java.util.HashMap<>();
            lines.forEach(l -> clients.put(l.get("path"), l.get("client")));
            assertEquals("198.51.100.7", clients.get("/connection/http_stream"));
            assertEquals("2001:db8::77", clients.get("/second"));
        }
    }
}
