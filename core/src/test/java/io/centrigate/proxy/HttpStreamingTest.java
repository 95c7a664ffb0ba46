package io.centrigate.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.centrigate.testing.HttpUpstream;
import io.centrigate.testing.RawClient;

/**
 * Issue 4, acceptance 2 and 5: streams reach the client event by event (the upstream writes the next event only
 * after the client has the previous one, so any buffering in the proxy stalls the test), and aborts on either
 * side end the other side without leaking.
 */
@Timeout(60)
class HttpStreamingTest
{
    private static final int EVENTS = 50;

    private static void writeChunk(final OutputStream out, final String data) throws IOException
    {
        final byte[] bytes = data.getBytes(StandardCharsets.UTF_8);
        out.write((Integer.toHexString(bytes.length) + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
        out.write(bytes);
        out.write("\r\n".getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
    }

    /** Reads one chunk of a chunked body from a raw stream; null at the last chunk. */
    private static String readChunk(final InputStream in) throws IOException
    {
        final StringBuilder line = new StringBuilder();
        int c;
        while ((c = in.read()) != '\n')
        {
            if (c < 0)
            {
                throw new IOException("connection ended inside a chunked body");
            }
            if (c != '\r')
            {
                line.append((char)c);
            }
        }
        final int size = Integer.parseInt(line.toString(), 16);
        final byte[] data = in.readNBytes(size);
        in.readNBytes(2);
        return size == 0 ? null : new String(data, StandardCharsets.UTF_8);
    }

    /** An upstream that sends {@code EVENTS} events, one every 100 ms, each only after the previous one arrived. */
    private static HttpUpstream.Handler lockstepStream(final String contentType, final Semaphore received,
        final AtomicInteger stalls)
    {
        return (request, out) ->
        {
            out.write(("HTTP/1.1 200 OK\r\nContent-Type: " + contentType + "\r\nX-Accel-Buffering: no\r\n" +
                "Transfer-Encoding: chunked\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            for (int i = 0; i < EVENTS; i++)
            {
                writeChunk(out, "data: event " + i + "\n\n");
                if (!received.tryAcquire(5, TimeUnit.SECONDS))
                {
                    stalls.incrementAndGet(); // the client never saw event i: it was buffered somewhere
                    return false;
                }
                Thread.sleep(100); // pacing of the stream (one event per 100 ms), not synchronisation
            }
            writeChunk(out, "");
            return true;
        };
    }

    private static void readLockstep(final RawClient client, final Semaphore received) throws IOException
    {
        final String head = client.readHead();
        assertTrue(head.startsWith("HTTP/1.1 200 "), head);
        final InputStream in = client.socket().getInputStream();
        for (int i = 0; i < EVENTS; i++)
        {
            assertEquals("data: event " + i + "\n\n", readChunk(in));
            received.release();
        }
        assertEquals(null, readChunk(in));
    }

    @Test
    void deliversEachServerSentEventBeforeTheNextIsWritten() throws Exception
    {
        final Semaphore received = new Semaphore(0);
        final AtomicInteger stalls = new AtomicInteger();
        try (HttpUpstream upstream = new HttpUpstream().handler(lockstepStream("text/event-stream", received, stalls));
            Proxy proxy = TestProxies.start(TestProxies.context(upstream.address()));
            RawClient client = new RawClient(TestProxies.address(proxy)))
        {
            client.send("GET /connection/sse?cf_connect=%7B%7D HTTP/1.1\r\nHost: a\r\nAccept: text/event-stream\r\n\r\n");
            readLockstep(client, received);
            assertEquals(0, stalls.get());
        }
    }

    @Test
    void streamsAnHttpStreamPostBothWays() throws Exception
    {
        final Semaphore received = new Semaphore(0);
        final AtomicInteger stalls = new AtomicInteger();
        try (HttpUpstream upstream = new HttpUpstream().handler(lockstepStream("application/json", received, stalls));
            Proxy proxy = TestProxies.start(TestProxies.context(upstream.address()));
            RawClient client = new RawClient(TestProxies.address(proxy)))
        {
            final String connect = "{\"connect\":{\"token\":\"t\"},\"id\":1}";
            client.send("POST /connection/http_stream HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\n" +
                "Content-Length: " + connect.length() + "\r\n\r\n" + connect);
            readLockstep(client, received);
            assertEquals(0, stalls.get());
            assertEquals(connect, new String(upstream.requests().get(0).body(), StandardCharsets.UTF_8));
        }
    }

    @Test
    void aClientThatLeavesMidStreamEndsTheUpstreamRequestToo() throws Exception
    {
        final CountDownLatch upstreamSawClose = new CountDownLatch(1);
        try (HttpUpstream upstream = new HttpUpstream();
            Proxy proxy = TestProxies.start(TestProxies.context(upstream.address())))
        {
            upstream.handler((request, out) ->
            {
                out.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
                try
                {
                    for (int i = 0; i < 10_000; i++)
                    {
                        writeChunk(out, "data: " + i + "\n\n");
                        Thread.sleep(10);
                    }
                }
                catch (final IOException e)
                {
                    upstreamSawClose.countDown(); // the proxy closed our connection: no orphan stream
                }
                return false;
            });
            final RawClient client = new RawClient(TestProxies.address(proxy));
            client.send("GET /connection/sse HTTP/1.1\r\nHost: a\r\n\r\n");
            assertTrue(client.readHead().startsWith("HTTP/1.1 200 "));
            readChunk(client.socket().getInputStream());
            client.socket().setSoLinger(true, 0);
            client.close();
            assertTrue(upstreamSawClose.await(20, TimeUnit.SECONDS), "upstream write failed after the client left");
            TestProxies.awaitIdle(proxy, 10_000);
        }
    }

    @Test
    void anUpstreamThatDiesMidStreamClosesTheClient() throws Exception
    {
        try (HttpUpstream upstream = new HttpUpstream();
            Proxy proxy = TestProxies.start(TestProxies.context(upstream.address()));
            RawClient client = new RawClient(TestProxies.address(proxy)))
        {
            upstream.handler((request, out) ->
            {
                out.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
                writeChunk(out, "data: 1\n\n");
                writeChunk(out, "data: 2\n\n");
                return false; // dies without the last chunk
            });
            client.send("GET /connection/sse HTTP/1.1\r\nHost: a\r\n\r\n");
            assertTrue(client.readHead().startsWith("HTTP/1.1 200 "));
            final InputStream in = client.socket().getInputStream();
            assertEquals("data: 1\n\n", readChunk(in));
            assertEquals("data: 2\n\n", readChunk(in));
            assertTrue(client.closedByPeer(), "the client sees its connection end, so the SDK reconnects");
            TestProxies.awaitIdle(proxy, 10_000);
        }
    }

    @Test
    void aStreamThatKeepsSendingOutlivesTheReadTimeoutAndASilentOneIsCut() throws Exception
    {
        try (HttpUpstream upstream = new HttpUpstream();
            Proxy proxy = TestProxies.start(TestProxies.context(upstream.address()).readTimeoutNs(400_000_000L)))
        {
            upstream.handler((request, out) ->
            {
                out.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
                final boolean silent = request.requestLine().contains("silent");
                for (int i = 0; i < 15; i++)
                {
                    writeChunk(out, "data: " + i + "\n\n");
                    Thread.sleep(silent ? 1000 : 100); // pacing: 1.5 s in all, each gap under or over the timeout
                }
                writeChunk(out, "");
                return true;
            });
            try (RawClient client = new RawClient(TestProxies.address(proxy)))
            {
                client.send("GET /connection/sse HTTP/1.1\r\nHost: a\r\n\r\n");
                assertTrue(client.readHead().startsWith("HTTP/1.1 200 "));
                final InputStream in = client.socket().getInputStream();
                for (int i = 0; i < 15; i++)
                {
                    assertEquals("data: " + i + "\n\n", readChunk(in));
                }
                assertEquals(null, readChunk(in), "the whole stream, well past the 400 ms read timeout");
            }
            try (RawClient client = new RawClient(TestProxies.address(proxy)))
            {
                client.send("GET /connection/sse?silent HTTP/1.1\r\nHost: a\r\n\r\n");
                assertTrue(client.readHead().startsWith("HTTP/1.1 200 "));
                assertEquals("data: 0\n\n", readChunk(client.socket().getInputStream()));
                assertTrue(client.closedByPeer(), "a gap longer than the read timeout ends the stream");
            }
        }
    }
}
