package io.centrigate.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

/**
 * The per-request path allocates nothing. Measured with the JVM's per-thread allocation counter, which counts
 * bytes, not time, so the assertion does not depend on the machine's speed.
 */
final class HotPathAllocationTest
{
    private static final int ROUNDS = 10_000;
    /** A fixed allowance for the measurement itself; one allocation per round would be at least 16 * ROUNDS. */
    private static final long ALLOWANCE = 16 * 1024;

    @Test
    void scanningParsingAndRewritingAllocateNothing()
    {
        final UnsafeBuffer upgrade = Wire.offHeap(Requests.CHROME_UPGRADE);
        final UnsafeBuffer post = Wire.offHeap(Requests.POST_WITH_BODY);
        final String responseText = Wire.head("HTTP/1.1 403 Forbidden", "Connection: keep-alive, X-Hop", "X-Hop: 1",
            "Content-Length: 0");
        final UnsafeBuffer response = Wire.offHeap(responseText);
        final UnsafeBuffer chunked = Wire.offHeap("5;a=\"b\"\r\nhello\r\n0\r\nX: y\r\n\r\n");
        final UnsafeBuffer dst = new UnsafeBuffer(ByteBuffer.allocateDirect(8192));
        final byte[] client = "203.0.113.9".getBytes(StandardCharsets.US_ASCII);

        final HeadScanner scanner = new HeadScanner(8192, 65536, 100, true);
        final RequestHead request = new RequestHead(100);
        final ResponseHead upstream = new ResponseHead(100);
        final UpstreamRequestWriter writer = new UpstreamRequestWriter();
        final ChunkedBodyTracker tracker = new ChunkedBodyTracker();

        final int upgradeLength = Requests.CHROME_UPGRADE.length();
        final int postLength = Requests.POST_WITH_BODY.length();
        final int responseLength = responseText.length();
        final int chunkedLength = chunked.capacity();

        long checksum = 0;
        for (int i = 0; i < 3 * ROUNDS; i++)
        {
            checksum += round(upgrade, upgradeLength, post, postLength, response, responseLength, chunked, chunkedLength,
                dst, client, scanner, request, upstream, writer, tracker);
        }
        final com.sun.management.ThreadMXBean threads =
            (com.sun.management.ThreadMXBean)ManagementFactory.getThreadMXBean();
        final long before = threads.getCurrentThreadAllocatedBytes();
        for (int i = 0; i < ROUNDS; i++)
        {
            checksum += round(upgrade, upgradeLength, post, postLength, response, responseLength, chunked, chunkedLength,
                dst, client, scanner, request, upstream, writer, tracker);
        }
        final long allocated = threads.getCurrentThreadAllocatedBytes() - before;

        final long perRound = round(upgrade, upgradeLength, post, postLength, response, responseLength, chunked,
            chunkedLength, dst, client, scanner, request, upstream, writer, tracker);
        assertEquals(4L * ROUNDS * perRound, checksum);
        assertTrue(allocated < ALLOWANCE, allocated + " bytes allocated by " + ROUNDS + " rounds");
    }

    /**
     * Behind a trusted forwarder every request's client is found in its X-Forwarded-For and written into the head:
     * still nothing allocated. The PROXY header (once per connection) allocates nothing either.
     */
    @Test
    void forwardedForAndProxyHeadersAllocateNothing()
    {
        final String text = Wire.head("GET /connection/http_stream HTTP/1.1", "Host: a",
            "X-Forwarded-For: 198.51.100.1, [2001:db8::7]:443, 10.0.0.2", "X-Forwarded-For: 10.0.0.3",
            "X-Forwarded-Proto: https");
        final UnsafeBuffer src = Wire.offHeap(text);
        final UnsafeBuffer proxyV1 = Wire.offHeap("PROXY TCP6 2001:db8::7 2001:db8::1 56324 443\r\n");
        final UnsafeBuffer dst = new UnsafeBuffer(ByteBuffer.allocateDirect(8192));
        final byte[] peer = "10.0.0.9".getBytes(StandardCharsets.US_ASCII);
        final byte[] client = new byte[IpText.MAX_TEXT];
        final io.centrigate.config.AddressRanges trusted =
            new io.centrigate.config.AddressRanges(java.util.List.of("10.0.0.0/8"));
        final RequestHead request = new RequestHead(100);
        final UpstreamRequestWriter writer = new UpstreamRequestWriter();
        final ForwardedFor forwardedFor = new ForwardedFor();
        final ProxyProtocolHeader proxyHeader = new ProxyProtocolHeader(1536);
        long checksum = 0;
        final com.sun.management.ThreadMXBean threads =
            (com.sun.management.ThreadMXBean)ManagementFactory.getThreadMXBean();
        long before = 0;
        for (int i = 0; i < 4 * ROUNDS; i++)
        {
            if (i == 3 * ROUNDS)
            {
                before = threads.getCurrentThreadAllocatedBytes();
            }
            assertTrue(request.parse(src, text.length()));
            final int n = forwardedFor.resolve(request, src, trusted, client);
            checksum += n + writer.write(request, src, dst, 0, dst.capacity(), client, n, peer, peer.length, false, true, 0,
                true);
            checksum += proxyHeader.parse(proxyV1, 0, proxyV1.capacity());
        }
        final long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        assertTrue(checksum > 0);
        assertEquals("2001:db8::7", new String(client, 0, forwardedFor.resolve(request, src, trusted, client),
            StandardCharsets.US_ASCII));
        assertTrue(allocated < ALLOWANCE, allocated + " bytes allocated by " + ROUNDS + " rounds");
    }

