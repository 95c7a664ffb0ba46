package io.centrigate.cli.check;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;

import io.centrigate.config.ProxyContext;

/** Each rule against limits given as data, at its PASS/WARN/FAIL boundaries. */
class ChecksTest
{
    /** 1,000 connections: 2,064 descriptors, 2,000 conntrack entries, 3.9 MiB of idle tunnels. */
    private static final Target THOUSAND = new Target(1000, 4096, 1, 256L << 20);
    private static final long NEEDED = 2 * 1000 + ProxyContext.DESCRIPTOR_MARGIN;

    private static void assertFinding(final Finding f, final Status status, final String... inFix)
    {
        assertEquals(status, f.status(), f.toString());
        for (final String s : inFix)
        {
            assertTrue(f.fix() != null && f.fix().contains(s), "'" + s + "' in the fix of " + f);
        }
    }

    @Test
    void softOpenFileLimitPassesAtTwoPerConnectionPlusMargin()
    {
        final TestLimits l = new TestLimits();
        l.nofileSoft = NEEDED;
        assertFinding(Checks.nofileSoft(l.build(), THOUSAND), Status.PASS);
        l.nofileSoft = Limits.UNLIMITED;
        assertFinding(Checks.nofileSoft(l.build(), THOUSAND), Status.PASS);
    }

    @Test
    void softOpenFileLimitBelowNeedFailsWhenTheHardLimitIsBelowToo()
    {
        final TestLimits l = new TestLimits();
        l.nofileSoft = NEEDED - 1;
        l.nofileHard = NEEDED - 1;
        assertFinding(Checks.nofileSoft(l.build(), THOUSAND), Status.FAIL, "LimitNOFILE=1048576", "ulimit -n " + NEEDED);
    }

    @Test
    void softOpenFileLimitBelowNeedOnlyWarnsWhenTheHardLimitAllowsIt()
    {
        final TestLimits l = new TestLimits();
        l.nofileSoft = NEEDED - 1;
        l.nofileHard = NEEDED;
        final Finding f = Checks.nofileSoft(l.build(), THOUSAND);
        assertFinding(f, Status.WARN, "ulimit -n " + NEEDED);
        assertTrue(f.detail().contains("MaxFDLimit"), f.detail());
    }

    @Test
    void unreadableOpenFileLimitsWarn()
    {
        final TestLimits l = new TestLimits();
        l.nofileSoft = Limits.UNKNOWN;
        l.nofileHard = Limits.UNKNOWN;
        assertFinding(Checks.nofileSoft(l.build(), THOUSAND), Status.WARN, "ulimit -Sn");
        assertFinding(Checks.nofileHard(l.build(), THOUSAND), Status.WARN, "ulimit -Hn");
    }

    @Test
    void hardOpenFileLimitBelowNeedFails()
    {
        final TestLimits l = new TestLimits();
        l.nofileHard = NEEDED;
        assertFinding(Checks.nofileHard(l.build(), THOUSAND), Status.PASS);
        l.nofileHard = NEEDED - 1;
        assertFinding(Checks.nofileHard(l.build(), THOUSAND), Status.FAIL, "LimitNOFILE=1048576", "/etc/security/limits.conf");
    }

    @Test
    void openFileFixesRecommendWhatTheTargetNeedsWhenAboveTheShippedLimit()
    {
        final TestLimits l = new TestLimits();
        l.nofileHard = 1000;
        l.nofileSoft = 1000;
        final Target million = Target.of(1_000_000);
        assertFinding(Checks.nofileHard(l.build(), million), Status.FAIL, "LimitNOFILE=2000064");
        assertFinding(Checks.nofileSoft(l.build(), million), Status.FAIL, "LimitNOFILE=2000064");
    }

    @Test
    void fileMaxBelowNeedFailsWithTheSysctlToRun()
    {
        final TestLimits l = new TestLimits();
        l.fileMax = NEEDED;
        assertFinding(Checks.fileMax(l.build(), THOUSAND), Status.PASS);
        l.fileMax = NEEDED - 1;
        assertFinding(Checks.fileMax(l.build(), THOUSAND), Status.FAIL,
            "sysctl -w fs.file-max=2097152", "fs.file-max = 2097152 in /etc/sysctl.d/99-centrigate.conf");
        assertFinding(Checks.fileMax(l.build(), Target.of(2_000_000)), Status.FAIL, "sysctl -w fs.file-max=4000064");
        l.fileMax = Limits.UNKNOWN;
        assertFinding(Checks.fileMax(l.build(), THOUSAND), Status.WARN, "sysctl fs.file-max");
    }

