package io.centrigate.loop;

import java.util.function.Function;

import io.centrigate.nativeio.EpollTransport;
import io.centrigate.nativeio.IoUringTransport;

/**
 * Which transport runs under the loops: {@code nio} (JDK NIO, every JDK and platform), {@code epoll} (Linux,
 * JDK 22+, through {@code java.lang.foreign}), {@code io_uring} (Linux 5.19+ with io_uring allowed, JDK 22+), or
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
     * Why asking for {@code name} cannot start here, or null when it, or what stands in for it, runs: io_uring
     * refused by the kernel (io_uring_disabled, a seccomp profile, an old kernel) falls back to epoll, which
     * needs the same JDK and platform, so only a JDK or platform without epoll refuses it.
     */
    public static String refusal(final String name)
    {
        return refusal(name, EpollTransport.unavailableReason(), unavailableReason(name));
    }

    static String refusal(final String name, final String epollReason, final String reason)
    {
        return IO_URING.equals(name) && epollReason == null ? null : reason;
    }

    /**
     * @return the transport that runs when {@code asked} is asked for: {@code auto} becomes epoll where it works,
     * else nio; io_uring becomes epoll where the kernel refuses io_uring but epoll works.
     * @throws IllegalArgumentException an explicit transport that cannot run here, with the reason.
     */
    public static String resolve(final String asked)
    {
        return resolve(asked, EpollTransport.unavailableReason(), unavailableReason(asked));
    }

    /** {@link #resolve(String)} with the probes' answers given: {@code reason} is {@code asked}'s own. */
    static String resolve(final String asked, final String epollReason, final String reason)
    {
        if (AUTO.equals(asked))
        {
            return epollReason == null ? EPOLL : NIO;
        }
        if (reason != null && IO_URING.equals(asked) && epollReason == null)
        {
            return EPOLL;
        }
        if (reason != null)
        {
            throw new IllegalArgumentException("transport " + asked + " is not available: " + reason);
        }
        return asked;
    }

    /**
     * The one line to tell the operator when an explicit transport fell back to another, or null when what
     * runs is what was asked for (or {@code auto} chose).
     */
    public static String fallbackNotice(final String asked, final String resolved)
    {
        if (AUTO.equals(asked) || asked.equals(resolved))
        {
            return null;
        }
        return "transport " + asked + " is not available here (" + unavailableReason(asked) + "): running " +
            resolved;
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
