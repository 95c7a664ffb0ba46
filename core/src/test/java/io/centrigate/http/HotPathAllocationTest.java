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
}
