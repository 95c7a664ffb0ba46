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

    /** A thread of this test that spins (runnable) or sleeps as told, and says its kernel id. */
    private static final class Spinner extends Thread
    {
        volatile long tid = -1;
        volatile boolean spin;
        volatile boolean stop;

        Spinner(final String name)
        {
            super(name);
            setDaemon(true);
        }

        @Override
        public void run()
        {
            try
            {
                tid = Long.parseLong(java.nio.file.Files.readSymbolicLink(java.nio.file.Path.of("/proc/thread-self"))
                    .getFileName().toString());
            }
            catch (final java.io.IOException e)
            {
                tid = 0;
            }
            // Parked (state S) until told to spin: a thread that woke every millisecond was runnable, in the
            // background class, each time the CI's other threads held CPU 0, and the watcher rightly gave it back
            // before the test made it spin (a flake on the epoll leg).
            while (!stop)
            {
                if (!spin)
                {
                    java.util.concurrent.locks.LockSupport.park();
                }
            }
        }
    }

    private static void pin(final long tid) throws Exception
    {
        final Process p = new ProcessBuilder("taskset", "-p", "-c", "0", Long.toString(tid))
            .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectErrorStream(true).start();
        assertTrue(p.waitFor(10, java.util.concurrent.TimeUnit.SECONDS) && p.exitValue() == 0, "taskset");
    }

    /**
     * The way back from the background class: a lowered thread that sleeps is left alone; once it is runnable on a
     * CPU that a normal thread keeps busy (a saturated loop) it gets no CPU, and the watcher gives it the normal
     * class back and says so. Threads of the test stand in for the compilers (lowering this JVM's own would slow
     * the tests after it).
     */
    @Test
    @org.junit.jupiter.api.Timeout(60)
    void aLoweredThreadStarvedBehindABusyOneGetsTheNormalClassBack() throws Exception
    {
        org.junit.jupiter.api.Assumptions.assumeTrue(BackgroundPriority.canRestore(),
            "this process cannot leave the background class (no CAP_SYS_NICE or RLIMIT_NICE)");
        final Spinner victim = new Spinner("cg-test-victim");
        final Spinner hog = new Spinner("cg-test-hog");
        victim.start();
        hog.start();
        final java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        JitPriority watcher = null;
        try
        {
            while (victim.tid < 0 || hog.tid < 0)
            {
                Thread.onSpinWait();
            }
            pin(victim.tid);
            pin(hog.tid);
            watcher = JitPriority.start(new java.io.PrintStream(out, true), 200_000_000L, "cg-test-victim"::equals);
            assertTrue(watcher.lowered().contains(victim.tid), "lowered: " + watcher.lowered());
            assertTrue(BackgroundPriority.policyOf(victim.tid) == BackgroundPriority.SCHED_IDLE ||
                BackgroundPriority.niceOf(victim.tid) == BackgroundPriority.NICE);

            // Asleep it is not starved: more than the starvation window passes (the watcher samples every 50 ms).
            Thread.sleep(600);
            assertFalse(watcher.restored(), out.toString());

            hog.spin = true;
            java.util.concurrent.locks.LockSupport.unpark(hog);
            victim.spin = true;
            java.util.concurrent.locks.LockSupport.unpark(victim);
            final long deadline = System.nanoTime() + 30_000_000_000L;
            while (!watcher.restored() && System.nanoTime() < deadline)
            {
                Thread.sleep(20);
            }
            assertTrue(watcher.restored(), "not given back: " + out);
            assertTrue(BackgroundPriority.policyOf(victim.tid) != BackgroundPriority.SCHED_IDLE &&
                BackgroundPriority.niceOf(victim.tid) == 0);
            assertTrue(out.toString().contains("the compiler threads are back in the normal class"), out.toString());
        }
        finally
        {
            victim.stop = true;
            hog.stop = true;
            java.util.concurrent.locks.LockSupport.unpark(victim);
            java.util.concurrent.locks.LockSupport.unpark(hog);
            if (watcher != null)
            {
                watcher.close();
            }
        }
    }
}
