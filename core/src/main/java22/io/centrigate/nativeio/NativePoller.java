package io.centrigate.nativeio;

import static io.centrigate.nativeio.Syscalls.AF_INET;
import static io.centrigate.nativeio.Syscalls.AF_INET6;
import static io.centrigate.nativeio.Syscalls.EFD_CLOEXEC;
import static io.centrigate.nativeio.Syscalls.EFD_NONBLOCK;
import static io.centrigate.nativeio.Syscalls.EPOLLET;
import static io.centrigate.nativeio.Syscalls.EPOLLIN;
import static io.centrigate.nativeio.Syscalls.EPOLLOUT;
import static io.centrigate.nativeio.Syscalls.EPOLLRDHUP;
import static io.centrigate.nativeio.Syscalls.IPPROTO_IP;
import static io.centrigate.nativeio.Syscalls.IPPROTO_IPV6;
import static io.centrigate.nativeio.Syscalls.IP_BIND_ADDRESS_NO_PORT;
import static io.centrigate.nativeio.Syscalls.IPV6_V6ONLY;
import static io.centrigate.nativeio.Syscalls.SOCK_CLOEXEC;
import static io.centrigate.nativeio.Syscalls.SOCK_NONBLOCK;
import static io.centrigate.nativeio.Syscalls.SOCK_STREAM;
import static io.centrigate.nativeio.Syscalls.SOL_SOCKET;
import static io.centrigate.nativeio.Syscalls.SO_REUSEADDR;
import static io.centrigate.nativeio.Syscalls.SO_REUSEPORT;

import io.centrigate.loop.Connection;
import io.centrigate.loop.KernelPipe;
import io.centrigate.loop.Listener;
import io.centrigate.loop.Poller;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.BindException;
import java.net.ConnectException;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NoRouteToHostException;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.UnresolvedAddressException;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The native transports' {@link Poller}: an edge-triggered {@link Readiness} source (epoll, or io_uring's multishot
 * poll requests) and an eventfd to wake it. Each socket is added once with every event it can report (nothing to
 * change when the interest changes); its readiness is latched in its {@link NativeSocket} and handed out as
 * {@code latched & interest}, re-dispatched from a ready list while it lasts, so callers see the level-triggered
 * behaviour of {@link io.centrigate.loop.NioPoller}. Reads, writes, connects and accepts are direct calls on the
 * non-blocking sockets whichever the source.
 * <p>
 * The event data of a socket is its slot in a table here plus the slot's generation: a lookup without a map, and
 * an event for a socket closed since (its slot maybe reused) is recognised and dropped.
 */
final class NativePoller implements Poller
{
    static final int EVENT_CAPACITY = 1024;
    /** For heap buffers: the kernel needs memory the GC does not move. */
    static final int SCRATCH_SIZE = 64 * 1024;
    /** Buffers per writev; well under IOV_MAX (1024). */
    static final int MAX_IOVECS = 64;

    private static final long WAKEUP_DATA = -1L;
    private static final int SOCKET_EVENTS = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    private static final int LISTENER_EVENTS = EPOLLIN | EPOLLET;
    private static final int DEFAULT_BACKLOG = 50;

    final Syscalls sys = new Syscalls();
    final MemorySegment iovecs;
    final ByteBuffer scratch;
    final long scratchAddress;
    final MemorySegment sockaddr;

    private final DispatchHook hook;
    private final Arena arena = Arena.ofShared();
    private final Readiness readiness;
    private final int eventfd;

    // wakeup() comes from other threads: a Syscalls of its own (the loop's scratch is not shared), and only when no
    // wake-up is pending yet, so a burst of tasks costs one write. The lock keeps it off a closed eventfd.
    private final AtomicBoolean wakeupPending = new AtomicBoolean();
    private final Object wakeupLock = new Object();
    private final Syscalls wakeupSys = new Syscalls();
    private boolean wakeupClosed;

    private NativeSocket[] sockets = new NativeSocket[64];
    private int[] generations = new int[64];
    private int[] freeSlots = new int[64];
    private int freeCount;
    private int slotsUsed;

