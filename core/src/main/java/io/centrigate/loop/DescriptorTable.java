package io.centrigate.loop;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import io.centrigate.nativeio.NativeIo;

/**
 * Grows this process's file-descriptor table once, before clients come, to the size the connection limit needs.
 * <p>
 * Linux grows the table by doubling when a descriptor past its end is allocated, and in a process with more than
 * one thread (every JVM) the thread that grows it first waits for an RCU grace period ({@code fs/file.c},
 * {@code expand_fdtable}: {@code synchronize_rcu}), while every other thread that allocates a descriptor waits
 * for it. On the 2-core bench box that blocked the loop of a freshly started proxy 5 to 18 ms at each doubling
 * (512, 1,024 ... 16,384 descriptors) of a reconnect storm, and those stalls were its cold connect+upgrade p99
 * (bench/results/2026-12-08-cold-fdtable). Nginx's workers have one thread each and never wait. The table never
 * shrinks, so growing it once at start pays the waits before the listeners open.
 */
public final class DescriptorTable
{
    /**
     * Without the native part the table is grown by opening descriptors on /dev/null and closing them again: at
     * most this many (about a second and tens of MB of short-lived heap at the top); beyond it the table grows on
     * demand as before.
     */
    public static final int PORTABLE_MAX = 1 << 17;

    private static int reserved;

    private DescriptorTable()
    {
    }

    /**
     * Makes the table hold at least {@code slots} descriptors (at most the open-files limit allows). Once per
     * size per process: later calls for as many or fewer return at once.
     *
     * @return the slots now known to be in the table; 0 when nothing could be done (not Linux).
     */
    public static synchronized int reserve(final int slots)
    {
        if (slots <= reserved)
        {
            return reserved;
        }
        // One descriptor at slots - 1 sizes the table for all below it.
        if (NativeIo.isSupported() && NativeIo.growDescriptorTable(slots))
        {
            reserved = slots;
            return reserved;
        }
        final int open = openDescriptors();
        if (open < 0)
        {
            return 0;
        }
        final int target = Math.min(slots, PORTABLE_MAX);
        final List<FileChannel> held = new ArrayList<>(Math.max(0, target - open));
        final Path devNull = Path.of("/dev/null");
        int reached = open;
        try
        {
            // New descriptors take the lowest free numbers, so the last one opened is near target - 1; two more
            // because the count above included the directory stream that read it.
            for (int i = open; i < target + 2; i++)
            {
                held.add(FileChannel.open(devNull, StandardOpenOption.READ));
                reached = Math.min(target, i + 1);
            }
        }
        catch (final IOException | RuntimeException e)
        {
            // EMFILE below the limit we were told: keep what was reached.
        }
        finally
        {
            for (final FileChannel ch : held)
            {
                try
                {
                    ch.close();
                }
                catch (final IOException ignore)
                {
                    // /dev/null: nothing to flush
                }
            }
        }
        reserved = Math.max(reserved, reached);
        return reserved;
    }

    /** How many descriptors this process has open now, or -1 without /proc (not Linux). */
    static int openDescriptors()
    {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd")))
        {
            return (int)fds.count();
        }
        catch (final IOException | RuntimeException e)
        {
            return -1;
        }
    }

    /** The size of this process's descriptor table now ({@code FDSize} in /proc/self/status), or -1. */
    public static int currentSize()
    {
        try
        {
            for (final String line : Files.readAllLines(Path.of("/proc/self/status")))
            {
                if (line.startsWith("FDSize:"))
                {
                    return Integer.parseInt(line.substring("FDSize:".length()).trim());
                }
            }
        }
        catch (final IOException | RuntimeException ignore)
        {
            // not Linux
        }
        return -1;
    }
}
