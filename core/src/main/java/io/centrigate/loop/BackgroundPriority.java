package io.centrigate.loop;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Lowers the scheduling priority (Linux nice) of the calling thread, for the proxy's background threads (the admin
 * listener, the access log writer) so they never take a CPU from a loop that has work.
 * <p>
 * Why: a scrape of {@code /metrics} is a burst of a millisecond or more on the admin thread, and the kernel lets a
 * thread that was asleep run ahead of a busy one. Where the loop and the admin thread share a CPU (a sidecar with one
 * CPU, or the bench's pinned proxy) every scrape then stalls the loop for the whole burst: the echo bench's p99 was
 * 2.3 times higher with /metrics and /status scraped each second. At nice 10 the admin thread gets about a tenth of
 * the loop's share while both want the CPU and still runs at once when the loop is idle.
 * <p>
 * Java has no API for a thread's nice value (a thread's {@code setPriority} is ignored on Linux by default), so this
 * runs {@code renice} once on the thread's own id, read from {@code /proc/thread-self}. Anything missing (not Linux,
 * no {@code renice}, a sandbox) leaves the priority as it is: the thread works the same, only less politely.
 */
public final class BackgroundPriority
{
    /** The nice value given to background threads (0 is normal, 19 the lowest). */
    public static final int NICE = 10;

    private BackgroundPriority()
    {
    }

    /** Lowers the calling thread's priority; returns the thread id it reniced, or -1 when it could not. */
    public static long lowerCurrentThread()
    {
        try
        {
            final Path self = Files.readSymbolicLink(Path.of("/proc/thread-self"));
            final long tid = Long.parseLong(self.getFileName().toString());
            final Process renice = new ProcessBuilder("renice", "-n", Integer.toString(NICE), "-p", Long.toString(tid))
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (!renice.waitFor(5, TimeUnit.SECONDS))
            {
                renice.destroyForcibly();
                return -1;
            }
            return renice.exitValue() == 0 ? tid : -1;
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

    /** The nice value of a thread of this process, from {@code /proc}; for tests and diagnostics. */
    public static int niceOf(final long tid) throws IOException
    {
        final String stat = Files.readString(Path.of("/proc/self/task/" + tid + "/stat"));
        // Fields after the command name (which may hold spaces, inside parentheses): nice is field 19 overall.
        final String[] after = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Integer.parseInt(after[16]);
    }
}
