package io.centrigate.proxy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.centrigate.config.ProxyContext;
import io.centrigate.h2.ErrorCode;
import io.centrigate.testing.HttpUpstream;
import io.centrigate.tls.TestCertificates;

/**
 * Issue 16: the HTTP/2 connection's rules seen frame by frame by a raw client on a real TLS socket (ALPN h2):
 * SETTINGS and PING answered, malformed requests and those over the limits refused on their stream while the
 * connection goes on, HPACK errors ending the connection, content-length checked against DATA, GOAWAY on drain.
 */
@Timeout(60)
class Http2FramesTest
{
    static final int DATA = 0;
    static final int HEADERS = 1;
    static final int RST_STREAM = 3;
    static final int SETTINGS = 4;
    static final int PING = 6;
    static final int GOAWAY = 7;
    static final int CONTINUATION = 9;
    static final int END_STREAM = 1;
    static final int END_HEADERS = 4;
    static final int ACK = 1;

    record Frame(int type, int flags, int stream, byte[] payload)
    {
        int errorCode()
        {
            return ByteBuffer.wrap(payload, type == GOAWAY ? 4 : 0, 4).getInt();
        }
    }

    /** A blocking HTTP/2 client that writes frames by hand. */
    static final class RawH2 implements AutoCloseable
    {
        private final SSLSocket socket;
        private final DataInputStream in;
        private final OutputStream out;

        RawH2(final int port) throws IOException
        {
            socket = (SSLSocket)TestCertificates.ec().clientContext().getSocketFactory()
                .createSocket("127.0.0.1", port);
            final SSLParameters p = socket.getSSLParameters();
            p.setApplicationProtocols(new String[] {"h2"});
            socket.setSSLParameters(p);
            socket.setSoTimeout(10_000);
            socket.startHandshake();
            assertEquals("h2", socket.getApplicationProtocol());
            in = new DataInputStream(socket.getInputStream());
            out = socket.getOutputStream();
            out.write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            frame(SETTINGS, 0, 0, new byte[0]);
        }

        void frame(final int type, final int flags, final int stream, final byte[] payload) throws IOException
        {
            final ByteBuffer b = ByteBuffer.allocate(9 + payload.length);
            b.put((byte)(payload.length >>> 16)).put((byte)(payload.length >>> 8)).put((byte)payload.length);
            b.put((byte)type).put((byte)flags).putInt(stream).put(payload);
            out.write(b.array());
            out.flush();
        }

        void headers(final int stream, final boolean end, final String... nameValues) throws IOException
        {
            frame(HEADERS, END_HEADERS | (end ? END_STREAM : 0), stream, block(nameValues));
        }

        Frame next() throws IOException
        {
            final int length = in.readUnsignedByte() << 16 | in.readUnsignedByte() << 8 | in.readUnsignedByte();
            final int type = in.readUnsignedByte();
            final int flags = in.readUnsignedByte();
            final int stream = in.readInt() & 0x7fff_ffff;
            final byte[] payload = new byte[length];
            in.readFully(payload);
            return new Frame(type, flags, stream, payload);
        }

        /** The next frame of {@code type} (on {@code stream} unless it is -1), skipping others. */
        Frame await(final int type, final int stream) throws IOException
        {
            while (true)
            {
                final Frame f = next();
                if (f.type() == type && (stream < 0 || f.stream() == stream))
                {
                    return f;
                }
            }
        }

        /** Whether the server closed the connection (EOF or reset) within the socket timeout. */
        boolean closedByServer() throws IOException
        {
            try
            {
                while (true)
                {
                    next();
                }
            }
            catch (final EOFException | javax.net.ssl.SSLException | java.net.SocketException e)
            {
                return true;
            }
            catch (final SocketTimeoutException e)
            {
                return false;
            }
        }

        @Override
        public void close() throws IOException
        {
            socket.close();
        }
    }

    /** HPACK literals without indexing, new names (RFC 7541 §6.2.2). */
    static byte[] block(final String... nameValues)
    {
        final ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (int i = 0; i < nameValues.length; i += 2)
        {
            b.write(0);
            string(b, nameValues[i]);
            string(b, nameValues[i + 1]);
        }
        return b.toByteArray();
    }

    private static void string(final ByteArrayOutputStream b, final String s)
    {
        final byte[] bytes = s.getBytes(StandardCharsets.ISO_8859_1);
        int v = bytes.length;
        if (v < 127)
        {
            b.write(v);
        }
        else
        {
            b.write(127);
            v -= 127;
            while (v >= 128)
            {
                b.write(v & 0x7f | 0x80);
                v >>>= 7;
            }
            b.write(v);
        }
        b.write(bytes, 0, bytes.length);
    }