    private NativeSocket[] ready = new NativeSocket[64];
    private int readyCount;
    private NativeSocket[] dispatching = new NativeSocket[64];

    private boolean closed;

    /** The epoll transport. */
    NativePoller(final DispatchHook hook)
    {
        this(hook, EpollReadiness::new);
    }

    /** @param source makes the readiness source, given the loop's {@link Syscalls}. */
    NativePoller(final DispatchHook hook, final java.util.function.Function<Syscalls, Readiness> source)
    {
        this.hook = hook;
        this.iovecs = arena.allocate(MAX_IOVECS * Syscalls.IOVEC_SIZE, 8);
        final MemorySegment scratchSegment = arena.allocate(SCRATCH_SIZE, 64);
        this.scratch = scratchSegment.asByteBuffer();
        this.scratchAddress = scratchSegment.address();
        this.sockaddr = arena.allocate(SocketAddresses.SOCKADDR_STORAGE_SIZE, 8);
        Readiness made = null;
        int fd = -1;
        try
        {
            made = source.apply(sys);
            fd = sys.eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
            final int added = fd >= 0 ? made.add(fd, EPOLLIN, WAKEUP_DATA) : -1;
            if (added < 0)
            {
                throw new UncheckedIOException(new IOException(
                    fd < 0 ? "eventfd: " + Errno.name(fd) : made.name() + " add: " + Errno.name(added)));
            }
        }
        catch (final RuntimeException e)
        {
            if (fd >= 0)
            {
                sys.close(fd);
            }
            if (made != null)
            {
                made.close();
            }
            freeMemory();
            throw e;
        }
        this.readiness = made;
        this.eventfd = fd;
    }

    @Override
    public boolean canSplice()
    {
        return true;
    }

    @Override
    public KernelPipe openPipe()
    {
        ensureOpen();
        return NativeKernelPipe.open(this);
    }

    @Override
    public String transport()
    {
        return readiness.name();
    }

    @Override
    public Connection connect(final InetSocketAddress remote, final InetSocketAddress local,
        final Connection.Handler handler) throws IOException
    {
        ensureOpen();
        if (remote.isUnresolved())
        {
            throw new UnresolvedAddressException();
        }
        final int fd = sys.socket(remote.getAddress() instanceof Inet6Address ? AF_INET6 : AF_INET,
            SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
        {
            // EMFILE, ENFILE, ENOBUFS: the process's own limit, which a caller answers differently from a failed connect.
            throw new io.centrigate.loop.NoSocketException(Errno.message(-fd), null);
        }
        try
        {
            sys.setTcpNoDelay(fd, true);
            if (local != null)
            {
                bindSource(fd, local);
            }
            final int r = sys.connect(fd, SocketAddresses.write(sockaddr, remote));
            if (local != null && (r == -Errno.EADDRNOTAVAIL || r == -Errno.EADDRINUSE))
            {
                // With IP_BIND_ADDRESS_NO_PORT the port is chosen here: none left from this source to this node.
                throw new io.centrigate.loop.SourceBindException(
                    local.getAddress().getHostAddress() + ": " + Errno.message(-r), null);
            }
            if (r != 0 && r != -Errno.EINPROGRESS)
            {
                throw socketException(r);
            }
            final NativeConnection connection = new NativeConnection(
                this, fd, handler, r != 0 ? Connection.OP_CONNECT : 0, r != 0, remote, -1);
            register(connection, SOCKET_EVENTS);
            return connection;
        }
        catch (final IOException | RuntimeException e)
        {
            sys.close(fd);
            throw e;
        }
    }

    /**
     * Binds an upstream socket to its source address, port 0, with IP_BIND_ADDRESS_NO_PORT first: without it the
     * bind would reserve an ephemeral port of the address for every destination, and a source address would hold
     * one port range in all; with it the port is picked by connect, unique only for the 4-tuple, so each source
     * address has the whole range towards each node address:port. A kernel without the option (before 4.2) gets
     * the plain bind.
     */
    private void bindSource(final int fd, final InetSocketAddress local) throws IOException
    {
        sys.setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1);
        final int bound = sys.bind(fd, SocketAddresses.write(sockaddr, local));
        if (bound < 0)
        {
            throw new io.centrigate.loop.SourceBindException(
                local.getAddress().getHostAddress() + ": " + Errno.message(-bound), null);
        }
    }

