package io.centrigate.proxy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpClient;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.centrigate.metrics.LoopSnapshot;
import io.centrigate.testing.RawClient;
import io.centrigate.testing.RawUpstream;
import io.centrigate.testing.WsClient;
import io.centrigate.testing.WsEchoUpstream;

/**
 * Issue 14, kernel zero-copy: the payload of a large WebSocket frame moves socket → pipe → socket with splice(2) on
 * the native transports, while frame boundaries, counters and close injection stay exact. On NIO the same tests run
 * with splicing inactive (NIO cannot splice) and check that nothing was spliced.
 */
@Timeout(120)
class SpliceTest
{
    /** Splicing is off by default (it lost on loopback): these tests turn it on as an operator would. */
    private static final long SPLICE_THRESHOLD = 16 * 1024;

    private static final int KIB = 1024;
    private static final int MIB = 1024 * 1024;

    @Test
    void largeFramesMixedWithSmallOnesGoBothWaysByteExactThroughAWebSocketNode() throws Exception
    {
        final int[] sizes = {64 * KIB, 100, 256 * KIB, 5, MIB, 300, 64 * KIB + 3, 17 * KIB, 2000, MIB - 1};
        try (WsEchoUpstream node = WsEchoUpstream.start(0);
            Proxy proxy = TestProxies.start(TestProxies.context(node.address()).loops(1).spliceThreshold(SPLICE_THRESHOLD)))
        {
            final HttpClient http = HttpClient.newHttpClient();
            final WsClient ws = WsClient.connect(http, TestProxies.address(proxy), "/connection/websocket");
            long payload = 0;
            long spliceable = 0;
            for (int i = 0; i < sizes.length; i++)
            {
                final byte[] message = pattern(sizes[i], i);
                assertArrayEquals(message, ws.echoBinary(message), "message " + i + " of " + sizes[i] + " bytes");
                payload += sizes[i];
                if (sizes[i] >= 64 * KIB)
                {
                    // At most one chunk (32 KiB) of a frame is read with its header; the rest is over the threshold.
                    spliceable += sizes[i] - 32 * KIB;
                }
            }
            final LoopSnapshot s = proxy.snapshot(5, TimeUnit.SECONDS).get(0);
            // The frame counters still see every frame, spliced or not, and the bytes include the spliced ones.
            assertEquals(sizes.length, s.framesUp(), "frames up");
            assertEquals(sizes.length, s.framesDown(), "frames down");
            assertTrue(s.bytesUp() > payload && s.bytesDown() > payload, s.bytesUp() + "/" + s.bytesDown());
            assertSplicedOrNot(proxy, s.splicedUp(), spliceable);
            assertSplicedOrNot(proxy, s.splicedDown(), spliceable);
            ws.socket().sendClose(1000, "").get(10, TimeUnit.SECONDS);
            ws.closed().get(10, TimeUnit.SECONDS);
            TestProxies.awaitIdle(proxy, 10_000);
        }
    }

