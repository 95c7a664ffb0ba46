package io.centrigate.nativeio;

import io.centrigate.loop.Poller;

/**
 * The io_uring transport. This is the stand-in seen by JDK 17 to 21: the jar's {@code META-INF/versions/22} holds
 * the real one, so code compiled for 17 can ask for it without reflection.
 */
public final class IoUringTransport
{
    private IoUringTransport()
    {
    }

    /** @return why this runtime cannot run the io_uring transport, or null when it can. */
    public static String unavailableReason()
    {
        return NativeIo.unsupportedReason();
    }

    public static Poller open(final Poller.DispatchHook hook)
    {
        throw new UnsupportedOperationException(unavailableReason());
    }
}