    @Test
    void nrOpenBelowNeedFailsAndBelowTheUnitsLimitWarns()
    {
        final TestLimits l = new TestLimits();
        l.nrOpen = NEEDED - 1;
        assertFinding(Checks.nrOpen(l.build(), THOUSAND), Status.FAIL, "sysctl -w fs.nr_open=1048576");
        l.nrOpen = NEEDED;
        assertFinding(Checks.nrOpen(l.build(), THOUSAND), Status.WARN, "sysctl -w fs.nr_open=1048576", "LimitNOFILE=" + NEEDED);
        l.nrOpen = Checks.SHIPPED_LIMIT_NOFILE - 1;
        assertFinding(Checks.nrOpen(l.build(), THOUSAND), Status.WARN);
        l.nrOpen = Checks.SHIPPED_LIMIT_NOFILE;
        assertFinding(Checks.nrOpen(l.build(), THOUSAND), Status.PASS);
    }

    @Test
    void somaxconnBelowTheBacklogWarns()
    {
        final TestLimits l = new TestLimits();
        l.somaxconn = 4096;
        assertFinding(Checks.somaxconn(l.build(), THOUSAND), Status.PASS);
        l.somaxconn = 4095;
        assertFinding(Checks.somaxconn(l.build(), THOUSAND), Status.WARN, "sysctl -w net.core.somaxconn=4096");
        l.somaxconn = 8192;
        final Target bigBacklog = new Target(1000, 16384, 1, 0);
        assertFinding(Checks.somaxconn(l.build(), bigBacklog), Status.WARN, "sysctl -w net.core.somaxconn=16384");
    }

    @Test
    void synBacklogBelowTheBacklogWarns()
    {
        final TestLimits l = new TestLimits();
        l.tcpMaxSynBacklog = 4096;
        assertFinding(Checks.tcpMaxSynBacklog(l.build(), THOUSAND), Status.PASS);
        l.tcpMaxSynBacklog = 2048; // Debian's default
        assertFinding(Checks.tcpMaxSynBacklog(l.build(), THOUSAND), Status.WARN, "sysctl -w net.ipv4.tcp_max_syn_backlog=4096");
        l.tcpMaxSynBacklog = Limits.UNKNOWN;
        assertFinding(Checks.tcpMaxSynBacklog(l.build(), THOUSAND), Status.WARN, "sysctl net.ipv4.tcp_max_syn_backlog");
    }

    @Test
    void portRangePassesWhileItHoldsTheConnectionsOfTheBusiestUpstreamAddress()
    {
        final TestLimits l = new TestLimits();
        l.portRangeLow = 32768; // the kernel default: 28,232 ports
        l.portRangeHigh = 60999;
        assertFinding(Checks.portRange(l.build(), Target.of(28_232)), Status.PASS);
        assertFinding(Checks.portRange(l.build(), new Target(56_464, 4096, 2, 0)), Status.PASS);
        assertFinding(Checks.portRange(l.build(), new Target(56_465, 4096, 2, 0)), Status.FAIL); // 28,233 on one
    }

    @Test
    void portRangeTooSmallButWidenableFailsWithTheSysctl()
    {
        final TestLimits l = new TestLimits();
        l.portRangeLow = 32768;
        l.portRangeHigh = 60999;
        final Finding f = Checks.portRange(l.build(), Target.of(28_233));
        assertFinding(f, Status.FAIL, "sysctl -w net.ipv4.ip_local_port_range=\"1024 65535\"");
        assertFalse(f.fix().contains("spread"), f.fix());
        assertTrue(f.detail().contains("Cannot assign requested address"), f.detail());
    }

    @Test
    void portRangeBeyondAnyRangeSuggestsMoreUpstreamOrSourceAddresses()
    {
        final TestLimits l = new TestLimits();
        assertFinding(Checks.portRange(l.build(), Target.of(64_512)), Status.PASS);
        final Finding f = Checks.portRange(l.build(), Target.of(64_513));
        assertFinding(f, Status.FAIL, "at least 2 upstream address:port pairs", "proxy source addresses");
        assertFinding(Checks.portRange(l.build(), Target.of(200_000)), Status.FAIL, "at least 4 upstream");
        assertFinding(Checks.portRange(l.build(), new Target(65_536, 4096, 2, 0)), Status.PASS);
    }

