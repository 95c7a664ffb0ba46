package io.centrigate.loop;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Gives the calling thread, one of the proxy's background threads (the admin listener, the access log writer), the
 * kernel's background scheduling class ({@code SCHED_IDLE}), so it never takes a CPU from a loop that has work.
 * <p>
 * Why: a scrape of {@code /metrics} is a burst of a millisecond or more on the admin thread. Where the loop and the
 * admin thread share a CPU (a sidecar with one CPU, or the bench's pinned proxy) the loop, woken by a packet, had
 * to wait for the running scrape: the echo bench's p99 was about twice as high with /metrics and /status scraped
 * each second, even at nice 10 (EEVDF lets the running thread finish its slice first). A waking thread of the
 * normal class always preempts a {@code SCHED_IDLE} one at once. Under full load the background thread still gets
 * a small share (its weight is 3 against a normal thread's 1,024): a scrape then answers late, it is not starved.
 * <p>
 * Java has no API for a thread's scheduling policy, so this runs {@code chrt --idle -p 0} once on the thread's own
 * id, read from {@code /proc/thread-self} (any user may move a thread to that class); without {@code chrt} it falls
 * back to {@code renice -n 10}. Anything missing (not Linux, a sandbox) leaves the thread as it is: it works the
 * same, only less politely.
 */
public final class BackgroundPriority
{
    /** The nice value given to background threads when {@code SCHED_IDLE} cannot be set (0 is normal, 19 the lowest). */
    public static final int NICE = 10;
    /** Linux's number for the {@code SCHED_IDLE} policy, as {@code /proc/.../stat} shows it. */
    public static final int SCHED_IDLE = 5;

    private BackgroundPriority()
    {
    }

    /** Lowers the calling thread's priority; returns the thread id it lowered, or -1 when it could not. */
    public static long lowerCurrentThread()
    {
        try
        {
            final Path self = Files.readSymbolicLink(Path.of("/proc/thread-self"));
            final long tid = Long.parseLong(self.getFileName().toString());
            final String id = Long.toString(tid);
            return run("chrt", "--idle", "-p", "0", id) || run("renice", "-n", Integer.toString(NICE), "-p", id) ? tid : -1;
        }
        catch (final IOException | RuntimeException e)
        {
            return -1;
        }
        catch (final InterruptedException e)
        {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    /** Lowers another thread of this process (by its kernel thread id) as {@link #lowerCurrentThread()} does. */
    public static boolean lower(final long tid)
    {
        final String id = Long.toString(tid);
        try
        {
            return run("chrt", "--idle", "-p", "0", id) || run("renice", "-n", Integer.toString(NICE), "-p", id);
        }
        catch (final InterruptedException e)
        {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /**
     * Gives a thread of this process (lowered by {@link #lower}) the normal class back: {@code chrt --other}, or
     * {@code renice -n 0} where it had been reniced. Leaving {@code SCHED_IDLE} or raising a nice value is allowed
     * only with {@code CAP_SYS_NICE} or a {@code RLIMIT_NICE} that permits it (root, or {@code LimitNICE=} in a
     * unit): false without.
     */
    public static boolean restore(final long tid)
    {
        final String id = Long.toString(tid);
        try
        {
            return policyOf(tid) == SCHED_IDLE ? run("chrt", "--other", "-p", "0", id) :
                run("renice", "-n", "0", "-p", id);
        }
        catch (final IOException e)
        {
            return false; // the thread ended
        }
        catch (final InterruptedException e)
        {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /**
     * Whether this process can give a lowered thread its normal priority back: tried on a short-lived thread of
     * its own, lowered and restored.
     */
    public static boolean canRestore()
    {
        final boolean[] ok = new boolean[1];
        final Thread probe = new Thread(() ->
        {
            final long tid = lowerCurrentThread();
            ok[0] = tid > 0 && restore(tid);
        }, "centrigate-priority-probe");
        probe.setDaemon(true);
        probe.start();
        try
        {
            probe.join(TimeUnit.SECONDS.toMillis(15));
        }
        catch (final InterruptedException e)
        {
            Thread.currentThread().interrupt();
            return false;
        }
        return !probe.isAlive() && ok[0];
    }

    private static boolean run(final String... command) throws InterruptedException
    {
        try
        {
            final Process p = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (!p.waitFor(5, TimeUnit.SECONDS))
            {
                p.destroyForcibly();
                return false;
            }
            return p.exitValue() == 0;
        }
        catch (final IOException e)
        {
            return false; // not installed
        }
    }

    /** A thread's state letter ('R' runnable or running, 'S' sleeping...) and its CPU ticks (user + system). */
    static long[] stateAndTicks(final long tid) throws IOException
    {
        final String stat = Files.readString(Path.of("/proc/self/task/" + tid + "/stat"));
        final String[] after = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return new long[] {after[0].charAt(0), Long.parseLong(after[14 - 3]) + Long.parseLong(after[15 - 3])};
    }

    /** The nice value of a thread of this process, from {@code /proc}; for tests and diagnostics. */
    public static int niceOf(final long tid) throws IOException
    {
        return statField(tid, 19);
    }

    /** The scheduling policy of a thread of this process ({@link #SCHED_IDLE}, 0 for the normal class). */
    public static int policyOf(final long tid) throws IOException
    {
        return statField(tid, 41);
    }

    private static int statField(final long tid, final int field) throws IOException
    {
        final String stat = Files.readString(Path.of("/proc/self/task/" + tid + "/stat"));
        // Fields after the command name (which may hold spaces, inside parentheses) start with field 3.
        final String[] after = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Integer.parseInt(after[field - 3]);
    }
}
