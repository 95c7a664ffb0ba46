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
}
