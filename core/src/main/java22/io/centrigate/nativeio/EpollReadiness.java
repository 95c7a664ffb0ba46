package io.centrigate.nativeio;

import static io.centrigate.nativeio.Syscalls.EPOLL_CLOEXEC;
import static io.centrigate.nativeio.Syscalls.EPOLL_CTL_ADD;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * Edge-triggered epoll: each descriptor added once with every event it can report; close(2) drops it from the
 * set by itself, so {@link #remove} has nothing to do.
 */
final class EpollReadiness extends Readiness
{
    private final Syscalls sys;
    private final EpollEvents events = new EpollEvents(NativePoller.EVENT_CAPACITY);
    private final int epfd;

    /** @param sys the poller's (loop thread's) calls. */
    EpollReadiness(final Syscalls sys)
    {
        this.sys = sys;
        this.epfd = sys.epollCreate(EPOLL_CLOEXEC);
        if (epfd < 0)
        {
            events.close();
            throw new UncheckedIOException(new IOException("epoll_create1: " + Errno.name(epfd)));
        }
    }

    @Override
    String name()
    {
        return "epoll";
    }

    @Override
    int add(final int fd, final int events, final long data)
    {
        return sys.epollCtl(epfd, EPOLL_CTL_ADD, fd, events, data);
    }

    @Override
    void remove(final int fd, final long data)
    {
        // close(2) removes it: the socket's file is not shared with any other process.
    }

    @Override
    int await(final int timeoutMillis, final NativePoller poller)
    {
        final int n = sys.epollWait(epfd, events, timeoutMillis);
        for (int i = 0; i < n; i++)
        {
            poller.event(events.data(i), events.events(i));
        }
        return n;
    }

    @Override
    public void close()
    {
        sys.close(epfd);
        events.close();
    }
}
