package io.centrigate.nativeio;

/**
 * Whether this runtime can use the native transport: JDK 22 or later (this class is the jar's
 * {@code META-INF/versions/22} one), Linux on x86_64 or aarch64, and libc linked with native access allowed.
 */
public final class NativeIo
{
    private static final String UNSUPPORTED_REASON = unsupportedReason0();

    private NativeIo()
    {
    }

    public static boolean isSupported()
    {
        return UNSUPPORTED_REASON == null;
    }

    /**
     * @return why {@link #isSupported()} is false, or null when it is true.
     */
    public static String unsupportedReason()
    {
        return UNSUPPORTED_REASON;
    }

    private static String unsupportedReason0()
    {
        try
        {
            if (Libc.PLATFORM_PROBLEM != null)
            {
                return Libc.PLATFORM_PROBLEM;
            }
        }
        catch (final LinkageError | RuntimeException e)
        {
            // Libc failed to initialise: a missing symbol, or native access denied
            // (--illegal-native-access=deny without --enable-native-access).
            final Throwable cause = e.getCause() != null ? e.getCause() : e;
            return "linking libc failed: " + cause;
        }
        return null;
    }

    /**
     * Grows the process's descriptor table to hold {@code slots} descriptors: an eventfd duplicated to the lowest
     * free number at or above {@code slots - 1} (fcntl F_DUPFD_CLOEXEC) makes the kernel size the table for it,
     * then both are closed again; the table stays.
     *
     * @return false when the kernel refused (the limit is lower, or no descriptor was free).
     */
    public static boolean growDescriptorTable(final int slots)
    {
        if (!isSupported() || slots < 1)
        {
            return false;
        }
        try (Syscalls sys = new Syscalls())
        {
            final int fd = sys.eventfd(0, Syscalls.EFD_CLOEXEC);
            if (fd < 0)
            {
                return false;
            }
            final int high = sys.fcntl(fd, F_DUPFD_CLOEXEC, slots - 1);
            if (high >= 0)
            {
                sys.close(high);
            }
            sys.close(fd);
            return high >= 0;
        }
    }

    /** {@code <fcntl.h>}: duplicate to the lowest free descriptor at or above the argument, close-on-exec. */
    private static final int F_DUPFD_CLOEXEC = 1030;
}
