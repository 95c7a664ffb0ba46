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

/** Issue 5: close 1001 injected at a frame boundary when draining ends (the process handover: cli HandoverTest). */
@Timeout(90)
class DrainTest
{
    @Test
    void injectsClose1001AtAFrameBoundaryInBothDirections() throws Exception
    {
        try (RawUpstream upstream = new RawUpstream();
            Proxy proxy = TestProxies.start(TestProxies.context(upstream.address()).loops(1));
            RawClient client = new RawClient(TestProxies.address(proxy)))
        {
            client.send(RawClient.upgradeRequest(RawClient.newKey(), ""));
            final Socket up = upstream.take().socket();
            assertTrue(client.readHead().startsWith("HTTP/1.1 101 "));
            // The node is half-way through a 10-byte text frame when the drain ends.
            up.getOutputStream().write(new byte[] {(byte)0x81, 10, 'h', 'e', 'l', 'l', 'o'});
            assertArrayEquals(new byte[] {(byte)0x81, 10, 'h', 'e', 'l', 'l', 'o'}, client.readExactly(7));
            proxy.runOnEveryLoop(ProxyLoop::goAway);
            up.getOutputStream().write(new byte[] {' ', 'w', 'o', 'r', 'l'});
            // The frame is completed first; only then comes the close frame: 1001, unmasked, to the client.
            assertArrayEquals(new byte[] {' ', 'w', 'o', 'r', 'l', (byte)0x88, 0x02, 0x03, (byte)0xE9}, client.readExactly(9));
            // And a masked close 1001 to the node.
            final InputStream upIn = up.getInputStream();
            final byte[] frame = upIn.readNBytes(8);
            assertEquals((byte)0x88, frame[0]);
            assertEquals((byte)0x82, frame[1], "masked, 2-byte payload");
            final int code = ((frame[6] ^ frame[2]) & 0xFF) << 8 | ((frame[7] ^ frame[3]) & 0xFF);
            assertEquals(1001, code);
            // Peers answer with their own close and FIN; the proxy ends the connection.
            client.send(RawClient.maskedFrame(8, new byte[] {0x03, (byte)0xE9}));
            client.socket().shutdownOutput();
            up.getOutputStream().write(new byte[] {(byte)0x88, 0x02, 0x03, (byte)0xE9});
            up.shutdownOutput();
            assertTrue(client.closedByPeer());
            TestProxies.awaitIdle(proxy, 10_000);
        }
    }
}
