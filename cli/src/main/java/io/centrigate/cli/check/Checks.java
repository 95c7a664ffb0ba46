package io.centrigate.cli.check;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import io.centrigate.config.ProxyContext;

/**
 * The rules of {@code centrigate check}: pure functions from {@link Limits} and a {@link Target} to findings, one
 * per check, in a fixed order. Nothing here reads the machine, so {@code run} can apply the same rules at start
 * and tests can give limits as data.
 *
 * <p>The values a fix recommends are the larger of what the target needs and what {@code systemd/} ships
 * ({@code centrigate.service} and {@code 99-centrigate.conf}), so following a fix and installing the shipped files
 * never disagree; {@code ShippedFilesTest} keeps the constants below and those files in step.
 */
public final class Checks
{
    /**
     * Bytes of process RSS one idle WebSocket tunnel costs: 3,291 B measured with 9,000 idle tunnels (median of 3,
     * bench/results/2026-11-26/results.md, "hold"), rounded up to leave room for heap growth between collections.
     * An idle tunnel holds no buffer chunk, so this excludes {@code --buffer-memory}; kernel socket memory is not
     * in RSS and is not counted here.
     */
    public static final long BYTES_PER_IDLE_TUNNEL = 3584;
    /** {@code LimitNOFILE=} of {@code systemd/centrigate.service}. */
    public static final long SHIPPED_LIMIT_NOFILE = 1_048_576;
    /** {@code fs.nr_open} of the sysctl drop-in (also the kernel default): must be at least LimitNOFILE. */
    public static final long SHIPPED_NR_OPEN = 1_048_576;
    /** {@code fs.file-max} of the sysctl drop-in. */
    public static final long SHIPPED_FILE_MAX = 2_097_152;
    /** {@code net.core.somaxconn} and {@code net.ipv4.tcp_max_syn_backlog} of the sysctl drop-in. */
    public static final long SHIPPED_BACKLOG = 4096;
    /** {@code net.ipv4.ip_local_port_range} of the sysctl drop-in: every unprivileged port. */
    public static final int SHIPPED_PORT_LOW = 1024;
    public static final int SHIPPED_PORT_HIGH = 65535;
    /** {@code net.netfilter.nf_conntrack_max} of the sysctl drop-in (commented there: only if the module is loaded). */
    public static final long SHIPPED_CONNTRACK_MAX = 262_144;
    /** {@code -XX:MaxDirectMemorySize} of the shipped unit, for the default {@code --buffer-memory} of 256m. */
    public static final long SHIPPED_MAX_DIRECT = 512L << 20;

    static final String SYSCTL_DROP_IN = "/etc/sysctl.d/99-centrigate.conf";
    private static final long MIB = 1L << 20;

    private Checks()
    {
    }

    /** Every check, in the order they are printed. */
    public static List<Finding> evaluate(final Limits limits, final Target target)
    {
        final List<Finding> findings = new ArrayList<>();
        findings.add(nofileSoft(limits, target));
        findings.add(nofileHard(limits, target));
        findings.add(fileMax(limits, target));
        findings.add(nrOpen(limits, target));
        findings.add(somaxconn(limits, target));
        findings.add(tcpMaxSynBacklog(limits, target));
        findings.add(portRange(limits, target));
        findings.add(tcpTwReuse(limits));
        findings.add(conntrack(limits, target));
        findings.add(memory(limits, target));
        findings.add(heap(limits, target));
        findings.add(directMemory(limits, target));
        findings.add(jvmFlags(limits));
        findings.add(transports(io.centrigate.loop.Transports.unavailableReason(io.centrigate.loop.Transports.EPOLL),
            io.centrigate.loop.Transports.unavailableReason(io.centrigate.loop.Transports.IO_URING)));
        return findings;
    }

