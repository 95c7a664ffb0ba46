package io.centrigate.nativeio;

import static io.centrigate.nativeio.Syscalls.SOCK_CLOEXEC;
import static io.centrigate.nativeio.Syscalls.SOCK_NONBLOCK;

import io.centrigate.loop.Connection;
import io.centrigate.loop.Listener;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.ClosedChannelException;

/**
 * A listening socket of an {@link EpollPoller}. Its readiness latches like a connection's readable bit and clears
 * when accept finds the backlog empty; accepted sockets are descriptors with their peer's address ({@link EpollAccepted}), which any
 * poller of the process may {@link EpollPoller#adopt adopt}.
 */
final class EpollListener extends EpollSocket implements Listener
{
    private final Handler handler;
    private final InetSocketAddress local;
    private boolean accepting = true;

    EpollListener(final EpollPoller poller, final int fd, final Handler handler, final InetSocketAddress local)
    {
        super(poller, fd);
        this.handler = handler;
        this.local = local;
    }

    @Override
    int wanted()
    {
        return accepting ? Connection.OP_READ : 0;
    }

    @Override
    void dispatch(final int readyOps)
    {
        handler.onAcceptable(this);
    }

    @Override
    public Object accept() throws IOException
    {
        if (fd < 0)
        {
            throw new ClosedChannelException();
        }
        while (true)
        {
            final int r = poller.sys.accept4(fd, poller.sockaddr, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (r >= 0)
            {
                // The peer's address comes with the accept: one getpeername less per connection, and a peer that
                // resets at once cannot take its address with it.
                final long v4 = SocketAddresses.packV4(poller.sockaddr);
                return new EpollAccepted(r, v4, v4 >= 0 ? null : SocketAddresses.read(poller.sockaddr));
            }
            if (r == -Errno.EAGAIN)
            {
                latched &= ~Connection.OP_READ;
                return null;
            }
            // The connection died in the backlog, or a signal came: the next one may be fine.
            if (r != -Errno.ECONNABORTED && r != -Errno.EINTR)
            {
                // EMFILE/ENFILE among them: the connection stays in the backlog and the latch with it, so
                // accepting(true) after the caller's pause finds it again without a new edge.
                throw EpollPoller.ioException(r);
            }
        }
    }

    @Override
    public void accepting(final boolean on)
    {
        accepting = on;
        requeueIfReady();
    }

    @Override
    public InetSocketAddress localAddress()
    {
        return local;
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
    public String toString()
    {
        return "epoll-listener:" + local;
    }
}
