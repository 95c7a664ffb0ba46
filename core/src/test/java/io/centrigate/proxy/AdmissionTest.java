package io.centrigate.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.centrigate.metrics.LoopSnapshot;
import io.centrigate.metrics.LoopStats;
import io.centrigate.testing.RawClient;
import io.centrigate.testing.RawUpstream;

/**
 * Issue 15, reconnect-storm admission ({@code --max-handshake-rate}, {@code --admission-wait}): a storm of upgrades
 * reaches the nodes at the rate, in the order the upgrades arrived; those past the wait get 503 with Retry-After and
 * never reach a node; a client that leaves while it waits, and a drain, leave nothing behind.
 */
@Timeout(120)
class AdmissionTest
{
    /**
     * A node that answers every upgrade 101 and records, in the order the kernel completed the connections (one
     * thread accepts them), each upgrade's X-Seq and when its connection was accepted: the order the proxy connected
     * in, which the heads' own reading threads could blur.
     */
    private static final class Node implements AutoCloseable
    {
        final java.net.ServerSocket server = new java.net.ServerSocket(0, 512, java.net.InetAddress.getLoopbackAddress());
        final InetSocketAddress address = new InetSocketAddress("127.0.0.1", server.getLocalPort());
        /** X-Seq by accept index (-1 until its head is read). */
        final java.util.concurrent.atomic.AtomicIntegerArray seqByAccept = new java.util.concurrent.atomic.AtomicIntegerArray(1024);
        final long[] acceptedNs = new long[1024];
        final java.util.concurrent.atomic.AtomicInteger accepted = new java.util.concurrent.atomic.AtomicInteger();
        final java.util.concurrent.atomic.AtomicInteger answered = new java.util.concurrent.atomic.AtomicInteger();
        final List<java.net.Socket> sockets = java.util.Collections.synchronizedList(new ArrayList<>());
        final Thread acceptor;

        Node() throws Exception
        {
            for (int i = 0; i < 1024; i++)
            {
                seqByAccept.set(i, -1);
            }
            acceptor = new Thread(() ->
            {
                while (!server.isClosed())
                {
                    try
                    {
                        final java.net.Socket s = server.accept();
                        final int index = accepted.get();
                        acceptedNs[index] = System.nanoTime();
                        accepted.incrementAndGet();
                        sockets.add(s);
                        final Thread serve = new Thread(() -> serve(s, index), "admission-node-conn");
                        serve.setDaemon(true);
                        serve.start();
                    }
                    catch (final java.io.IOException e)
                    {
                        return;
                    }
                }
            }, "admission-node");
            acceptor.setDaemon(true);
            acceptor.start();
        }

        private void serve(final java.net.Socket s, final int index)
        {
            try
            {
                s.setSoTimeout(20_000);
                final String head = RawUpstream.readHead(s.getInputStream());
                seqByAccept.set(index, Integer.parseInt(RawUpstream.header(head, "X-Seq")));
                answered.incrementAndGet();
                s.getOutputStream().write(RawUpstream.switchingProtocols(head).getBytes(
                    java.nio.charset.StandardCharsets.ISO_8859_1));
            }
            catch (final java.io.IOException | RuntimeException e)
            {
                // the test fails on the missing answer
            }
        }

        /** The X-Seq of every upgrade, in the order the node accepted their connections. */
        List<Integer> order()
        {
            final List<Integer> order = new ArrayList<>();
            for (int i = 0; i < accepted.get(); i++)
            {
                order.add(seqByAccept.get(i));
            }
            return order;
        }

        /** Upgrades per second from the first accepted connection to the last. */
        double rate()
        {
            final int n = accepted.get();
            return (n - 1) / ((acceptedNs[n - 1] - acceptedNs[0]) / 1e9);
        }

        @Override
        public void close() throws Exception
        {
            server.close();
            for (final java.net.Socket s : sockets)
            {
                s.close();
            }
        }
    }

    private static String upgrade(final int seq)
    {
        return RawClient.upgradeRequest(RawClient.newKey(), "X-Seq: " + seq + "\r\n");
    }