    /**
     * Which {@code --transport} values run here, and whether WebSocket payloads can be spliced (a native transport
     * only); NIO always runs, so this never warns.
     */
    static Finding transports(final String epollProblem, final String ioUringProblem)
    {
        return Finding.pass("transports", "nio yes; epoll " + (epollProblem == null ?
            "yes (--transport epoll or auto)" : "no: " + epollProblem) + "; io_uring " + (ioUringProblem == null ?
            "yes (--transport io_uring)" : "no: " + ioUringProblem) + "; splice " + (epollProblem == null ?
            "yes on epoll and io_uring (--splice-threshold), no on nio" : "no (needs epoll or io_uring; NIO cannot)"));
    }

    /** The process exit code for these findings: 0 all pass, 1 some WARN, 2 some FAIL. */
    public static int exitCode(final List<Finding> findings)
    {
        return findings.stream().map(Finding::status).max(Enum::compareTo).orElse(Status.PASS).exitCode();
    }

    static Finding nofileSoft(final Limits l, final Target t)
    {
        final String name = "RLIMIT_NOFILE soft";
        final long needed = t.descriptors();
        if (l.nofileSoft() == Limits.UNKNOWN)
        {
            return Finding.warn(name, "unknown (no /proc/self/limits)", "check by hand: ulimit -Sn (needs " + needed + ")");
        }
        final String vs = " (2 per connection + " + ProxyContext.DESCRIPTOR_MARGIN + ")";
        if (l.nofileSoft() >= needed)
        {
            return Finding.pass(name, count(l.nofileSoft()) + " >= " + needed + vs);
        }
        if (l.nofileHard() >= needed)
        {
            // HotSpot raises the soft limit to the hard one at start (-XX:+MaxFDLimit, on by default on Linux);
            // a soft limit below the hard one in a JVM means that was switched off or refused.
            return Finding.warn(name, l.nofileSoft() + " < " + needed + vs + "; the hard limit " + count(l.nofileHard())
                    + " allows it, and the JVM raises soft to hard at start unless -XX:-MaxFDLimit",
                "ulimit -n " + needed + " before starting, or LimitNOFILE=" + nofileToSet(t) + " in the systemd unit");
        }
        return Finding.fail(name, l.nofileSoft() + " < " + needed + vs,
            "LimitNOFILE=" + nofileToSet(t) + " in the systemd unit (as systemd/centrigate.service ships), "
                + "or as root: ulimit -n " + needed + " before starting");
    }

    static Finding nofileHard(final Limits l, final Target t)
    {
        final String name = "RLIMIT_NOFILE hard";
        final long needed = t.descriptors();
        if (l.nofileHard() == Limits.UNKNOWN)
        {
            return Finding.warn(name, "unknown (no /proc/self/limits)", "check by hand: ulimit -Hn (needs " + needed + ")");
        }
        if (l.nofileHard() >= needed)
        {
            return Finding.pass(name, count(l.nofileHard()) + " >= " + needed);
        }
        return Finding.fail(name, l.nofileHard() + " < " + needed + ": the soft limit cannot be raised above it",
            "LimitNOFILE=" + nofileToSet(t) + " in the systemd unit, or '<user> hard nofile " + nofileToSet(t)
                + "' in /etc/security/limits.conf (fs.nr_open must be at least as high)");
    }

    static Finding fileMax(final Limits l, final Target t)
    {
        final String name = "fs.file-max";
        final long needed = t.descriptors();
        if (l.fileMax() == Limits.UNKNOWN)
        {
            return unreadable(name, needed);
        }
        if (l.fileMax() >= needed)
        {
            return Finding.pass(name, count(l.fileMax()) + " >= " + needed + " (open files of the whole system)");
        }
        return Finding.fail(name, l.fileMax() + " < " + needed + ": the system runs out of file handles (ENFILE) first",
            sysctl(name, Math.max(needed, SHIPPED_FILE_MAX)));
    }

