package io.centrigate.cli.check;

import java.util.List;

/**
 * Everything the checks look at, as plain values: read from /proc and the running JVM by {@link MachineLimits},
 * or written down in a test. {@link #UNKNOWN} marks a value that could not be read; {@link #UNLIMITED} an
 * {@code unlimited} resource limit.
 *
 * @param nofileSoft       RLIMIT_NOFILE soft limit of this process ({@code /proc/self/limits})
 * @param nofileHard       RLIMIT_NOFILE hard limit
 * @param fileMax          {@code fs.file-max}: open files of the whole system
 * @param nrOpen           {@code fs.nr_open}: the highest RLIMIT_NOFILE a process may be given
 * @param somaxconn        {@code net.core.somaxconn}: the kernel's cap on any listen backlog
 * @param tcpMaxSynBacklog {@code net.ipv4.tcp_max_syn_backlog}: half-open connections per listener
 * @param portRangeLow     {@code net.ipv4.ip_local_port_range}, first port
 * @param portRangeHigh    {@code net.ipv4.ip_local_port_range}, last port
 * @param tcpTwReuse       {@code net.ipv4.tcp_tw_reuse}: 0 off, 1 on, 2 loopback only
 * @param conntrackMax     {@code net.netfilter.nf_conntrack_max}; {@link #ABSENT} when nf_conntrack is not loaded
 * @param memAvailable     {@code MemAvailable} of {@code /proc/meminfo}, in bytes
 * @param maxHeap          the JVM's maximum heap ({@code Runtime.maxMemory()}), in bytes
 * @param maxDirect        {@code -XX:MaxDirectMemorySize} in bytes; {@link #ABSENT} when not given (the JVM then
 *                         allows as much direct memory as {@code maxHeap})
 * @param jvmFlags         the JVM's input arguments
 */
public record Limits(
    long nofileSoft, long nofileHard, long fileMax, long nrOpen,
    long somaxconn, long tcpMaxSynBacklog, long portRangeLow, long portRangeHigh, long tcpTwReuse,
    long conntrackMax, long memAvailable, long maxHeap, long maxDirect, List<String> jvmFlags)
{
    public static final long UNKNOWN = -1;
    public static final long ABSENT = -2;
    public static final long UNLIMITED = Long.MAX_VALUE;

    public Limits
    {
        jvmFlags = List.copyOf(jvmFlags);
    }

    /** The direct memory the JVM allows: the flag, else (JDK default) the maximum heap. */
    public long effectiveMaxDirect()
    {
        return maxDirect == ABSENT ? maxHeap : maxDirect;
    }
}