    @Test
    void sourceAddressesMultiplyThePortsPerNodeOnEpollAndOverAllNodesOnNio()
    {
        final TestLimits l = new TestLimits();
        l.portRangeLow = 32768; // 28,232 ports
        l.portRangeHigh = 60999;
        // 16 addresses (127.0.0.2-127.0.0.17) towards one node: 451,712 tunnels on epoll.
        final Finding epoll = Checks.portRange(l.build(), new Target(451_712, 4096, 1, 0, 16, true));
        assertFinding(epoll, Status.PASS);
        assertTrue(epoll.detail().contains("28232 source ports x 16 source addresses = 451712"), epoll.detail());
        assertFinding(Checks.portRange(l.build(), new Target(451_713, 4096, 1, 0, 16, true)), Status.FAIL,
            "sysctl -w net.ipv4.ip_local_port_range");
        // Two nodes: each has the whole product on epoll...
        assertFinding(Checks.portRange(l.build(), new Target(903_424, 4096, 2, 0, 16, true)), Status.PASS);
        // ...and share it on NIO, whose bind takes a port of the address for every node.
        final Finding nio = Checks.portRange(l.build(), new Target(903_424, 4096, 2, 0, 16, false));
        assertFinding(nio, Status.FAIL, "sysctl -w net.ipv4.ip_local_port_range");
        assertTrue(nio.detail().contains("903424 connections over all upstreams"), nio.detail());
        assertFinding(Checks.portRange(l.build(), new Target(451_712, 4096, 2, 0, 16, false)), Status.PASS);
        // Beyond even the widest range: how many addresses it takes.
        assertFinding(Checks.portRange(l.build(), new Target(2_000_000, 4096, 1, 0, 16, true)), Status.FAIL,
            "use at least 32 source addresses");
        assertFinding(Checks.portRange(l.build(), new Target(2_000_000, 4096, 1, 0, 16, false)), Status.FAIL,
            "use at least 32 source addresses", "--transport epoll");
    }

    @Test
    void twReuseOnlyPassesWhenOnForAllDestinations()
    {
        final TestLimits l = new TestLimits();
        l.tcpTwReuse = 1;
        assertFinding(Checks.tcpTwReuse(l.build()), Status.PASS);
        for (final long mode : new long[] {0, 2, Limits.UNKNOWN})
        {
            l.tcpTwReuse = mode;
            assertFinding(Checks.tcpTwReuse(l.build()), Status.WARN, "sysctl -w net.ipv4.tcp_tw_reuse=1");
        }
    }

    @Test
    void conntrackPassesWhenNotLoadedAndFailsBelowTwoEntriesPerConnection()
    {
        final TestLimits l = new TestLimits();
        l.conntrackMax = Limits.ABSENT;
        assertFinding(Checks.conntrack(l.build(), THOUSAND), Status.PASS);
        l.conntrackMax = 2000;
        assertFinding(Checks.conntrack(l.build(), THOUSAND), Status.PASS);
        l.conntrackMax = 1999;
        assertFinding(Checks.conntrack(l.build(), THOUSAND), Status.FAIL, "sysctl -w net.netfilter.nf_conntrack_max=262144");
        assertFinding(Checks.conntrack(l.build(), Target.of(1_000_000)), Status.FAIL, "nf_conntrack_max=2000000");
        l.conntrackMax = Limits.UNKNOWN;
        assertFinding(Checks.conntrack(l.build(), THOUSAND), Status.WARN);
    }

    @Test
    void memoryEstimateIsIdleTunnelsPlusBufferMemoryAgainstMemAvailable()
    {
        final Target t = new Target(1000, 4096, 1, 1_000_000);
        final long total = 1000 * Checks.BYTES_PER_IDLE_TUNNEL + 1_000_000;
        final TestLimits l = new TestLimits();
        l.memAvailable = total / 3 * 4 + 4; // total <= 3/4 of it
        assertFinding(Checks.memory(l.build(), t), Status.PASS);
        l.memAvailable = total;
        assertFinding(Checks.memory(l.build(), t), Status.WARN, "--buffer-memory");
        l.memAvailable = total - 1;
        assertFinding(Checks.memory(l.build(), t), Status.FAIL, "add memory");
        l.memAvailable = Limits.UNKNOWN;
        assertFinding(Checks.memory(l.build(), t), Status.WARN, "MemAvailable");
        assertTrue(Checks.memory(new TestLimits().build(), Target.of(65_536)).detail()
            .contains("65536 idle tunnels x 3584 B (measured per idle tunnel) = 224 MiB + 256 MiB buffer memory = 480 MiB of 16 GiB"));
    }

    @Test
    void heapBelowTheIdleTunnelEstimateWarns()
    {
        final TestLimits l = new TestLimits();
        l.maxHeap = 65_536 * Checks.BYTES_PER_IDLE_TUNNEL;
        assertFinding(Checks.heap(l.build(), Target.of(65_536)), Status.PASS);
        l.maxHeap--;
        assertFinding(Checks.heap(l.build(), Target.of(65_536)), Status.WARN, "-Xmx512m");
        assertFinding(Checks.heap(l.build(), Target.of(1_000_000)), Status.WARN, "-Xmx6836m");
    }