    static Finding nrOpen(final Limits l, final Target t)
    {
        final String name = "fs.nr_open";
        final long needed = t.descriptors();
        if (l.nrOpen() == Limits.UNKNOWN)
        {
            return unreadable(name, needed);
        }
        if (l.nrOpen() < needed)
        {
            return Finding.fail(name, l.nrOpen() + " < " + needed + ": no process may have RLIMIT_NOFILE above it",
                sysctl(name, Math.max(needed, SHIPPED_NR_OPEN)));
        }
        if (l.nrOpen() < SHIPPED_LIMIT_NOFILE)
        {
            // systemd cannot apply a LimitNOFILE above fs.nr_open: the service fails to start (205/LIMITS).
            return Finding.warn(name, l.nrOpen() + " >= " + needed + " but < LimitNOFILE=" + SHIPPED_LIMIT_NOFILE
                    + " of systemd/centrigate.service, which would then fail to start",
                sysctl(name, SHIPPED_NR_OPEN) + ", or LimitNOFILE=" + l.nrOpen() + " in the unit");
        }
        return Finding.pass(name, count(l.nrOpen()) + " >= " + needed + " and >= the unit's LimitNOFILE=" + SHIPPED_LIMIT_NOFILE);
    }

    static Finding somaxconn(final Limits l, final Target t)
    {
        return backlogAtLeast("net.core.somaxconn", l.somaxconn(), t,
            "the kernel caps the listen backlog at it, and a reconnect storm overflows the accept queue (SYNs dropped, clients wait 1 s+ to retry)");
    }

    static Finding tcpMaxSynBacklog(final Limits l, final Target t)
    {
        return backlogAtLeast("net.ipv4.tcp_max_syn_backlog", l.tcpMaxSynBacklog(), t,
            "half-open connections beyond it are dropped or fall back to SYN cookies during a reconnect storm");
    }

    private static Finding backlogAtLeast(final String name, final long value, final Target t, final String why)
    {
        if (value == Limits.UNKNOWN)
        {
            return unreadable(name, t.backlog());
        }
        if (value >= t.backlog())
        {
            return Finding.pass(name, value + " >= " + t.backlog() + " (listen backlog)");
        }
        return Finding.warn(name, value + " < " + t.backlog() + " (listen backlog): " + why,
            sysctl(name, Math.max(t.backlog(), SHIPPED_BACKLOG)));
    }

    /**
     * Source ports against the connects to the busiest upstream address:port. Without {@code --upstream-source} the
     * kernel picks the source address and one port range serves each node address:port. With S source addresses,
     * epoll (IP_BIND_ADDRESS_NO_PORT) gives each address the range towards each node: ports x S per node address;
     * NIO binds a port at once, unique for the address over all nodes: ports x S for all connections together.
     */
    static Finding portRange(final Limits l, final Target t)
    {
        final String name = "net.ipv4.ip_local_port_range";
        final long perUpstream = t.connectionsPerUpstream();
        if (l.portRangeLow() == Limits.UNKNOWN || l.portRangeHigh() == Limits.UNKNOWN)
        {
            return unreadable(name, perUpstream);
        }
        final long ports = Math.max(0, l.portRangeHigh() - l.portRangeLow() + 1);
        final int sources = t.sources();
        final boolean shared = sources > 0 && !t.portsPerNode();
        final long need = shared ? t.connections() : perUpstream;
        final String load = shared ?
            t.connections() + " connections over all upstreams (NIO binds each source port for every node)" :
            perUpstream + " connections to each upstream address:port (" + t.connections() + " over "
                + t.upstreams() + ")";
        final String widen = "sysctl -w " + name + "=\"" + SHIPPED_PORT_LOW + " " + SHIPPED_PORT_HIGH + "\" (persist: "
            + name + " = " + SHIPPED_PORT_LOW + " " + SHIPPED_PORT_HIGH + " in " + SYSCTL_DROP_IN + ")";
        final String range = l.portRangeLow() + "-" + l.portRangeHigh();
        final long capacity = ports * Math.max(1, sources);
        final String have = sources == 0 ? ports + " source ports" :
            ports + " source ports x " + sources + " source addresses = " + capacity;
        if (capacity >= need)
        {
            return Finding.pass(name, range + ": " + have + " >= " + load);
        }
        final long widest = SHIPPED_PORT_HIGH - SHIPPED_PORT_LOW + 1;
        final String detail = range + ": " + have + " < " + load
            + "; connects beyond fail with 'Cannot assign requested address'";
        if (widest * Math.max(1, sources) >= need)
        {
            return Finding.fail(name, detail, widen);
        }
        if (shared)
        {
            final long addresses = (need + widest - 1) / widest;
            return Finding.fail(name, detail + "; even " + widest + " ports per source address are too few",
                "use at least " + addresses + " source addresses in --upstream-source (or --transport epoll, which "
                    + "gives each the whole range towards each node), and " + widen);
        }
        // One proxy source address talking to one node address:port is one 4-tuple space: no sysctl makes it
        // larger than the unprivileged ports, so the load must be spread over more address pairs.
        final long pairs = (t.connections() + widest - 1) / widest;
        if (sources > 0)
        {
            final long addresses = (perUpstream + widest - 1) / widest;
            return Finding.fail(name, detail + "; even " + widest + " ports x " + sources + " source addresses are too "
                + "few", "use at least " + addresses + " source addresses in --upstream-source, or spread the load "
                + "over more upstream address:port pairs, and " + widen);
        }
        return Finding.fail(name, detail + "; even " + widest + " ports are too few for one address pair",
            "spread the load over at least " + pairs + " upstream address:port pairs (several nodes, or several "
                + "addresses/ports per node in --upstream) or several proxy source addresses (--upstream-source), and "
                + widen);
    }

