package io.centrigate.nativeio;

/**
 * Why the native transport's stand-in (the JDK 17 build of {@link NativeIo} and {@link EpollTransport}) is what
 * runs. It also runs on JDK 22+ when the jar was built by an older JDK (no {@code META-INF/versions/22} in it):
 * then the runtime is not what is missing, and "needs JDK 22, this is 25" would send the user looking in the
 * wrong place. A class of its own, not a method of NativeIo, because the JDK 22 build replaces NativeIo.
 */
final class StandInReason
{
    private StandInReason()
    {
    }

    static String of(final int feature)
    {
        return feature >= 22
            ? "this build of centrigate has no native transport (it was built with a JDK older than 22; build it "
                + "with JDK 22 or later to include it)"
            : "java.lang.foreign needs JDK 22 or later, this is " + feature;
    }
}
