package io.centrigate.loop;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

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
 * in {@code /proc/self/task} once a second by a daemon thread and each new one is
 * lowered once. Where this cannot work (not Linux, no {@code chrt}) the threads stay as they are.
 * <p>
 * The way back: code the warm-up compiled can be thrown away when real traffic takes a branch the warm-up never
 * took (C2 leaves such branches out; the first one taken sends the method back to the interpreter). If the loops
 * are then saturated, by the slower code among others, a compiler in the background class never gets the CPU to
 * compile it again: the cold bench's loop ran 0.4 to 1 s without a system call, in
 * {@code SharedRuntime::handle_wrong_method} and the interpreter, while its clients waited (perf, 2026-12-08).
 * So the same daemon thread samples the lowered threads every {@value #SAMPLE_MS} ms: a compiler that stays
 * runnable for {@value #STARVED_MS} ms without getting a tick of CPU is starved, and every compiler thread gets
 * the normal class back for good (one line on the log). That needs a way back ({@link BackgroundPriority#restore});
 * {@code --jit-priority auto} lowers only where there is one.
 */
public final class JitPriority implements AutoCloseable
{
    /** {@code comm} of HotSpot's compiler threads: the kernel keeps 15 characters of "C2 CompilerThread0". */
    private static final String[] COMPILER_PREFIXES = {"C1 CompilerThre", "C2 CompilerThre"};
    private static final long RESCAN_MS = 1000;
    static final long SAMPLE_MS = 50;
    static final long STARVED_MS = 500;

    private final Thread thread;
    private final Set<Long> lowered = new HashSet<>();
    private final PrintStream log;
    private final long starvedNs;
    /** Which threads to lower, by {@code comm}: the compilers (tests: threads of their own). */
    private final java.util.function.Predicate<String> which;
    private volatile boolean running = true;
    private volatile boolean restored;

    private JitPriority(final PrintStream log, final long starvedNs, final java.util.function.Predicate<String> which)
    {
        this.log = log;
        this.starvedNs = starvedNs;
        this.which = which;
        thread = new Thread(this::run, "centrigate-jit-priority");
        thread.setDaemon(true);
    }

    /** Starts lowering the compiler threads of this process, now and as new ones appear; says on {@code log} when it gives them back. */
    public static JitPriority start(final PrintStream log)
    {
        return start(log, TimeUnit.MILLISECONDS.toNanos(STARVED_MS), JitPriority::isCompiler);
    }

    static JitPriority start(final PrintStream log, final long starvedNs, final java.util.function.Predicate<String> which)
    {
        final JitPriority p = new JitPriority(log, starvedNs, which);
        p.lowerNewCompilerThreads(); // the ones that exist, before the first clients
        p.thread.start();
        return p;
    }

    /** True once the compilers were found starved and given the normal class back. */
    public boolean restored()
    {
        return restored;
    }

    private void run()
    {
        // This thread stays in the normal class: in the background one it starved with the compilers it watches
        // (a first version noticed them 300 to 550 ms late, and its chrt, forked from it, inherited the class).
        // It wakes every SAMPLE_MS to read a few /proc files: microseconds.
        final Map<Long, long[]> runnableSince = new HashMap<>(); // tid -> {since ns, ticks then}
        long rescan = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(RESCAN_MS);
        while (running)
        {
            try
            {
                Thread.sleep(SAMPLE_MS);
            }
            catch (final InterruptedException e)
            {
                return;
            }
            final long now = System.nanoTime();
            if (now - rescan >= 0)
            {
                rescan = now + TimeUnit.MILLISECONDS.toNanos(RESCAN_MS);
                lowerNewCompilerThreads();
            }
            for (final long tid : lowered())
            {
                final long[] state;
                try
                {
                    state = BackgroundPriority.stateAndTicks(tid);
                }
                catch (final IOException | RuntimeException e)
                {
                    runnableSince.remove(tid); // ended
                    continue;
                }
                if (state[0] != 'R')
                {
                    runnableSince.remove(tid);
                    continue;
                }
                final long[] since = runnableSince.computeIfAbsent(tid, t -> new long[] {now, state[1]});
                // One tick (10 ms) in the window is still starving: a compile takes tens to hundreds of ms.
                if (now - since[0] >= starvedNs && state[1] - since[1] <= 1)
                {
                    giveBack(tid, now - since[0]);
                    return;
                }
                if (state[1] - since[1] > 1)
                {
                    since[0] = now;
                    since[1] = state[1];
                }
            }
        }
    }

    /** Every lowered compiler back to the normal class; the thread stops lowering. */
    private synchronized void giveBack(final long starvedTid, final long waitedNs)
    {
        running = false;
        int failed = 0;
        for (final long tid : lowered)
        {
            if (!BackgroundPriority.restore(tid))
            {
                failed++;
            }
        }
        restored = failed == 0;
        final String waited = "a compile waited " + TimeUnit.NANOSECONDS.toMillis(waitedNs) + " ms runnable without CPU " +
            "(thread " + starvedTid + ")";
        log.println(restored ? "centrigate: jit-priority: " + waited + ": the compiler threads are back in the normal class" :
            "centrigate: jit-priority: " + waited + ", and " + failed + " compiler thread(s) could not be given the " +
                "normal class back (needs CAP_SYS_NICE or RLIMIT_NICE): compiles wait for the loops' idle time");
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
                if (lowered.contains(tid) || !which.test(Files.readString(task.resolve("comm")).trim()))
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
