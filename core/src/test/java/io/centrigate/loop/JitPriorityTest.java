package io.centrigate.loop;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;

import org.junit.jupiter.api.Test;

import io.centrigate.config.ProxyContext;

/**
 * Which threads JitPriority lowers and when the context asks for it. Lowering this JVM's own compilers would slow
 * every later test in it, so the effect on a process is shown through the real CLI (JitPriorityRunTest).
 */
class JitPriorityTest
{
    @Test
    void onlyHotSpotsCompilerThreadsAreLowered()
    {
        assertTrue(JitPriority.isCompiler("C2 CompilerThre"));
        assertTrue(JitPriority.isCompiler("C1 CompilerThre"));
        assertFalse(JitPriority.isCompiler("centrigate-loop"));
        assertFalse(JitPriority.isCompiler("VM Thread"));
        assertFalse(JitPriority.isCompiler("Common-Cleaner"));
    }

    private static ProxyContext ctx(final String jit, final long warmupNs)
    {
        return new ProxyContext().listen(new InetSocketAddress("127.0.0.1", 0))
            .upstream(new InetSocketAddress("127.0.0.1", 9)).jitPriority(jit).warmupNs(warmupNs).conclude();
    }

    @Test
    void autoMeansBackgroundOnlyAfterAWarmUp()
    {
        assertTrue(ctx("auto", 1_000_000_000L).jitInBackground());
        assertFalse(ctx("auto", 0).jitInBackground(), "a cold process needs its compiler");
        assertTrue(ctx("background", 0).jitInBackground());
        assertFalse(ctx("normal", 1_000_000_000L).jitInBackground());
        assertThrows(IllegalArgumentException.class, () -> ctx("low", 0));
    }
}
