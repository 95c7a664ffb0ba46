package io.centrigate.nativeio;

import io.centrigate.loop.Poller;

/**
 * The edge-triggered epoll transport (this is the jar's {@code META-INF/versions/22} class; JDK 17 to 21 see a
 * stand-in that always answers "unavailable").
 */
public final class EpollTransport
{
    private EpollTransport()
    {
    }

    /** @return why this runtime cannot run the epoll transport, or null when it can. */
    public static String unavailableReason()
    {
        return Probe.REASON;
    }

    /**
     * @throws UnsupportedOperationException when {@link #unavailableReason()} is not null.
     */
    public static Poller open(final Poller.DispatchHook hook)
    {
        final String reason = unavailableReason();
        if (reason != null)
        {
            throw new UnsupportedOperationException(reason);
        }
        return new NativePoller(hook);
    }

    /** Asked once: a kernel or seccomp profile without epoll is not going to change while we run. */
    private static final class Probe
    {
        static final String REASON = probe();

        private static String probe()
        {
            if (!NativeIo.isSupported())
            {
                return NativeIo.unsupportedReason();
            }
            try (Syscalls sys = new Syscalls())
            {
                final int epfd = sys.epollCreate(Syscalls.EPOLL_CLOEXEC);
                if (epfd < 0)
                {
                    return "epoll_create1 failed: " + Errno.name(epfd);
                }
                sys.close(epfd);
                return null;
            }
            catch (final RuntimeException | LinkageError e)
            {
                return "probing epoll failed: " + e;
            }
        }
    }
}
