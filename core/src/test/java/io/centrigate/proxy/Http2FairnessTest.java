package io.centrigate.proxy;

import static io.centrigate.proxy.Http2FramesTest.DATA;
import static io.centrigate.proxy.Http2FramesTest.END_STREAM;
import static io.centrigate.proxy.Http2FramesTest.HEADERS;
import static io.centrigate.proxy.Http2FramesTest.RST_STREAM;
import static io.centrigate.proxy.Http2FramesTest.SETTINGS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.centrigate.config.ProxyContext;
import io.centrigate.proxy.Http2FramesTest.Frame;
import io.centrigate.proxy.Http2FramesTest.RawH2;
import io.centrigate.testing.HttpUpstream;
import io.centrigate.tls.TestCertificates;

/**
 * Issue 16: streams of one HTTP/2 connection share its send window and its output; when those are the limit, the
 * streams waiting take turns in the order they began to wait, so no stream is starved while others finish (the
 * tail latency of many large answers on one connection).
 */
@Timeout(60)
class Http2FairnessTest
{
    private static final int WINDOW_UPDATE = 8;
    private static final int STREAMS = 8;
    /** Several chunks each, so an unfair order would let one stream finish before another began. */
    private static final int ANSWER = 256 * 1024;

    private static Proxy start(final HttpUpstream upstream) throws Exception
    {
        final TestCertificates cert = TestCertificates.ec();
        return TestProxies.start(new ProxyContext().loops(1).http2(true)
            .tlsListen(new InetSocketAddress("127.0.0.1", 0)).tlsCert(cert.certificatePem())
            .tlsKey(cert.privateKeyPem()).upstream(upstream.address()));
    }

    private static HttpUpstream largeAnswers(final byte[] body) throws Exception
    {
        return largeAnswers(body, 1);
    }