    @Test
    void backToBackLargeFramesAreSplicedWholeAfterTheFirst() throws Exception
    {
        try (RawUpstream upstream = new RawUpstream();
            Proxy proxy = TestProxies.start(TestProxies.context(upstream.address()).loops(1).spliceThreshold(SPLICE_THRESHOLD));
            RawClient client = new RawClient(TestProxies.address(proxy)))
        {
            client.send(RawClient.upgradeRequest(RawClient.newKey(), ""));
            final Socket up = upstream.take().socket();
            assertTrue(client.readHead().startsWith("HTTP/1.1 101 "));
            final ByteArrayOutputStream stream = new ByteArrayOutputStream();
            for (int i = 0; i < 4; i++)
            {
                stream.write(serverFrame(2, pattern(256 * KIB, 10 + i)));
            }
            stream.write(serverFrame(1, "small".getBytes(java.nio.charset.StandardCharsets.US_ASCII)));
            final byte[] bytes = stream.toByteArray();
            final CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> write(up, bytes));
            assertArrayEquals(bytes, client.readExactly(bytes.length));
            writer.get(20, TimeUnit.SECONDS);
            final LoopSnapshot s = proxy.snapshot(5, TimeUnit.SECONDS).get(0);
            assertEquals(5, s.framesDown());
            // The first frame's header came with up to a chunk of its payload; the next headers were peeked at and
            // read alone, so those payloads went through the pipe whole.
            assertSplicedOrNot(proxy, s.splicedDown(), 4 * 256 * KIB - 32 * KIB);
        }
    }

    @Test
    void drainWithA1MiBFrameInFlightSendsTheRestOfItThenClose1001AtTheBoundary() throws Exception
    {
        try (RawUpstream upstream = new RawUpstream();
            Proxy proxy = TestProxies.start(TestProxies.context(upstream.address()).loops(1).spliceThreshold(SPLICE_THRESHOLD));
            RawClient client = new RawClient(TestProxies.address(proxy)))
        {
            client.send(RawClient.upgradeRequest(RawClient.newKey(), ""));
            final Socket up = upstream.take().socket();
            up.setSoTimeout(10_000);
            assertTrue(client.readHead().startsWith("HTTP/1.1 101 "));
            final byte[] down = serverFrame(2, pattern(MIB, 1));
            final byte[] upFrame = RawClient.maskedFrame(2, pattern(MIB, 2));
            final int firstPart = 200 * KIB;
            // Both directions are part-way into a 1 MiB frame when the drain ends.
            up.getOutputStream().write(down, 0, firstPart);
            client.send(Arrays.copyOfRange(upFrame, 0, firstPart));
            assertArrayEquals(Arrays.copyOfRange(down, 0, firstPart), client.readExactly(firstPart));
            final InputStream upIn = up.getInputStream();
            assertArrayEquals(Arrays.copyOfRange(upFrame, 0, firstPart), upIn.readNBytes(firstPart));
            final LoopSnapshot during = proxy.snapshot(5, TimeUnit.SECONDS).get(0);
            assertSplicedOrNot(proxy, during.splicedDown(), firstPart - 2 * 32 * KIB);
            proxy.runOnEveryLoop(ProxyLoop::goAway);
            up.getOutputStream().write(down, firstPart, down.length - firstPart);
            client.send(Arrays.copyOfRange(upFrame, firstPart, upFrame.length));
            // The rest of the frame first, then the close frame: 1001, unmasked, to the client.
            final byte[] rest = client.readExactly(down.length - firstPart + 4);
            assertArrayEquals(Arrays.copyOfRange(down, firstPart, down.length), Arrays.copyOf(rest, down.length - firstPart));
            assertArrayEquals(new byte[] {(byte)0x88, 0x02, 0x03, (byte)0xE9},
                Arrays.copyOfRange(rest, down.length - firstPart, rest.length));
            // The node gets the rest of the client's frame, then a masked close 1001.
            assertArrayEquals(Arrays.copyOfRange(upFrame, firstPart, upFrame.length),
                upIn.readNBytes(upFrame.length - firstPart));
            final byte[] close = upIn.readNBytes(8);
            assertEquals((byte)0x88, close[0]);
            assertEquals((byte)0x82, close[1], "masked, 2-byte payload");
            assertEquals(1001, ((close[6] ^ close[2]) & 0xFF) << 8 | ((close[7] ^ close[3]) & 0xFF));
            final LoopSnapshot after = proxy.snapshot(5, TimeUnit.SECONDS).get(0);
            assertEquals(1, after.framesDown(), "the 1 MiB frame, counted once");
            assertEquals(1, after.framesUp());
            assertSplicedOrNot(proxy, after.splicedUp(), upFrame.length - firstPart);
            assertSplicedOrNot(proxy, after.splicedDown(), down.length - firstPart);
            client.send(RawClient.maskedFrame(8, new byte[] {0x03, (byte)0xE9}));
            client.socket().shutdownOutput();
            up.getOutputStream().write(new byte[] {(byte)0x88, 0x02, 0x03, (byte)0xE9});
            up.shutdownOutput();
            assertTrue(client.closedByPeer());
            TestProxies.awaitIdle(proxy, 10_000);
        }
    }

    @Test
    void aSlowClientStopsTheSplicingAndLosesNothing() throws Exception
    {
        final int size = 48 * MIB;
        try (RawUpstream upstream = new RawUpstream();
            Proxy proxy = TestProxies.start(TestProxies.context(upstream.address()).loops(1).spliceThreshold(SPLICE_THRESHOLD));
            RawClient client = new RawClient(TestProxies.address(proxy)))
        {
            client.socket().setReceiveBufferSize(64 * KIB);
            client.send(RawClient.upgradeRequest(RawClient.newKey(), ""));
            final Socket up = upstream.take().socket();
            assertTrue(client.readHead().startsWith("HTTP/1.1 101 "));
            final byte[] frame = serverFrame(2, pattern(size, 3));
            final CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> write(up, frame));
            // The client reads nothing: the proxy must stop taking the node's bytes once its pipe and the client's
            // socket are full, rather than buffer the frame.
            long taken = awaitStable(proxy);
            assertTrue(taken < size / 2, "proxy took " + taken + " of " + size + " bytes from the node");
            final LoopSnapshot stalled = proxy.snapshot(5, TimeUnit.SECONDS).get(0);
            assertTrue(stalled.chunksInUse() <= 2, "chunks held: " + stalled.chunksInUse());
            assertTrue(!writer.isDone(), "the node's write should be held back");
            assertArrayEquals(frame, client.readExactly(frame.length));
            writer.get(20, TimeUnit.SECONDS);
            final LoopSnapshot s = proxy.snapshot(5, TimeUnit.SECONDS).get(0);
            assertEquals(1, s.framesDown());
            assertSplicedOrNot(proxy, s.splicedDown(), size - 32 * KIB);
        }
    }

    @Test
    void resetsMidPayloadInBothDirectionsLeakNoDescriptor() throws Exception
    {
        try (RawUpstream upstream = new RawUpstream();
            Proxy proxy = TestProxies.start(TestProxies.context(upstream.address()).loops(1).spliceThreshold(SPLICE_THRESHOLD)))
        {
            // One tunnel first, so the loop's pipe exists before counting (the pool keeps it for the next frame).
            resetMidPayload(proxy, upstream, true);
            TestProxies.awaitIdle(proxy, 10_000);
            final long before = openDescriptors();
            for (int i = 0; i < 10; i++)
            {
                resetMidPayload(proxy, upstream, i % 2 == 0);
            }
            TestProxies.awaitIdle(proxy, 10_000);
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            long after = openDescriptors();
            while (after > before && System.nanoTime() < deadline)
            {
                Thread.sleep(20); // polling interval of a bounded wait
                after = openDescriptors();
            }
            assertTrue(after <= before, "descriptors " + after + " after, " + before + " before");
            final LoopSnapshot s = proxy.snapshot(5, TimeUnit.SECONDS).get(0);
            assertTrue(s.splicePipesOpen() <= 1, "pipes open " + s.splicePipesOpen());
            assertSplicedOrNot(proxy, s.splicedUp(), 1);
            assertSplicedOrNot(proxy, s.splicedDown(), 1);
        }
    }

    /** A tunnel whose node ({@code nodeResets}) or client resets part-way into a 1 MiB frame. */
    private static void resetMidPayload(final Proxy proxy, final RawUpstream upstream, final boolean nodeResets)
        throws Exception
    {
        try (RawClient client = new RawClient(TestProxies.address(proxy)))
        {
            client.send(RawClient.upgradeRequest(RawClient.newKey(), ""));
            final Socket up = upstream.take().socket();
            up.setSoTimeout(10_000);
            assertTrue(client.readHead().startsWith("HTTP/1.1 101 "));
            final int part = 300 * KIB;
            if (nodeResets)
            {
                final byte[] frame = serverFrame(2, pattern(MIB, 4));
                up.getOutputStream().write(frame, 0, part);
                assertArrayEquals(Arrays.copyOfRange(frame, 0, part), client.readExactly(part));
                up.setSoLinger(true, 0);
                up.close();
                assertTrue(client.closedByPeer(), "client connection ends after the node's reset");
            }
            else
            {
                final byte[] frame = RawClient.maskedFrame(2, pattern(MIB, 5));
                client.send(Arrays.copyOfRange(frame, 0, part));
                assertArrayEquals(Arrays.copyOfRange(frame, 0, part), up.getInputStream().readNBytes(part));
                client.socket().setSoLinger(true, 0);
                client.socket().close();
                assertTrue(endsSoon(up), "node connection ends after the client's reset");
                up.close();
            }
        }
    }

    @Test
    void withEveryPipeTakenALargeFrameIsCopied() throws Exception
    {
        try (RawUpstream upstream = new RawUpstream();
            Proxy proxy = TestProxies.start(TestProxies.context(upstream.address()).loops(1).spliceThreshold(SPLICE_THRESHOLD).splicePipes(1));
            RawClient first = new RawClient(TestProxies.address(proxy));
            RawClient second = new RawClient(TestProxies.address(proxy)))
        {
            first.send(RawClient.upgradeRequest(RawClient.newKey(), ""));
            final Socket up1 = upstream.take().socket();
            assertTrue(first.readHead().startsWith("HTTP/1.1 101 "));
            second.send(RawClient.upgradeRequest(RawClient.newKey(), ""));
            final Socket up2 = upstream.take().socket();
            assertTrue(second.readHead().startsWith("HTTP/1.1 101 "));
            // The first tunnel holds the loop's only pipe: its frame is part-way through.
            final byte[] frame1 = serverFrame(2, pattern(MIB, 6));
            final int part = 200 * KIB;
            up1.getOutputStream().write(frame1, 0, part);
            assertArrayEquals(Arrays.copyOfRange(frame1, 0, part), first.readExactly(part));
            final long splicedBefore = proxy.snapshot(5, TimeUnit.SECONDS).get(0).splicedDown();
            // The second tunnel's large frame finds no pipe and is copied, byte for byte.
            final byte[] frame2 = serverFrame(2, pattern(512 * KIB, 7));
            up2.getOutputStream().write(frame2);
            assertArrayEquals(frame2, second.readExactly(frame2.length));
            final LoopSnapshot mid = proxy.snapshot(5, TimeUnit.SECONDS).get(0);
            if (spliceActive(proxy))
            {
                assertTrue(mid.spliceNoPipe() >= 1, "no-pipe count " + mid.spliceNoPipe());
                assertEquals(splicedBefore, mid.splicedDown(), "the second frame was not spliced");
                assertEquals(1, mid.splicePipesOpen());
            }
            else
            {
                assertEquals(0, mid.spliceNoPipe());
            }
            up1.getOutputStream().write(frame1, part, frame1.length - part);
            assertArrayEquals(Arrays.copyOfRange(frame1, part, frame1.length), first.readExactly(frame1.length - part));
            final LoopSnapshot s = proxy.snapshot(5, TimeUnit.SECONDS).get(0);
            assertEquals(2, s.framesDown());
            assertSplicedOrNot(proxy, s.splicedDown(), MIB - part);
        }
    }

    private static boolean spliceActive(final Proxy proxy)
    {
        return !"nio".equals(proxy.context().transportInUse());
    }

    /** On a native transport at least {@code atLeast} bytes were spliced; on NIO none. */
    private static void assertSplicedOrNot(final Proxy proxy, final long spliced, final long atLeast)
    {
        if (spliceActive(proxy))
        {
            assertTrue(spliced >= atLeast, "spliced " + spliced + " bytes, expected at least " + atLeast +
                " (transport " + proxy.context().transportInUse() + ")");
        }
        else
        {
            assertEquals(0, spliced, "NIO cannot splice");
        }
    }

    /** Waits until the bytes the proxy took from the node stop growing (bounded), and returns them. */
    private static long awaitStable(final Proxy proxy) throws Exception
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        long last = -1;
        int quiet = 0;
        while (System.nanoTime() < deadline)
        {
            final long now = proxy.snapshot(5, TimeUnit.SECONDS).get(0).bytesDown();
            quiet = now == last ? quiet + 1 : 0;
            if (quiet == 5)
            {
                return now;
            }
            last = now;
            Thread.sleep(100); // polling interval of a bounded wait
        }
        throw new AssertionError("the proxy kept taking bytes: " + last);
    }

    private static boolean endsSoon(final Socket socket)
    {
        try
        {
            return socket.getInputStream().read() < 0;
        }
        catch (final java.net.SocketTimeoutException e)
        {
            return false;
        }
        catch (final IOException e)
        {
            return true; // reset
        }
    }

    private static void write(final Socket socket, final byte[] bytes)
    {
        try
        {
            final OutputStream out = socket.getOutputStream();
            out.write(bytes);
            out.flush();
        }
        catch (final IOException e)
        {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** An unmasked (server) frame with FIN set. */
    static byte[] serverFrame(final int opcode, final byte[] payload)
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream(payload.length + 10);
        out.write(0x80 | opcode);
        if (payload.length < 126)
        {
            out.write(payload.length);
        }
        else if (payload.length < 65536)
        {
            out.write(126);
            out.write(payload.length >> 8);
            out.write(payload.length);
        }
        else
        {
            out.write(127);
            for (int i = 7; i >= 0; i--)
            {
                out.write((int)((long)payload.length >> (8 * i)));
            }
        }
        out.write(payload, 0, payload.length);
        return out.toByteArray();
    }

    /** Bytes that differ by position and seed, so a lost, doubled or reordered block shows. */
    static byte[] pattern(final int size, final int seed)
    {
        final byte[] b = new byte[size];
        for (int i = 0; i < size; i++)
        {
            b[i] = (byte)(i * 31 + (i >>> 8) * 7 + seed * 13);
        }
        return b;
    }

    private static long openDescriptors() throws IOException
    {
        try (var fds = java.nio.file.Files.list(java.nio.file.Path.of("/proc/self/fd")))
        {
            return fds.count();
        }
    }
}
