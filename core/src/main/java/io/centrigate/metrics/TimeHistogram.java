package io.centrigate.metrics;

import org.HdrHistogram.Histogram;

/**
 * A duration histogram of one loop: an HdrHistogram written only by the loop thread (no recorder, no atomics),
 * plus the exact sum. Recording is a division and an array increment, never an allocation (values beyond the
 * highest trackable one are clamped to it). {@link #copy()} is for snapshots, on the loop thread (cold).
 */
public final class TimeHistogram
{
    private final long unitNs;
    private final long highest;
    private final Histogram histogram;
    private long sumNs;

    /** Values are kept in units of {@code unitNs} (1 000 for microseconds), up to {@code highestUnits}. */
    public TimeHistogram(final long unitNs, final long highestUnits)
    {
        this.unitNs = unitNs;
        this.highest = highestUnits;
        this.histogram = new Histogram(1, highestUnits, 2);
    }

    private TimeHistogram(final TimeHistogram from)
    {
        this.unitNs = from.unitNs;
        this.highest = from.highest;
        this.histogram = from.histogram.copy();
        this.sumNs = from.sumNs;
    }

    /** Records one duration; negative ones (a clock read earlier in the cycle) count as 0. */
    public void recordNs(final long ns)
    {
        final long d = ns < 0 ? 0 : ns;
        sumNs += d;
        histogram.recordValue(Math.min(d / unitNs, highest));
    }

    public TimeHistogram copy()
    {
        return new TimeHistogram(this);
    }

    /** Adds {@code other}'s counts (same units) into this one; for merging loops' copies off the loops. */
    public void add(final TimeHistogram other)
    {
        histogram.add(other.histogram);
        sumNs += other.sumNs;
    }

    public long count()
    {
        return histogram.getTotalCount();
    }

    public double sumSeconds()
    {
        return sumNs / 1e9;
    }

    /** Observations at or below {@code seconds} (within the histogram's 2 significant digits). */
    public long countAtOrBelow(final double seconds)
    {
        final long units = Math.round(seconds * 1e9 / unitNs); // the bounds are whole units: no 49.999..
        if (units < 0)
        {
            return 0;
        }
        return histogram.getCountBetweenValues(0, Math.min(units, highest));
    }
}