    @Override
    public Connection adopt(final Object accepted, final Connection.Handler handler) throws IOException
    {
        final NativeAccepted socket = (NativeAccepted)accepted;
        final int fd = socket.fd;
        try
        {
            ensureOpen();
            sys.setTcpNoDelay(fd, true);
            final NativeConnection connection = new NativeConnection(
                this, fd, handler, Connection.OP_READ, false, socket.remote, socket.peerV4);
            register(connection, SOCKET_EVENTS);
            return connection;
        }
        catch (final IOException | RuntimeException e)
        {
            closeDescriptor(fd);
            throw e;
        }
    }

    @Override
    public void discard(final Object accepted)
    {
        closeDescriptor(((NativeAccepted)accepted).fd);
    }

    @Override
    public Listener listen(final InetSocketAddress address, final int backlog, final boolean reusePort,
        final Listener.Handler handler) throws IOException
    {
        ensureOpen();
        if (address.isUnresolved())
        {
            throw new UnresolvedAddressException();
        }
        InetSocketAddress bindTo = address;
        int fd = -1;
        final InetAddress ip = address.getAddress();
        if (ip instanceof Inet4Address && ip.isAnyLocalAddress())
        {
            // As NIO does: the IPv4 wildcard on a dual-stack socket, so the listener takes IPv6 clients as well
            // (they come as IPv4-mapped addresses, read back as Inet4Address).
            fd = sys.socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
            if (fd >= 0)
            {
                sys.setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, 0);
                bindTo = new InetSocketAddress(InetAddress.getByAddress(new byte[16]), address.getPort());
            }
        }
        if (fd < 0)
        {
            fd = sys.socket(
                ip instanceof Inet6Address ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        }
        if (fd < 0)
        {
            throw ioException(fd);
        }
        try
        {
            check(sys.setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, 1));
            if (reusePort)
            {
                check(sys.setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, 1));
            }
            final int bound = sys.bind(fd, SocketAddresses.write(sockaddr, bindTo));
            if (bound < 0)
            {
                throw socketException(bound);
            }
            check(sys.listen(fd, backlog < 1 ? DEFAULT_BACKLOG : backlog));
            final int length = sys.getsockname(fd, sockaddr);
            check(length);
            final NativeListener listener = new NativeListener(this, fd, handler, SocketAddresses.read(sockaddr));
            register(listener, LISTENER_EVENTS);
            return listener;
        }
        catch (final IOException | RuntimeException e)
        {
            sys.close(fd);
            throw e;
        }
    }

    @Override
    public int poll(final long timeoutMs) throws IOException
    {
        if (timeoutMs < 0)
        {
            throw new IllegalArgumentException("negative timeout: " + timeoutMs);
        }
        // Latched readiness waiting on the ready list must not wait for a new edge.
        final int timeout = readyCount > 0 ? 0 : timeoutMs == 0 ? -1 : (int)Math.min(timeoutMs, Integer.MAX_VALUE);
        return poll0(timeout);
    }

    @Override
    public int pollNow() throws IOException
    {
        return poll0(0);
    }

    @Override
    public void wakeup()
    {
        if (!wakeupPending.get() && wakeupPending.compareAndSet(false, true))
        {
            synchronized (wakeupLock)
            {
                if (!wakeupClosed)
                {
                    wakeupSys.eventfdWrite(eventfd, 1);
                }
            }
        }
    }

    @Override
    public void close()
    {
        if (closed)
        {
            return;
        }
        // Whatever is still registered has no loop any more: close it rather than leak it (idempotent for
        // owners that close theirs afterwards).
        for (int slot = 0; slot < slotsUsed; slot++)
        {
            final NativeSocket socket = sockets[slot];
            if (socket != null)
            {
                closeSocket(socket);
            }
        }
        closed = true;
        synchronized (wakeupLock)
        {
            wakeupClosed = true;
            sys.close(eventfd);
        }
        readiness.close();
        freeMemory();
    }

    private void freeMemory()
    {
        arena.close();
        sys.close();
        synchronized (wakeupLock)
        {
            wakeupSys.close();
        }
    }

    private int poll0(final int timeoutMillis) throws IOException
    {
        if (closed)
        {
            throw new ClosedSelectorException();
        }
        final int n = readiness.await(timeoutMillis, this);
        if (n < 0 && n != -Errno.EINTR)
        {
            throw new IOException(readiness.name() + " wait: " + Errno.message(n));
        }
        return dispatchReady();
    }

    /** An edge from the readiness source: latched for its socket, dropped if that socket is gone. */
    void event(final long data, final int events)
    {
        if (data == WAKEUP_DATA)
        {
            sys.eventfdRead(eventfd);
            wakeupPending.set(false);
            return;
        }
        final NativeSocket socket = current(data);
        if (socket != null)
        {
            socket.latch(events);
            socket.requeueIfReady();
        }
    }

    /**
     * For a source whose registrations can end on their own (an io_uring multishot poll ends when its completion
     * finds the completion queue full, or with an error): adds {@code data}'s descriptor again, unless it has been
     * closed since. The new registration reports the readiness there is, so no edge is lost. (An error that
     * repeats would repeat the re-arm each iteration: a spinning loop, not a silent socket.)
     */
    void rearm(final long data)
    {
        if (closed)
        {
            return;
        }
        if (data == WAKEUP_DATA)
        {
            readiness.add(eventfd, EPOLLIN, WAKEUP_DATA);
            return;
        }
        final NativeSocket socket = current(data);
        if (socket != null)
        {
            readiness.add(socket.fd, socket instanceof NativeListener ? LISTENER_EVENTS : SOCKET_EVENTS, data);
        }
    }

    /**
     * What a source that accepts by itself ({@link Readiness#acceptsItself()}) accepted for listener {@code data}:
     * a descriptor, or -errno; {@code more} false when its accepting has ended. A descriptor for a listener closed
     * since is closed here (the client sees the reset an unaccepted connection gets when its listener closes).
     */
    void acceptCompletion(final long data, final int result, final boolean more)
    {
        final NativeSocket socket = current(data);
        if (socket instanceof NativeListener listener)
        {
            listener.completed(result, more);
        }
        else if (result >= 0)
        {
            closeDescriptor(result);
        }
    }

    boolean acceptsItself()
    {
        return readiness.acceptsItself();
    }

    Readiness readiness()
    {
        return readiness;
    }

    /** The registered socket {@code data} names, or null when it has been closed (its slot maybe reused). */
    private NativeSocket current(final long data)
    {
        final int slot = (int)data;
        final NativeSocket socket = slot >= 0 && slot < slotsUsed ? sockets[slot] : null;
        return socket != null && socket.generation == (int)(data >>> 32) ? socket : null;
    }

    /**
     * Each socket on the list at the start is dispatched once; what becomes ready meanwhile (a handler left data
     * unread, or raised an interest) goes on the next poll's list, so a busy socket cannot starve the rest.
     */
    private int dispatchReady()
    {
        final int count = readyCount;
        if (count == 0)
        {
            return 0;
        }
        final NativeSocket[] batch = ready;
        ready = dispatching;
        dispatching = batch;
        readyCount = 0;

        int dispatched = 0;
        int i = 0;
        try
        {
            while (i < count)
            {
                final NativeSocket socket = batch[i];
                batch[i++] = null;
                socket.queued = false;
                if (!socket.isRegistered())
                {
                    continue;
                }
                final int readyOps = socket.latched & socket.wanted();
                if (readyOps != 0)
                {
                    hook.beforeDispatch();
                    dispatched++;
                    try
                    {
                        socket.dispatch(readyOps);
                    }
                    finally
                    {
                        socket.requeueIfReady();
                    }
                }
            }
        }
        finally
        {
            // A handler threw: the sockets not reached yet keep their turn.
            while (i < count)
            {
                final NativeSocket socket = batch[i];
                batch[i++] = null;
                socket.queued = false;
                socket.requeueIfReady();
            }
        }
        return dispatched;
    }

    void enqueue(final NativeSocket socket)
    {
        if (readyCount == ready.length)
        {
            // Only this one: the other may be the batch being dispatched; it grows when its turn comes.
            ready = Arrays.copyOf(ready, readyCount * 2);
        }
        socket.queued = true;
        ready[readyCount++] = socket;
    }

    private void register(final NativeSocket socket, final int epollEvents) throws IOException
    {
        final int slot;
        if (freeCount > 0)
        {
            slot = freeSlots[--freeCount];
        }
        else
        {
            if (slotsUsed == sockets.length)
            {
                sockets = Arrays.copyOf(sockets, slotsUsed * 2);
                generations = Arrays.copyOf(generations, slotsUsed * 2);
                freeSlots = Arrays.copyOf(freeSlots, slotsUsed * 2);
            }
            slot = slotsUsed++;
        }
        final int generation = generations[slot];
        socket.slot = slot;
        socket.generation = generation;
        sockets[slot] = socket;
        if (socket instanceof NativeListener listener && readiness.acceptsItself())
        {
            listener.arm();
            return;
        }
        final int r = readiness.add(socket.fd, epollEvents, ((long)generation << 32) | slot);
        if (r < 0)
        {
            release(socket);
            throw ioException(r);
        }
    }

    private void release(final NativeSocket socket)
    {
        final int slot = socket.slot;
        if (slot >= 0)
        {
            sockets[slot] = null;
            generations[slot]++;
            freeSlots[freeCount++] = slot;
            socket.slot = -1;
        }
    }

    /** Drops the socket from the table (close removes it from epoll) and closes it; idempotent. */
    void closeSocket(final NativeSocket socket)
    {
        final int fd = socket.fd;
        if (fd < 0)
        {
            return;
        }
        if (socket instanceof NativeListener listener)
        {
            listener.dropAccepted();
        }
        else if (socket.slot >= 0 && !closed)
        {
            readiness.remove(fd, socket.data());
        }
        socket.fd = -1;
        socket.latched = 0;
        release(socket);
        closeDescriptor(fd);
    }

    void closeDescriptor(final int fd)
    {
        if (!closed)
        {
            sys.close(fd);
        }
        else
        {
            // After the poller: its scratch memory is gone (cold path, e.g. an accepted socket still in a queue).
            try (Syscalls own = new Syscalls())
            {
                own.close(fd);
            }
        }
    }

    boolean isClosed()
    {
        return closed;
    }

    private void ensureOpen()
    {
        if (closed)
        {
            throw new ClosedSelectorException();
        }
    }

    private static void check(final long result) throws IOException
    {
        if (result < 0)
        {
            throw ioException(result);
        }
    }

    /** For reads, writes and the rest: the JDK's sockets throw a plain IOException with strerror's text. */
    static IOException ioException(final long result)
    {
        return new IOException(Errno.message(result));
    }

    /** A read's or write's error: like {@link #ioException} without the stack trace (see {@link PeerError}). */
    static IOException peerError(final long result)
    {
        return new PeerError(Errno.message(result));
    }

    /**
     * An error the kernel reported for one socket (a reset, a broken pipe): an event of the peer's, not a fault of
     * this program, so it carries no stack trace. Every client that goes away with a reset comes through here, and
     * walking the stack cost more than the rest of the close (~700 bytes and a stack walk per connection).
     */
    static final class PeerError extends IOException
    {
        private static final long serialVersionUID = 1L;

        PeerError(final String message)
        {
            super(message);
        }

        @Override
        public Throwable fillInStackTrace()
        {
            return this;
        }
    }

    /** For connect and bind, sorted as the JDK's Net.handleSocketError does. */
    static SocketException socketException(final long result)
    {
        final int errno = (int)Math.abs(result);
        return switch (errno)
        {
            case Errno.EHOSTUNREACH -> new NoRouteToHostException(Errno.message(errno));
            case Errno.EADDRINUSE, Errno.EADDRNOTAVAIL, Errno.EACCES -> new BindException(Errno.message(errno));
            case Errno.ECONNREFUSED, Errno.ETIMEDOUT, Errno.ENOTCONN -> new ConnectException(Errno.message(errno));
            default -> new SocketException(Errno.message(errno));
        };
    }
}
