package io.centrigate.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.centrigate.metrics.LoopSnapshot;
import io.centrigate.metrics.LoopStats;
import io.centrigate.testing.RawClient;
import io.centrigate.testing.RawUpstream;

/**
 * Issue 15, acceptance 3: a burst of 2,000 upgrades at once against {@code --max-handshake-rate 500/s:10} and
 * {@code --admission-wait 2s}. The node sees exactly the admitted ones, no faster than the rate; no client waits
 * past the wait (plus a margin for this shared machine); the rest get 503 with Retry-After; and 10 tunnels opened
 * before the burst keep echoing through it with no message lost. Counts are asserted, not latencies (those belong
 * in the bench).
 * <p>
 * 2,000 blocking clients would need 2,000 threads; the burst is driven by one selector here, and the node is one
 * selector too (it answers every upgrade 101 and echoes the frames of the tunnels).
 */
@Timeout(60)
class AdmissionBurstTest
{
    private static final int BURST_CLIENTS = 2000;
    private static final int ECHO_TUNNELS = 10;
    private static final double RATE = 500;
    private static final int RATE_BURST = 10;
    private static final int RATE_FROM = 300;
    private static final long WAIT_NS = TimeUnit.SECONDS.toNanos(2);
    /** Beyond the wait: the node's connect and answer, and scheduling on a shared 2-core machine. */
    private static final long MARGIN_NS = TimeUnit.MILLISECONDS.toNanos(1500);

    /** One selector thread: answers each upgrade 101, records its X-Seq, then echoes small frames unmasked. */
    private static final class Node implements AutoCloseable
    {
        final ServerSocketChannel server = ServerSocketChannel.open();
        final Selector selector = Selector.open();
        final Set<Integer> seqs = ConcurrentHashMap.newKeySet();
        final AtomicInteger upgrades = new AtomicInteger();
        /** When each burst upgrade reached the node, in order (written by the node's one thread). */
        final long[] burstNs = new long[BURST_CLIENTS];
        final AtomicInteger burstCount = new AtomicInteger();
        final ConcurrentLinkedQueue<String> errors = new ConcurrentLinkedQueue<>();
        final InetSocketAddress address;
        final Thread thread;
        volatile boolean running = true;

        private static final class Conn
        {
            final ByteBuffer in = ByteBuffer.allocate(8192);
            boolean upgraded;
        }

        Node() throws IOException
        {
            server.bind(new InetSocketAddress("127.0.0.1", 0), 4096);
            server.configureBlocking(false);
            server.register(selector, SelectionKey.OP_ACCEPT);
            address = (InetSocketAddress)server.getLocalAddress();
            thread = new Thread(this::run, "burst-node");
            thread.setDaemon(true);
            thread.start();
        }

        private void run()
        {
            try
            {
                while (running)
                {
                    selector.select(100);
                    for (final SelectionKey k : selector.selectedKeys())
                    {
                        if (k.isValid() && k.isAcceptable())
                        {
                            SocketChannel ch;
                            while ((ch = server.accept()) != null)
                            {
                                ch.configureBlocking(false);
                                ch.register(selector, SelectionKey.OP_READ, new Conn());
                            }
                        }
                        else if (k.isValid() && k.isReadable())
                        {
                            read(k);
                        }
                    }
                    selector.selectedKeys().clear();
                }
            }
            catch (final IOException | RuntimeException e)
            {
                errors.add("node: " + e);
            }
        }