    private static String[] get(final String path)
    {
        return new String[] {":method", "GET", ":scheme", "https", ":authority", "localhost", ":path", path};
    }

    private static Proxy start(final HttpUpstream upstream, final int maxStreams) throws Exception
    {
        final TestCertificates cert = TestCertificates.ec();
        return TestProxies.start(new ProxyContext().loops(1).http2(true).http2MaxConcurrentStreams(maxStreams)
            .tlsListen(new InetSocketAddress("127.0.0.1", 0)).tlsCert(cert.certificatePem())
            .tlsKey(cert.privateKeyPem()).upstream(upstream.address()));
    }

    private static int port(final Proxy proxy)
    {
        return proxy.boundTlsAddresses().get(0).getPort();
    }

    /** The bytes of the answer's DATA frames on {@code stream}, up to END_STREAM. */
    private static byte[] body(final RawH2 h2, final int stream) throws IOException
    {
        final ByteArrayOutputStream b = new ByteArrayOutputStream();
        while (true)
        {
            final Frame f = h2.next();
            if (f.stream() == stream && f.type() == DATA)
            {
                b.write(f.payload());
            }
            if (f.stream() == stream && (f.flags() & END_STREAM) != 0)
            {
                return b.toByteArray();
            }
            assertTrue(f.type() != RST_STREAM || f.stream() != stream, "stream " + stream + " reset");
        }
    }

    @Test
    void settingsAndPingAreAnsweredAndMalformedRequestsResetOnlyTheirStream() throws Exception
    {
        try (HttpUpstream upstream = new HttpUpstream();
            Proxy proxy = start(upstream, 100);
            RawH2 h2 = new RawH2(port(proxy)))
        {
            final Frame settings = h2.await(SETTINGS, 0);
            assertEquals(0, settings.flags() & ACK, "the server's own SETTINGS come first");
            h2.frame(SETTINGS, ACK, 0, new byte[0]);
            assertEquals(ACK, h2.await(SETTINGS, 0).flags() & ACK, "our SETTINGS acknowledged");

            h2.frame(PING, 0, 0, new byte[] {1, 2, 3, 4, 5, 6, 7, 8});
            final Frame pong = h2.await(PING, 0);
            assertEquals(ACK, pong.flags());
            assertArrayEquals(new byte[] {1, 2, 3, 4, 5, 6, 7, 8}, pong.payload());

            h2.headers(1, true, ":method", "GET", ":scheme", "https", ":authority", "localhost"); // no :path
            assertEquals(ErrorCode.PROTOCOL_ERROR, h2.await(RST_STREAM, 1).errorCode());

            // DATA beyond the content-length (RFC 9113 §8.1.1).
            h2.headers(3, false, ":method", "POST", ":scheme", "https", ":authority", "localhost", ":path",
                "/api/echo", "content-length", "5");
            h2.frame(DATA, END_STREAM, 3, "0123456789".getBytes(StandardCharsets.US_ASCII));
            assertEquals(ErrorCode.PROTOCOL_ERROR, h2.await(RST_STREAM, 3).errorCode());

            // A head over the header list limit is answered 431 (a literal :status, RFC 7541 §6.2.2).
            final byte[] big = block(concat(get("/big"), "x-big", "a".repeat(20_000)));
            h2.frame(HEADERS, END_STREAM, 5, java.util.Arrays.copyOfRange(big, 0, 16_000));
            h2.frame(CONTINUATION, END_HEADERS, 5, java.util.Arrays.copyOfRange(big, 16_000, big.length));
            final Frame tooLarge = h2.await(HEADERS, 5);
            assertTrue(new String(tooLarge.payload(), StandardCharsets.ISO_8859_1).contains("431"));

            // The connection goes on: a body of 5 bytes, echoed.
            h2.headers(7, false, ":method", "POST", ":scheme", "https", ":authority", "localhost", ":path",
                "/api/echo", "content-length", "5");
            h2.frame(DATA, END_STREAM, 7, "hello".getBytes(StandardCharsets.US_ASCII));
            final Frame head = h2.await(HEADERS, 7);
            assertEquals((byte)0x88, head.payload()[head.payload()[0] == 0x20 ? 1 : 0], ":status 200, indexed");
            assertEquals("hello", new String(body(h2, 7), StandardCharsets.US_ASCII));
            assertEquals("localhost", upstream.proxiedRequests().get(0).header("Host"));
            final long[] events = proxy.snapshot(5, TimeUnit.SECONDS).get(0).http2();
            assertEquals(1, events[io.centrigate.metrics.LoopStats.HTTP2_CONNECTIONS]);
            assertEquals(2, events[io.centrigate.metrics.LoopStats.HTTP2_STREAMS], "streams 3 and 7 reached sessions");
            assertEquals(2, events[io.centrigate.metrics.LoopStats.HTTP2_STREAM_ERRORS], "streams 1 and 3 reset");
        }
    }