    private static long round(
        final UnsafeBuffer upgrade,
        final int upgradeLength,
        final UnsafeBuffer post,
        final int postLength,
        final UnsafeBuffer response,
        final int responseLength,
        final UnsafeBuffer chunked,
        final int chunkedLength,
        final UnsafeBuffer dst,
        final byte[] client,
        final HeadScanner scanner,
        final RequestHead request,
        final ResponseHead upstream,
        final UpstreamRequestWriter writer,
        final ChunkedBodyTracker tracker)
    {
        long sum = 0;
        scanner.reset();
        final int upgradeHead = scanner.scan(upgrade, upgradeLength);
        if (!request.parse(upgrade, upgradeHead) || !request.isWebSocketUpgrade())
        {
            throw new IllegalStateException("upgrade rejected");
        }
        sum += writer.write(request, upgrade, dst, 0, dst.capacity(), client, client.length, true);

        scanner.reset();
        final int postHead = scanner.scan(post, postLength);
        if (!request.parse(post, postHead))
        {
            throw new IllegalStateException("post rejected");
        }
        sum += writer.write(request, post, dst, 0, dst.capacity(), client, client.length, false);
        sum += request.contentLength();

        scanner.resetForResponse();
        final int responseHead = scanner.scan(response, responseLength);
        if (!upstream.parse(response, responseHead))
        {
            throw new IllegalStateException("response rejected");
        }
        sum += upstream.bodyKind(false).ordinal();
        sum += upstream.writeForClient(response, dst, 0, dst.capacity());

        tracker.reset();
        sum += tracker.consume(chunked, 0, chunkedLength);
        return sum;
    }

    /**
     * What the loops count per message and per exchange for the metrics: the frame tracker with close-code counting
     * over data and close frames (masked, as clients send them), the per-node counters and the histograms.
     */
    @Test
    void metricsCountingAllocatesNothing()
    {
        final byte[] frames = {
            (byte)0x82, (byte)0x85, 1, 2, 3, 4, 10, 11, 12, 13, 14,            // masked binary, 5 bytes
            (byte)0x81, 0x03, 'a', 'b', 'c',                                   // text, 3 bytes
            (byte)0x88, (byte)0x82, 0x11, 0x22, 0x33, 0x44, (byte)(0x0F ^ 0x11), (byte)(0xA1 ^ 0x22)}; // close 4001
        final UnsafeBuffer wire = Wire.offHeap(frames);
        final long[] closeCodes = new long[io.centrigate.metrics.NodeStats.CLOSE_CODES];
        final io.centrigate.websocket.FrameTracker tracker = new io.centrigate.websocket.FrameTracker(closeCodes);
        final io.centrigate.metrics.NodeStats nodes =
            new io.centrigate.metrics.NodeStats("default", new String[] {"10.0.0.1:8000", "10.0.0.2:8000"});
        final io.centrigate.metrics.TimeHistogram histogram = new io.centrigate.metrics.TimeHistogram(1_000, 3_600_000_000L, new double[] {0.001, 0.01});
        final com.sun.management.ThreadMXBean threads =
            (com.sun.management.ThreadMXBean)ManagementFactory.getThreadMXBean();
        long before = 0;
        for (int i = 0; i < 4 * ROUNDS; i++)
        {
            if (i == 3 * ROUNDS)
            {
                before = threads.getCurrentThreadAllocatedBytes();
            }
            // Every split of the stream into two reads, the close code straddling some of them.
            final int split = i % (frames.length + 1);
            tracker.onBytes(wire, 0, split);
            tracker.onBytes(wire, split, frames.length - split);
            nodes.handshake(i & 1, io.centrigate.metrics.NodeStats.OUTCOME_101);
            nodes.request(i & 1, io.centrigate.metrics.NodeStats.METHOD_GET, 200 + (i & 3) * 100);
            nodes.closeCode(i & 1, tracker.lastCloseCode());
            nodes.tunnels[nodes.slot(i & 1)]++;
            histogram.recordNs(i * 997L);
        }
        final long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        assertEquals(4L * ROUNDS, closeCodes[4001]);
        assertEquals(3L * 4 * ROUNDS, tracker.frames());
        assertEquals(4L * ROUNDS, histogram.read().count());
        assertTrue(allocated < ALLOWANCE, allocated + " bytes allocated by " + ROUNDS + " rounds of metrics counting");
    }
}
