package io.centrigate.metrics;

import java.io.PrintStream;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Logs each kind of error at most once per interval, with how many were suppressed, so a flood of bad clients
 * or a dead upstream cannot flood the log (in the spirit of Agrona's {@code DistinctErrorLog}). Cold path.
 */
public final class ErrorLog
{
    private static final long INTERVAL_NS = TimeUnit.SECONDS.toNanos(10);

    private final PrintStream out;
    private final ConcurrentHashMap<String, Entry> entries = new ConcurrentHashMap<>();

    private static final class Entry
    {
        final AtomicLong lastLoggedNs = new AtomicLong(Long.MIN_VALUE);
        final AtomicLong suppressed = new AtomicLong();
    }

    /**
     * Loaded with this class, at start: an error logged when the descriptors have run out (EMFILE) must not need
     * to open a class file (a class path of directories does), or the loop thread dies of NoClassDefFoundError.
     */
    private static final java.util.function.Function<String, Entry> NEW_ENTRY = kind -> new Entry();

    static
    {
        NEW_ENTRY.apply("");
    }

    public ErrorLog(final PrintStream out)
    {
        this.out = out;
    }

    public void log(final String kind, final String message)
    {
        final Entry entry = entries.computeIfAbsent(kind, NEW_ENTRY);
        final long now = System.nanoTime();
        final long last = entry.lastLoggedNs.get();
        if ((last == Long.MIN_VALUE || now - last >= INTERVAL_NS) && entry.lastLoggedNs.compareAndSet(last, now))
        {
            final long suppressed = entry.suppressed.getAndSet(0);
            out.println("centrigate: " + kind + ": " + message +
                (suppressed > 0 ? " (" + suppressed + " more since last report)" : ""));
        }
        else
        {
            entry.suppressed.incrementAndGet();
        }
    }
}
