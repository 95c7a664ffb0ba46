package io.centrigate.nativeio;

import static io.centrigate.nativeio.Syscalls.SHUT_WR;

import io.centrigate.loop.Connection;

import java.io.IOException;
import java.lang.ref.Reference;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.NotYetConnectedException;
import java.util.Objects;

import org.agrona.BufferUtil;

/**
 * A {@link Connection} on a raw socket descriptor of an {@link NativePoller}. Direct buffers (the pooled chunks) are
 * read into and written from at their own address; heap buffers go through the poller's off-heap scratch. An I/O
 * call that comes back short clears the matching latched readiness, the signal that the next edge is to come.
 */
final class NativeConnection extends NativeSocket implements Connection
{
    private Handler handler;
    private int interest;
    private boolean connectPending;
    private boolean outputShutdown;
    /** The peer: {@link #remote}, or for an accepted IPv4 client {@link #peerV4} (see SocketAddresses.packV4). */
    private final InetSocketAddress remote;
    private final long peerV4;
    private InetSocketAddress local;

    NativeConnection(
        final NativePoller poller,
        final int fd,
        final Handler handler,
        final int interest,
        final boolean connectPending,
        final InetSocketAddress remote,
        final long peerV4)
    {
        super(poller, fd);
        this.handler = handler;
        this.interest = interest;
        this.connectPending = connectPending;
        this.remote = remote;
        this.peerV4 = peerV4;
    }

    @Override
    int wanted()
    {
        return interest;
    }

    @Override
    void dispatch(final int readyOps)
    {
        handler.onReady(this, readyOps);
    }

    @Override
    boolean connecting()
    {
        return connectPending;
    }

    @Override
    public void handler(final Handler handler)
    {
        this.handler = handler;
    }

    @Override
    public void interest(final int ops)
    {
        interest = ops;
        requeueIfReady();
    }

    @Override
    public int interest()
    {
        return interest;
    }

    @Override
    public boolean isConnectionPending()
    {
        return connectPending && fd >= 0;
    }

    @Override
    public boolean finishConnect() throws IOException
    {
        ensureOpen();
        if (!connectPending)
        {
            return true;
        }
        // SO_ERROR reads 0 both for "connected" and "still trying": only the latched event tells them apart.
        if ((latched & OP_CONNECT) == 0)
        {
            return false;
        }
        final int error = poller.sys.socketError(fd);
        if (error != 0)
        {
            // As NIO does: a failed connect closes the channel.
            close();
            throw NativePoller.socketException(error);
        }
        connectPending = false;
        latched &= ~OP_CONNECT;
        return true;
    }

    @Override
    public int read(final ByteBuffer dst) throws IOException
    {
        ensureConnected();
        if (dst.isReadOnly())
        {
            throw new IllegalArgumentException("Read-only buffer");
        }
        final int position = dst.position();
        final int wanted = dst.limit() - position;
        if (wanted == 0)
        {
            return 0;
        }
        final Syscalls sys = poller.sys;
        final long n;
        final int asked;
        if (dst.isDirect())
        {
            asked = wanted;
            n = sys.recv(fd, BufferUtil.address(dst) + position, asked, 0);
            Reference.reachabilityFence(dst);
        }
        else
        {
            asked = Math.min(wanted, NativePoller.SCRATCH_SIZE);
            n = sys.recv(fd, poller.scratchAddress, asked, 0);
            if (n > 0)
            {
                dst.put(position, poller.scratch, 0, (int)n);
            }
        }
        if (n > 0)
        {
            dst.position(position + (int)n);
            if (n < asked)
            {
                readDrained();
            }
            return (int)n;
        }
        if (n == 0)
        {
            // Peer's FIN: the latch stays, so a caller that reads again hears -1 again, as from NIO.
            readHangUp = true;
        }
        return (int)nothingRead(n);
    }

    /**
     * What a receiving call (recv, peek, splice from the socket) that moved no byte returns: -1 at the peer's FIN
     * ({@code n == 0}), 0 when nothing is there now (EAGAIN clears the read latch; EINTR keeps it).
     */
    private long nothingRead(final long n) throws IOException
    {
        if (n == 0)
        {
            return -1;
        }
        if (n == -Errno.EAGAIN)
        {
            readDrained();
            return 0;
        }
        if (n == -Errno.EINTR)
        {
            return 0;
        }
        throw NativePoller.peerError(n);
    }

    /** What a sending call that failed ({@code n < 0}) returns: 0 when the socket takes nothing now, else throws. */
    private long nothingWritten(final long n) throws IOException
    {
        if (n == -Errno.EAGAIN)
        {
            writeFilled();
            return 0;
        }
        if (n == -Errno.EINTR)
        {
            return 0;
        }
        throw NativePoller.peerError(n);
    }

    @Override
    public int write(final ByteBuffer src) throws IOException
    {
        ensureWritable();
        final int position = src.position();
        final int remaining = src.limit() - position;
        if (remaining == 0)
        {
            return 0;
        }
        final Syscalls sys = poller.sys;
        final long n;
        final int asked;
        if (src.isDirect())
        {
            asked = remaining;
            n = sys.send(fd, BufferUtil.address(src) + position, asked, 0);
            Reference.reachabilityFence(src);
        }
        else
        {
            asked = Math.min(remaining, NativePoller.SCRATCH_SIZE);
            poller.scratch.put(0, src, position, asked);
            n = sys.send(fd, poller.scratchAddress, asked, 0);
        }
        if (n >= 0)
        {
            src.position(position + (int)n);
            if (n < asked)
            {
                writeFilled();
            }
            return (int)n;
        }
        return (int)nothingWritten(n);
    }