    @Test
    void badHpackEndsTheConnectionWithCompressionError() throws Exception
    {
        try (HttpUpstream upstream = new HttpUpstream();
            Proxy proxy = start(upstream, 100);
            RawH2 h2 = new RawH2(port(proxy)))
        {
            h2.frame(HEADERS, END_HEADERS | END_STREAM, 1, new byte[] {(byte)0xff, (byte)0xff, (byte)0xff, 0x7f});
            final Frame goAway = h2.await(GOAWAY, 0);
            assertEquals(ErrorCode.COMPRESSION_ERROR, goAway.errorCode());
            assertTrue(h2.closedByServer());
            TestProxies.awaitIdle(proxy, 10_000);
        }
    }

    @Test
    void streamsOverTheLimitAreRefusedAndDrainSendsGoAwayThenFinishes() throws Exception
    {
        final CountDownLatch release = new CountDownLatch(1);
        try (HttpUpstream upstream = new HttpUpstream();
            Proxy proxy = start(upstream, 1);
            RawH2 h2 = new RawH2(port(proxy)))
        {
            upstream.handler((r, out) ->
            {
                assertTrue(release.await(20, TimeUnit.SECONDS));
                return HttpUpstream.echo(r, out);
            });
            h2.headers(1, true, get("/hold"));
            // The first stream is open (its session is waiting for the node): one more is refused.
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (upstream.proxiedRequests().isEmpty() && System.nanoTime() < deadline)
            {
                Thread.sleep(5); // polling interval of a bounded wait
            }
            h2.headers(3, true, get("/refused"));
            assertEquals(ErrorCode.REFUSED_STREAM, h2.await(RST_STREAM, 3).errorCode());
            assertEquals(1, proxy.snapshot(5, TimeUnit.SECONDS).get(0).http2()[
                io.centrigate.metrics.LoopStats.HTTP2_STREAMS_REFUSED]);

            final Thread drain = new Thread(() -> proxy.shutdown(TimeUnit.SECONDS.toNanos(20)));
            drain.start();
            final Frame first = h2.await(GOAWAY, 0);
            assertEquals(ErrorCode.NO_ERROR, first.errorCode());
            assertEquals(Integer.MAX_VALUE, ByteBuffer.wrap(first.payload()).getInt(), "graceful: streams in flight");
            final Frame ping = h2.await(PING, 0);
            assertEquals(0, ping.flags() & ACK);
            h2.frame(PING, ACK, 0, ping.payload());
            final Frame goAway = h2.await(GOAWAY, 0);
            assertEquals(ErrorCode.NO_ERROR, goAway.errorCode());
            assertEquals(3, ByteBuffer.wrap(goAway.payload()).getInt(), "final: the last stream id seen");
            release.countDown();
            final Frame head = h2.await(HEADERS, 1);
            assertEquals(END_STREAM, head.flags() & END_STREAM, "an empty answer ends with its HEADERS");
            assertTrue(h2.closedByServer(), "closed once its last stream ended");
            drain.join(30_000);
        }
    }