        private void read(final SelectionKey k) throws IOException
        {
            final SocketChannel ch = (SocketChannel)k.channel();
            final Conn c = (Conn)k.attachment();
            final int n;
            try
            {
                n = ch.read(c.in);
            }
            catch (final IOException e)
            {
                k.cancel();
                ch.close();
                return;
            }
            if (n < 0)
            {
                k.cancel();
                ch.close();
                return;
            }
            c.in.flip();
            if (!c.upgraded)
            {
                final String text = StandardCharsets.ISO_8859_1.decode(c.in.duplicate()).toString();
                final int end = text.indexOf("\r\n\r\n");
                if (end < 0)
                {
                    c.in.compact();
                    return;
                }
                final String head = text.substring(0, end + 4);
                c.in.position(c.in.position() + end + 4);
                final String seq = RawUpstream.header(head, "X-Seq");
                if (seq != null)
                {
                    final int i = burstCount.get();
                    burstNs[i] = System.nanoTime();
                    burstCount.set(i + 1);
                    seqs.add(Integer.parseInt(seq));
                }
                upgrades.incrementAndGet();
                writeFully(ch, ByteBuffer.wrap(RawUpstream.switchingProtocols(head)
                    .getBytes(StandardCharsets.ISO_8859_1)));
                c.upgraded = true;
            }
            // Masked client frames with payloads under 126 bytes back as unmasked frames.
            while (c.in.remaining() >= 2)
            {
                final int b0 = c.in.get(c.in.position()) & 0xff;
                final int b1 = c.in.get(c.in.position() + 1) & 0xff;
                final int len = b1 & 0x7f;
                if (len >= 126 || (b1 & 0x80) == 0)
                {
                    errors.add("node: unexpected frame " + b0 + " " + b1);
                    k.cancel();
                    ch.close();
                    return;
                }
                if (c.in.remaining() < 6 + len)
                {
                    break;
                }
                c.in.position(c.in.position() + 2);
                final byte[] mask = new byte[4];
                c.in.get(mask);
                final ByteBuffer out = ByteBuffer.allocate(2 + len);
                out.put((byte)b0).put((byte)len);
                for (int i = 0; i < len; i++)
                {
                    out.put((byte)(c.in.get() ^ mask[i & 3]));
                }
                writeFully(ch, out.flip());
            }
            c.in.compact();
        }

        /** Small answers into an idle socket's send buffer: complete at once, or the test is told. */
        private void writeFully(final SocketChannel ch, final ByteBuffer b) throws IOException
        {
            for (int i = 0; i < 100 && b.hasRemaining(); i++)
            {
                ch.write(b);
            }
            if (b.hasRemaining())
            {
                errors.add("node: could not write " + b.remaining() + " bytes");
            }
        }

        @Override
        public void close() throws Exception
        {
            running = false;
            selector.wakeup();
            thread.join(5000);
            for (final SelectionKey k : selector.keys())
            {
                k.channel().close();
            }
            selector.close();
        }
    }

    /** One tunnel opened before the burst, echoing 8-byte messages in a closed loop until told to stop. */
    private static final class Echo implements Runnable
    {
        final RawClient client;
        final AtomicLong echoed = new AtomicLong();
        volatile boolean stop;
        volatile String error;

        Echo(final InetSocketAddress proxy) throws IOException
        {
            client = new RawClient(proxy);
            client.send(RawClient.upgradeRequest(RawClient.newKey(), ""));
            final String head = client.readHead();
            assertTrue(head.startsWith("HTTP/1.1 101 "), head);
        }

        @Override
        public void run()
        {
            try
            {
                for (long i = 0; !stop; i++)
                {
                    final byte[] payload = ByteBuffer.allocate(8).putLong(i).array();
                    client.send(RawClient.maskedFrame(2, payload));
                    final byte[] back = client.readExactly(10); // the 10 s read timeout bounds a lost message
                    if ((back[0] & 0xff) != 0x82 || back[1] != 8
                        || ByteBuffer.wrap(back, 2, 8).getLong() != i)
                    {
                        error = "message " + i + " came back as " + java.util.Arrays.toString(back);
                        return;
                    }
                    echoed.incrementAndGet();
                }
            }
            catch (final IOException | RuntimeException e)
            {
                error = "after " + echoed.get() + " echoes: " + e;
            }
        }
    }

    /** One client of the burst, driven by the test's selector. */
    private static final class BurstClient
    {
        final int seq;
        final SocketChannel ch;
        final ByteBuffer out;
        final ByteBuffer in = ByteBuffer.allocate(2048);
        long sentNs;
        long answeredNs;
        String head;
        String failure;

        BurstClient(final int seq, final SocketChannel ch)
        {
            this.seq = seq;
            this.ch = ch;
            out = ByteBuffer.wrap(RawClient.upgradeRequest(RawClient.newKey(), "X-Seq: " + seq + "\r\n")
                .getBytes(StandardCharsets.ISO_8859_1));
        }
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