    static Finding tcpTwReuse(final Limits l)
    {
        final String name = "net.ipv4.tcp_tw_reuse";
        final String fix = sysctl(name, 1);
        if (l.tcpTwReuse() == Limits.UNKNOWN)
        {
            return Finding.warn(name, "unreadable (not Linux, or /proc/sys hidden)", "check by hand: sysctl " + name + "; then " + fix);
        }
        if (l.tcpTwReuse() == 1)
        {
            return Finding.pass(name, "1: connects to the nodes may reuse source ports in TIME_WAIT");
        }
        final String what = l.tcpTwReuse() == 2 ? "2 (loopback only)" : l.tcpTwReuse() == 0 ? "0 (off)" : l.tcpTwReuse() + " (unknown mode)";
        return Finding.warn(name, what + ": connects to remote nodes cannot reuse source ports held in TIME_WAIT, "
            + "which pile up after a reconnect storm", fix);
    }

    static Finding conntrack(final Limits l, final Target t)
    {
        final String name = "net.netfilter.nf_conntrack_max";
        final long needed = 2 * t.connections();
        if (l.conntrackMax() == Limits.ABSENT)
        {
            return Finding.pass(name, "nf_conntrack not loaded: no connection table to fill");
        }
        if (l.conntrackMax() == Limits.UNKNOWN)
        {
            return unreadable(name, needed);
        }
        if (l.conntrackMax() >= needed)
        {
            return Finding.pass(name, count(l.conntrackMax()) + " >= " + needed + " (client and upstream connection per tunnel)");
        }
        return Finding.fail(name, l.conntrackMax() + " < " + needed + " (client and upstream connection per tunnel): "
            + "a full table drops new connections ('nf_conntrack: table full, dropping packet')",
            sysctl(name, Math.max(needed, SHIPPED_CONNTRACK_MAX)));
    }

    static Finding memory(final Limits l, final Target t)
    {
        final String name = "memory";
        final long tunnels = t.connections() * BYTES_PER_IDLE_TUNNEL;
        final long total = tunnels + t.bufferMemory();
        final String estimate = t.connections() + " idle tunnels x " + BYTES_PER_IDLE_TUNNEL + " B (measured per idle tunnel) = "
            + size(tunnels) + " + " + size(t.bufferMemory()) + " buffer memory = " + size(total);
        if (l.memAvailable() == Limits.UNKNOWN)
        {
            return Finding.warn(name, estimate + "; MemAvailable unknown (no /proc/meminfo)",
                "check by hand: grep MemAvailable /proc/meminfo (needs " + size(total) + ")");
        }
        final String detail = estimate + " of " + size(l.memAvailable()) + " MemAvailable";
        if (total > l.memAvailable())
        {
            return Finding.fail(name, detail, "add memory, or lower --connections / --buffer-memory until "
                + size(total) + " fits");
        }
        if (total > l.memAvailable() / 4 * 3)
        {
            return Finding.warn(name, detail + ": over 3/4 of it, little left for the kernel's socket buffers under load",
                "add memory, or lower --buffer-memory / --connections");
        }
        return Finding.pass(name, detail);
    }

