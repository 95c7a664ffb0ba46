package io.centrigate.nativeio;

import io.centrigate.loop.Poller;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The io_uring transport (this is the jar's {@code META-INF/versions/22} class; JDK 17 to 21 see a stand-in that
 * always answers "unavailable"). This first step takes readiness from multishot poll requests on one ring per
 * loop, accepts with multishot accepts, and does the rest of the I/O with direct calls, as the epoll transport
 * does: see {@link IoUringReadiness}.
 */
public final class IoUringTransport
{
    private static final Path DISABLED_SYSCTL = Path.of("/proc/sys/kernel/io_uring_disabled");

    private IoUringTransport()
    {
    }

    /** @return why this runtime cannot run the io_uring transport, or null when it can. */
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
        return new NativePoller(hook, IoUringReadiness::new);
    }

    /**
     * Asked once by making a ring: the sysctl, a seccomp profile (containers often refuse io_uring_setup with
     * EPERM or ENOSYS) and the kernel's features are not going to change while we run.
     */
    private static final class Probe
    {
        static final String REASON = probe();

        private static String probe()
        {
            if (!NativeIo.isSupported())
            {
                return NativeIo.unsupportedReason();
            }
            final String disabled = disabledSysctl();
            if ("2".equals(disabled))
            {
                return "io_uring is disabled (kernel.io_uring_disabled = 2)";
            }
            try (Syscalls sys = new Syscalls())
            {
                new IoUring(sys, 2, 2).close();
                return null;
            }
            catch (final java.io.UncheckedIOException e)
            {
                final String message = e.getCause().getMessage();
                if (message.endsWith("EPERM") && "1".equals(disabled))
                {
                    return message + " (kernel.io_uring_disabled = 1: only the io_uring_group may use it)";
                }
                return message.endsWith("ENOSYS") || message.endsWith("EPERM") ?
                    message + " (no io_uring in this kernel, or a seccomp profile refuses it)" : message;
            }
            catch (final RuntimeException | LinkageError e)
            {
                return "probing io_uring failed: " + e;
            }
        }

        private static String disabledSysctl()
        {
            try
            {
                return Files.readString(DISABLED_SYSCTL).trim();
            }
            catch (final IOException | SecurityException e)
            {
                return null; // before 6.6 there is no such switch
            }
        }
    }
}