    @Test
    void aClientResetEndsItsExchangeAndTheConnectionGoesOn() throws Exception
    {
        final CountDownLatch release = new CountDownLatch(1);
        try (HttpUpstream upstream = new HttpUpstream();
            Proxy proxy = start(upstream, 100);
            RawH2 h2 = new RawH2(port(proxy)))
        {
            upstream.handler((r, out) ->
            {
                if (r.requestLine().startsWith("GET /hold "))
                {
                    assertTrue(release.await(20, TimeUnit.SECONDS));
                }
                return HttpUpstream.echo(r, out);
            });
            h2.headers(1, true, get("/hold"));
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (upstream.proxiedRequests().isEmpty() && System.nanoTime() < deadline)
            {
                Thread.sleep(5); // polling interval of a bounded wait
            }
            h2.frame(RST_STREAM, 0, 1, ByteBuffer.allocate(4).putInt(ErrorCode.CANCEL).array());
            release.countDown();
            while (upstream.openConnections() > 0 && System.nanoTime() < deadline)
            {
                Thread.sleep(5); // the node's connection of the reset exchange is closed, not pooled
            }
            assertEquals(0, upstream.openConnections());

            h2.headers(3, false, ":method", "POST", ":scheme", "https", ":authority", "localhost", ":path",
                "/api/echo");
            h2.frame(DATA, 0, 3, "chunk".getBytes(StandardCharsets.US_ASCII));
            h2.frame(DATA, END_STREAM, 3, "ed".getBytes(StandardCharsets.US_ASCII));
            h2.await(HEADERS, 3);
            assertEquals("chunked", new String(body(h2, 3), StandardCharsets.US_ASCII));
            assertEquals("chunked", upstream.proxiedRequests().get(1).header("Transfer-Encoding"));
        }
    }

    @Test
    void aPingFloodEndsWithEnhanceYourCalm() throws Exception
    {
        final TestCertificates cert = TestCertificates.ec();
        try (HttpUpstream upstream = new HttpUpstream();
            Proxy proxy = TestProxies.start(new ProxyContext().loops(1).http2(true).http2FloodLimit(50)
                .tlsListen(new InetSocketAddress("127.0.0.1", 0)).tlsCert(cert.certificatePem())
                .tlsKey(cert.privateKeyPem()).upstream(upstream.address()));
            RawH2 h2 = new RawH2(port(proxy)))
        {
            for (int i = 0; i < 60; i++)
            {
                h2.frame(PING, 0, 0, new byte[8]);
            }
            assertEquals(ErrorCode.ENHANCE_YOUR_CALM, h2.await(GOAWAY, 0).errorCode());
            assertTrue(h2.closedByServer());
            assertEquals(1, proxy.snapshot(5, TimeUnit.SECONDS).get(0).http2()[
                io.centrigate.metrics.LoopStats.HTTP2_CONNECTION_ERRORS]);
        }
    }

