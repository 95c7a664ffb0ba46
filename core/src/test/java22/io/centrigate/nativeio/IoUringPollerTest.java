package io.centrigate.nativeio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.centrigate.loop.Connection;
import io.centrigate.loop.Poller;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;

/**
 * Every behaviour of {@link EpollPollerTest} again over the io_uring readiness source, and what only io_uring can
 * get wrong: a poll request holds the socket's file, so a close must also remove the request, or the peer never
 * hears the FIN (or the RST of a reset).
 */
class IoUringPollerTest extends EpollPollerTest
{
    @Override
    NativePoller openPoller(final Poller.DispatchHook hook)
    {
        assertNull(IoUringTransport.unavailableReason());
        return (NativePoller)IoUringTransport.open(hook);
    }

    @Override
    String transportName()
    {
        return "io_uring";
    }

    @Test
    void closingAConnectionWithAnArmedPollSendsTheFin() throws IOException
    {
        final ServerSocketChannel server = track(ServerSocketChannel.open().bind(LOOPBACK_ANY_PORT));
        final SocketChannel[] peers = new SocketChannel[1];
        final Connection connection = connected(server, peers, new Recorder());
        connection.interest(Connection.OP_READ);
        poller.pollNow(); // the multishot poll is armed now
        final SocketChannel peer = peers[0];
        peer.configureBlocking(false);

        connection.close();
        final ByteBuffer buffer = ByteBuffer.allocate(8);
        final long deadline = deadline();
        int n;
        do
        {
            poller.poll(10); // the removal goes with the loop's next enter
            n = peer.read(buffer);
            assertTrue(System.currentTimeMillis() < deadline, "no FIN after the close");
        }
        while (n == 0);
        assertEquals(-1, n);
    }

    @Test
    void aResetWithAnArmedPollReachesThePeer() throws IOException
    {
        final ServerSocketChannel server = track(ServerSocketChannel.open().bind(LOOPBACK_ANY_PORT));
        final SocketChannel[] peers = new SocketChannel[1];
        final Connection connection = connected(server, peers, new Recorder());
        connection.interest(Connection.OP_READ);
        poller.pollNow();
        final SocketChannel peer = peers[0];
        peer.configureBlocking(false);

        connection.reset();
        final ByteBuffer buffer = ByteBuffer.allocate(8);
        final long deadline = deadline();
        final IOException e = assertThrows(IOException.class, () ->
        {
            while (peer.read(buffer) == 0)
            {
                poller.poll(10);
                assertTrue(System.currentTimeMillis() < deadline, "no RST after the reset");
            }
        });
        assertTrue(e instanceof SocketException || e.getMessage().contains("reset"), e.toString());
    }

    /**
     * A late completion of a closed socket (its poll cancelled, its readiness still in the queue) must not reach
     * the socket that took its slot and its descriptor number.
     */
    @Test
    void aClosedSocketsLateEventsDoNotReachTheSocketInItsSlot() throws IOException
    {
        final ServerSocketChannel server = track(ServerSocketChannel.open().bind(LOOPBACK_ANY_PORT));
        final SocketChannel[] peers = new SocketChannel[1];
        final Recorder first = new Recorder();
        final Connection old = connected(server, peers, first);
        old.interest(Connection.OP_READ);
        poller.pollNow();
        peers[0].write(ByteBuffer.wrap(new byte[] {1})); // a completion for old is on its way
        final int slot = ((NativeConnection)old).slot;
        old.close();

        final Recorder second = new Recorder();
        final Connection fresh = connected(server, new SocketChannel[1], second);
        assertEquals(slot, ((NativeConnection)fresh).slot);
        fresh.interest(Connection.OP_READ);
        for (int i = 0; i < 5; i++)
        {
            poller.poll(5);
        }
        assertEquals(0, second.calls, "nothing to read on the new connection");
        assertEquals(0, first.calls);
    }

    /**
     * The rings are only submitted to from the loop's thread, but whatever a thread submitted (here the first
     * poll, from a thread that then ends) must go on reporting afterwards, or be armed again by the loop.
     */
    @Test
    void pollsArmedByAThreadThatHasEndedStillReport() throws Exception
    {
        final ServerSocketChannel server = track(ServerSocketChannel.open().bind(LOOPBACK_ANY_PORT));
        final List<Integer> reads = new ArrayList<>();
        final ByteBuffer buffer = ByteBuffer.allocateDirect(64);
        final SocketChannel[] peers = new SocketChannel[1];
        final Connection connection = connected(server, peers, (c, ops) ->
        {
            try
            {
                buffer.clear();
                reads.add(c.read(buffer));
            }
            catch (final IOException e)
            {
                throw new AssertionError(e);
            }
        });
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        final Thread other = new Thread(() ->
        {
            try
            {
                final Connection second = poller.connect((InetSocketAddress)server.getLocalAddress(), new Recorder());
                closeables.add(second::close);
                poller.pollNow();
            }
            catch (final Throwable t)
            {
                failure.set(t);
            }
        });
        other.start();
        other.join(WAIT_MILLIS);
        assertNull(failure.get());
        connection.interest(Connection.OP_READ);
        peers[0].write(ByteBuffer.wrap(new byte[] {1, 2}));
        pollUntil(() -> reads.contains(2), "the read after the other thread ended");
    }

