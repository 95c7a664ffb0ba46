package io.centrigate.admin;

import java.util.List;

import io.centrigate.metrics.LoopSnapshot;
import io.centrigate.proxy.Proxy;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;

/** For tests outside this package: what {@link MetricsExport} exports for a counter family. */
public final class MetricsExportAccess
{
    private MetricsExportAccess()
    {
    }

    /** The sum over its data points of counter {@code name} (without {@code _total}); -1 when not exported. */
    public static double counterSum(final Proxy proxy, final List<LoopSnapshot> loops, final String name)
    {
        for (final MetricSnapshot m : MetricsExport.snapshots(proxy, loops, "test", true))
        {
            if (m.getMetadata().getName().equals(name) && m instanceof CounterSnapshot c)
            {
                return c.getDataPoints().stream().mapToDouble(CounterSnapshot.CounterDataPointSnapshot::getValue).sum();
            }
        }
        return -1;
    }
}
