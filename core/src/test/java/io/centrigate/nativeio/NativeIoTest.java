package io.centrigate.nativeio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * Compiled for 17 against the base class and run on whichever JDK builds: on 22+ the build puts the
 * META-INF/versions/22 class first, as the multi-release jar does, so this checks which one is seen.
 */
class NativeIoTest
{
    @Test
    void isSupportedOnlyFromJdk22OnLinuxX86OrArm()
    {
        final String arch = System.getProperty("os.arch");
        final boolean platform = "Linux".equals(System.getProperty("os.name")) &&
            ("amd64".equals(arch) || "aarch64".equals(arch));
        if (Runtime.version().feature() >= 22 && platform)
        {
            assertTrue(NativeIo.isSupported(), NativeIo::unsupportedReason);
            assertNull(NativeIo.unsupportedReason());
        }
        else
        {
            assertFalse(NativeIo.isSupported());
            final String reason = NativeIo.unsupportedReason();
            assertTrue(reason != null && !reason.isEmpty());
            if (Runtime.version().feature() < 22)
            {
                assertEquals("java.lang.foreign needs JDK 22 or later, this is " + Runtime.version().feature(), reason);
            }
        }
    }

    @Test
    void theStandInSaysWhatIsMissingTheRuntimeOrTheBuild()
    {
        assertEquals("java.lang.foreign needs JDK 22 or later, this is 17", StandInReason.of(17));
        assertTrue(StandInReason.of(25).startsWith("this build of centrigate has no native transport"),
            StandInReason.of(25));
    }
}
