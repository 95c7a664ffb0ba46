package io.centrigate.cli.check;

import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Reads {@link Limits} from a Linux machine: {@code /proc/self/limits}, {@code /proc/sys/...},
 * {@code /proc/meminfo}, and the running JVM. A value that cannot be read is {@link Limits#UNKNOWN}; the
 * conntrack limit is {@link Limits#ABSENT} when its file does not exist (module not loaded).
 *
 * <p>Files are read as streams to their end: /proc files report size 0, and size-based reads such as
 * {@code Files.readString} can come back short.
 */
public final class MachineLimits
{
    private static final String DIRECT_FLAG = "-XX:MaxDirectMemorySize=";

    private MachineLimits()
    {
    }

    /** This machine and this JVM. */
    public static Limits read()
    {
        return read(Path.of("/proc"), Runtime.getRuntime().maxMemory(),
            ManagementFactory.getRuntimeMXBean().getInputArguments());
    }

    /** The /proc tree under {@code proc} (a copy in tests), with the given JVM figures. */
    static Limits read(final Path proc, final long maxHeap, final List<String> jvmFlags)
    {
        final long[] nofile = nofile(proc.resolve("self/limits"));
        final long[] ports = numbers(proc.resolve("sys/net/ipv4/ip_local_port_range"), 2);
        final Path conntrack = proc.resolve("sys/net/netfilter/nf_conntrack_max");
        return new Limits(
            nofile[0], nofile[1],
            sysctl(proc, "fs.file-max"),
            sysctl(proc, "fs.nr_open"),
            sysctl(proc, "net.core.somaxconn"),
            sysctl(proc, "net.ipv4.tcp_max_syn_backlog"),
            ports[0], ports[1],
            sysctl(proc, "net.ipv4.tcp_tw_reuse"),
            Files.exists(conntrack) ? numbers(conntrack, 1)[0] : Limits.ABSENT,
            memAvailable(proc.resolve("meminfo")),
            maxHeap,
            maxDirect(jvmFlags),
            jvmFlags);
    }

    /** The value of {@code -XX:MaxDirectMemorySize} (the last one wins, as in the JVM), else ABSENT. */
    static long maxDirect(final List<String> jvmFlags)
    {
        long value = Limits.ABSENT;
        for (final String flag : jvmFlags)
        {
            if (flag.startsWith(DIRECT_FLAG))
            {
                try
                {
                    value = ByteSize.parse(flag.substring(DIRECT_FLAG.length()));
                }
                catch (final IllegalArgumentException e)
                {
                    value = Limits.UNKNOWN;
                }
            }
        }
        return value;
    }

    private static long sysctl(final Path proc, final String key)
    {
        return numbers(proc.resolve("sys/" + key.replace('.', '/')), 1)[0];
    }

    /** Soft and hard limit from the "Max open files" line of /proc/self/limits. */
    private static long[] nofile(final Path limits)
    {
        final String text = slurp(limits);
        if (text != null)
        {
            for (final String line : text.split("\n"))
            {
                if (line.startsWith("Max open files"))
                {
                    final String[] f = line.substring("Max open files".length()).trim().split("\\s+");
                    if (f.length >= 2)
                    {
                        return new long[] {number(f[0]), number(f[1])};
                    }
                }
            }
        }
        return new long[] {Limits.UNKNOWN, Limits.UNKNOWN};
    }

    private static long memAvailable(final Path meminfo)
    {
        final String text = slurp(meminfo);
        if (text != null)
        {
            for (final String line : text.split("\n"))
            {
                // "MemAvailable:   23738296 kB"
                if (line.startsWith("MemAvailable:"))
                {
                    final String[] f = line.substring("MemAvailable:".length()).trim().split("\\s+");
                    final long kib = number(f[0]);
                    return kib < 0 ? Limits.UNKNOWN : f.length > 1 && "kB".equals(f[1]) ? kib * 1024 : kib;
                }
            }
        }
        return Limits.UNKNOWN;
    }

    /** The first {@code n} whitespace-separated numbers of a file; UNKNOWN for each one missing. */
    private static long[] numbers(final Path file, final int n)
    {
        final long[] values = new long[n];
        java.util.Arrays.fill(values, Limits.UNKNOWN);
        final String text = slurp(file);
        if (text != null)
        {
            final String[] f = text.trim().split("\\s+");
            for (int i = 0; i < n && i < f.length; i++)
            {
                values[i] = number(f[i]);
            }
        }
        return values;
    }

    /** A decimal count, "unlimited" or one too large for a long (fs.file-max can be 2^63-1 or more) as UNLIMITED. */
    private static long number(final String s)
    {
        if ("unlimited".equals(s))
        {
            return Limits.UNLIMITED;
        }
        if (s.isEmpty() || !s.chars().allMatch(c -> c >= '0' && c <= '9'))
        {
            return Limits.UNKNOWN;
        }
        try
        {
            return Long.parseLong(s);
        }
        catch (final NumberFormatException tooLarge)
        {
            return Limits.UNLIMITED;
        }
    }

    private static String slurp(final Path file)
    {
        try (InputStream in = Files.newInputStream(file))
        {
            return new String(in.readAllBytes(), StandardCharsets.US_ASCII);
        }
        catch (final IOException | SecurityException e)
        {
            return null; // missing (not Linux, module not loaded) or hidden (a container's masked /proc)
        }
    }
}
