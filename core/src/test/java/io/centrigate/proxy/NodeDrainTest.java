package io.centrigate.proxy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.net.Socket;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.centrigate.testing.RawClient;
import io.centrigate.testing.RawUpstream;
import io.centrigate.upstream.UpstreamGroup;

/** Issue 13: a drained node's tunnel gets close 1012 at a frame boundary in both directions, as a process drain gets 1001. */
@Timeout(90)
class NodeDrainTest
{
    @Test
    void injectsClose1012AtAFrameBoundaryInBothDirectionsWhenTheNodeIsDrained() throws Exception
    {
        try (RawUpstream upstream = new RawUpstream();
            Proxy proxy = TestProxies.start(TestProxies.context(upstream.address()).loops(2).rebalanceRate("100"));
            RawClient client = new RawClient(TestProxies.address(proxy)))
        {
            client.send(RawClient.upgradeRequest(RawClient.newKey(), ""));
            final Socket up = upstream.take().socket();
            assertTrue(client.readHead().startsWith("HTTP/1.1 101 "));
            final UpstreamGroup group = proxy.upstreams();
            awaitTrue(() -> group.tunnels(0).open() == 1, "the tunnel counted on its node");
            // The node is half-way through a 10-byte text frame when the admin drains it.
            up.getOutputStream().write(new byte[] {(byte)0x81, 10, 'h', 'e', 'l', 'l', 'o'});
            assertArrayEquals(new byte[] {(byte)0x81, 10, 'h', 'e', 'l', 'l', 'o'}, client.readExactly(7));
            group.drain(0, true);
            awaitTrue(() -> group.tunnels(0).drainCloses() == 1, "the drain took the tunnel");
            assertEquals(UpstreamGroup.DRAINING, group.state(0, System.nanoTime()));
            up.getOutputStream().write(new byte[] {' ', 'w', 'o', 'r', 'l'});
            // The frame is completed first; only then comes the close frame: 1012, unmasked, to the client.
            assertArrayEquals(new byte[] {' ', 'w', 'o', 'r', 'l', (byte)0x88, 0x02, 0x03, (byte)0xF4}, client.readExactly(9));
            final InputStream upIn = up.getInputStream();
            final byte[] frame = upIn.readNBytes(8);
            assertEquals((byte)0x88, frame[0]);
            assertEquals((byte)0x82, frame[1], "masked, 2-byte payload");
            final int code = ((frame[6] ^ frame[2]) & 0xFF) << 8 | ((frame[7] ^ frame[3]) & 0xFF);
            assertEquals(1012, code);
            assertEquals(0, group.tunnels(0).open(), "a tunnel being moved no longer counts on its node");
            client.send(RawClient.maskedFrame(8, new byte[] {0x03, (byte)0xF4}));
            client.socket().shutdownOutput();
            up.getOutputStream().write(new byte[] {(byte)0x88, 0x02, 0x03, (byte)0xF4});
            up.shutdownOutput();
            assertTrue(client.closedByPeer());
            TestProxies.awaitIdle(proxy, 10_000);
            assertEquals(1, group.tunnels(0).drainCloses(), "one close, counted once");
            assertEquals(0, group.tunnels(0).open());
        }
    }

    private static void awaitTrue(final java.util.function.BooleanSupplier condition, final String what)
        throws InterruptedException
    {
        final long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean())
        {
            assertTrue(System.nanoTime() - deadline < 0, "timed out: " + what);
            Thread.sleep(10); // polling a condition, bounded by the deadline
        }
    }

    @Test
    void aReloadKeepsTheAdminsDrainAndWeightUnlessTheConfigChangedTheNode() throws Exception
    {
        final java.net.InetSocketAddress a = new java.net.InetSocketAddress("127.0.0.1", 1);
        final java.net.InetSocketAddress b = new java.net.InetSocketAddress("127.0.0.1", 2);
        try (Proxy proxy = TestProxies.start(TestProxies.context().upstream(a, 1).upstream(b, 1)))
        {
            proxy.upstreams().weight(0, 5);
            proxy.upstreams().drain(1, true);
            final io.centrigate.upstream.NodeTunnels counted = proxy.upstreams().tunnels(1);
            proxy.reload(TestProxies.context().upstream(a, 1).upstream(b, 1));
            assertEquals(5, proxy.upstreams().weight(0), "same node, same configured weight: the admin's weight stays");
            assertTrue(proxy.upstreams().drained(1));
            assertTrue(proxy.upstreams().tunnels(1) == counted, "tunnels opened before the reload stay counted");
            proxy.reload(TestProxies.context().upstream(a, 2).upstream(b, 1));
            assertEquals(2, proxy.upstreams().weight(0), "the configuration changed the node: its weight wins");
            assertTrue(proxy.upstreams().drained(1));
        }
    }
}
