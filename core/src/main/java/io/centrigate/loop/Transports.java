package io.centrigate.loop;

import java.util.function.Function;

import io.centrigate.nativeio.EpollTransport;
import io.centrigate.nativeio.IoUringTransport;

/**
 * Which transport runs under the loops: {@code nio} (JDK NIO, every JDK and platform), {@code epoll} (Linux,
 * JDK 22+, through {@code java.lang.foreign}), {@code io_uring} (Linux 5.13+ with io_uring allowed, JDK 22+), or
 * {@code auto} (epoll where it works, else NIO; io_uring only when asked for until it is measured to win).
 */
public final class Transports
{
    public static final String NIO = "nio";
    public static final String EPOLL = "epoll";
    public static final String IO_URING = "io_uring";
    public static final String AUTO = "auto";
    /** The names a user may give. */
    public static final String[] NAMES = {NIO, EPOLL, IO_URING, AUTO};

    private Transports()
    {
    }

    /** Why {@code name} cannot run here, or null when it can. */
    public static String unavailableReason(final String name)
    {
        switch (name)
        {
            case NIO:
            case AUTO:
                return null;
            case EPOLL:
                return EpollTransport.unavailableReason();
            case IO_URING:
                return IoUringTransport.unavailableReason();
            default:
                return "unknown transport '" + name + "' (one of nio, epoll, io_uring, auto)";
        }
    }

    /**
     * @return the transport that runs when {@code asked} is asked for: {@code auto} becomes epoll where it works,
     * else nio.
     * @throws IllegalArgumentException an explicit transport that cannot run here, with the reason.
     */
    public static String resolve(final String asked)
    {
        if (AUTO.equals(asked))
        {
            return EpollTransport.unavailableReason() == null ? EPOLL : NIO;
        }
        final String reason = unavailableReason(asked);
        if (reason != null)
        {
            throw new IllegalArgumentException("transport " + asked + " is not available: " + reason);
        }
        return asked;
    }

    /** Opens pollers of a resolved transport: one per loop. */
    public static Function<Poller.DispatchHook, Poller> factory(final String resolved)
    {
        switch (resolved)
        {
            case EPOLL:
                return EpollTransport::open;
            case IO_URING:
                return IoUringTransport::open;
            case NIO:
                return NioPoller::new;
            default:
                throw new IllegalArgumentException("not a resolved transport: " + resolved);
        }
    }

    /** A poller of the transport {@code -Dcentrigate.transport} names (default nio): for tools and tests. */
    public static Poller openDefault()
    {
        return factory(resolve(System.getProperty("centrigate.transport", NIO))).apply(() -> { });
    }
}
