package io.centrigate.loop;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;

/**
 * Puts the JVM's JIT compiler threads in the kernel's background class ({@code SCHED_IDLE}, see
 * {@link BackgroundPriority}), so a compile never takes the CPU from an event loop that has work.
 * <p>
 * Why: a proxy that has just started (a restart or a handover in the middle of a reconnect storm) compiles its
 * hot paths while the first clients arrive. A C2 compile is tens of milliseconds of CPU; where it shares a CPU with
 * a loop (a sidecar with one or two CPUs, the bench's pinned proxy) the loop, woken by a packet, waited for it: in
 * the cold bench the loop spent 1.1 s runnable but not running over a 5 s ramp while the C2 thread used 1.8 s, and
 * the connect+upgrade p99 was 4 to 6 times Nginx's. In the background class a compile runs in the loop's idle gaps
 * (a ramp of 2,000 handshakes a second leaves most of a core idle) and yields at once when a packet comes.
 * <p>
 * The cost: while every loop is saturated the compiler gets only a small share of the CPU (its weight is 3 against
 * a normal thread's 1,024), so code not yet compiled stays slower until the load eases. {@code --warmup} compiles
 * the hot paths before the listeners open, at normal priority: this starts after it.
 * <p>
 * The JVM starts compiler threads when its queue grows (dynamic compiler threads), so the thread ids are looked up
 * in {@code /proc/self/task} once a second by a daemon thread (itself in the background class) and each new one is
 * lowered once. Where this cannot work (not Linux, no {@code chrt}) the threads stay as they are.
 */
public final class JitPriority implements AutoCloseable
{
    /** {@code comm} of HotSpot's compiler threads: the kernel keeps 15 characters of "C2 CompilerThread0". */
    private static final String[] COMPILER_PREFIXES = {"C1 CompilerThre", "C2 CompilerThre"};
    private static final long RESCAN_MS = 1000;

    private final Thread thread;
    private final Set<Long> lowered = new HashSet<>();
    private volatile boolean running = true;

    private JitPriority()
    {
        thread = new Thread(this::run, "centrigate-jit-priority");
        thread.setDaemon(true);
    }

    /** Starts lowering the compiler threads of this process, now and as new ones appear. */
    public static JitPriority start()
    {
        final JitPriority p = new JitPriority();
        p.lowerNewCompilerThreads(); // the ones that exist, before the first clients
        p.thread.start();
        return p;
    }

    private void run()
    {
        BackgroundPriority.lowerCurrentThread();
        while (running)
        {
            try
            {
                Thread.sleep(RESCAN_MS);
            }
            catch (final InterruptedException e)
            {
                return;
            }
            lowerNewCompilerThreads();
        }
    }

    /** Lowers compiler threads not seen before; returns how many it lowered. Synchronized: start() and the thread. */
    synchronized int lowerNewCompilerThreads()
    {
        int count = 0;
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc/self/task")))
        {
            for (final Path task : tasks)
            {
                final long tid;
                try
                {
                    tid = Long.parseLong(task.getFileName().toString());
                }
                catch (final NumberFormatException e)
                {
                    continue;
                }
                if (lowered.contains(tid) || !isCompiler(Files.readString(task.resolve("comm")).trim()))
                {
                    continue;
                }
                lowered.add(tid);
                if (BackgroundPriority.lower(tid))
                {
                    count++;
                }
            }
        }
        catch (final IOException | RuntimeException e)
        {
            // Not Linux, or a thread that ended while we looked: the rest stays as it is.
        }
        return count;
    }

    static boolean isCompiler(final String comm)
    {
        for (final String prefix : COMPILER_PREFIXES)
        {
            if (comm.startsWith(prefix))
            {
                return true;
            }
        }
        return false;
    }

    /** The compiler threads lowered so far (for the tests and diagnostics). */
    public synchronized Set<Long> lowered()
    {
        return Set.copyOf(lowered);
    }

    @Override
    public void close()
    {
        running = false;
        thread.interrupt();
    }
}
