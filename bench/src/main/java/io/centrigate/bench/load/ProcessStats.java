package io.centrigate.bench.load;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * CPU time and resident memory of other processes, read from {@code /proc} (Linux). CPU is utime + stime of
 * {@code /proc/PID/stat} (fields 14 and 15, in clock ticks, all threads included); RSS is {@code VmRSS} of
 * {@code /proc/PID/status}. Several pids (Nginx's master and workers) are summed.
 */
final class ProcessStats
{
    private ProcessStats()
    {
    }

    static long[] parsePids(final String csv)
    {
        if (csv == null || csv.isBlank())
        {
            return new long[0];
        }
        final String[] parts = csv.split(",");
        final long[] pids = new long[parts.length];
        for (int i = 0; i < parts.length; i++)
        {
            pids[i] = Long.parseLong(parts[i].trim());
        }
        return pids;
    }

    /** Summed utime + stime in clock ticks, or -1 when no pid is given. */
    static long cpuTicks(final long[] pids)
    {
        if (pids.length == 0)
        {
            return -1;
        }
        long sum = 0;
        for (final long pid : pids)
        {
            try
            {
                final String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
                // the command name (field 2) may hold spaces: fields are counted after its closing parenthesis
                final String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                sum += Long.parseLong(f[11]) + Long.parseLong(f[12]);
            }
            catch (final IOException | RuntimeException e)
            {
                // a process that is gone adds nothing
            }
        }
        return sum;
    }

    /** Summed VmRSS in KiB, or -1 when no pid is given. */
    static long rssKb(final long[] pids)
    {
        if (pids.length == 0)
        {
            return -1;
        }
        long sum = 0;
        for (final long pid : pids)
        {
            try
            {
                for (final String line : Files.readAllLines(Path.of("/proc/" + pid + "/status")))
                {
                    if (line.startsWith("VmRSS:"))
                    {
                        sum += Long.parseLong(line.substring(6).trim().split("\\s+")[0]);
                    }
                }
            }
            catch (final IOException | RuntimeException e)
            {
                // gone
            }
        }
        return sum;
    }

    /** Busy ticks of the whole machine, all CPUs (the {@code cpu} line of /proc/stat less idle and iowait). */
    static long machineBusyTicks()
    {
        try
        {
            final String line = Files.readAllLines(Path.of("/proc/stat")).get(0);
            final String[] f = line.trim().split("\\s+");
            long total = 0;
            for (int i = 1; i <= Math.min(8, f.length - 1); i++)
            {
                total += Long.parseLong(f[i]);
            }
            return total - Long.parseLong(f[4]) - Long.parseLong(f[5]);
        }
        catch (final IOException | RuntimeException e)
        {
            return -1;
        }
    }

    static long selfCpuTicks()
    {
        return cpuTicks(new long[] {ProcessHandle.current().pid()});
    }
}
