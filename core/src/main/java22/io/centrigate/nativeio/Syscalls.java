package io.centrigate.nativeio;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.ref.Reference;
import java.util.Objects;

/**
 * Socket, epoll and eventfd calls on raw file descriptors. Every call returns its non-negative result or a
 * negated {@link Errno}, as the kernel itself does: no exception and no allocation on the I/O calls, because a
 * would-block or a reset peer is a normal outcome for a non-blocking transport, not an exceptional one.
 * <p>
 * An instance owns the small off-heap scratch (errno capture, option values, one epoll_event) its calls reuse,
 * so it serves one thread at a time, e.g. one event loop; file descriptors themselves are not tied to it.
 */
public final class Syscalls implements AutoCloseable
{
    // <sys/socket.h>, <netinet/in.h>, <netinet/tcp.h>: the same on x86_64 and aarch64 (asm-generic).
    public static final int AF_INET = 2;
    public static final int AF_INET6 = 10;
    public static final int SOCK_STREAM = 1;
    public static final int SOCK_NONBLOCK = 0x800;
    public static final int SOCK_CLOEXEC = 0x80000;
    public static final int SOL_SOCKET = 1;
    public static final int SO_REUSEADDR = 2;
    public static final int SO_ERROR = 4;
    public static final int SO_LINGER = 13;
    public static final int SO_REUSEPORT = 15;
    public static final int IPPROTO_TCP = 6;
    public static final int TCP_NODELAY = 1;
    public static final int IPPROTO_IP = 0;
    /** Linux 4.2+: a bind to port 0 leaves the port to connect, which picks it for the whole 4-tuple. */
    public static final int IP_BIND_ADDRESS_NO_PORT = 24;
    public static final int IPPROTO_IPV6 = 41;
    public static final int IPV6_V6ONLY = 26;
    public static final int SHUT_RD = 0;
    public static final int SHUT_WR = 1;
    public static final int SHUT_RDWR = 2;
    public static final int MSG_PEEK = 0x2;
    public static final int MSG_DONTWAIT = 0x40;
    /** Without it a send to a reset peer raises SIGPIPE; with it the call returns -EPIPE. */
    public static final int MSG_NOSIGNAL = 0x4000;

    // <sys/epoll.h>
    public static final int EPOLL_CLOEXEC = 0x80000;
    public static final int EPOLL_CTL_ADD = 1;
    public static final int EPOLL_CTL_DEL = 2;
    public static final int EPOLL_CTL_MOD = 3;
    public static final int EPOLLIN = 0x1;
    public static final int EPOLLOUT = 0x4;
    public static final int EPOLLERR = 0x8;
    public static final int EPOLLHUP = 0x10;
    public static final int EPOLLRDHUP = 0x2000;
    public static final int EPOLLET = 0x8000_0000;

    // <sys/eventfd.h>
    public static final int EFD_NONBLOCK = 0x800;
    public static final int EFD_CLOEXEC = 0x80000;

    /** struct iovec {void *iov_base; size_t iov_len;} on both 64-bit platforms. */
    public static final long IOVEC_SIZE = 16;

    private final Arena arena = Arena.ofShared();
    private final MemorySegment callState = arena.allocate(Libc.CALL_STATE_LAYOUT);
    private final MemorySegment value = arena.allocate(8, 8);
    private final MemorySegment length = arena.allocate(4, 4);
    private final MemorySegment epollEvent = arena.allocate(Libc.EPOLL_EVENT_SIZE, 8);

    /**
     * @throws UnsupportedOperationException when {@link NativeIo#isSupported()} is false, with its reason.
     */
    public Syscalls()
    {
        if (!NativeIo.isSupported())
        {
            arena.close();
            throw new UnsupportedOperationException(NativeIo.unsupportedReason());
        }
    }

    /** Frees the scratch memory; descriptors opened through this instance stay open. */
    @Override
    public void close()
    {
        arena.close();
    }

    public int socket(final int domain, final int type, final int protocol)
    {
        final int r;
        try
        {
            r = (int)Libc.SOCKET.invokeExact(callState, domain, type, protocol);
        }
        catch (final Throwable t)
        {
            throw Libc.unexpected(t);
        }
        return r >= 0 ? r : -errno();
    }

