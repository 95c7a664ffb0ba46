package io.centrigate.cli.check;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Parsing of /proc as the kernel writes it, from a copy of the tree in a temporary directory. */
class MachineLimitsTest
{
    @TempDir
    Path proc;

    private void write(final String file, final String text) throws IOException
    {
        final Path p = proc.resolve(file);
        Files.createDirectories(p.getParent());
        Files.writeString(p, text);
    }

    private void writeSysctls() throws IOException
    {
        write("self/limits", "Limit                     Soft Limit           Hard Limit           Units     \n"
            + "Max cpu time              unlimited            unlimited            seconds   \n"
            + "Max open files            20000                1048576              files     \n"
            + "Max locked memory         8388608              8388608              bytes     \n");
        write("sys/fs/file-max", "9223372036854775807\n");
        write("sys/fs/nr_open", "1048576\n");
        write("sys/net/core/somaxconn", "4096\n");
        write("sys/net/ipv4/tcp_max_syn_backlog", "2048\n");
        write("sys/net/ipv4/ip_local_port_range", "32768\t60999\n");
        write("sys/net/ipv4/tcp_tw_reuse", "2\n");
        write("meminfo", "MemTotal:       32768000 kB\nMemFree:         1000000 kB\nMemAvailable:   23738296 kB\n");
    }

    @Test
    void readsEveryValueAsTheKernelWritesIt() throws IOException
    {
        writeSysctls();
        write("sys/net/netfilter/nf_conntrack_max", "262144\n");
        final Limits l = MachineLimits.read(proc, 1L << 30, List.of("-Xmx1g", "-XX:MaxDirectMemorySize=512m"));
        assertEquals(new Limits(20000, 1048576, 9223372036854775807L, 1048576, 4096, 2048, 32768, 60999, 2, 262144,
            23738296L * 1024, 1L << 30, 512L << 20, List.of("-Xmx1g", "-XX:MaxDirectMemorySize=512m")), l);
    }

    @Test
    void conntrackIsAbsentWhenTheModuleIsNotLoaded() throws IOException
    {
        writeSysctls();
        assertEquals(Limits.ABSENT, MachineLimits.read(proc, 1, List.of()).conntrackMax());
    }

    @Test
    void unlimitedAndTooLargeValuesAreUnlimitedAndMissingOnesUnknown() throws IOException
    {
        write("self/limits", "Max open files            unlimited            unlimited            files\n");
        write("sys/fs/file-max", "18446744073709551615\n");
        final Limits l = MachineLimits.read(proc, 1, List.of());
        assertEquals(Limits.UNLIMITED, l.nofileSoft());
        assertEquals(Limits.UNLIMITED, l.nofileHard());
        assertEquals(Limits.UNLIMITED, l.fileMax());
        assertEquals(Limits.UNKNOWN, l.nrOpen());
        assertEquals(Limits.UNKNOWN, l.portRangeLow());
        assertEquals(Limits.UNKNOWN, l.memAvailable());
    }

    @Test
    void directMemoryFlagIsReadLastOneWinningAndAbsentWithoutIt()
    {
        assertEquals(Limits.ABSENT, MachineLimits.maxDirect(List.of("-Xmx1g")));
        assertEquals(1L << 30, MachineLimits.maxDirect(List.of("-XX:MaxDirectMemorySize=512m", "-XX:MaxDirectMemorySize=1G")));
        assertEquals(Limits.UNKNOWN, MachineLimits.maxDirect(List.of("-XX:MaxDirectMemorySize=lots")));
        assertEquals(5L << 30, new Limits(1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 5L << 30, Limits.ABSENT, List.of()).effectiveMaxDirect());
    }

    @Test
    void readsThisMachine()
    {
        final Limits l = MachineLimits.read();
        assertEquals(Runtime.getRuntime().maxMemory(), l.maxHeap());
    }
}
