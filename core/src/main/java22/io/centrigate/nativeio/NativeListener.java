package io.centrigate.nativeio;

import static io.centrigate.nativeio.Syscalls.SOCK_CLOEXEC;
import static io.centrigate.nativeio.Syscalls.SOCK_NONBLOCK;

import io.centrigate.loop.Connection;
import io.centrigate.loop.Listener;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.ClosedChannelException;

/**
 * A listening socket of an {@link NativePoller}. Its readiness latches like a connection's readable bit and clears
 * when accept finds the backlog empty; accepted sockets are descriptors with their peer's address ({@link NativeAccepted}), which any
 * poller of the process may {@link NativePoller#adopt adopt}.
 * <p>
 * Over a source that accepts by itself (io_uring's multishot accept) the kernel accepts as connections come and
 * the descriptors wait here in a small queue; {@link #accept()} takes them in order (with getpeername for the
 * address, which a multishot accept cannot write per connection), and readiness means "the queue is not empty".
 * While accepting is off the kernel's accepting is cancelled, so connections wait in the backlog as they do on
 * epoll; an error (EMFILE) ends it, is thrown by {@link #accept()} once the queue is empty, and accepting starts
 * again at the next {@link #accepting(boolean) accepting(true)} or accept.
 */
final class NativeListener extends NativeSocket implements Listener
{
    private final Handler handler;
    private final InetSocketAddress local;
    private boolean accepting = true;

    // Only over a source that accepts by itself:
    /** Accepted descriptors not yet taken, a ring of {@link #queued} from {@link #queueHead}. */
    private int[] queue;
    private int queueHead;
    private int queued;
    /** The kernel is accepting for us (a multishot accept is armed and not cancelled). */
    private boolean armed;
    /** The error that ended the kernel's accepting, negated; thrown by accept once the queue is empty. */
    private int error;

    NativeListener(final NativePoller poller, final int fd, final Handler handler, final InetSocketAddress local)
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
        if (poller.acceptsItself())
        {
            return takeAccepted();
        }
        while (true)
        {
            final int r = poller.sys.accept4(fd, poller.sockaddr, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (r >= 0)
            {
                // The peer's address comes with the accept: one getpeername less per connection, and a peer that
                // resets at once cannot take its address with it.
                final long v4 = SocketAddresses.packV4(poller.sockaddr);
                return new NativeAccepted(r, v4, v4 >= 0 ? null : SocketAddresses.read(poller.sockaddr));
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
                throw NativePoller.ioException(r);
            }
        }
    }

    @Override
    public void accepting(final boolean on)
    {
        accepting = on;
        if (fd >= 0 && poller.acceptsItself())
        {
            if (on && !armed)
            {
                arm();
            }
            else if (!on && armed)
            {
                armed = false;
                poller.readiness().cancelAccept(data());
            }
        }
        requeueIfReady();
    }

    /** Has the source accept for this listener (again). */
    void arm()
    {
        armed = true;
        error = 0;
        poller.readiness().armAccept(fd, data());
    }

    /** A descriptor the source accepted, or the -errno that ended its accepting ({@code more} false then). */
    void completed(final int result, final boolean more)
    {
        if (result >= 0)
        {
            enqueue(result);
        }
        else if (result != -Errno.ECANCELED)
        {
            error = result;
            latched |= Connection.OP_READ;
        }
        if (!more && result != -Errno.ECANCELED)
        {
            // Ended on its own: a full completion queue (result is a descriptor) or an error. A transient error
            // (the connection died in the backlog, a signal) or an overflow arms it again at once; EMFILE and the
            // like wait for the caller, who hears of it from accept and pauses.
            armed = false;
            if (result >= 0 || result == -Errno.ECONNABORTED || result == -Errno.EINTR)
            {
                error = 0;
                if (accepting)
                {
                    arm();
                }
            }
        }
        requeueIfReady();
    }

    private void enqueue(final int accepted)
    {
        if (queue == null)
        {
            queue = new int[16];
        }
        else if (queued == queue.length)
        {
            final int[] larger = new int[queued * 2];
            for (int i = 0; i < queued; i++)
            {
                larger[i] = queue[(queueHead + i) % queue.length];
            }
            queue = larger;
            queueHead = 0;
        }
        queue[(queueHead + queued) % queue.length] = accepted;
        queued++;
        latched |= Connection.OP_READ;
    }

    private Object takeAccepted() throws IOException
    {
        while (queued > 0)
        {
            final int accepted = queue[queueHead];
            queueHead = (queueHead + 1) % queue.length;
            queued--;
            final int length = poller.sys.getpeername(accepted, poller.sockaddr);
            if (length > 0)
            {
                final long v4 = SocketAddresses.packV4(poller.sockaddr);
                return new NativeAccepted(accepted, v4, v4 >= 0 ? null : SocketAddresses.read(poller.sockaddr));
            }
            // Reset before we got to it: as accept4's ECONNABORTED, the next one may be fine.
            poller.closeDescriptor(accepted);
        }
        if (error != 0)
        {
            final int thrown = error;
            error = 0;
            latched &= ~Connection.OP_READ;
            throw NativePoller.ioException(thrown);
        }
        latched &= ~Connection.OP_READ;
        if (!armed && accepting)
        {
            arm(); // the caller went on after an error without pausing
        }
        return null;
    }

    /** At close: the accepted descriptors nobody took are closed, the kernel's accepting cancelled. */
    void dropAccepted()
    {
        if (armed && !poller.isClosed())
        {
            poller.readiness().cancelAccept(data());
        }
        armed = false;
        while (queued > 0)
        {
            poller.closeDescriptor(queue[queueHead]);
            queueHead = (queueHead + 1) % queue.length;
            queued--;
        }
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