    /**
     * Answers only once {@code together} requests have arrived (waiting at most 10 s): the order of the answers
     * is then the proxy's doing. Answering each at once let one stream's node answer before another's request
     * had reached its node, and that stream could end before the other had anything to send (a flake on epoll:
     * first DATA frames [24, 61, 68, 53, 33, 23, 40, 6], stream 15 ended at frame 59).
     */
    private static HttpUpstream largeAnswers(final byte[] body, final int together) throws Exception
    {
        final java.util.concurrent.CountDownLatch arrived = new java.util.concurrent.CountDownLatch(together);
        return new HttpUpstream().handler((r, out) ->
        {
            arrived.countDown();
            try
            {
                arrived.await(10, java.util.concurrent.TimeUnit.SECONDS);
            }
            catch (final InterruptedException e)
            {
                Thread.currentThread().interrupt();
            }
            out.write(("HTTP/1.1 200 OK\r\nContent-Length: " + body.length + "\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
            out.write(body);
            out.flush();
            return true;
        });
    }

    private static byte[] body()
    {
        final byte[] body = new byte[ANSWER];
        for (int i = 0; i < body.length; i++)
        {
            body[i] = (byte)(i * 31 + (i >>> 10));
        }
        return body;
    }

    private static String[] get(final String path)
    {
        return new String[] {":method", "GET", ":scheme", "https", ":authority", "localhost", ":path", path};
    }

    private static byte[] initialWindow(final int size)
    {
        return ByteBuffer.allocate(6).putShort((short)4).putInt(size).array(); // SETTINGS_INITIAL_WINDOW_SIZE
    }

    private static byte[] increment(final int n)
    {
        return ByteBuffer.allocate(4).putInt(n).array();
    }

    @Test
    void withTheConnectionWindowTheLimitEveryStreamBeginsBeforeAnyEnds() throws Exception
    {
        final byte[] body = body();
        try (HttpUpstream upstream = largeAnswers(body, STREAMS);
            Proxy proxy = start(upstream);
            RawH2 h2 = new RawH2(proxy.boundTlsAddresses().get(0).getPort()))
        {
            // The streams' windows wide open, the connection's left at its 65,535: that window is what they share.
            h2.frame(SETTINGS, 0, 0, initialWindow(1 << 30));
            for (int i = 0; i < STREAMS; i++)
            {
                h2.headers(1 + 2 * i, true, get("/large/" + i));
            }
            final ByteArrayOutputStream[] got = new ByteArrayOutputStream[STREAMS];
            final int[] firstData = new int[STREAMS];
            final int[] end = new int[STREAMS];
            Arrays.fill(firstData, -1);
            Arrays.fill(end, -1);
            int frames = 0;
            int ended = 0;
            while (ended < STREAMS)
            {
                final Frame f = h2.next();
                frames++;
                final int s = (f.stream() - 1) / 2;
                assertTrue(f.type() != RST_STREAM, "stream " + f.stream() + " reset");
                if (f.type() == DATA && f.stream() > 0)
                {
                    if (got[s] == null)
                    {
                        got[s] = new ByteArrayOutputStream();
                    }
                    if (f.payload().length > 0)
                    {
                        if (firstData[s] < 0)
                        {
                            firstData[s] = frames;
                        }
                        got[s].write(f.payload());
                        // What was read is given back, so the connection's window stays at most 65,535 in flight.
                        h2.frame(WINDOW_UPDATE, 0, 0, increment(f.payload().length));
                    }
                }
                if (f.stream() > 0 && (f.type() == DATA || f.type() == HEADERS) && (f.flags() & END_STREAM) != 0)
                {
                    end[s] = frames;
                    ended++;
                }
            }
            final int lastFirst = Arrays.stream(firstData).max().getAsInt();
            final int firstEnd = Arrays.stream(end).min().getAsInt();
            assertTrue(lastFirst < firstEnd, "every stream's first DATA (frame numbers " + Arrays.toString(firstData) +
                ") before any stream's end (" + Arrays.toString(end) + ")");
            for (int i = 0; i < STREAMS; i++)
            {
                assertTrue(Arrays.equals(body, got[i].toByteArray()), "stream " + (1 + 2 * i) + "'s answer intact");
            }
        }
    }

    @Test
    void aStreamWhoseOwnWindowIsClosedDoesNotHoldBackTheOthers() throws Exception
    {
        final byte[] body = body();
        try (HttpUpstream upstream = largeAnswers(body);
            Proxy proxy = start(upstream);
            RawH2 h2 = new RawH2(proxy.boundTlsAddresses().get(0).getPort()))
        {
            // Streams get 16 KiB windows; the connection's is opened wide. Stream 1's window is never reopened.
            h2.frame(SETTINGS, 0, 0, initialWindow(16 * 1024));
            h2.frame(WINDOW_UPDATE, 0, 0, increment((1 << 30) - 65_535));
            h2.headers(1, true, get("/stuck"));
            h2.await(HEADERS, 1);
            for (int i = 1; i < 4; i++)
            {
                h2.headers(1 + 2 * i, true, get("/flowing/" + i));
            }
            final int[] received = new int[4];
            int ended = 0;
            while (ended < 3)
            {
                final Frame f = h2.next();
                assertTrue(f.type() != RST_STREAM, "stream " + f.stream() + " reset");
                final int s = (f.stream() - 1) / 2;
                if (f.type() == DATA && f.stream() > 0)
                {
                    received[s] += f.payload().length;
                    if (s > 0 && f.payload().length > 0)
                    {
                        h2.frame(WINDOW_UPDATE, 0, f.stream(), increment(f.payload().length));
                    }
                    if ((f.flags() & END_STREAM) != 0)
                    {
                        assertTrue(s > 0, "stream 1 cannot have ended: its window stayed closed");
                        ended++;
                    }
                }
            }
            assertEquals(16 * 1024, received[0], "stream 1 got exactly its window");
            for (int i = 1; i < 4; i++)
            {
                assertEquals(ANSWER, received[i], "stream " + (1 + 2 * i));
            }
        }
    }
}
