package io.centrigate.nativeio;

import static io.centrigate.nativeio.Syscalls.AF_INET;
import static io.centrigate.nativeio.Syscalls.EFD_CLOEXEC;
import static io.centrigate.nativeio.Syscalls.EFD_NONBLOCK;
import static io.centrigate.nativeio.Syscalls.EPOLLERR;
import static io.centrigate.nativeio.Syscalls.EPOLLET;
import static io.centrigate.nativeio.Syscalls.EPOLLHUP;
import static io.centrigate.nativeio.Syscalls.EPOLLIN;
import static io.centrigate.nativeio.Syscalls.EPOLLOUT;
import static io.centrigate.nativeio.Syscalls.EPOLLRDHUP;
import static io.centrigate.nativeio.Syscalls.EPOLL_CLOEXEC;
import static io.centrigate.nativeio.Syscalls.EPOLL_CTL_ADD;
import static io.centrigate.nativeio.Syscalls.IOVEC_SIZE;
import static io.centrigate.nativeio.Syscalls.SHUT_WR;
import static io.centrigate.nativeio.Syscalls.SOCK_CLOEXEC;
import static io.centrigate.nativeio.Syscalls.SOCK_NONBLOCK;
import static io.centrigate.nativeio.Syscalls.SOCK_STREAM;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Real non-blocking sockets on loopback through epoll. Every wait is an epoll_wait with a timeout, so a missed
 * event fails the test instead of hanging it.
 */
@Timeout(30)
class SyscallsTest
{
    private static final int WAIT_MILLIS = 5_000;
    private static final int SOCKET_FLAGS = SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC;

    private final List<Integer> open = new ArrayList<>();
    private Syscalls sys;
    private Arena arena;
    private EpollEvents events;
    private int epfd;

    @BeforeEach
    void openEpoll()
    {
        sys = new Syscalls();
        arena = Arena.ofConfined();
        events = new EpollEvents(16);
        epfd = track(sys.epollCreate(EPOLL_CLOEXEC));
    }

    @AfterEach
    void closeAll()
    {
        for (final int fd : open)
        {
            sys.close(fd);
        }
        events.close();
        arena.close();
        sys.close();
    }

    @Test
    void movesOneMebibyteThroughAnEdgeTriggeredPairByteExact()
    {
        final int[] pair = connectedPair();
        final int client = pair[0];
        final int server = pair[1];
        final int interest = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
        assertEquals(0, sys.epollCtl(epfd, EPOLL_CTL_ADD, client, interest, client));
        assertEquals(0, sys.epollCtl(epfd, EPOLL_CTL_ADD, server, interest, server));
        assertEquals(0, sys.setTcpNoDelay(client, true));

        // Direct ByteBuffers, as the chunk pool hands out, seen through MemorySegment.ofBuffer.
        final int size = 1 << 20;
        final ByteBuffer sent = ByteBuffer.allocateDirect(size);
        final byte[] expected = new byte[size];
        new Random(14).nextBytes(expected);
        sent.put(expected).clear();
        final MemorySegment source = MemorySegment.ofBuffer(sent);
        final MemorySegment sink = MemorySegment.ofBuffer(ByteBuffer.allocateDirect(size));
        final MemorySegment iovecs = arena.allocate(2 * IOVEC_SIZE, 8);

        final Random pieces = new Random(22);
        long written = 0;
        long received = 0;
        int readsThatWouldBlock = 0;
        boolean writable = false;
        while (received < size)
        {
            // Edge-triggered: write until the kernel says EAGAIN, then wait for the next EPOLLOUT edge.
            while (writable && written < size)
            {
                final long piece = Math.min(size - written, 1 + pieces.nextInt(64 * 1024));
                final long n;
                if (pieces.nextBoolean())
                {
                    n = sys.send(client, source, written, piece, 0);
                }
                else
                {
                    final long half = piece / 2;
                    Syscalls.iovec(iovecs, 0, source, written, half);
                    Syscalls.iovec(iovecs, 1, source, written + half, piece - half);
                    n = sys.writev(client, iovecs, 2);
                }
                if (n == -Errno.EAGAIN)
                {
                    writable = false;
                }
                else
                {
                    assertTrue(n > 0, () -> "write: " + Errno.name(n));
                    written += n;
                }
            }

            final int ready = awaitEvents();
            for (int i = 0; i < ready; i++)
            {
                final long fd = events.data(i);
                final int mask = events.events(i);
                if (fd == client && (mask & EPOLLOUT) != 0)
                {
                    writable = true;
                }
                if (fd == server && (mask & EPOLLIN) != 0)
                {
                    long n;
                    while ((n = sys.recv(server, sink, received, Math.min(size - received, 16 * 1024), 0)) > 0)
                    {
                        received += n;
                    }
                    if (n == -Errno.EAGAIN)
                    {
                        readsThatWouldBlock++;
                    }
                    else if (received < size)
                    {
                        final long r = n;
                        fail("recv: " + (r == 0 ? "end of stream" : Errno.name(r)));
                    }
                }
            }
        }

        assertEquals(size, written);
        assertTrue(readsThatWouldBlock > 0, "the reader drained to EAGAIN at least once");
        final byte[] actual = new byte[size];
        sink.asByteBuffer().get(actual);
        assertTrue(java.util.Arrays.equals(expected, actual), "bytes differ");
        final long r = sys.recv(server, sink, 0, 1, 0);
        assertEquals(-Errno.EAGAIN, r, () -> "nothing more to read: " + Errno.name(r));
    }

