package io.centrigate.nativeio;

/**
 * Where an {@link NativePoller}'s readiness comes from: an epoll descriptor ({@link EpollReadiness}) or an io_uring
 * whose multishot poll requests report the same edges ({@link IoUringReadiness}). The poller keeps everything
 * else (the slot table, the latches, the ready list, the sockets' I/O calls), so both transports behave alike
 * above this line. Loop thread only.
 */
abstract class Readiness implements AutoCloseable
{
    /** The transport's name, as {@link io.centrigate.loop.Poller#transport()} reports it. */
    abstract String name();

    /**
     * Reports {@code events} (EPOLLIN, EPOLLOUT, EPOLLRDHUP; EPOLLHUP and EPOLLERR always) of {@code fd} as
     * edges to {@link NativePoller#event} under {@code data}, until {@link #remove}.
     *
     * @return 0, or -errno when the descriptor cannot be watched (a source that learns it later reports it as
     *         an error event instead).
     */
    abstract int add(int fd, int events, long data);

    /** Stops the reports of {@code data}; called before {@code fd} is closed. */
    abstract void remove(int fd, long data);

    /**
     * Waits up to {@code timeoutMillis} (-1: until an event, 0: not at all) and hands each event to
     * {@code poller}'s {@link NativePoller#event}.
     *
     * @return the number of events, or -errno (-EINTR: call again).
     */
    abstract int await(int timeoutMillis, NativePoller poller);

    /**
     * Whether the source accepts connections itself ({@link #armAccept}) and hands over the descriptors through
     * {@link NativePoller#acceptCompletion}, instead of reporting a listener's readiness for accept4.
     */
    boolean acceptsItself()
    {
        return false;
    }

    /** Starts accepting on listening socket {@code fd} until {@link #cancelAccept}; see {@link #acceptsItself}. */
    void armAccept(final int fd, final long data)
    {
        throw new UnsupportedOperationException(name() + " reports listeners' readiness instead");
    }

    /** Stops what {@link #armAccept} started for {@code data}; descriptors accepted meanwhile still come. */
    void cancelAccept(final long data)
    {
        throw new UnsupportedOperationException(name() + " reports listeners' readiness instead");
    }

    /** Frees the source; the sockets it watched are closed by their owners. Never throws. */
    @Override
    public abstract void close();
}
