package io.centrigate.proxy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.centrigate.testing.RawClient;
import io.centrigate.testing.RawUpstream;
import io.centrigate.testing.WsClient;
import io.centrigate.testing.WsEchoUpstream;

/** Issue 5: draining, close 1001 at a frame boundary, and a handover to a new process on the same port. */
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

    private static void allowBacklogMigration()
    {
        // Linux 5.14+: requests queued on a closing SO_REUSEPORT listener move to a sibling instead of being
        // reset. The systemd sysctl drop-in sets it; here it is set when the test may (CI runs as root).
        try
        {
            Files.writeString(Path.of("/proc/sys/net/ipv4/tcp_migrate_req"), "1");
        }
        catch (final Exception ignore)
        {
            // Not writable: the stop-accepting sweep alone keeps the window tiny.
        }
    }

    @Test
    void handsOverToANewProcessOnTheSamePortWithoutAFailedConnection() throws Exception
    {
        allowBacklogMigration();
        try (WsEchoUpstream upstream = WsEchoUpstream.start(0))
        {
            final Proxy oldProxy = TestProxies.start(TestProxies.context(upstream.address()));
            final InetSocketAddress address = TestProxies.address(oldProxy);
            final HttpClient http = HttpClient.newHttpClient();
            final List<WsClient> clients = new ArrayList<>();
            for (int i = 0; i < 50; i++)
            {
                clients.add(WsClient.connect(http, address, "/connection/websocket"));
            }
            final AtomicBoolean running = new AtomicBoolean(true);
            final AtomicInteger handshakes = new AtomicInteger();
            final List<String> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
            final Thread newClients = new Thread(() ->
            {
                while (running.get())
                {
                    try (RawClient c = new RawClient(address))
                    {
                        c.send(RawClient.upgradeRequest(RawClient.newKey(), ""));
                        final String head = c.readHead();
                        if (head == null || !head.startsWith("HTTP/1.1 101 "))
                        {
                            failures.add(String.valueOf(head));
                        }
                        handshakes.incrementAndGet();
                    }
                    catch (final Exception e)
                    {
                        failures.add(e.toString());
                    }
                }
            }, "new-clients");
            try (Proxy newProxy = Proxy.start(new io.centrigate.config.ProxyContext().listen(address).loops(2)
                .upstream(upstream.address())))
            {
                newClients.start();
                oldProxy.shutdown(0);
                for (final WsClient c : clients)
                {
                    assertEquals(1001, c.closed().get(10, TimeUnit.SECONDS), "close 1001 (going away) from the old process");
                }
                // The SDKs reconnect: all of them reach the new process.
                for (int i = 0; i < clients.size(); i++)
                {
                    final WsClient again = WsClient.connect(http, address, "/connection/websocket");
                    assertEquals("back " + i, again.echoText("back " + i));
                }
                final int before = handshakes.get();
                while (handshakes.get() < before + 50)
                {
                    Thread.onSpinWait();
                }
                running.set(false);
                newClients.join(10_000);
                assertTrue(failures.isEmpty(), "new clients failed during the handover: " + failures);
                assertTrue(newProxy.snapshot(5, TimeUnit.SECONDS).stream().mapToLong(s -> s.tunnelsOpened()).sum() >= 50);
            }
            finally
            {
                running.set(false);
            }
        }
    }
}
