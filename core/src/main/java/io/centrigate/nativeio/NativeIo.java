package io.centrigate.nativeio;

/**
 * Whether this runtime can use the native transport. This is the stand-in seen by JDK 17 to 21; the jar's
 * {@code META-INF/versions/22} holds the class that actually checks the platform, so code compiled for 17 can
 * ask without reflection.
 */
public final class NativeIo
{
    private NativeIo()
    {
    }

    public static boolean isSupported()
    {
        return false;
    }

    /**
     * @return why {@link #isSupported()} is false, or null when it is true.
     */
    public static String unsupportedReason()
    {
        return StandInReason.of(Runtime.version().feature());
    }

    /**
     * Grows the process's descriptor table to hold {@code slots} descriptors with one system call; false: not
     * done here (the caller opens descriptors instead).
     */
    public static boolean growDescriptorTable(final int slots)
    {
        return false;
    }
}
