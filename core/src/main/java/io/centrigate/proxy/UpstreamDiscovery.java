package io.centrigate.proxy;

import java.io.PrintStream;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;

import io.centrigate.config.ProxyContext;
import io.centrigate.upstream.UpstreamNames;

/**
 * DNS discovery: the upstream names are resolved again every {@code --resolve-interval} on a daemon thread of their
 * own (a lookup blocks, so never on a loop). A changed set rebuilds the groups as a reload does
 * ({@link Proxy#rediscovered}); a lookup that fails keeps the last good set. Each outcome is counted per name, and
 * logged once per change (a new set, a name that stops or starts resolving), not once per round.
 */
final class UpstreamDiscovery implements AutoCloseable
{
    /** Result labels of {@link #counts()}. */
    static final String[] RESULTS = {"ok", "fail"};
    static final int OK = 0;
    static final int FAIL = 1;
    /** How often a resolver whose interval a reload turned to 0 looks whether it came back. */
    private static final long IDLE_NS = TimeUnit.SECONDS.toNanos(1);

    private final Proxy proxy;
    private final PrintStream log;
    private final ConcurrentHashMap<String, AtomicLongArray> counts = new ConcurrentHashMap<>();
    /** The names failing now, with the first failure's text (resolver thread only): logged once until they resolve. */
    private final Map<String, String> failing = new HashMap<>();
    private final CountDownLatch stop = new CountDownLatch(1);
    private Thread thread;

    UpstreamDiscovery(final Proxy proxy, final PrintStream log)
    {
        this.proxy = proxy;
        this.log = log;
    }

    /** Starts the thread once some upstream is a name and the interval is not 0 (at start or after a reload). */
    synchronized void startIfNeeded(final ProxyContext ctx)
    {
        if (thread != null || stop.getCount() == 0 || ctx.resolveIntervalNs() == 0 || UpstreamNames.names(ctx).isEmpty())
        {
            return;
        }
        thread = new Thread(this::run, "centrigate-resolver");
        thread.setDaemon(true);
        thread.start();
    }

    private void run()
    {
        try
        {
            while (true)
            {
                final long interval = proxy.context().resolveIntervalNs();
                if (stop.await(interval > 0 ? interval : IDLE_NS, TimeUnit.NANOSECONDS))
                {
                    return;
                }
                if (proxy.context().resolveIntervalNs() > 0)
                {
                    round();
                }
            }
        }
        catch (final InterruptedException e)
        {
            Thread.currentThread().interrupt();
        }
        catch (final RuntimeException e)
        {
            log("resolver", "stopped: " + e); // a bug, not a DNS failure: say so rather than die silently
        }
    }

    /** One lookup of every name; the groups are rebuilt once if any set changed. */
    void round()
    {
        final Map<String, List<InetAddress>> last = proxy.resolvedNames();
        final Map<String, List<InetAddress>> changed = new HashMap<>();
        for (final String name : UpstreamNames.names(proxy.context()))
        {
            final AtomicLongArray c = counts.computeIfAbsent(name, n -> new AtomicLongArray(RESULTS.length));
            try
            {
                final List<InetAddress> now = UpstreamNames.resolve(name);
                c.incrementAndGet(OK);
                if (failing.remove(name) != null)
                {
                    log("resolve", name + " resolves again");
                }
                final List<InetAddress> before = last.get(name);
                if (!now.equals(before))
                {
                    changed.put(name, now);
                    log("resolve", name + " now resolves to " + text(now) + " (was " + (before == null ? "-" : text(before)) + ")");
                }
            }
            catch (final UnknownHostException | SecurityException e)
            {
                c.incrementAndGet(FAIL);
                final String why = String.valueOf(e.getMessage());
                // Once when it starts failing: the JDK words the same failure differently (a cached negative answer).
                if (failing.put(name, why) == null)
                {
                    final List<InetAddress> kept = last.get(name);
                    log("resolve", name + " does not resolve (" + why + "); keeping " + (kept == null ? "-" : text(kept)));
                }
            }
        }
        if (!changed.isEmpty())
        {
            proxy.rediscovered(changed);
        }
    }

    /** Lookups per name so far, by {@link #RESULTS}. */
    Map<String, long[]> counts()
    {
        final Map<String, long[]> copy = new java.util.TreeMap<>();
        counts.forEach((name, c) -> copy.put(name, new long[] {c.get(OK), c.get(FAIL)}));
        return copy;
    }

    void log(final String kind, final String message)
    {
        log.println("centrigate: " + kind + ": " + message);
    }

    private static String text(final List<InetAddress> addresses)
    {
        final StringBuilder b = new StringBuilder();
        for (final InetAddress a : addresses)
        {
            b.append(b.length() == 0 ? "" : ", ").append(a.getHostAddress());
        }
        return b.toString();
    }

    @Override
    public void close()
    {
        stop.countDown();
        final Thread t;
        synchronized (this)
        {
            t = thread;
        }
        if (t != null)
        {
            t.interrupt(); // a lookup under way is not waited for: the thread is a daemon and its result unused
        }
    }
}
