package io.centrigate.proxy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.centrigate.metrics.LoopSnapshot;
import io.centrigate.testing.RawClient;
import io.centrigate.testing.WsEchoUpstream;

/**
 * Acceptance 5: after 2,000 tunnels opened and closed, every chunk is back and no session is left; and (issue 14,
 * on whichever transport the suite runs) every descriptor is closed again: the process holds as many as before.
 */
class LeakTest
{
    private static final int TUNNELS = 2000;

    @Test
    @Timeout(120)
    void twoThousandTunnelsLeaveNoSessionAndEveryChunkFree() throws Exception
    {
        try (WsEchoUpstream upstream = WsEchoUpstream.start(0);
            Proxy proxy = TestProxies.start(TestProxies.context(upstream.address())))
        {
            final long descriptorsBefore = openDescriptors();
            final ExecutorService pool = Executors.newFixedThreadPool(16);
            final List<Future<?>> runs = new ArrayList<>();
            for (int i = 0; i < TUNNELS; i++)
            {
                final int n = i;
                runs.add(pool.submit(() ->
                {
                    try (RawClient client = new RawClient(TestProxies.address(proxy)))
                    {
                        client.send(RawClient.upgradeRequest(RawClient.newKey(), ""));
                        assertTrue(client.readHead().startsWith("HTTP/1.1 101 "));
                        final byte[] payload = ("message " + n).getBytes(StandardCharsets.UTF_8);
                        client.send(RawClient.maskedFrame(1, payload));
                        final byte[] echo = client.readExactly(2 + payload.length);
                        assertEquals((byte)0x81, echo[0]);
                        final byte[] got = new byte[payload.length];
                        System.arraycopy(echo, 2, got, 0, got.length);
                        assertArrayEquals(payload, got);
                        if (n % 2 == 0)
                        {
                            client.socket().setSoLinger(true, 0); // half of them leave by reset
                        }
                    }
                    return null;
                }));
            }
            for (final Future<?> run : runs)
            {
                run.get(100, TimeUnit.SECONDS);
            }
            pool.shutdown();
            final List<LoopSnapshot> idle = TestProxies.awaitIdle(proxy, 30_000);
            assertEquals(TUNNELS, idle.stream().mapToLong(LoopSnapshot::tunnelsOpened).sum());
            for (final LoopSnapshot s : idle)
            {
                assertEquals(s.chunksAllocated(), s.chunksFree(), "free list full again: " + s);
                assertEquals(0, s.sessions());
                // The first loop keeps one timer of its own: the rebalancing coordinator's tick (issue 13).
                assertEquals(s.loop().endsWith("-0") ? 1 : 0, s.timers(), "no timer left behind: " + s);
            }
            // Each client sent one frame and got one back; both counted from the frame headers alone.
            assertEquals(TUNNELS, idle.stream().mapToLong(LoopSnapshot::framesUp).sum());
            assertEquals(TUNNELS, idle.stream().mapToLong(LoopSnapshot::framesDown).sum());
            assertEquals(0, proxy.openConnections());
            assertEquals(0, proxy.upstreams().active(0));
            // The node closes its ends when it reads the proxy's FIN or reset, a moment later: bounded wait.
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            long descriptors = openDescriptors();
            while (descriptors > descriptorsBefore && System.nanoTime() < deadline)
            {
                Thread.sleep(20);
                descriptors = openDescriptors();
            }
            assertTrue(descriptors <= descriptorsBefore, "descriptors open: " + descriptors + " after 2,000 tunnels, " +
                descriptorsBefore + " before (transport " + proxy.context().transportInUse() + ")");
        }
    }

    private static long openDescriptors() throws java.io.IOException
    {
        try (var fds = java.nio.file.Files.list(java.nio.file.Path.of("/proc/self/fd")))
        {
            return fds.count();
        }
    }
}