    @Override
    public long write(final ByteBuffer[] srcs, final int offset, final int length) throws IOException
    {
        Objects.checkFromIndexSize(offset, length, srcs.length);
        ensureWritable();
        final int end = offset + length;
        final ByteBuffer scratch = poller.scratch;
        int count = 0;
        int scratchUsed = 0;
        long asked = 0;
        for (int i = offset; i < end && count < NativePoller.MAX_IOVECS; i++)
        {
            final ByteBuffer src = srcs[i];
            final int position = src.position();
            final int remaining = src.limit() - position;
            if (remaining == 0)
            {
                continue;
            }
            if (src.isDirect())
            {
                Syscalls.iovec(poller.iovecs, count++, BufferUtil.address(src) + position, remaining);
                asked += remaining;
            }
            else
            {
                final int room = NativePoller.SCRATCH_SIZE - scratchUsed;
                if (room == 0)
                {
                    break;
                }
                final int copied = Math.min(remaining, room);
                scratch.put(scratchUsed, src, position, copied);
                Syscalls.iovec(poller.iovecs, count++, poller.scratchAddress + scratchUsed, copied);
                scratchUsed += copied;
                asked += copied;
                if (copied < remaining)
                {
                    break; // what follows must not go out before the rest of this one
                }
            }
        }
        if (count == 0)
        {
            return 0;
        }
        final long n = poller.sys.writev(fd, poller.iovecs, count);
        Reference.reachabilityFence(srcs);
        if (n < 0)
        {
            return nothingWritten(n);
        }
        long left = n;
        for (int i = offset; i < end && left > 0; i++)
        {
            final ByteBuffer src = srcs[i];
            final int step = (int)Math.min(src.remaining(), left);
            src.position(src.position() + step);
            left -= step;
        }
        if (n < asked)
        {
            writeFilled();
        }
        return n;
    }

    @Override
    public long write(final ByteBuffer[] srcs) throws IOException
    {
        return write(srcs, 0, srcs.length);
    }

    @Override
    public int peek(final ByteBuffer dst) throws IOException
    {
        ensureConnected();
        final int position = dst.position();
        final int wanted = dst.limit() - position;
        if (wanted == 0 || !dst.isDirect())
        {
            return 0;
        }
        final long n = poller.sys.recv(fd, BufferUtil.address(dst) + position, wanted, Syscalls.MSG_PEEK);
        Reference.reachabilityFence(dst);
        if (n > 0)
        {
            return (int)n; // the bytes stay queued: the read latch stays too
        }
        return (int)nothingRead(n);
    }

    /**
     * Splices up to {@code max} bytes from this socket into the write end of an empty pipe.
     *
     * @return bytes moved, 0 when none are there now, -1 at the peer's FIN.
     */
    long spliceTo(final int pipeIn, final long max) throws IOException
    {
        ensureConnected();
        final long n = poller.sys.splice(fd, pipeIn, max, Syscalls.SPLICE_F_MOVE | Syscalls.SPLICE_F_NONBLOCK);
        if (n > 0)
        {
            // A short splice may mean the pipe ran out of slots, not that the socket is empty: the latch stays,
            // and the next call tells (EAGAIN with an empty pipe can only be the socket).
            return n;
        }
        if (n == 0)
        {
            readHangUp = true;
        }
        return nothingRead(n);
    }

    /**
     * Splices up to {@code length} bytes from the read end of a pipe into this socket.
     *
     * @return bytes moved, 0 when the socket takes none now.
     */
    long spliceFrom(final int pipeOut, final long length) throws IOException
    {
        ensureWritable();
        final long n = poller.sys.splice(pipeOut, fd, length,
            Syscalls.SPLICE_F_MOVE | Syscalls.SPLICE_F_NONBLOCK);
        // On EAGAIN the pipe holds bytes (the caller asks only then): only the socket's buffer can be full.
        return n >= 0 ? n : nothingWritten(n);
    }

    @Override
    public void shutdownOutput() throws IOException
    {
        ensureConnected();
        if (outputShutdown)
        {
            return;
        }
        final int r = poller.sys.shutdown(fd, SHUT_WR);
        if (r < 0 && r != -Errno.ENOTCONN)
        {
            throw NativePoller.ioException(r);
        }
        outputShutdown = true;
    }

    @Override
    public void reset()
    {
        if (fd >= 0)
        {
            poller.sys.setLinger(fd, true, 0);
            close();
        }
    }

    @Override
    public boolean isOpen()
    {
        return fd >= 0;
    }

    @Override
    public void close()
    {
        poller.closeSocket(this);
    }

    @Override
    public InetSocketAddress remoteAddress()
    {
        if (fd < 0)
        {
            return null;
        }
        return remote != null ? remote : SocketAddresses.unpackV4(peerV4);
    }

    @Override
    public InetSocketAddress localAddress()
    {
        if (fd < 0)
        {
            return null;
        }
        if (local == null)
        {
            final int length = poller.sys.getsockname(fd, poller.sockaddr);
            if (length > 0)
            {
                local = SocketAddresses.read(poller.sockaddr);
            }
        }
        return local;
    }

    @Override
    public String toString()
    {
        return "epoll:" + fd + (remote != null ? "->" + remote : peerV4 >= 0 ? "->" + SocketAddresses.unpackV4(peerV4) : "");
    }

    private void ensureOpen() throws ClosedChannelException
    {
        if (fd < 0)
        {
            throw new ClosedChannelException();
        }
    }

    private void ensureConnected() throws ClosedChannelException
    {
        ensureOpen();
        if (connectPending)
        {
            throw new NotYetConnectedException();
        }
    }

    private void ensureWritable() throws ClosedChannelException
    {
        ensureConnected();
        if (outputShutdown)
        {
            // NIO's message-less exception for a write after shutdownOutput.
            throw new ClosedChannelException();
        }
    }
}