    /** @param sockaddr exactly the struct, as {@link SocketAddresses#write} sized it. */
    public int bind(final int fd, final MemorySegment sockaddr)
    {
        final int r;
        try
        {
            r = (int)Libc.BIND.invokeExact(callState, fd, sockaddr, (int)sockaddr.byteSize());
        }
        catch (final Throwable t)
        {
            throw Libc.unexpected(t);
        }
        return r >= 0 ? r : -errno();
    }

    public int listen(final int fd, final int backlog)
    {
        final int r;
        try
        {
            r = (int)Libc.LISTEN.invokeExact(callState, fd, backlog);
        }
        catch (final Throwable t)
        {
            throw Libc.unexpected(t);
        }
        return r >= 0 ? r : -errno();
    }

    /**
     * Accepts without asking for the peer's address (getpeername on the cold path, if ever), so nothing is
     * written back.
     *
     * @param flags {@link #SOCK_NONBLOCK} | {@link #SOCK_CLOEXEC} for the transport: one call instead of three.
     * @return the new descriptor, or -EAGAIN when the backlog is empty.
     */
    /**
     * As {@link #accept4(int, int)}, and writes the peer's address into {@code sockaddr} (no getpeername later).
     *
     * @param sockaddr room for the address (e.g. {@link SocketAddresses#SOCKADDR_STORAGE_SIZE}).
     * @return the new descriptor, or -errno.
     */
    public int accept4(final int fd, final MemorySegment sockaddr, final int flags)
    {
        length.set(JAVA_INT, 0, (int)sockaddr.byteSize());
        final int r;
        try
        {
            r = (int)Libc.ACCEPT4.invokeExact(callState, fd, sockaddr, length, flags);
        }
        catch (final Throwable t)
        {
            throw Libc.unexpected(t);
        }
        return r >= 0 ? r : -errno();
    }

    public int accept4(final int fd, final int flags)
    {
        final int r;
        try
        {
            r = (int)Libc.ACCEPT4.invokeExact(callState, fd, MemorySegment.NULL, MemorySegment.NULL, flags);
        }
        catch (final Throwable t)
        {
            throw Libc.unexpected(t);
        }
        return r >= 0 ? r : -errno();
    }

    /**
     * @return 0, or -EINPROGRESS for a non-blocking socket: wait for EPOLLOUT, then read the outcome with
     *         {@link #socketError(int)}.
     */
    public int connect(final int fd, final MemorySegment sockaddr)
    {
        final int r;
        try
        {
            r = (int)Libc.CONNECT.invokeExact(callState, fd, sockaddr, (int)sockaddr.byteSize());
        }
        catch (final Throwable t)
        {
            throw Libc.unexpected(t);
        }
        return r >= 0 ? r : -errno();
    }

    /**
     * @param sockaddr room for the address (e.g. {@link SocketAddresses#SOCKADDR_STORAGE_SIZE}).
     * @return the length of the address written, or -errno.
     */
    public int getsockname(final int fd, final MemorySegment sockaddr)
    {
        length.set(JAVA_INT, 0, (int)sockaddr.byteSize());
        final int r;
        try
        {
            r = (int)Libc.GETSOCKNAME.invokeExact(callState, fd, sockaddr, length);
        }
        catch (final Throwable t)
        {
            throw Libc.unexpected(t);
        }
        return r >= 0 ? length.get(JAVA_INT, 0) : -errno();
    }

    /**
     * The peer's address of a connected socket, e.g. one from {@link #accept4}, which asks for none.
     *
     * @param sockaddr room for the address (e.g. {@link SocketAddresses#SOCKADDR_STORAGE_SIZE}).
     * @return the length of the address written, or -errno (-ENOTCONN once the peer is gone).
     */
    public int getpeername(final int fd, final MemorySegment sockaddr)
    {
        length.set(JAVA_INT, 0, (int)sockaddr.byteSize());
        final int r;
        try
        {
            r = (int)Libc.GETPEERNAME.invokeExact(callState, fd, sockaddr, length);
        }
        catch (final Throwable t)
        {
            throw Libc.unexpected(t);
        }
        return r >= 0 ? length.get(JAVA_INT, 0) : -errno();
    }