    /**
     * A completion queue of 8 entries and a submission queue of 4 under 40 sockets: registering them fills the
     * submission queue (submitted early), and 40 sockets turning readable at once overflow the completion queue,
     * which ends their multishot polls. Both rounds of data must still be read: the second only comes through
     * the polls armed again.
     */
    @Test
    void multishotPollsEndedByAFullCompletionQueueAreArmedAgain() throws IOException
    {
        poller.close();
        poller = new NativePoller(() -> { }, sys -> new IoUringReadiness(sys, 4, 8));
        final ServerSocketChannel server = track(ServerSocketChannel.open().bind(LOOPBACK_ANY_PORT));
        final int count = 40;
        final int[] bytes = new int[count];
        final SocketChannel[] peers = new SocketChannel[count];
        for (int i = 0; i < count; i++)
        {
            final int index = i;
            final SocketChannel[] peer = new SocketChannel[1];
            final ByteBuffer buffer = ByteBuffer.allocateDirect(64);
            final Connection connection = connected(server, peer, (c, ops) ->
            {
                try
                {
                    buffer.clear();
                    final int n = c.read(buffer);
                    assertTrue(n >= 0, "no EOF expected");
                    bytes[index] += n;
                }
                catch (final IOException e)
                {
                    throw new AssertionError(e);
                }
            });
            connection.interest(Connection.OP_READ);
            peers[i] = peer[0];
        }
        poller.pollNow();
        for (int round = 1; round <= 2; round++)
        {
            for (final SocketChannel peer : peers)
            {
                peer.write(ByteBuffer.wrap(new byte[] {1, 2, 3}));
            }
            final int expected = 3 * round;
            pollUntil(() -> java.util.Arrays.stream(bytes).allMatch(b -> b == expected),
                "round " + round + " read on every socket");
        }
    }

    /**
     * The kernel accepts for a listener by itself, so while accepting is off its accepting must be cancelled:
     * connections wait in the backlog, as on epoll, instead of taking descriptors nobody asked for.
     */
    @Test
    void aListenerNotAcceptingLeavesConnectionsInTheBacklog() throws IOException
    {
        final List<Object> accepted = new ArrayList<>();
        final io.centrigate.loop.Listener listener = listen(l ->
        {
            try
            {
                Object fd;
                while ((fd = l.accept()) != null)
                {
                    accepted.add(fd);
                }
            }
            catch (final IOException e)
            {
                throw new AssertionError(e);
            }
        });
        poller.pollNow(); // the accept is armed
        listener.accepting(false);
        poller.pollNow(); // and cancelled
        final long before = openDescriptors();
        final int count = 20;
        for (int i = 0; i < count; i++)
        {
            track(SocketChannel.open(listener.localAddress()));
        }
        for (int i = 0; i < 5; i++)
        {
            poller.poll(10);
        }
        final long during = openDescriptors();
        assertTrue(during <= before + count + 3, () -> "client descriptors only: " + before + " -> " + during);
        assertTrue(accepted.isEmpty());

        listener.accepting(true);
        pollUntil(() -> accepted.size() == count, "the backlog accepted once accepting is on");
        for (final Object fd : accepted)
        {
            poller.discard(fd);
        }
    }

    /** Descriptors the kernel accepted and nobody took are closed with their listener: no leak, the client hears. */
    @Test
    void closingAListenerClosesWhatItAcceptedAndNobodyTook() throws IOException
    {
        final int[] dispatches = {0};
        final io.centrigate.loop.Listener listener = listen(l -> dispatches[0]++);
        poller.pollNow();
        final long before = openDescriptors();
        final List<SocketChannel> clients = new ArrayList<>();
        for (int i = 0; i < 3; i++)
        {
            clients.add(track(SocketChannel.open(listener.localAddress())));
        }
        pollUntil(() -> dispatches[0] > 0, "the accepts");
        poller.pollNow();
        listener.close();
        poller.pollNow();
        final long after = openDescriptors();
        assertTrue(after <= before + 3 + 2, () -> "descriptors before " + before + ", after " + after);
        for (final SocketChannel client : clients)
        {
            client.configureBlocking(true);
            client.socket().setSoTimeout((int)WAIT_MILLIS);
            try
            {
                assertEquals(-1, client.socket().getInputStream().read());
            }
            catch (final java.net.SocketException reset)
            {
                // a reset is as good: the connection is gone
            }
        }
    }

    /**
     * pollNow with nothing to submit and nothing held back in the kernel reads the completion queue only: an idle
     * loop of the spin, yield or backoff strategies makes no system call for readiness, and still hears of data.
     */
    @Test
    void anIdlePollNowMakesNoSystemCallAndStillSeesData() throws Exception
    {
        final ServerSocketChannel server = track(ServerSocketChannel.open().bind(LOOPBACK_ANY_PORT));
        final List<Integer> reads = new ArrayList<>();
        final ByteBuffer buffer = ByteBuffer.allocateDirect(64);
        final SocketChannel[] peers = new SocketChannel[1];
        final Connection connection = connected(server, peers, (c, ops) ->
        {
            try
            {
                buffer.clear();
                reads.add(c.read(buffer));
            }
            catch (final IOException e)
            {
                throw new AssertionError(e);
            }
        });
        connection.interest(Connection.OP_READ);
        poller.pollNow();
        poller.pollNow();
        final IoUringReadiness readiness = (IoUringReadiness)poller.readiness();
        final long before = readiness.enters();
        for (int i = 0; i < 10_000; i++)
        {
            poller.pollNow();
        }
        assertEquals(before, readiness.enters(), "idle pollNow entered the kernel");
        assertTrue(reads.isEmpty());

        final Thread writer = new Thread(() ->
        {
            try
            {
                peers[0].write(ByteBuffer.wrap(new byte[] {1, 2}));
            }
            catch (final IOException e)
            {
                throw new java.io.UncheckedIOException(e);
            }
        });
        writer.start();
        writer.join(WAIT_MILLIS);
        final long deadline = deadline();
        while (!reads.contains(2))
        {
            poller.pollNow();
            assertTrue(System.currentTimeMillis() < deadline, "the data was not seen by pollNow");
        }
    }
}