    @Test
    void directMemoryMustHoldTheBufferMemoryAndDefaultsToTheHeap()
    {
        final TestLimits l = new TestLimits();
        final Target t = Target.of(1000);
        l.maxDirect = ProxyContext.DEFAULT_BUFFER_MEMORY;
        assertFinding(Checks.directMemory(l.build(), t), Status.PASS);
        l.maxDirect = ProxyContext.DEFAULT_BUFFER_MEMORY - 1;
        assertFinding(Checks.directMemory(l.build(), t), Status.FAIL, "-XX:MaxDirectMemorySize=512m");
        l.maxDirect = Limits.ABSENT;
        l.maxHeap = 128L << 20;
        final Finding f = Checks.directMemory(l.build(), t);
        assertFinding(f, Status.FAIL, "-XX:MaxDirectMemorySize=512m");
        assertTrue(f.detail().contains("not set"), f.detail());
        assertFinding(Checks.directMemory(l.build(), new Target(1000, 4096, 1, 1L << 30)), Status.FAIL,
            "-XX:MaxDirectMemorySize=2g");
        l.maxDirect = Limits.UNKNOWN;
        assertFinding(Checks.directMemory(l.build(), t), Status.WARN, "-XX:MaxDirectMemorySize=512m");
    }

    @Test
    void jvmFlagsAreListedOnOneLine()
    {
        final TestLimits l = new TestLimits();
        l.jvmFlags = List.of("-Xmx1g", "-Xlog:gc:file=/tmp/gc.log", "-Dodd=a\nb");
        final Finding f = Checks.jvmFlags(l.build());
        assertEquals(Status.PASS, f.status());
        assertEquals("-Xmx1g -Xlog:gc:file=/tmp/gc.log -Dodd=a b", f.detail());
        l.jvmFlags = List.of();
        assertEquals("none (JVM defaults)", Checks.jvmFlags(l.build()).detail());
    }

    @Test
    void evaluatesEveryCheckInOrderAndGenerousLimitsAllPass()
    {
        final List<Finding> findings = Checks.evaluate(new TestLimits().build(), Target.of(1000));
        assertEquals(List.of("RLIMIT_NOFILE soft", "RLIMIT_NOFILE hard", "fs.file-max", "fs.nr_open", "net.core.somaxconn",
                "net.ipv4.tcp_max_syn_backlog", "net.ipv4.ip_local_port_range", "net.ipv4.tcp_tw_reuse",
                "net.netfilter.nf_conntrack_max", "memory", "jvm heap", "jvm direct memory", "jvm flags", "transports"),
            findings.stream().map(Finding::check).toList());
        assertTrue(findings.stream().allMatch(f -> f.status() == Status.PASS), findings.toString());
        assertEquals(0, Checks.exitCode(findings));
    }

    @Test
    void exitCodeIsTheWorstStatus()
    {
        final Finding pass = new Finding("a", Status.PASS, "ok", null);
        final Finding warn = new Finding("b", Status.WARN, "hm", "do x");
        final Finding fail = new Finding("c", Status.FAIL, "no", "do y");
        assertEquals(0, Checks.exitCode(List.of()));
        assertEquals(0, Checks.exitCode(List.of(pass, pass)));
        assertEquals(1, Checks.exitCode(List.of(pass, warn, pass)));
        assertEquals(2, Checks.exitCode(List.of(fail, warn, pass)));
        assertEquals(2, Checks.exitCode(List.of(pass, fail)));
    }

    @Test
    void aFixIsGivenExactlyWhenNotPassing()
    {
        assertThrows(IllegalArgumentException.class, () -> new Finding("a", Status.PASS, "ok", "fix"));
        assertThrows(IllegalArgumentException.class, () -> new Finding("a", Status.WARN, "hm", null));
        assertThrows(IllegalArgumentException.class, () -> new Finding("a", Status.FAIL, "no", ""));
        assertThrows(IllegalArgumentException.class, () -> new Finding("a:b", Status.PASS, "ok", null));
        assertNull(new Finding("a", Status.PASS, "ok", null).fix());
    }

    @Test
    void sizesReadForHumansAndForJvmFlags()
    {
        assertEquals("512 B", Checks.size(512));
        assertEquals("256 MiB", Checks.size(256L << 20));
        assertEquals("1.5 GiB", Checks.size(3L << 29));
        assertEquals("512m", Checks.jvmSize(512L << 20));
        assertEquals("2g", Checks.jvmSize(2L << 30));
        assertEquals("1m", Checks.jvmSize(1));
    }
}