    @Test
    void reportsReadHangUpWhenThePeerShutsDownItsOutput()
    {
        final int[] pair = connectedPair();
        final int server = pair[1];
        assertEquals(0, sys.epollCtl(epfd, EPOLL_CTL_ADD, server, EPOLLIN | EPOLLRDHUP | EPOLLET, 7));

        assertEquals(0, sys.shutdown(pair[0], SHUT_WR));

        final int ready = awaitEvents();
        assertEquals(1, ready);
        assertEquals(7, events.data(0));
        assertTrue((events.events(0) & EPOLLRDHUP) != 0, () -> "events " + Integer.toHexString(events.events(0)));
        final MemorySegment buffer = arena.allocate(64);
        assertEquals(0, sys.recv(server, buffer, 0, buffer.byteSize(), 0), "end of stream");
    }

    @Test
    void anAbortiveCloseResetsThePeer()
    {
        final int[] pair = connectedPair();
        final int server = pair[1];
        assertEquals(0, sys.epollCtl(epfd, EPOLL_CTL_ADD, server, EPOLLIN | EPOLLRDHUP | EPOLLET, server));

        assertEquals(0, sys.setLinger(pair[0], true, 0));
        assertEquals(0, sys.close(pair[0]));
        open.remove(Integer.valueOf(pair[0]));

        assertEquals(1, awaitEvents());
        assertTrue((events.events(0) & (EPOLLHUP | EPOLLERR)) != 0,
            () -> "events " + Integer.toHexString(events.events(0)));
        final MemorySegment buffer = arena.allocate(64);
        final long r = sys.recv(server, buffer, 0, buffer.byteSize(), 0);
        assertEquals(-Errno.ECONNRESET, r, () -> Errno.name(r));
    }