    @Test
    void answersKeepToTheClientsWindows() throws Exception
    {
        final byte[] big = new byte[100_000];
        new java.util.Random(3).nextBytes(big);
        try (HttpUpstream upstream = new HttpUpstream();
            Proxy proxy = start(upstream, 100);
            RawH2 h2 = new RawH2(port(proxy)))
        {
            upstream.handler((r, out) ->
            {
                out.write(("HTTP/1.1 200 OK\r\nContent-Length: " + big.length + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
                out.write(big);
                out.flush();
                return true;
            });
            // SETTINGS_INITIAL_WINDOW_SIZE = 1000 for our streams.
            h2.frame(SETTINGS, 0, 0, new byte[] {0, 4, 0, 0, 0x03, (byte)0xe8});
            h2.headers(1, true, get("/big"));
            final ByteArrayOutputStream got = new ByteArrayOutputStream();
            h2.await(HEADERS, 1);
            while (got.size() < 1000)
            {
                final Frame f = h2.next();
                if (f.type() == DATA && f.stream() == 1)
                {
                    got.write(f.payload());
                }
            }
            assertEquals(1000, got.size(), "exactly the stream's window");
            h2.socket.setSoTimeout(300);
            try
            {
                final Frame f = h2.next();
                assertTrue(f.type() != DATA, "DATA beyond the window: " + f);
            }
            catch (final SocketTimeoutException expected)
            {
                // nothing more until the window opens
            }
            h2.socket.setSoTimeout(10_000);
            h2.frame(8, 0, 1, ByteBuffer.allocate(4).putInt(200_000).array());
            h2.frame(8, 0, 0, ByteBuffer.allocate(4).putInt(200_000).array());
            got.write(body(h2, 1));
            assertArrayEquals(big, got.toByteArray());
        }
    }

    @Test
    void aLockStepBidirectionalStreamCrossesInBothDirections() throws Exception
    {
        try (io.centrigate.testing.RawUpstream node = new io.centrigate.testing.RawUpstream()
                .respondWith(head -> "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                    + "Transfer-Encoding: chunked\r\n\r\n");
            Proxy proxy = TestProxies.start(new ProxyContext().loops(1).http2(true)
                .tlsListen(new InetSocketAddress("127.0.0.1", 0)).tlsCert(TestCertificates.ec().certificatePem())
                .tlsKey(TestCertificates.ec().privateKeyPem()).upstream(node.address()));
            RawH2 h2 = new RawH2(port(proxy)))
        {
            // Centrifugo's http_stream: a request body of unknown length, answered while it is still coming.
            h2.headers(1, false, ":method", "POST", ":scheme", "https", ":authority", "localhost", ":path",
                "/connection/http_stream");
            h2.frame(DATA, 0, 1, "ping0".getBytes(StandardCharsets.US_ASCII));
            final io.centrigate.testing.RawUpstream.Accepted up = node.take();
            assertEquals("chunked", io.centrigate.testing.RawUpstream.header(up.requestHead(), "Transfer-Encoding"));
            final java.io.InputStream fromProxy = up.socket().getInputStream();
            final OutputStream toProxy = up.socket().getOutputStream();
            boolean headSeen = false;
            for (int i = 0; i < 5; i++)
            {
                if (i > 0)
                {
                    h2.frame(DATA, 0, 1, ("ping" + i).getBytes(StandardCharsets.US_ASCII));
                }
                assertEquals("5\r\nping" + i + "\r\n",
                    new String(fromProxy.readNBytes(10), StandardCharsets.US_ASCII), "chunk " + i + " at the node");
                toProxy.write(("5\r\npong" + i + "\r\n").getBytes(StandardCharsets.US_ASCII));
                toProxy.flush();
                while (true)
                {
                    final Frame f = h2.next();
                    if (f.stream() != 1)
                    {
                        continue;
                    }
                    if (f.type() == HEADERS)
                    {
                        headSeen = true;
                        continue;
                    }
                    assertEquals(DATA, f.type());
                    assertEquals("pong" + i, new String(f.payload(), StandardCharsets.US_ASCII));
                    break;
                }
            }
            assertTrue(headSeen);
            h2.frame(DATA, END_STREAM, 1, new byte[0]);
            assertEquals("0\r\n\r\n", new String(fromProxy.readNBytes(5), StandardCharsets.US_ASCII));
            toProxy.write("0\r\nGrpc-Status: 0\r\nX-Trailer: done\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            toProxy.flush();
            final Frame trailers = h2.await(HEADERS, 1);
            assertEquals(END_STREAM, trailers.flags() & END_STREAM, "the trailers end the stream");
            final java.util.List<String> fields = new java.util.ArrayList<>();
            assertEquals(io.centrigate.h2.HpackDecoder.OK, new io.centrigate.h2.HpackDecoder(4096, 16384).decode(
                new org.agrona.concurrent.UnsafeBuffer(trailers.payload()), 0, trailers.payload().length,
                (buf, no, nl, vo, vl, never) -> fields.add(buf.getStringWithoutLengthAscii(no, nl) + ": " +
                    buf.getStringWithoutLengthAscii(vo, vl))));
            assertEquals(java.util.List.of("grpc-status: 0", "x-trailer: done"), fields);
        }
    }

    @Test
    void anIdleConnectionGetsGoAwayAfterTheKeepAliveTimeout() throws Exception
    {
        final TestCertificates cert = TestCertificates.ec();
        try (HttpUpstream upstream = new HttpUpstream();
            Proxy proxy = TestProxies.start(new ProxyContext().loops(1).http2(true)
                .keepAliveTimeoutNs(TimeUnit.MILLISECONDS.toNanos(500))
                .tlsListen(new InetSocketAddress("127.0.0.1", 0)).tlsCert(cert.certificatePem())
                .tlsKey(cert.privateKeyPem()).upstream(upstream.address()));
            RawH2 h2 = new RawH2(port(proxy)))
        {
            h2.headers(1, true, get("/api/one"));
            assertEquals(END_STREAM, h2.await(HEADERS, 1).flags() & END_STREAM);
            final long start = System.nanoTime();
            final Frame goAway = h2.await(GOAWAY, 0);
            assertEquals(ErrorCode.NO_ERROR, goAway.errorCode());
            assertEquals(1, ByteBuffer.wrap(goAway.payload()).getInt());
            assertTrue(System.nanoTime() - start >= TimeUnit.MILLISECONDS.toNanos(300), "not before the timeout");
            assertTrue(h2.closedByServer());
            TestProxies.awaitIdle(proxy, 10_000);
        }
    }

    private static String[] concat(final String[] a, final String... b)
    {
        final String[] all = new String[a.length + b.length];
        System.arraycopy(a, 0, all, 0, a.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }
}
