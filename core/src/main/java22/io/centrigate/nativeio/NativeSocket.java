package io.centrigate.nativeio;

import static io.centrigate.nativeio.Syscalls.EPOLLERR;
import static io.centrigate.nativeio.Syscalls.EPOLLHUP;
import static io.centrigate.nativeio.Syscalls.EPOLLIN;
import static io.centrigate.nativeio.Syscalls.EPOLLOUT;
import static io.centrigate.nativeio.Syscalls.EPOLLRDHUP;

import io.centrigate.loop.Connection;

/**
 * What an {@link NativePoller} keeps per registered descriptor: its slot in the poller's table and the readiness
 * latched from edge-triggered events. The kernel reports an edge once; the latch remembers it until an I/O call
 * comes back short, which is what lets the caller see level-triggered readiness.
 */
abstract class NativeSocket
{
    final NativePoller poller;
    /** -1 once closed. */
    int fd;
    /** Index into the poller's table, -1 when not registered; with {@link #generation} it is the epoll data. */
    int slot = -1;
    int generation;
    /** {@link Connection#OP_READ} / OP_WRITE / OP_CONNECT bits seen and not yet consumed. */
    int latched;
    /** A hang-up or error was reported: reading keeps being ready, so the caller reads the EOF or the error. */
    boolean readHangUp;
    /** Same for writing, on EPOLLHUP/EPOLLERR. */
    boolean writeHangUp;
    /** On the poller's ready list. */
    boolean queued;

    NativeSocket(final NativePoller poller, final int fd)
    {
        this.poller = poller;
        this.fd = fd;
    }

    /** The bits the owner wants to hear about now. */
    abstract int wanted();

    /** Calls the owner's handler with {@code readyOps} (non-zero, within {@link #wanted()}). */
    abstract void dispatch(int readyOps);

    /** Whether a non-blocking connect is waiting for its outcome (an EPOLLOUT then latches OP_CONNECT too). */
    boolean connecting()
    {
        return false;
    }

    final boolean isRegistered()
    {
        return fd >= 0;
    }

    /** What the readiness source reports this socket under: its slot and the slot's generation. */
    final long data()
    {
        return ((long)generation << 32) | slot;
    }

    final void latch(final int events)
    {
        int bits = 0;
        if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0)
        {
            bits |= Connection.OP_READ;
        }
        if ((events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) != 0)
        {
            bits |= Connection.OP_WRITE;
            if (connecting())
            {
                bits |= Connection.OP_CONNECT;
            }
        }
        if ((events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0)
        {
            readHangUp = true;
        }
        if ((events & (EPOLLHUP | EPOLLERR)) != 0)
        {
            writeHangUp = true;
        }
        latched |= bits;
    }

    /** A read came back short or would block: wait for the next edge, unless the peer is gone. */
    final void readDrained()
    {
        if (!readHangUp)
        {
            latched &= ~Connection.OP_READ;
        }
    }

    final void writeFilled()
    {
        if (!writeHangUp)
        {
            latched &= ~Connection.OP_WRITE;
        }
    }

    /** After the interest grew, or a handler returned: back on the ready list if something wanted is latched. */
    final void requeueIfReady()
    {
        if (fd >= 0 && !queued && (latched & wanted()) != 0)
        {
            poller.enqueue(this);
        }
    }
}