    @Test
    void anEventfdWrittenByAnotherThreadWakesEpollWait() throws InterruptedException
    {
        final int efd = track(sys.eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
        assertEquals(0, sys.epollCtl(epfd, EPOLL_CTL_ADD, efd, EPOLLIN | EPOLLET, 42));
        assertEquals(-Errno.EAGAIN, sys.eventfdRead(efd), "a fresh eventfd is not readable");

        final CountDownLatch waiting = new CountDownLatch(1);
        final long[] wrote = new long[1];
        final Thread waker = new Thread(() ->
        {
            try (Syscalls own = new Syscalls())
            {
                if (waiting.await(WAIT_MILLIS, TimeUnit.MILLISECONDS))
                {
                    wrote[0] = own.eventfdWrite(efd, 1);
                }
            }
            catch (final InterruptedException e)
            {
                Thread.currentThread().interrupt();
            }
        }, "waker");
        waker.start();

        waiting.countDown();
        final int ready = sys.epollWait(epfd, events, WAIT_MILLIS);
        waker.join(WAIT_MILLIS);

        assertEquals(8, wrote[0]);
        assertEquals(1, ready);
        assertEquals(42, events.data(0));
        assertEquals(1, sys.eventfdRead(efd));
        assertEquals(-Errno.EAGAIN, sys.eventfdRead(efd), "the read reset the counter");
    }

    @Test
    void connectingToAClosedPortEndsInConnectionRefused()
    {
        // A port that was just bound and released: nothing listens there.
        final int probe = track(sys.socket(AF_INET, SOCKET_FLAGS, 0));
        assertEquals(0, sys.bind(probe, loopback(0)));
        final int port = portOf(probe);
        closeTracked(probe);

        final int client = track(sys.socket(AF_INET, SOCKET_FLAGS, 0));
        int r = sys.connect(client, loopback(port));
        if (r == -Errno.EINPROGRESS)
        {
            assertEquals(0, sys.epollCtl(epfd, EPOLL_CTL_ADD, client, EPOLLOUT | EPOLLET, client));
            assertEquals(1, awaitEvents());
            assertTrue((events.events(0) & EPOLLERR) != 0);
            r = sys.socketError(client);
        }
        final int result = r;
        assertEquals(-Errno.ECONNREFUSED, result, () -> Errno.name(result));
        assertEquals(0, sys.socketError(client), "reading SO_ERROR cleared it");
    }

    @Test
    void failuresComeBackAsNegatedErrno()
    {
        assertEquals(-Errno.EBADF, sys.close(-1));
        final MemorySegment buffer = arena.allocate(8);
        assertEquals(-Errno.EBADF, sys.recv(-1, buffer, 0, 8, 0));
        assertEquals(-Errno.EINVAL, sys.epollCtl(epfd, EPOLL_CTL_ADD, epfd, EPOLLIN, 0), "epoll cannot watch itself");
        assertEquals("ECONNRESET", Errno.name(-Errno.ECONNRESET));
    }

    @Test
    void refusesHeapMemoryAndRangesOutsideTheSegment()
    {
        final MemorySegment heap = MemorySegment.ofArray(new byte[16]);
        assertThrows(IllegalArgumentException.class, () -> sys.send(0, heap, 0, 16, 0));
        final MemorySegment direct = MemorySegment.ofBuffer(ByteBuffer.allocateDirect(16));
        assertThrows(IndexOutOfBoundsException.class, () -> sys.recv(0, direct, 8, 9, 0));
    }

    @Test
    void closesEveryDescriptorItOpens() throws IOException
    {
        final int listener = listener();
        final int port = portOf(listener);
        connectedPair(listener, port); // class loading and linking open their files before the count
        final long before = openDescriptors();

        for (int i = 0; i < 200; i++)
        {
            final int[] pair = connectedPair(listener, port);
            final int efd = sys.eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
            final int ep = sys.epollCreate(EPOLL_CLOEXEC);
            closeTracked(pair[0]);
            closeTracked(pair[1]);
            assertEquals(0, sys.close(efd));
            assertEquals(0, sys.close(ep));
        }

        // Tolerates a JVM thread opening a file meanwhile; a leak of one descriptor per pair shows as 200.
        final long after = openDescriptors();
        assertTrue(after <= before + 5, () -> "descriptors before " + before + ", after " + after);
    }

    @Test
    void socketAddressesRoundTrip() throws IOException
    {
        final MemorySegment storage = arena.allocate(SocketAddresses.SOCKADDR_STORAGE_SIZE);
        final InetSocketAddress v4 = new InetSocketAddress(InetAddress.getByName("10.1.2.3"), 65_000);
        assertEquals(SocketAddresses.SOCKADDR_IN_SIZE, SocketAddresses.write(storage, v4).byteSize());
        assertEquals(v4, SocketAddresses.read(storage));
        final InetSocketAddress v6 = new InetSocketAddress(InetAddress.getByName("fe80::1"), 443);
        assertEquals(SocketAddresses.SOCKADDR_IN6_SIZE, SocketAddresses.write(storage, v6).byteSize());
        assertEquals(v6, SocketAddresses.read(storage));
    }

    private int[] connectedPair()
    {
        final int listener = listener();
        return connectedPair(listener, portOf(listener));
    }

    /** A client and its accepted peer, both non-blocking, the connect confirmed through epoll and SO_ERROR. */
    private int[] connectedPair(final int listener, final int port)
    {
        final int client = track(sys.socket(AF_INET, SOCKET_FLAGS, 0));
        final int r = sys.connect(client, loopback(port));
        assertTrue(r == 0 || r == -Errno.EINPROGRESS, () -> "connect: " + Errno.name(r));

        final int pollfd = track(sys.epollCreate(EPOLL_CLOEXEC));
        assertEquals(0, sys.epollCtl(pollfd, EPOLL_CTL_ADD, listener, EPOLLIN, 1));
        assertEquals(0, sys.epollCtl(pollfd, EPOLL_CTL_ADD, client, EPOLLOUT, 2));
        int accepted = -Errno.EAGAIN;
        boolean connected = false;
        while (accepted < 0 || !connected)
        {
            final int ready = sys.epollWait(pollfd, events, WAIT_MILLIS);
            assertTrue(ready > 0, () -> "no accept or connect within " + WAIT_MILLIS + " ms: " + Errno.name(ready));
            for (int i = 0; i < ready; i++)
            {
                if (events.data(i) == 1 && accepted < 0)
                {
                    accepted = sys.accept4(listener, SOCK_NONBLOCK | SOCK_CLOEXEC);
                    final int a = accepted;
                    assertTrue(a >= 0 || a == -Errno.EAGAIN, () -> "accept4: " + Errno.name(a));
                }
                else if (events.data(i) == 2 && !connected)
                {
                    assertEquals(0, sys.socketError(client), "connect outcome");
                    connected = true;
                    assertEquals(0, sys.epollCtl(pollfd, Syscalls.EPOLL_CTL_DEL, client, 0, 0));
                }
            }
        }
        closeTracked(pollfd);
        return new int[] {client, track(accepted)};
    }

    private int listener()
    {
        final int fd = track(sys.socket(AF_INET, SOCKET_FLAGS, 0));
        assertEquals(0, sys.bind(fd, loopback(0)));
        assertEquals(0, sys.listen(fd, 64));
        return fd;
    }

    private int portOf(final int fd)
    {
        final MemorySegment storage = arena.allocate(SocketAddresses.SOCKADDR_STORAGE_SIZE);
        final int length = sys.getsockname(fd, storage);
        assertEquals(SocketAddresses.SOCKADDR_IN_SIZE, length, () -> "getsockname: " + Errno.name(length));
        return SocketAddresses.read(storage).getPort();
    }

    private MemorySegment loopback(final int port)
    {
        return SocketAddresses.write(
            arena.allocate(SocketAddresses.SOCKADDR_STORAGE_SIZE),
            new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
    }

    private int awaitEvents()
    {
        final int ready = sys.epollWait(epfd, events, WAIT_MILLIS);
        assertTrue(ready > 0, () -> "no event within " + WAIT_MILLIS + " ms: " + Errno.name(ready));
        return ready;
    }

    private int track(final int fd)
    {
        assertTrue(fd >= 0, () -> "expected a descriptor: " + Errno.name(fd));
        open.add(fd);
        return fd;
    }

    private void closeTracked(final int fd)
    {
        assertEquals(0, sys.close(fd));
        open.remove(Integer.valueOf(fd));
    }

    private static long openDescriptors() throws IOException
    {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd")))
        {
            return fds.count();
        }
    }
}
