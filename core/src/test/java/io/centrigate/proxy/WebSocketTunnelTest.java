package io.centrigate.proxy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.http.HttpClient;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.centrigate.metrics.LoopSnapshot;
import io.centrigate.testing.WsClient;
import io.centrigate.testing.WsEchoUpstream;

/** Acceptance 1 and 5: real WebSocket clients through centrigate to two real WebSocket servers. */
class WebSocketTunnelTest
{
    private static final int CLIENTS = 200;
    private static final int[] SIZES = {0, 125, 64 * 1024, 1024 * 1024};

    @Test
    @Timeout(180)
    void twoHundredClientsEchoEverySizeByteExactAndSpreadEvenly() throws Exception
    {
        try (WsEchoUpstream a = WsEchoUpstream.start(0);
            WsEchoUpstream b = WsEchoUpstream.start(0);
            Proxy proxy = TestProxies.start(TestProxies.context(a.address(), b.address())))
        {
            final ExecutorService pool = Executors.newFixedThreadPool(8);
            final HttpClient http = HttpClient.newHttpClient();
            final List<WsClient> clients = new ArrayList<>();
            for (int i = 0; i < CLIENTS; i++)
            {
                clients.add(WsClient.connect(http, TestProxies.address(proxy), "/connection/websocket"));
            }
            // Least-conn with all clients open at once: each node within ±10% of half. The node counts a tunnel in
            // its onOpen, which can run a moment after the client read the 101: wait for it, bounded.
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (a.opened() + b.opened() < CLIENTS && System.nanoTime() - deadline < 0)
            {
                Thread.sleep(10); // polling a count, bounded by the deadline
            }
            assertEquals(CLIENTS, a.opened() + b.opened());
            assertTrue(Math.abs(a.opened() - CLIENTS / 2) <= CLIENTS / 20,
                "spread " + a.opened() + "/" + b.opened());
            assertEquals("127.0.0.1", a.handshakes().get(0).get("x-real-ip"));

            final List<Future<?>> runs = new ArrayList<>();
            for (int i = 0; i < CLIENTS; i++)
            {
                final WsClient client = clients.get(i);
                final long seed = i;
                runs.add(pool.submit(() ->
                {
                    final Random random = new Random(seed);
                    for (final int size : SIZES)
                    {
                        final byte[] bin = new byte[size];
                        random.nextBytes(bin);
                        assertArrayEquals(bin, client.echoBinary(bin), "binary " + size);
                        final char[] chars = new char[size];
                        for (int c = 0; c < size; c++)
                        {
                            chars[c] = (char)('a' + random.nextInt(26));
                        }
                        final String txt = new String(chars);
                        assertEquals(txt, client.echoText(txt), "text " + size);
                    }
                    return null;
                }));
            }
            for (final Future<?> run : runs)
            {
                run.get(150, TimeUnit.SECONDS);
            }
            for (final WsClient client : clients)
            {
                client.socket().sendClose(1000, "bye");
            }
            for (final WsClient client : clients)
            {
                assertEquals(1000, client.closed().get(20, TimeUnit.SECONDS));
            }
            pool.shutdown();
            final List<LoopSnapshot> idle = TestProxies.awaitIdle(proxy, 20_000);
            assertEquals(CLIENTS, idle.stream().mapToLong(LoopSnapshot::tunnelsOpened).sum());
        }
    }
}
