package io.centrigate.proxy;

import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.TimeUnit;

import io.centrigate.loop.Connection;
import io.centrigate.loop.EventLoop;
import io.centrigate.loop.NoSocketException;
import io.centrigate.loop.SourceBindException;
import io.centrigate.metrics.ErrorLog;
import io.centrigate.metrics.LoopStats;

/**
 * One loop's turn over {@code --upstream-source}: each upstream connect binds to the next source address, so one
 * box holds more tunnels to a node address:port than one source address's ephemeral ports allow. Loop-confined: an
 * index and an array of marks, no locks.
 * <p>
 * A source address that cannot be bound (not on this machine, no port left) is skipped for {@link #RETRY_NS}, then
 * tried again; each failure is counted, and logged at most once per interval and address. When every address is
 * marked the next one is tried anyway (a mark may be stale); if that fails too the connect fails as
 * {@link NoSocketException} does: our own limit, so the node is neither retried against nor marked.
 * <p>
 * Health checks connect without a source address: they judge the node, and a broken source address must not take
 * a good node down; they are a handful of sockets, so they need no share of the source ports.
 */
final class UpstreamSources
{
    static final long RETRY_NS = TimeUnit.SECONDS.toNanos(10);

    private final EventLoop loop;
    private final LoopStats stats;
    private final ErrorLog errorLog;
    private final InetSocketAddress[] sources;
    /** The error log kind of each address, made once: a failure logs without building its key. */
    private final String[] logKinds;
    private final boolean ipv6;
    private final long[] failedUntilNs;
    private int next;

    UpstreamSources(final EventLoop loop, final LoopStats stats, final ErrorLog errorLog,
        final List<InetAddress> addresses, final int loopIndex)
    {
        this.loop = loop;
        this.stats = stats;
        this.errorLog = errorLog;
        final int n = addresses.size();
        sources = new InetSocketAddress[n];
        logKinds = new String[n];
        for (int i = 0; i < n; i++)
        {
            sources[i] = new InetSocketAddress(addresses.get(i), 0);
            logKinds[i] = "upstream-source " + addresses.get(i).getHostAddress();
        }
        ipv6 = n > 0 && addresses.get(0) instanceof Inet6Address;
        failedUntilNs = new long[n];
        // Loops start at different places, so a burst spread over loops does not begin on one address everywhere.
        next = n == 0 ? 0 : loopIndex % n;
    }

    int size()
    {
        return sources.length;
    }

    /**
     * Starts a connect to {@code remote} from the next usable source address; without source addresses, or for a
     * node of the other address family, as the poller does by itself.
     */
    Connection connect(final InetSocketAddress remote, final Connection.Handler handler) throws IOException
    {
        final int n = sources.length;
        if (n == 0 || (remote.getAddress() instanceof Inet6Address) != ipv6)
        {
            return loop.poller().connect(remote, null, handler);
        }
        final long nowNs = loop.nowNs();
        SourceBindException last = null;
        for (int k = 0; k < n; k++)
        {
            final int i = advance();
            final long until = failedUntilNs[i];
            if (until != 0 && nowNs - until < 0)
            {
                continue;
            }
            try
            {
                return connectFrom(i, remote, handler);
            }
            catch (final SourceBindException e)
            {
                failed(i, nowNs, e);
                last = e;
            }
        }
        if (last == null)
        {
            // Every address was marked before this connect: one try anyway, a mark may be older than its cause.
            final int i = advance();
            try
            {
                return connectFrom(i, remote, handler);
            }
            catch (final SourceBindException e)
            {
                failed(i, nowNs, e);
                last = e;
            }
        }
        throw new NoSocketException("no upstream source address could be bound (last: " + last.getMessage() + ")",
            last);
    }

    private Connection connectFrom(final int i, final InetSocketAddress remote, final Connection.Handler handler)
        throws IOException
    {
        final Connection c = loop.poller().connect(remote, sources[i], handler);
        failedUntilNs[i] = 0;
        return c;
    }

    private int advance()
    {
        final int i = next;
        next = i + 1 == sources.length ? 0 : i + 1;
        return i;
    }

    private void failed(final int i, final long nowNs, final SourceBindException e)
    {
        failedUntilNs[i] = nowNs + RETRY_NS;
        if (failedUntilNs[i] == 0)
        {
            failedUntilNs[i] = 1;
        }
        stats.upstreamSourceBindFailures++;
        errorLog.log(logKinds[i], "cannot bind an upstream connect to " + e.getMessage() + "; address skipped for " +
            TimeUnit.NANOSECONDS.toSeconds(RETRY_NS) + "s");
    }
}
