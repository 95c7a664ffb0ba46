package io.centrigate.nativeio;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.centrigate.loop.Connection;
import io.centrigate.loop.Listener;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The epoll transport on real loopback sockets, driven from the test thread: every wait is a poll with a timeout
 * inside a bounded loop, and a poll(0) that could block for ever is guarded by a watchdog connection that would
 * wake it (and fail the test) after {@link #WAIT_MILLIS}. {@link IoUringPollerTest} runs the same behaviours over
 * the io_uring readiness source.
 */
@Timeout(60)
class EpollPollerTest
{
    static final long WAIT_MILLIS = 5_000;
    static final InetSocketAddress LOOPBACK_ANY_PORT =
        new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);

    final List<AutoCloseable> closeables = new ArrayList<>();
    NativePoller poller;
    private int hookCalls;

    @BeforeEach
    void open()
    {
        poller = openPoller(() -> hookCalls++);
    }

    /** The transport under test: a subclass runs every test here on another. */
    NativePoller openPoller(final io.centrigate.loop.Poller.DispatchHook hook)
    {
        assertNull(EpollTransport.unavailableReason());
        return (NativePoller)EpollTransport.open(hook);
    }

    String transportName()
    {
        return "epoll";
    }

    @AfterEach
    void close()
    {
        for (final AutoCloseable closeable : closeables)
        {
            try
            {
                closeable.close();
            }
            catch (final Exception ignore)
            {
                // best effort
            }
        }
        poller.close();
    }

    @Test
    void reportsItsTransport()
    {
        assertEquals(transportName(), poller.transport());
    }

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void echoesThroughAnAcceptedAndAdoptedConnection(final boolean direct) throws IOException
    {
        final List<Connection> adopted = new ArrayList<>();
        final Listener listener = listen(l -> acceptAll(l, adopted, new Echo(direct)));
        assertNotNull(listener.localAddress());
        assertTrue(listener.localAddress().getPort() > 0, "port 0 resolved");

        final SocketChannel client = track(SocketChannel.open(listener.localAddress()));
        client.configureBlocking(false);
        pollUntil(() -> adopted.size() == 1, "accept and adopt");
        final Connection server = adopted.get(0);
        assertEquals(client.getLocalAddress(), server.remoteAddress());
        assertEquals(client.getRemoteAddress(), server.localAddress());

        final byte[] sent = random(256 * 1024, 1);
        final ByteBuffer out = ByteBuffer.wrap(sent);
        final ByteBuffer in = ByteBuffer.allocate(sent.length);
        final long deadline = deadline();
        while (in.hasRemaining())
        {
            if (out.hasRemaining())
            {
                client.write(out);
            }
            poller.poll(10);
            client.read(in);
            assertTrue(System.currentTimeMillis() < deadline, () -> "echoed " + in.position() + " of " + sent.length);
        }
        assertArrayEquals(sent, in.array());
        assertTrue(hookCalls > 0, "the dispatch hook ran");

        client.close();
        pollUntil(() -> !server.isOpen(), "the echo closes at the client's FIN");
        assertNull(server.remoteAddress());
        assertThrows(ClosedChannelException.class, () -> server.read(ByteBuffer.allocateDirect(8)));
    }

    @Test
    void connectsToAListeningPortAndIsWritableAfterwards() throws IOException
    {
        final ServerSocketChannel server = track(ServerSocketChannel.open().bind(LOOPBACK_ANY_PORT));
        final Recorder recorder = new Recorder();
        final Connection connection = poller.connect((InetSocketAddress)server.getLocalAddress(), recorder);
        final SocketChannel peer = track(server.accept());

        if (connection.isConnectionPending())
        {
            assertEquals(Connection.OP_CONNECT, connection.interest());
            pollUntil(() -> recorder.calls > 0, "OP_CONNECT");
            assertEquals(Connection.OP_CONNECT, recorder.lastOps);
        }
        assertTrue(connection.finishConnect());
        assertFalse(connection.isConnectionPending());
        assertEquals(peer.getRemoteAddress(), connection.localAddress());
        assertEquals(peer.getLocalAddress(), connection.remoteAddress());

        // The connect's EPOLLOUT edge has passed already: the latch must still know the socket is writable.
        recorder.calls = 0;
        connection.interest(Connection.OP_WRITE);
        assertEquals(1, poller.pollNow());
        assertEquals(Connection.OP_WRITE, recorder.lastOps);
        assertEquals(3, connection.write(ByteBuffer.wrap(new byte[] {1, 2, 3})));
        final ByteBuffer got = ByteBuffer.allocate(3);
        peer.read(got);
        assertArrayEquals(new byte[] {1, 2, 3}, got.array());
    }

    @Test
    void connectingToAClosedPortFailsWithConnectionRefused() throws IOException
    {
        final int port;
        try (ServerSocket probe = new ServerSocket())
        {
            probe.bind(LOOPBACK_ANY_PORT);
            port = probe.getLocalPort();
        }
        final Recorder recorder = new Recorder();
        final Connection connection;
        try
        {
            connection = poller.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), recorder);
        }
        catch (final ConnectException refusedAtOnce)
        {
            assertEquals("Connection refused", refusedAtOnce.getMessage());
            return;
        }
        assertTrue(connection.isConnectionPending());
        pollUntil(() -> recorder.calls > 0, "OP_CONNECT");
        assertEquals(Connection.OP_CONNECT, recorder.lastOps);
        final ConnectException e = assertThrows(ConnectException.class, connection::finishConnect);
        assertEquals("Connection refused", e.getMessage());
        assertFalse(connection.isOpen(), "a failed connect closes the socket, as NIO's does");
    }

    @Test
    void splicesBetweenTwoConnectionsAndForgetsReadinessOnlyWhenTheSourceIsEmpty() throws IOException
    {
        final ServerSocketChannel server = track(ServerSocketChannel.open().bind(LOOPBACK_ANY_PORT));
        final SocketChannel[] sourcePeer = new SocketChannel[1];
        final SocketChannel[] sinkPeer = new SocketChannel[1];
        final Recorder sourceReady = new Recorder();
        final Connection source = connected(server, sourcePeer, sourceReady);
        final Connection sink = connected(server, sinkPeer, new Recorder());
        final io.centrigate.loop.KernelPipe pipe = poller.openPipe();
        assertNotNull(pipe);
        closeables.add(pipe::close);
        assertTrue(poller.canSplice());

        final byte[] first = random(48 * 1024, 3);
        sourcePeer[0].write(ByteBuffer.wrap(first));
        source.interest(Connection.OP_READ);
        pollUntil(() -> sourceReady.calls > 0, "OP_READ on the source");
        final ByteBuffer received = ByteBuffer.allocate(first.length + 1000);
        long moved = 0;
        final long deadline = deadline();
        while (moved < first.length)
        {
            assertTrue(System.currentTimeMillis() < deadline, "moved " + moved);
            final long n = pipe.fill(source, 1 << 20);
            assertTrue(n >= 0, "no FIN yet");
            while (pipe.buffered() > 0)
            {
                pipe.drain(sink);
                sinkPeer[0].read(received); // blocking: the bytes just spliced are on their way
            }
            moved += n;
        }
        // The source is empty now: a splice would block, and only that forgets the readiness (next edge awaited).
        assertEquals(0, pipe.fill(source, 1 << 20));
        sourceReady.calls = 0;
        assertEquals(0, poller.pollNow(), "no readiness left latched on an empty source");
        // New bytes bring a new edge, and the peer's FIN reads as -1 after them.
        sourcePeer[0].write(ByteBuffer.wrap(new byte[] {1, 2, 3}));
        sourcePeer[0].shutdownOutput();
        pollUntil(() -> sourceReady.calls > 0, "OP_READ after new bytes");
        assertEquals(3, pipe.fill(source, 1 << 20));
        assertEquals(3, pipe.drain(sink));
        assertEquals(-1, pipe.fill(source, 1 << 20));
        while (received.position() < first.length + 3)
        {
            sinkPeer[0].read(received);
        }
        final byte[] expected = java.util.Arrays.copyOf(first, first.length + 3);
        expected[first.length] = 1;
        expected[first.length + 1] = 2;
        expected[first.length + 2] = 3;
        assertArrayEquals(expected, java.util.Arrays.copyOf(received.array(), received.position()));
    }

    @Test
    void aSlowReaderMakesWritesGoShortAndOpWriteComesBack() throws IOException
    {
        final ServerSocketChannel server = track(ServerSocketChannel.open().bind(LOOPBACK_ANY_PORT));
        final byte[] payload = random(8 << 20, 2);
        final ByteBuffer source = ByteBuffer.allocateDirect(payload.length).put(payload).flip();
        final int[] shortWrites = {0};
        final int[] emptyWrites = {0};
        final int[] writeDispatches = {0};
        final Connection.Handler writer = (c, ops) ->
        {
            try
            {
                if ((ops & Connection.OP_CONNECT) != 0)
                {
                    c.finishConnect();
                    c.interest(Connection.OP_WRITE);
                    return;
                }
                writeDispatches[0]++;
                final int asked = source.remaining();
                final int n = c.write(source);
                if (n == 0)
                {
                    emptyWrites[0]++;
                }
                else if (n < asked)
                {
                    shortWrites[0]++;
                }
                if (!source.hasRemaining())
                {
                    c.interest(0);
                }
            }
            catch (final IOException e)
            {
                throw new AssertionError(e);
            }
        };
        poller.connect((InetSocketAddress)server.getLocalAddress(), writer);
        final SocketChannel reader = track(server.accept());
        reader.configureBlocking(false);

        final ByteBuffer received = ByteBuffer.allocate(payload.length);
        final ByteBuffer slice = ByteBuffer.allocate(32 * 1024);
        final long deadline = deadline() + 10_000;
        int loops = 0;
        while (received.hasRemaining())
        {
            poller.poll(1);
            slice.clear();
            reader.read(slice);
            received.put(slice.flip());
            loops++;
            assertTrue(System.currentTimeMillis() < deadline, () -> "received " + received.position());
        }
        assertArrayEquals(payload, received.array());
        assertTrue(shortWrites[0] > 0, "the send buffer filled up");
        assertTrue(writeDispatches[0] > 1, "OP_WRITE was dispatched again once there was room");
        // Had the short write left the latch set, every poll of the loop would have dispatched a useless write.
        final int polls = loops;
        assertTrue(emptyWrites[0] < 10, () -> emptyWrites[0] + " writes of nothing in " + polls + " polls");
    }

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void aHandlerTakingSixteenBytesPerCallStillGetsTheWholeBurst(final boolean direct) throws IOException
    {
        final ServerSocketChannel server = track(ServerSocketChannel.open().bind(LOOPBACK_ANY_PORT));
        final ByteBuffer piece = direct ? ByteBuffer.allocateDirect(16) : ByteBuffer.allocate(16);
        final ByteBuffer received = ByteBuffer.allocate(64 * 1024);
        final SocketChannel[] peers = new SocketChannel[1];
        final Connection connection = connected(server, peers, (c, ops) ->
        {
            try
            {
                piece.clear();
                final int n = c.read(piece);
                assertTrue(n >= 0, "no EOF expected");
                received.put(piece.flip());
            }
            catch (final IOException e)
            {
                throw new AssertionError(e);
            }
        });
        connection.interest(Connection.OP_READ);

        final byte[] burst = random(received.capacity(), 3);
        peers[0].write(ByteBuffer.wrap(burst)); // blocking, once: no new data (no new edge) after this

        final Watchdog watchdog = watchdog();
        int polls = 0;
        while (received.hasRemaining() && !watchdog.fired())
        {
            // poll(0) blocks until an event: only the ready list, not a new edge, can keep this going.
            final int dispatched = poller.poll(0);
            if (watchdog.fired())
            {
                break;
            }
            assertTrue(dispatched <= 1, "one connection, dispatched at most once per poll");
            polls++;
        }
        assertFalse(watchdog.fired(), () -> "poll(0) blocked with " + received.position() + " bytes read");
        assertArrayEquals(burst, received.array());
        assertTrue(polls >= burst.length / 16, "a dispatch per 16 bytes");
    }

    @Test
    void thePeersFinReadsAsMinusOneEvenWhenItCameWithTheLastData() throws IOException
    {
        final ServerSocketChannel server = track(ServerSocketChannel.open().bind(LOOPBACK_ANY_PORT));
        final List<Integer> reads = new ArrayList<>();
        final ByteBuffer buffer = ByteBuffer.allocateDirect(64);
        final SocketChannel[] peers = new SocketChannel[1];
        final Connection connection = connected(server, peers, (c, ops) ->
        {
            try
            {
                reads.add(c.read(buffer));
            }
            catch (final IOException e)
            {
                throw new AssertionError(e);
            }
        });
        final SocketChannel peer = peers[0];
        connection.interest(Connection.OP_READ);
        poller.pollNow(); // the connect's EPOLLOUT edge is behind us

        // Data and FIN before the poll: one edge (EPOLLIN | EPOLLRDHUP), and the read of the data comes back short.
        peer.write(ByteBuffer.wrap(new byte[] {'h', 'i'}));
        peer.shutdownOutput();
        pollUntil(() -> reads.contains(-1), "EOF");
        assertEquals(List.of(2, -1), reads);
        poller.pollNow();
        assertEquals(List.of(2, -1, -1), reads, "still readable at EOF, as NIO reports it");
    }

    @Test
    void aResetByThePeerFailsTheRead() throws IOException
    {
        try (ServerSocket server = new ServerSocket())
        {
            server.bind(LOOPBACK_ANY_PORT);
            final IOException[] failure = new IOException[1];
            final ByteBuffer buffer = ByteBuffer.allocateDirect(64);
            final Connection connection = poller.connect((InetSocketAddress)server.getLocalSocketAddress(), (c, ops) ->
            {
                if ((ops & Connection.OP_READ) != 0)
                {
                    try
                    {
                        c.read(buffer);
                    }
                    catch (final IOException e)
                    {
                        failure[0] = e;
                        c.close();
                    }
                }
            });
            try (Socket peer = server.accept())
            {
                finishConnect(connection);
                connection.interest(Connection.OP_READ);
                peer.setSoLinger(true, 0);
            }
            pollUntil(() -> failure[0] != null, "the reset");
            assertEquals("Connection reset by peer", failure[0].getMessage());
        }
    }

    @Test
    void wakeupFromAnotherThreadEndsABlockingPoll() throws Exception
    {
        final Watchdog watchdog = watchdog();
        final CountDownLatch started = new CountDownLatch(1);
        final AtomicBoolean done = new AtomicBoolean();
        final Thread waker = new Thread(() ->
        {
            try
            {
                started.await();
                // A storm: one eventfd write for all of it, and the loop's read clears the pending flag.
                for (int i = 0; i < 10_000; i++)
                {
                    poller.wakeup();
                }
                done.set(true);
                poller.wakeup();
            }
            catch (final InterruptedException e)
            {
                Thread.currentThread().interrupt();
            }
        });
        waker.start();
        started.countDown();
        do
        {
            poller.poll(0);
        }
        while (!done.get() && !watchdog.fired());
        waker.join(WAIT_MILLIS);
        assertFalse(watchdog.fired(), "poll(0) was not woken");
        poller.pollNow(); // collects a wake-up still pending from the storm

        // The pending flag was cleared: a later lone wake-up still writes the eventfd.
        final Thread again = new Thread(poller::wakeup);
        again.start();
        poller.poll(0);
        again.join(WAIT_MILLIS);
        assertFalse(watchdog.fired(), "the second poll(0) was not woken");
    }

    @Test
    void aHandlerMayCloseAnotherReadyConnectionAndReuseItsSlot() throws IOException
    {
        final ServerSocketChannel server = track(ServerSocketChannel.open().bind(LOOPBACK_ANY_PORT));
        final InetSocketAddress address = (InetSocketAddress)server.getLocalAddress();
        final Connection[] pair = new Connection[2];
        final SocketChannel[] peers = new SocketChannel[2];
        final SocketChannel[] accepted = new SocketChannel[1];
        final int[] dispatched = new int[2];
        final Connection[] replacement = new Connection[1];
        final Recorder replacementRecorder = new Recorder();
        for (int i = 0; i < 2; i++)
        {
            final int self = i;
            pair[i] = connected(server, accepted, (c, ops) ->
            {
                dispatched[self]++;
                final Connection other = pair[1 - self];
                final int freedSlot = ((NativeConnection)other).slot;
                other.close();
                try
                {
                    replacement[0] = poller.connect(address, replacementRecorder);
                }
                catch (final IOException e)
                {
                    throw new AssertionError(e);
                }
                assertEquals(freedSlot, ((NativeConnection)replacement[0]).slot, "the freed slot is reused");
                c.interest(0);
            });
            peers[i] = accepted[0];
        }
        poller.pollNow();

        // Both readable in one epoll_wait: the first dispatched closes the other before its turn.
        for (final SocketChannel peer : peers)
        {
            peer.write(ByteBuffer.wrap(new byte[] {7}));
        }
        pair[0].interest(Connection.OP_READ);
        pair[1].interest(Connection.OP_READ);
        final int count = poller.pollNow();
        assertEquals(1, count);
        assertEquals(1, dispatched[0] + dispatched[1]);
        final int closed = dispatched[0] == 1 ? 1 : 0;
        assertFalse(pair[closed].isOpen());
        assertTrue(pair[1 - closed].isOpen());

        track(server.accept());
        pollUntil(() -> replacementRecorder.calls > 0, "the replacement's connect");
        assertEquals(Connection.OP_CONNECT, replacementRecorder.lastOps, "no readiness left over from the slot");
        assertTrue(replacement[0].finishConnect());
        poller.pollNow();
        assertEquals(1, dispatched[0] + dispatched[1]);
    }

    @Test
    void gathersDirectAndHeapBuffersInOneWrite() throws IOException
    {
        final ServerSocketChannel server = track(ServerSocketChannel.open().bind(LOOPBACK_ANY_PORT));
        final SocketChannel[] peers = new SocketChannel[1];
        final Connection connection = connected(server, peers, new Recorder());
        final SocketChannel peer = peers[0];

        final byte[] big = random(100_000, 4);
        final ByteBuffer[] srcs = {
            ByteBuffer.allocate(1),
            ByteBuffer.allocateDirect(3).put(new byte[] {'a', 'b', 'c'}).flip(),
            ByteBuffer.wrap(new byte[] {'d', 'e', 'f', 'g'}),
            ByteBuffer.allocate(0),
            ByteBuffer.allocateDirect(big.length).put(big).flip(),
        };
        final long n = connection.write(srcs, 1, 4);
        assertEquals(3 + 4 + big.length, n);
        for (int i = 1; i < srcs.length; i++)
        {
            assertFalse(srcs[i].hasRemaining(), "buffer " + i + " consumed");
        }
        assertEquals(1, srcs[0].remaining(), "outside the range");

        final ByteBuffer got = ByteBuffer.allocate((int)n);
        while (got.hasRemaining())
        {
            peer.read(got);
        }
        final byte[] expected = new byte[(int)n];
        System.arraycopy(new byte[] {'a', 'b', 'c', 'd', 'e', 'f', 'g'}, 0, expected, 0, 7);
        System.arraycopy(big, 0, expected, 7, big.length);
        assertArrayEquals(expected, got.array());
    }

    @Test
    void aListenerIsRedispatchedWhileConnectionsWaitAndAcceptingIsOn() throws IOException
    {
        final int[] calls = {0};
        final List<Object> accepted = new ArrayList<>();
        final Listener listener = listen(l ->
        {
            calls[0]++;
            try
            {
                final Object fd = l.accept(); // one per call: the rest must come back without a new edge
                if (fd != null)
                {
                    accepted.add(fd);
                }
            }
            catch (final IOException e)
            {
                throw new AssertionError(e);
            }
        });
        listener.accepting(false);
        final List<SocketChannel> clients = new ArrayList<>();
        for (int i = 0; i < 3; i++)
        {
            clients.add(track(SocketChannel.open(listener.localAddress())));
        }
        assertEquals(0, poller.poll(50));
        assertEquals(0, calls[0], "not dispatched while accepting is off");

        listener.accepting(true);
        for (int i = 0; i < 3; i++)
        {
            assertEquals(1, poller.pollNow());
        }
        assertEquals(3, accepted.size());
        assertEquals(1, poller.pollNow(), "the fourth call finds the backlog empty");
        assertEquals(0, poller.pollNow(), "and the latch cleared with it");
        assertEquals(4, calls[0]);

        final Connection adopted = poller.adopt(accepted.remove(0), new Recorder());
        assertEquals(Connection.OP_READ, adopted.interest());
        assertEquals(clients.get(0).getLocalAddress(), adopted.remoteAddress());
        adopted.close();
        for (final Object fd : accepted)
        {
            poller.discard(fd);
        }
        listener.close();
        assertFalse(listener.isOpen());
    }

    @Test
    void theIpv4WildcardTakesClientsOfBothFamiliesAndReusePortSharesAPort() throws IOException
    {
        final List<Connection> adopted = new ArrayList<>();
        final Listener.Handler acceptor = l -> acceptAll(l, adopted, new Recorder());
        final Listener first = poller.listen(new InetSocketAddress(0), 16, true, acceptor);
        closeables.add(first::close);
        final int port = first.localAddress().getPort();
        assertTrue(port > 0);
        final Listener second = poller.listen(new InetSocketAddress(port), 16, true, acceptor);
        closeables.add(second::close);
        assertEquals(port, second.localAddress().getPort());

        final SocketChannel v4 = track(SocketChannel.open(new InetSocketAddress("127.0.0.1", port)));
        pollUntil(() -> adopted.size() == 1, "the IPv4 client");
        assertEquals(v4.getLocalAddress(), adopted.get(0).remoteAddress(), "an IPv4-mapped peer reads as IPv4");
        try
        {
            track(SocketChannel.open(new InetSocketAddress("::1", port)));
        }
        catch (final IOException noIpv6Here)
        {
            return;
        }
        pollUntil(() -> adopted.size() == 2, "the IPv6 client");
    }

    @Test
    void closesEveryDescriptorItOpens() throws IOException
    {
        final List<Connection> adopted = new ArrayList<>();
        final Listener listener = listen(l -> acceptAll(l, adopted, new Recorder()));
        cycleConnections(listener, adopted, 5); // class loading and linking open their files before the count
        final long before = openDescriptors();

        for (int round = 0; round < 10; round++)
        {
            cycleConnections(listener, adopted, 50);
        }
        for (int i = 0; i < 20; i++)
        {
            openPoller(() -> { }).close();
        }

        // Tolerates a JVM thread opening a file meanwhile; a leak per connection or poller shows as 20 and more.
        final long after = openDescriptors();
        assertTrue(after <= before + 5, () -> "descriptors before " + before + ", after " + after);
    }

    /** Opens {@code count} connections through the poller to its own listener, then closes both ends of each. */
    private void cycleConnections(final Listener listener, final List<Connection> adopted, final int count)
        throws IOException
    {
        final List<Connection> clients = new ArrayList<>();
        final Recorder recorder = new Recorder();
        for (int i = 0; i < count; i++)
        {
            clients.add(poller.connect(listener.localAddress(), recorder));
        }
        pollUntil(() -> adopted.size() == count && finishAll(clients), "connect and accept " + count);
        for (final Connection client : clients)
        {
            client.close();
        }
        for (final Connection server : adopted)
        {
            server.close();
        }
        adopted.clear();
    }

    private static boolean finishAll(final List<Connection> clients)
    {
        for (final Connection client : clients)
        {
            try
            {
                if (!client.finishConnect())
                {
                    return false;
                }
            }
            catch (final IOException e)
            {
                throw new AssertionError(e);
            }
        }
        return true;
    }

    Listener listen(final Listener.Handler handler) throws IOException
    {
        final Listener listener = poller.listen(LOOPBACK_ANY_PORT, 128, false, handler);
        closeables.add(listener::close);
        return listener;
    }

    void acceptAll(final Listener listener, final List<Connection> adopted, final Connection.Handler handler)
    {
        try
        {
            Object fd;
            while ((fd = listener.accept()) != null)
            {
                adopted.add(poller.adopt(fd, handler));
            }
        }
        catch (final IOException e)
        {
            throw new AssertionError(e);
        }
    }

    /**
     * Connects through the poller and completes the connect (a recorder takes the OP_CONNECT), then hands the
     * connection to {@code handler} with no interest yet.
     */
    Connection connected(final ServerSocketChannel server, final SocketChannel[] peer,
        final Connection.Handler handler) throws IOException
    {
        final Connection connection = poller.connect((InetSocketAddress)server.getLocalAddress(), new Recorder());
        closeables.add(connection::close);
        peer[0] = track(server.accept());
        finishConnect(connection);
        connection.interest(0);
        connection.handler(handler);
        return connection;
    }

    /** Polls until the connect's outcome is latched (the handler sees only interest it has not asked for). */
    void finishConnect(final Connection connection) throws IOException
    {
        final long deadline = deadline();
        while (!connection.finishConnect())
        {
            assertTrue(System.currentTimeMillis() < deadline, "connect did not complete");
            poller.poll(10);
        }
    }

    void pollUntil(final BooleanSupplier done, final String what) throws IOException
    {
        final long deadline = deadline();
        while (!done.getAsBoolean())
        {
            if (System.currentTimeMillis() > deadline)
            {
                fail("no " + what + " within " + WAIT_MILLIS + " ms");
            }
            poller.poll(10);
        }
    }

    /**
     * After {@link #WAIT_MILLIS}, connects to a listener of the poller: an event that ends any poll(0) the test is
     * stuck in, however broken wakeup() is.
     */
    private Watchdog watchdog() throws IOException
    {
        final AtomicBoolean fired = new AtomicBoolean();
        final Listener listener = listen(l ->
        {
            try
            {
                Object fd;
                while ((fd = l.accept()) != null)
                {
                    poller.discard(fd);
                }
            }
            catch (final IOException e)
            {
                throw new AssertionError(e);
            }
        });
        final CountDownLatch cancelled = new CountDownLatch(1);
        final Thread thread = new Thread(() ->
        {
            try
            {
                if (!cancelled.await(WAIT_MILLIS, TimeUnit.MILLISECONDS))
                {
                    fired.set(true);
                    final InetSocketAddress target = listener.localAddress();
                    final Socket poke = new Socket(target.getAddress(), target.getPort());
                    try
                    {
                        Thread.sleep(WAIT_MILLIS); // keep it open until the test has noticed
                    }
                    finally
                    {
                        poke.close();
                    }
                }
            }
            catch (final IOException | InterruptedException e)
            {
                // the test is over
            }
        }, "watchdog");
        thread.setDaemon(true);
        thread.start();
        final Watchdog watchdog = new Watchdog(fired, cancelled);
        closeables.add(() -> cancelled.countDown());
        return watchdog;
    }

    private record Watchdog(AtomicBoolean firedFlag, CountDownLatch cancelled)
    {
        boolean fired()
        {
            return firedFlag.get();
        }
    }

    <T extends AutoCloseable> T track(final T closeable)
    {
        closeables.add(closeable);
        return closeable;
    }

    static long deadline()
    {
        return System.currentTimeMillis() + WAIT_MILLIS;
    }

    static byte[] random(final int size, final long seed)
    {
        final byte[] bytes = new byte[size];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    static long openDescriptors() throws IOException
    {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd")))
        {
            return fds.count();
        }
    }

    static final class Recorder implements Connection.Handler
    {
        int calls;
        int lastOps;

        @Override
        public void onReady(final Connection connection, final int readyOps)
        {
            calls++;
            lastOps = readyOps;
            if ((readyOps & Connection.OP_CONNECT) != 0)
            {
                // Stops the level-like re-dispatch of OP_CONNECT; the test calls finishConnect itself.
                connection.interest(0);
            }
        }
    }

    /** Echoes what it reads; stops reading while a write is pending; closes at the peer's FIN. */
    private static final class Echo implements Connection.Handler
    {
        private final boolean direct;
        private final java.util.Map<Connection, ByteBuffer> buffers = new java.util.IdentityHashMap<>();

        Echo(final boolean direct)
        {
            this.direct = direct;
        }

        @Override
        public void onReady(final Connection connection, final int readyOps)
        {
            final ByteBuffer buffer = buffers.computeIfAbsent(
                connection, c -> direct ? ByteBuffer.allocateDirect(4096) : ByteBuffer.allocate(4096));
            try
            {
                if ((readyOps & Connection.OP_READ) != 0)
                {
                    if (connection.read(buffer) < 0)
                    {
                        connection.close();
                        return;
                    }
                    buffer.flip();
                }
                connection.write(buffer);
                if (buffer.hasRemaining())
                {
                    connection.interest(Connection.OP_WRITE);
                }
                else
                {
                    buffer.clear();
                    connection.interest(Connection.OP_READ);
                }
            }
            catch (final IOException e)
            {
                connection.close();
            }
        }
    }
}