    static Finding heap(final Limits l, final Target t)
    {
        final String name = "jvm heap";
        final long tunnels = t.connections() * BYTES_PER_IDLE_TUNNEL;
        final String detail = "max " + size(l.maxHeap()) + " (this JVM's; run check with the service's JVM options)";
        if (l.maxHeap() >= tunnels)
        {
            return Finding.pass(name, detail + " >= " + size(tunnels) + " estimated for " + t.connections() + " idle tunnels");
        }
        return Finding.warn(name, detail + " < " + size(tunnels) + " estimated for " + t.connections()
            + " idle tunnels: the sessions' state lives on the heap", "-Xmx" + jvmSize(Math.max(2 * tunnels, 512 * MIB)));
    }

    static Finding directMemory(final Limits l, final Target t)
    {
        final String name = "jvm direct memory";
        if (l.maxDirect() == Limits.UNKNOWN)
        {
            return Finding.warn(name, "-XX:MaxDirectMemorySize is set but unreadable",
                "-XX:MaxDirectMemorySize=" + jvmSize(Math.max(2 * t.bufferMemory(), SHIPPED_MAX_DIRECT)));
        }
        final long direct = l.effectiveMaxDirect();
        final String how = l.maxDirect() == Limits.ABSENT ? " (-XX:MaxDirectMemorySize not set: the max heap)" : "";
        if (direct >= t.bufferMemory())
        {
            return Finding.pass(name, "max " + size(direct) + how + " >= " + size(t.bufferMemory()) + " buffer memory");
        }
        return Finding.fail(name, "max " + size(direct) + how + " < " + size(t.bufferMemory())
                + " buffer memory: the chunk pool stops short of it with 'OutOfMemoryError: Direct buffer memory'",
            "-XX:MaxDirectMemorySize=" + jvmSize(Math.max(2 * t.bufferMemory(), SHIPPED_MAX_DIRECT))
                + " (or a lower --buffer-memory)");
    }

    static Finding jvmFlags(final Limits l)
    {
        final String flags = String.join(" ", l.jvmFlags()).replaceAll("[\\r\\n]", " ").trim();
        return Finding.pass("jvm flags", flags.isEmpty() ? "none (JVM defaults)" : flags);
    }

    private static Finding unreadable(final String key, final long needed)
    {
        return Finding.warn(key, "unreadable (not Linux, or /proc/sys hidden)",
            "check by hand: sysctl " + key + " (needs " + needed + ")");
    }

    private static long nofileToSet(final Target t)
    {
        return Math.max(t.descriptors(), SHIPPED_LIMIT_NOFILE);
    }

    /** The exact command, and where to persist it. */
    static String sysctl(final String key, final long value)
    {
        return "sysctl -w " + key + "=" + value + " (persist: " + key + " = " + value + " in " + SYSCTL_DROP_IN + ")";
    }

    private static String count(final long v)
    {
        return v == Limits.UNLIMITED ? "unlimited" : Long.toString(v);
    }

    /** Human-readable binary size: {@code 256 MiB}, {@code 22.6 GiB}. */
    static String size(final long bytes)
    {
        if (bytes < 1024)
        {
            return bytes + " B";
        }
        final String[] units = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
        double v = bytes;
        int u = -1;
        while (v >= 1024 && u < units.length - 1)
        {
            v /= 1024;
            u++;
        }
        return (v == Math.rint(v) ? Long.toString((long)v) : String.format(Locale.ROOT, "%.1f", v)) + " " + units[u];
    }

    /** A size as a JVM flag value, rounded up to whole MiB: {@code 512m}, {@code 2g}. */
    static String jvmSize(final long bytes)
    {
        final long mib = (bytes + MIB - 1) / MIB;
        return mib % 1024 == 0 ? mib / 1024 + "g" : mib + "m";
    }
}
