package io.centrigate.metrics;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

class TimeHistogramTest
{
    private static final double[] BOUNDS = {0.00005, 0.001, 0.01};

    @Test
    void valuesLandInTheirBucketsAndTheSumIsExact()
    {
        final TimeHistogram h = new TimeHistogram(1_000, 3_600_000_000L, BOUNDS);
        h.recordNs(-5);          // a clock read earlier in the cycle: 0
        h.recordNs(50_000);      // exactly 50 µs: at or below the first bound
        h.recordNs(51_000);      // just above it
        h.recordNs(1_000_000);   // 1 ms: at the second bound
        h.recordNs(7_000_000);
        h.recordNs(TimeUnit.SECONDS.toNanos(3));
        final TimeHistogram.Buckets b = h.read();
        assertArrayEquals(new long[] {2, 2, 1, 1}, b.counts());
        assertEquals(6, b.count());
        assertEquals((50_000 + 51_000 + 1_000_000 + 7_000_000 + 3_000_000_000L) / 1e9, b.sumSeconds(), 1e-12);
    }

    @Test
    void readsAreCumulativeAndMergeAcrossLoops()
    {
        final TimeHistogram a = new TimeHistogram(1_000, 3_600_000_000L, BOUNDS);
        final TimeHistogram b = new TimeHistogram(1_000, 3_600_000_000L, BOUNDS);
        a.recordNs(10_000);
        assertArrayEquals(new long[] {1, 0, 0, 0}, a.read().counts());
        a.recordNs(20_000_000);
        b.recordNs(20_000_000);
        final TimeHistogram.Buckets merged = a.read().plus(b.read());
        assertArrayEquals(new long[] {1, 0, 0, 2}, merged.counts());
        assertEquals(1, merged.countAtOrBelowBound(2));
        // Read again with nothing new: the same counts, not zero (Prometheus counts are cumulative).
        assertArrayEquals(new long[] {1, 0, 0, 1}, a.read().counts());
    }

    @Test
    void aReaderOnAnotherThreadLosesNoValueTheWriterRecords() throws Exception
    {
        final TimeHistogram h = new TimeHistogram(1_000, 3_600_000_000L, BOUNDS);
        final int n = 2_000_000;
        final Thread writer = new Thread(() ->
        {
            for (int i = 0; i < n; i++)
            {
                h.recordNs((i % 4) * 5_000_000L); // 0, 5, 10, 15 ms
            }
        });
        writer.start();
        long reads = 0;
        while (writer.isAlive() && reads < 10_000_000)
        {
            h.read();
            reads++;
        }
        writer.join(TimeUnit.SECONDS.toMillis(60));
        assertFalse(writer.isAlive(), "writer did not finish");
        final TimeHistogram.Buckets b = h.read();
        assertEquals(n, b.count(), "after " + reads + " reads during the writes");
        assertArrayEquals(new long[] {n / 4, 0, n / 2, n / 4}, b.counts());
        assertEquals((n / 4) * 30_000_000.0 / 1e9, b.sumSeconds(), 1e-6);
    }
}
