package io.centrigate.metrics;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramIterationValue;
import org.HdrHistogram.SingleWriterRecorder;

/**
 * A duration histogram of one loop, exported as a classic Prometheus histogram with fixed bounds.
 * <p>
 * The loop records into an HdrHistogram {@link SingleWriterRecorder}: an array increment between two uncontended
 * atomic increments of the recorder's phaser, never an allocation (values beyond the highest trackable one are
 * clamped to it). The reader, a scrape on the admin thread, swaps the recorder's interval histogram out and folds
 * it into cumulative counts per bound. So a scrape costs the loop nothing: an earlier version copied the whole
 * histogram on the loop thread for every snapshot, and that copy (thousands of slots, four histograms) was part of
 * a stall of the loop once per scrape that the echo bench's p99 showed.
 */
public final class TimeHistogram
{
    private static final VarHandle SUM_NS;

    static
    {
        try
        {
            SUM_NS = MethodHandles.lookup().findVarHandle(TimeHistogram.class, "sumNs", long.class);
        }
        catch (final ReflectiveOperationException e)
        {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final long unitNs;
    private final long highest;
    private final SingleWriterRecorder recorder;
    /** Exact sum of every duration recorded; written only by the loop, read opaquely by scrapes. */
    @SuppressWarnings("unused")
    private long sumNs;

    // Reader side, guarded by this object's monitor (the writer never takes it).
    private final double[] boundsSeconds;
    private final long[] boundUnits;
    /** Cumulative observations per bucket: index i counts values in (bound i-1, bound i]; the last is +Inf. */
    private final long[] buckets;
    private Histogram interval;

    /**
     * Values are kept in units of {@code unitNs} (1 000 for microseconds), up to {@code highestUnits}, and exported
     * against {@code boundsSeconds} (ascending upper bounds; +Inf is implied).
     */
    public TimeHistogram(final long unitNs, final long highestUnits, final double[] boundsSeconds)
    {
        this.unitNs = unitNs;
        this.highest = highestUnits;
        this.recorder = new SingleWriterRecorder(1, highestUnits, 2);
        this.boundsSeconds = boundsSeconds.clone();
        this.boundUnits = new long[boundsSeconds.length];
        for (int i = 0; i < boundsSeconds.length; i++)
        {
            boundUnits[i] = Math.round(boundsSeconds[i] * 1e9 / unitNs); // whole units: no 49.999..
        }
        this.buckets = new long[boundsSeconds.length + 1];
    }

    /** Records one duration (loop thread only); negative ones (a clock read earlier in the cycle) count as 0. */
    public void recordNs(final long ns)
    {
        final long d = ns < 0 ? 0 : ns;
        SUM_NS.setOpaque(this, sumNs + d);
        recorder.recordValue(Math.min(d / unitNs, highest));
    }

    /**
     * Everything recorded so far, folded into the fixed buckets. Any thread but the writer's; the work (walking the
     * recorded slots) is done here, by the caller.
     */
    public synchronized Buckets read()
    {
        // Read the sum first: a value recorded between the two reads then shows in the counts but not yet in the
        // sum, never the other way round (a sum with no observation behind it).
        final long sum = (long)SUM_NS.getOpaque(this);
        interval = recorder.getIntervalHistogram(interval);
        for (final HistogramIterationValue v : interval.recordedValues())
        {
            // A value counts at or below a bound when its HdrHistogram slot starts at or below it (2 significant
            // digits), as getCountBetweenValues(0, bound) counted before.
            final long lowest = interval.lowestEquivalentValue(v.getValueIteratedTo());
            buckets[bucketOf(lowest)] += v.getCountAddedInThisIterationStep();
        }
        return new Buckets(boundsSeconds.clone(), buckets.clone(), sum / 1e9);
    }

    private int bucketOf(final long units)
    {
        int i = 0;
        while (i < boundUnits.length && units > boundUnits[i])
        {
            i++;
        }
        return i;
    }

    /** Observations per bucket (not cumulative; the last bucket is +Inf) and their exact sum. */
    public record Buckets(double[] upperBoundsSeconds, long[] counts, double sumSeconds)
    {
        public long count()
        {
            long n = 0;
            for (final long c : counts)
            {
                n += c;
            }
            return n;
        }

        /** Observations at or below the bound at {@code index} of {@link #upperBoundsSeconds}. */
        public long countAtOrBelowBound(final int index)
        {
            long n = 0;
            for (int i = 0; i <= index; i++)
            {
                n += counts[i];
            }
            return n;
        }

        /** Adds {@code other}'s counts (same bounds) to a copy of this; for merging the loops' histograms. */
        public Buckets plus(final Buckets other)
        {
            final long[] sum = counts.clone();
            for (int i = 0; i < sum.length; i++)
            {
                sum[i] += other.counts[i];
            }
            return new Buckets(upperBoundsSeconds, sum, sumSeconds + other.sumSeconds);
        }
    }
}