    private static long sum(final Proxy proxy, final int... indexes) throws Exception
    {
        long n = 0;
        for (final LoopSnapshot s : proxy.snapshot(5, TimeUnit.SECONDS))
        {
            for (final int i : indexes)
            {
                n += s.limits()[i];
            }
        }
        return n;
    }

    private static void awaitSum(final Proxy proxy, final long expected, final int... indexes) throws Exception
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        long n;
        while ((n = sum(proxy, indexes)) != expected)
        {
            if (System.nanoTime() - deadline > 0)
            {
                throw new AssertionError("counted " + n + ", expected " + expected);
            }
            Thread.sleep(2);
        }
    }

    private static final int[] TAKEN = {LoopStats.ADMITTED_AT_ONCE, LoopStats.ADMITTED_AFTER_WAIT,
        LoopStats.ADMISSION_REFUSED};

    /** What one storm produced: the clients admitted (by X-Seq) and checks common to both storms. */
    private static List<Integer> judge(final List<RawClient> clients, final Node node, final Proxy proxy)
        throws Exception
    {
        final List<Integer> admitted = new ArrayList<>();
        for (int i = 0; i < clients.size(); i++)
        {
            final String head = clients.get(i).readHead();
            if (head.startsWith("HTTP/1.1 101 "))
            {
                admitted.add(i);
                continue;
            }
            assertTrue(head.startsWith("HTTP/1.1 503 Service Unavailable\r\n"), head);
            final int retryAfter = Integer.parseInt(RawUpstream.header(head, "Retry-After"));
            assertTrue(retryAfter >= 1 && retryAfter <= 2, head);
            assertEquals("close", RawUpstream.header(head, "Connection"));
        }
        awaitSum(proxy, 0, LoopStats.ADMISSION_WAITING);
        assertEquals(new java.util.TreeSet<>(admitted), new java.util.TreeSet<>(node.order()),
            "the refused upgrades never reached the node");
        assertEquals(admitted.size(), sum(proxy, LoopStats.ADMITTED_AT_ONCE, LoopStats.ADMITTED_AFTER_WAIT));
        assertEquals(clients.size() - admitted.size(), sum(proxy, LoopStats.ADMISSION_REFUSED));
        // At about the rate: 50/s, so 20 ms between two connections at the node on average.
        final double rate = node.rate();
        assertTrue(rate > 30 && rate < 65, admitted.size() + " upgrades at " + rate + "/s");
        for (final RawClient c : clients)
        {
            c.close();
        }
        return admitted;
    }

    @Test
    void aStormIsAdmittedAtTheRateInArrivalOrderAndTheRestGet503() throws Exception
    {
        try (Node node = new Node();
            Proxy proxy = TestProxies.start(TestProxies.context(node.address).loops(1)
                .maxHandshakeRate("50/s").admissionWaitNs(TimeUnit.SECONDS.toNanos(1))))
        {
            final InetSocketAddress address = TestProxies.address(proxy);
            final List<RawClient> clients = new ArrayList<>();
            final long start = System.nanoTime();
            for (int i = 0; i < 100; i++)
            {
                final RawClient c = new RawClient(address);
                c.send(upgrade(i));
                clients.add(c);
                awaitSum(proxy, i + 1, TAKEN); // the proxy took upgrade i before i + 1 is sent: a known order
            }
            final double span = (System.nanoTime() - start) / 1e9;
            final List<Integer> admitted = judge(clients, node, proxy);
            // In arrival order: the node accepted their connections in the order the upgrades came.
            final List<Integer> atNode = node.order();
            for (int i = 1; i < atNode.size(); i++)
            {
                assertTrue(atNode.get(i) > atNode.get(i - 1), "admitted in arrival order: " + atNode);
            }
            final long waitedInOrder = admitted.stream().filter(i -> i >= 5).count();
            assertTrue(waitedInOrder > 40, "most of them waited for their slot");
            // 1 at once, then one slot every 20 ms within the 1 s wait, plus the slots the sending itself took.
            assertTrue(admitted.size() >= 48 && admitted.size() <= 51 + 50 * span + 2,
                admitted.size() + " admitted, sent over " + span + " s");
            assertTrue(admitted.containsAll(List.of(0, 1, 2, 3, 40)), "the first ones are admitted: " + admitted);
        }
    }

    @Test
    void aStormFromManyConnectionsAtOnceOverTwoLoops() throws Exception
    {
        try (Node node = new Node();
            Proxy proxy = TestProxies.start(TestProxies.context(node.address)
                .maxHandshakeRate("50/s:5").admissionWaitNs(TimeUnit.SECONDS.toNanos(1))))
        {
            final InetSocketAddress address = TestProxies.address(proxy);
            final List<RawClient> clients = new ArrayList<>();
            for (int i = 0; i < 100; i++)
            {
                clients.add(new RawClient(address));
            }
            for (int i = 0; i < 100; i++)
            {
                clients.get(i).send(upgrade(i));
            }
            final List<Integer> admitted = judge(clients, node, proxy);
            // The burst of 5 and 50 slots in the wait, plus what the sending took (a few ms).
            assertTrue(admitted.size() >= 50 && admitted.size() <= 62, admitted.size() + " admitted");
        }
    }

    @Test
    void aClientThatLeavesWhileItWaitsLeavesNothingBehind() throws Exception
    {
        try (Node node = new Node();
            Proxy proxy = TestProxies.start(TestProxies.context(node.address).maxConnectionsPerClient(10)
                .maxHandshakeRate("6/m").admissionWaitNs(TimeUnit.SECONDS.toNanos(30))))
        {
            final InetSocketAddress address = TestProxies.address(proxy);
            try (RawClient first = new RawClient(address))
            {
                first.send(upgrade(0));
                assertTrue(first.readHead().startsWith("HTTP/1.1 101 "));
                try (RawClient second = new RawClient(address))
                {
                    second.send(upgrade(1));
                    awaitSum(proxy, 1, LoopStats.ADMISSION_WAITING); // its slot is 10 s away
                    assertEquals(1, proxy.admissionQueued());
                }
                awaitSum(proxy, 0, LoopStats.ADMISSION_WAITING);
                assertEquals(1, proxy.clientTable().connections(io.centrigate.limit.ClientTable.key(
                    java.net.InetAddress.getByName("127.0.0.1"))), "the waiting connection's count went with it");
                assertEquals(List.of(0), node.order());
            }
            node.sockets.get(0).close(); // the node ends the tunnel too
            TestProxies.awaitIdle(proxy, 10_000);
            assertEquals(1, node.accepted.get(), "nothing more reached the node");
        }
    }

    @Test
    void aDrainAnswersWaitingUpgrades503AtOnce() throws Exception
    {
        try (Node node = new Node();
            Proxy proxy = TestProxies.start(TestProxies.context(node.address)
                .maxHandshakeRate("6/m").admissionWaitNs(TimeUnit.SECONDS.toNanos(30))))
        {
            final InetSocketAddress address = TestProxies.address(proxy);
            try (RawClient first = new RawClient(address); RawClient second = new RawClient(address))
            {
                first.send(upgrade(0));
                assertTrue(first.readHead().startsWith("HTTP/1.1 101 "));
                second.send(upgrade(1));
                awaitSum(proxy, 1, LoopStats.ADMISSION_WAITING);
                final long start = System.nanoTime();
                final Thread shutdown = new Thread(() -> proxy.shutdown(TimeUnit.SECONDS.toNanos(20)));
                shutdown.start();
                final String head = second.readHead();
                assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(5), "at once, not at its slot");
                assertTrue(head.startsWith("HTTP/1.1 503 "), head);
                assertEquals("1", RawUpstream.header(head, "Retry-After"));
                first.close();
                node.sockets.get(0).close();
                shutdown.join(30_000);
                assertEquals(List.of(0), node.order());
            }
        }
    }
}