    /**
     * Reads and clears the socket's pending error (getsockopt SO_ERROR): how a non-blocking connect ended.
     *
     * @return 0 when there is none, the pending error negated (e.g. -ECONNREFUSED), or -errno of getsockopt.
     */
    public int socketError(final int fd)
    {
        length.set(JAVA_INT, 0, 4);
        final int r;
        try
        {
            r = (int)Libc.GETSOCKOPT.invokeExact(callState, fd, SOL_SOCKET, SO_ERROR, value, length);
        }
        catch (final Throwable t)
        {
            throw Libc.unexpected(t);
        }
        return r >= 0 ? -value.get(JAVA_INT, 0) : -errno();
    }

    /** For the int-valued options: SO_REUSEADDR, TCP_NODELAY and the like. */
    public int setsockopt(final int fd, final int level, final int option, final int optionValue)
    {
        value.set(JAVA_INT, 0, optionValue);
        return setsockoptFromValue(fd, level, option, 4);
    }

    public int setTcpNoDelay(final int fd, final boolean on)
    {
        return setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, on ? 1 : 0);
    }

    /**
     * @param on with {@code seconds} 0, close discards unsent data and sends RST instead of FIN: the peer's next
     *           read or write fails with ECONNRESET (an abortive close, RFC 9293 §3.10.4).
     */
    public int setLinger(final int fd, final boolean on, final int seconds)
    {
        // struct linger {int l_onoff; int l_linger;}
        value.set(JAVA_INT, 0, on ? 1 : 0);
        value.set(JAVA_INT, 4, seconds);
        return setsockoptFromValue(fd, SOL_SOCKET, SO_LINGER, 8);
    }

    /**
     * Reads into {@code segment[offset, offset + length)}.
     *
     * @param segment native memory, e.g. {@code MemorySegment.ofBuffer(directByteBuffer)} made once per chunk.
     * @return bytes read, 0 at end of stream, or -errno (-EAGAIN when nothing is buffered).
     */
    public long recv(final int fd, final MemorySegment segment, final long offset, final long length, final int flags)
    {
        final long address = addressOf(segment, offset, length);
        final long r;
        try
        {
            r = (long)Libc.RECV.invokeExact(callState, fd, address, length, flags);
        }
        catch (final Throwable t)
        {
            throw Libc.unexpected(t);
        }
        finally
        {
            // The call is given an address, not the segment: keep a buffer-backed segment's memory alive.
            Reference.reachabilityFence(segment);
        }
        return r >= 0 ? r : -errno();
    }

    /**
     * Writes {@code segment[offset, offset + length)}; adds {@link #MSG_NOSIGNAL} so a reset peer yields -EPIPE.
     *
     * @return bytes written (maybe fewer than asked), or -errno (-EAGAIN when the send buffer is full).
     */
    public long send(final int fd, final MemorySegment segment, final long offset, final long length, final int flags)
    {
        final long address = addressOf(segment, offset, length);
        final long r;
        try
        {
            r = (long)Libc.SEND.invokeExact(callState, fd, address, length, flags | MSG_NOSIGNAL);
        }
        catch (final Throwable t)
        {
            throw Libc.unexpected(t);
        }
        finally
        {
            Reference.reachabilityFence(segment);
        }
        return r >= 0 ? r : -errno();
    }

    /**
     * {@link #recv(int, MemorySegment, long, long, int)} at a raw address, for a direct ByteBuffer whose address
     * the caller took (a segment per buffer and call would allocate). Nothing is checked: the caller keeps the
     * memory alive and {@code length} bytes of it writable until the call returns.
     */
    public long recv(final int fd, final long address, final long length, final int flags)
    {
        final long r;
        try
        {
            r = (long)Libc.RECV.invokeExact(callState, fd, address, length, flags);
        }
        catch (final Throwable t)
        {
            throw Libc.unexpected(t);
        }
        return r >= 0 ? r : -errno();
    }

    /**
     * {@link #send(int, MemorySegment, long, long, int)} from a raw address (adds {@link #MSG_NOSIGNAL}); unchecked
     * like {@link #recv(int, long, long, int)}.
     */
    public long send(final int fd, final long address, final long length, final int flags)
    {
        final long r;
        try
        {
            r = (long)Libc.SEND.invokeExact(callState, fd, address, length, flags | MSG_NOSIGNAL);
        }
        catch (final Throwable t)
        {
            throw Libc.unexpected(t);
        }
        return r >= 0 ? r : -errno();
    }

    /**
     * Gathers {@code count} buffers described in {@code iovecs} (see {@link #iovec}) in one call. Unlike send it
     * cannot take MSG_NOSIGNAL; the JVM ignores SIGPIPE, so a reset peer still yields -EPIPE.
     *
     * @return bytes written, or -errno.
     */
    public long writev(final int fd, final MemorySegment iovecs, final int count)
    {
        Objects.checkFromIndexSize(0, count * IOVEC_SIZE, iovecs.byteSize());
        final long r;
        try
        {
            r = (long)Libc.WRITEV.invokeExact(callState, fd, iovecs, count);
        }
        catch (final Throwable t)
        {
            throw Libc.unexpected(t);
        }
        return r >= 0 ? r : -errno();
    }

    /**
     * Describes {@code segment[offset, offset + length)} as entry {@code index} of an iovec array. The array holds
     * raw addresses: the segments must stay alive until the writev that uses it returns.
     */
    public static void iovec(
        final MemorySegment iovecs, final int index, final MemorySegment segment, final long offset, final long length)
    {
        final long address = addressOf(segment, offset, length);
        iovecs.set(JAVA_LONG, index * IOVEC_SIZE, address);
        iovecs.set(JAVA_LONG, index * IOVEC_SIZE + 8, length);
    }

    /**
     * Describes {@code length} bytes at a raw address as entry {@code index} of an iovec array; unchecked, like
     * {@link #send(int, long, long, int)}.
     */
    public static void iovec(final MemorySegment iovecs, final int index, final long address, final long length)
    {
        iovecs.set(JAVA_LONG, index * IOVEC_SIZE, address);
        iovecs.set(JAVA_LONG, index * IOVEC_SIZE + 8, length);
    }

    public int shutdown(final int fd, final int how)
    {
        final int r;
        try
        {
            r = (int)Libc.SHUTDOWN.invokeExact(callState, fd, how);
        }
        catch (final Throwable t)
        {
            throw Libc.unexpected(t);
        }
        return r >= 0 ? r : -errno();
    }

    /**
     * Never retry on -EINTR: Linux has released the descriptor already, and it may since belong to another
     * thread's socket.
     */
    public int close(final int fd)
    {
        final int r;
        try
        {
            r = (int)Libc.CLOSE.invokeExact(callState, fd);
        }
        catch (final Throwable t)
        {
            throw Libc.unexpected(t);
        }
        return r >= 0 ? r : -errno();
    }

    /** @param flags {@link #EPOLL_CLOEXEC}, or 0. */
    public int epollCreate(final int flags)
    {
        final int r;
        try
        {
            r = (int)Libc.EPOLL_CREATE1.invokeExact(callState, flags);
        }
        catch (final Throwable t)
        {
            throw Libc.unexpected(t);
        }
        return r >= 0 ? r : -errno();
    }

    /**
     * @param op     {@link #EPOLL_CTL_ADD}, {@link #EPOLL_CTL_MOD} or {@link #EPOLL_CTL_DEL}.
     * @param events EPOLLIN | EPOLLOUT | ... as the interest; ignored for DEL.
     * @param data   handed back with each event for {@code fd}: the transport's id for the connection.
     */
    public int epollCtl(final int epfd, final int op, final int fd, final int events, final long data)
    {
        epollEvent.set(JAVA_INT, 0, events);
        epollEvent.set(JAVA_LONG_UNALIGNED, Libc.EPOLL_EVENT_DATA_OFFSET, data);
        final int r;
        try
        {
            r = (int)Libc.EPOLL_CTL.invokeExact(callState, epfd, op, fd, epollEvent);
        }
        catch (final Throwable t)
        {
            throw Libc.unexpected(t);
        }
        return r >= 0 ? r : -errno();
    }

    /**
     * @param timeoutMillis -1 blocks until an event, 0 polls.
     * @return the number of events filled in {@code events}, or -errno (-EINTR on a signal: call again).
     */
    public int epollWait(final int epfd, final EpollEvents events, final int timeoutMillis)
    {
        final int r;
        try
        {
            r = (int)Libc.EPOLL_WAIT.invokeExact(
                callState, epfd, events.segment(), events.capacity(), timeoutMillis);
        }
        catch (final Throwable t)
        {
            throw Libc.unexpected(t);
        }
        return r >= 0 ? r : -errno();
    }

    /** @param flags {@link #EFD_NONBLOCK} | {@link #EFD_CLOEXEC} for a loop's wake-up descriptor. */
    public int eventfd(final int initialValue, final int flags)
    {
        final int r;
        try
        {
            r = (int)Libc.EVENTFD.invokeExact(callState, initialValue, flags);
        }
        catch (final Throwable t)
        {
            throw Libc.unexpected(t);
        }
        return r >= 0 ? r : -errno();
    }

    /**
     * Adds to the eventfd's counter, making it readable: how another thread wakes a loop in epoll_wait.
     *
     * @return 8, or -errno (-EAGAIN only if the counter would overflow).
     */
    public long eventfdWrite(final int fd, final long increment)
    {
        value.set(JAVA_LONG, 0, increment);
        final long r;
        try
        {
            r = (long)Libc.WRITE.invokeExact(callState, fd, value, 8L);
        }
        catch (final Throwable t)
        {
            throw Libc.unexpected(t);
        }
        return r >= 0 ? r : -errno();
    }

    /**
     * Reads and resets the eventfd's counter.
     *
     * @return the counter (wake-ups since the last read, positive), or -errno (-EAGAIN when it was 0).
     */
    public long eventfdRead(final int fd)
    {
        final long r;
        try
        {
            r = (long)Libc.READ.invokeExact(callState, fd, value, 8L);
        }
        catch (final Throwable t)
        {
            throw Libc.unexpected(t);
        }
        return r >= 0 ? value.get(JAVA_LONG, 0) : -errno();
    }

    // <sys/mman.h>
    public static final int PROT_READ = 0x1;
    public static final int PROT_WRITE = 0x2;
    public static final int MAP_SHARED = 0x01;
    public static final int MAP_POPULATE = 0x8000;

    /**
     * Maps {@code length} bytes of {@code fd} at {@code offset} (the io_uring rings).
     *
     * @return the address, or -errno.
     */
    public long mmap(final long length, final int prot, final int flags, final int fd, final long offset)
    {
        final long r;
        try
        {
            r = (long)Libc.MMAP.invokeExact(callState, 0L, length, prot, flags, fd, offset);
        }
        catch (final Throwable t)
        {
            throw Libc.unexpected(t);
        }
        // MAP_FAILED is (void *)-1; a real mapping is never in the top page.
        return r != -1L ? r : -errno();
    }

    public int munmap(final long address, final long length)
    {
        final int r;
        try
        {
            r = (int)Libc.MUNMAP.invokeExact(callState, address, length);
        }
        catch (final Throwable t)
        {
            throw Libc.unexpected(t);
        }
        return r >= 0 ? r : -errno();
    }

    /**
     * io_uring_setup(2).
     *
     * @param params a struct io_uring_params, zeroed but for the fields the caller sets; the kernel fills the rest.
     * @return the ring's descriptor, or -errno (-ENOSYS without io_uring, -EPERM when io_uring_disabled forbids it).
     */
    public int ioUringSetup(final int entries, final MemorySegment params)
    {
        final long r;
        try
        {
            r = (long)Libc.SYSCALL2.invokeExact(callState, Libc.SYS_IO_URING_SETUP, (long)entries, params.address());
        }
        catch (final Throwable t)
        {
            throw Libc.unexpected(t);
        }
        finally
        {
            Reference.reachabilityFence(params);
        }
        return r >= 0 ? (int)r : -errno();
    }

    /**
     * io_uring_enter(2): submits {@code toSubmit} entries of the SQ ring and, with IORING_ENTER_GETEVENTS, waits for
     * {@code minComplete} completions.
     *
     * @param arg     0, or the address of a struct io_uring_getevents_arg (IORING_ENTER_EXT_ARG) the caller keeps alive.
     * @return the number of entries submitted, or -errno (-ETIME when the wait timed out, -EINTR on a signal).
     */
    public int ioUringEnter(final int ringFd, final int toSubmit, final int minComplete, final int flags,
        final long arg, final long argSize)
    {
        final long r;
        try
        {
            r = (long)Libc.SYSCALL6.invokeExact(callState, Libc.SYS_IO_URING_ENTER, (long)ringFd, (long)toSubmit,
                (long)minComplete, (long)flags, arg, argSize);
        }
        catch (final Throwable t)
        {
            throw Libc.unexpected(t);
        }
        return r >= 0 ? (int)r : -errno();
    }

    // <fcntl.h>, <bits/fcntl-linux.h>
    public static final int O_NONBLOCK = 0x800;
    public static final int O_CLOEXEC = 0x80000;
    public static final int F_SETPIPE_SZ = 1031;
    public static final int F_GETPIPE_SZ = 1032;
    public static final int SPLICE_F_MOVE = 0x1;
    public static final int SPLICE_F_NONBLOCK = 0x2;
    public static final int SPLICE_F_MORE = 0x4;

    /**
     * pipe2(2) with {@link #O_NONBLOCK} | {@link #O_CLOEXEC}.
     *
     * @return the read end in the low 32 bits and the write end in the high 32 bits, or -errno.
     */
    public long pipe()
    {
        final int r;
        try
        {
            r = (int)Libc.PIPE2.invokeExact(callState, value, O_NONBLOCK | O_CLOEXEC);
        }
        catch (final Throwable t)
        {
            throw Libc.unexpected(t);
        }
        if (r < 0)
        {
            return -errno();
        }
        return (value.get(JAVA_INT, 0) & 0xFFFF_FFFFL) | ((long)value.get(JAVA_INT, 4) << 32);
    }

    /** fcntl(2) with an int argument (F_SETPIPE_SZ, F_GETPIPE_SZ): the result, or -errno. */
    public int fcntl(final int fd, final int cmd, final int arg)
    {
        final int r;
        try
        {
            r = (int)Libc.FCNTL_INT.invokeExact(callState, fd, cmd, arg);
        }
        catch (final Throwable t)
        {
            throw Libc.unexpected(t);
        }
        return r >= 0 ? r : -errno();
    }

    /**
     * splice(2) between a socket and a pipe, no offsets.
     *
     * @return bytes moved, 0 at the input's end of stream, or -errno (-EAGAIN: nothing to move now).
     */
    public long splice(final int in, final int out, final long length, final int flags)
    {
        final long r;
        try
        {
            r = (long)Libc.SPLICE.invokeExact(callState, in, 0L, out, 0L, length, flags);
        }
        catch (final Throwable t)
        {
            throw Libc.unexpected(t);
        }
        return r >= 0 ? r : -errno();
    }

    private int setsockoptFromValue(final int fd, final int level, final int option, final int size)
    {
        final int r;
        try
        {
            r = (int)Libc.SETSOCKOPT.invokeExact(callState, fd, level, option, value, size);
        }
        catch (final Throwable t)
        {
            throw Libc.unexpected(t);
        }
        return r >= 0 ? r : -errno();
    }

    private int errno()
    {
        return callState.get(JAVA_INT, Libc.ERRNO_OFFSET);
    }

    private static long addressOf(final MemorySegment segment, final long offset, final long length)
    {
        // A heap segment has no stable address to hand the kernel (the GC moves arrays).
        if (!segment.isNative())
        {
            throw new IllegalArgumentException("not native memory: " + segment);
        }
        if (!segment.scope().isAlive())
        {
            throw new IllegalStateException("memory already freed: " + segment);
        }
        Objects.checkFromIndexSize(offset, length, segment.byteSize());
        return segment.address() + offset;
    }
}
