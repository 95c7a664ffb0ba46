package io.centrigate.nativeio;

import io.centrigate.loop.Connection;
import io.centrigate.loop.KernelPipe;

import java.io.IOException;

/**
 * A non-blocking pipe of an {@link NativePoller} for splice(2) between two of its connections. It is not registered
 * for readiness: it is filled only from a socket that is readable and drained only into one that is writable, and a
 * splice that would block says so at once (SPLICE_F_NONBLOCK, O_NONBLOCK on both ends).
 */
final class NativeKernelPipe implements KernelPipe
{
    /**
     * Asked for with F_SETPIPE_SZ: a whole 1 MiB frame fits, so a fast pair of sockets moves it in one splice each
     * way. An unprivileged process may not go above /proc/sys/fs/pipe-max-size (1 MiB by default) and, past
     * pipe-user-pages-soft, gets small pipes: the pipe then keeps the size it has (64 KiB by default).
     */
    static final int WANTED_SIZE = 1024 * 1024;

    private final NativePoller poller;
    private int readFd;
    private int writeFd;
    private long buffered;

    private NativeKernelPipe(final NativePoller poller, final int readFd, final int writeFd)
    {
        this.poller = poller;
        this.readFd = readFd;
        this.writeFd = writeFd;
    }

    /** A new pipe, or null when the kernel refused one (EMFILE, ENFILE). */
    static NativeKernelPipe open(final NativePoller poller)
    {
        final long fds = poller.sys.pipe();
        if (fds < 0)
        {
            return null;
        }
        final int readFd = (int)fds;
        final int writeFd = (int)(fds >>> 32);
        poller.sys.fcntl(writeFd, Syscalls.F_SETPIPE_SZ, WANTED_SIZE); // refused: the default size stays
        return new NativeKernelPipe(poller, readFd, writeFd);
    }

    @Override
    public long fill(final Connection source, final long max) throws IOException
    {
        if (buffered != 0)
        {
            throw new IllegalStateException("pipe not empty: " + buffered);
        }
        final long n = ((NativeConnection)source).spliceTo(writeFd, max);
        if (n > 0)
        {
            buffered = n;
        }
        return n;
    }

    @Override
    public long drain(final Connection sink) throws IOException
    {
        if (buffered == 0)
        {
            return 0;
        }
        final long n = ((NativeConnection)sink).spliceFrom(readFd, buffered);
        buffered -= n;
        return n;
    }

    @Override
    public long buffered()
    {
        return buffered;
    }

    @Override
    public void close()
    {
        if (readFd >= 0)
        {
            poller.closeDescriptor(readFd);
            poller.closeDescriptor(writeFd);
            readFd = -1;
            writeFd = -1;
            buffered = 0;
        }
    }

    @Override
    public String toString()
    {
        return "pipe:" + readFd + "/" + writeFd + " buffered " + buffered;
    }
}