    @Test
    void aBurstOf2000IsAdmittedAtTheRateWithinTheWaitAndTunnelsKeepEchoing() throws Exception
    {
        try (Node node = new Node();
            Proxy proxy = TestProxies.start(TestProxies.context(node.address)
                .maxHandshakeRate((int)RATE + "/s:" + RATE_BURST).admissionWaitNs(WAIT_NS));
            Selector selector = Selector.open())
        {
            final InetSocketAddress address = TestProxies.address(proxy);
            final List<Echo> echoes = new ArrayList<>();
            final List<Thread> echoThreads = new ArrayList<>();
            final List<BurstClient> clients = new ArrayList<>();
            try
            {
                for (int i = 0; i < ECHO_TUNNELS; i++)
                {
                    echoes.add(new Echo(address));
                }
                for (final Echo e : echoes)
                {
                    final Thread t = new Thread(e, "burst-echo");
                    t.setDaemon(true);
                    t.start();
                    echoThreads.add(t);
                }
                final long[] echoedBefore = new long[ECHO_TUNNELS];
                for (int i = 0; i < ECHO_TUNNELS; i++)
                {
                    echoedBefore[i] = echoes.get(i).echoed.get();
                }

                // The burst: all 2,000 connects started at once, each upgrade sent as its connect completes.
                final long start = System.nanoTime();
                for (int i = 0; i < BURST_CLIENTS; i++)
                {
                    final SocketChannel ch = SocketChannel.open();
                    ch.configureBlocking(false);
                    final BurstClient c = new BurstClient(i, ch);
                    clients.add(c);
                    ch.connect(address);
                    ch.register(selector, SelectionKey.OP_CONNECT, c);
                }
                int finished = 0;
                long lastSentNs = start;
                final long deadline = start + WAIT_NS + TimeUnit.SECONDS.toNanos(15);
                while (finished < BURST_CLIENTS && System.nanoTime() - deadline < 0)
                {
                    selector.select(100);
                    for (final SelectionKey k : selector.selectedKeys())
                    {
                        final BurstClient c = (BurstClient)k.attachment();
                        try
                        {
                            if (k.isConnectable() && c.ch.finishConnect())
                            {
                                c.ch.write(c.out);
                                k.interestOps(c.out.hasRemaining() ? SelectionKey.OP_WRITE : SelectionKey.OP_READ);
                                if (!c.out.hasRemaining())
                                {
                                    c.sentNs = System.nanoTime();
                                    lastSentNs = Math.max(lastSentNs, c.sentNs);
                                }
                            }
                            else if (k.isWritable())
                            {
                                c.ch.write(c.out);
                                if (!c.out.hasRemaining())
                                {
                                    c.sentNs = System.nanoTime();
                                    lastSentNs = Math.max(lastSentNs, c.sentNs);
                                    k.interestOps(SelectionKey.OP_READ);
                                }
                            }
                            else if (k.isReadable())
                            {
                                final int n = c.ch.read(c.in);
                                final String text = new String(c.in.array(), 0, c.in.position(),
                                    StandardCharsets.ISO_8859_1);
                                final int end = text.indexOf("\r\n\r\n");
                                if (end >= 0)
                                {
                                    c.answeredNs = System.nanoTime();
                                    c.head = text.substring(0, end + 4);
                                    k.interestOps(0); // a tunnel stays open, idle, until the end
                                    finished++;
                                }
                                else if (n < 0 || !c.in.hasRemaining())
                                {
                                    c.failure = "no answer head: " + text;
                                    k.cancel();
                                    finished++;
                                }
                            }
                        }
                        catch (final IOException e)
                        {
                            c.failure = e.toString();
                            k.cancel();
                            finished++;
                        }
                    }
                    selector.selectedKeys().clear();
                }
                final long end = System.nanoTime();
                for (int i = 0; i < ECHO_TUNNELS; i++)
                {
                    final long during = echoes.get(i).echoed.get() - echoedBefore[i];
                    assertTrue(during > 0, "tunnel " + i + " echoed nothing during the burst: " + echoes.get(i).error);
                }
                for (final Echo e : echoes)
                {
                    e.stop = true;
                }
                for (final Thread t : echoThreads)
                {
                    t.join(15_000);
                    assertTrue(!t.isAlive(), "an echo loop is stuck");
                }
                for (final Echo e : echoes)
                {
                    assertEquals(null, e.error, "every message came back, in order");
                }
                assertEquals(BURST_CLIENTS, finished, "every client got its answer within the test's deadline");

                // Judge the answers.
                final TreeSet<Integer> admitted = new TreeSet<>();
                long longestNs = 0;
                for (final BurstClient c : clients)
                {
                    assertEquals(null, c.failure, "client " + c.seq);
                    longestNs = Math.max(longestNs, c.answeredNs - c.sentNs);
                    if (c.head.startsWith("HTTP/1.1 101 "))
                    {
                        admitted.add(c.seq);
                        continue;
                    }
                    assertTrue(c.head.startsWith("HTTP/1.1 503 Service Unavailable\r\n"), c.head);
                    final int retryAfter = Integer.parseInt(RawUpstream.header(c.head, "Retry-After"));
                    assertTrue(retryAfter >= 1 && retryAfter <= 2, c.head);
                }
                final double spanS = (lastSentNs - start) / 1e9;
                final String summary = admitted.size() + " of " + BURST_CLIENTS + " admitted; sent over " + spanS
                    + " s; longest wait for an answer " + longestNs / 1e6 + " ms; burst took " + (end - start) / 1e9
                    + " s; node rate " + nodeRate(node, admitted.size()) + "/s";
                System.out.println("AdmissionBurstTest: " + summary);
                assertTrue(longestNs <= WAIT_NS + MARGIN_NS, "nobody waits past the wait: " + summary);
                // Each admitted upgrade's slot lies within the wait of its arrival at the proxy: at most the burst
                // plus the rate over the wait and the arrivals' span. That span is the sending's (a few hundred ms)
                // plus however late the proxy's loops read the heads on this shared machine (a run under load
                // admitted 1,389 after 0.62 s of sending): rate x (wait + 1 s) + burst, more only if the sending
                // itself took longer.
                final double bound = RATE_BURST + RATE * (WAIT_NS / 1e9 + Math.max(1, spanS + 0.5));
                assertTrue(admitted.size() <= bound, "at most " + bound + ": " + summary);
                assertTrue(admitted.size() >= RATE * WAIT_NS / 1e9 / 2, "the wait's slots are used: " + summary);
                // The node got exactly the admitted ones, and the proxy counted them so.
                assertEquals(admitted, new TreeSet<>(node.seqs), "the refused upgrades never reached the node");
                assertEquals(admitted.size() + ECHO_TUNNELS, node.upgrades.get());
                assertEquals(admitted.size() + ECHO_TUNNELS,
                    sum(proxy, LoopStats.ADMITTED_AT_ONCE, LoopStats.ADMITTED_AFTER_WAIT));
                assertEquals(BURST_CLIENTS - admitted.size(), sum(proxy, LoopStats.ADMISSION_REFUSED));
                assertEquals(0, sum(proxy, LoopStats.ADMISSION_WAITING));
                // No faster than the rate at the node.
                final double nodeRate = nodeRate(node, admitted.size());
                assertTrue(nodeRate <= RATE * 1.1 && nodeRate >= RATE * 0.7, summary);
                assertTrue(node.errors.isEmpty(), node.errors.toString());
            }
            finally
            {
                for (final Echo e : echoes)
                {
                    e.stop = true;
                    e.client.close();
                }
                for (final BurstClient c : clients)
                {
                    c.ch.close();
                }
            }
        }
    }

    /**
     * Upgrades per second at the node from the {@value #RATE_FROM}th burst upgrade to the last: the first ones
     * (the burst among them) reach the node late by however long the loops took over the 2,000 accepts and heads
     * (up to half a second in a run under load), which would shorten the span and inflate a rate measured from the
     * first; from 0.6 s in, the slots leave at their times.
     */
    private static double nodeRate(final Node node, final int admitted)
    {
        final int n = node.burstCount.get();
        if (n <= RATE_FROM + 1)
        {
            return 0;
        }
        final double seconds = (node.burstNs[n - 1] - node.burstNs[RATE_FROM]) / 1e9;
        return (n - 1 - RATE_FROM) / Math.max(seconds, 1e-3);
    }
}
