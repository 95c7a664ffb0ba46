package io.centrigate.admin;

import io.prometheus.metrics.instrumentation.jvm.JvmBufferPoolMetrics;
import io.prometheus.metrics.instrumentation.jvm.JvmClassLoadingMetrics;
import io.prometheus.metrics.instrumentation.jvm.JvmCompilationMetrics;
import io.prometheus.metrics.instrumentation.jvm.JvmGarbageCollectorMetrics;
import io.prometheus.metrics.instrumentation.jvm.JvmMemoryMetrics;
import io.prometheus.metrics.instrumentation.jvm.JvmRuntimeInfoMetric;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;

/**
 * JVM memory, GC, threads, buffer pools, classes and JIT time from the Prometheus client's JVM instrumentation,
 * registered once per admin listener into a registry of its own (not the default one, so several proxies in one
 * JVM, as in tests, do not collide). The client's {@code ProcessMetrics} is left out: {@code process_open_fds},
 * {@code process_max_fds} and {@code process_start_time_seconds} are exported by {@link MetricsExport} already.
 * Collected on the admin thread at scrape time; nothing here runs on a loop.
 * <p>
 * Threads are counted here rather than by the client's {@code JvmThreadsMetrics}: that one also asks for deadlocked
 * threads and each thread's state on every scrape, and the deadlock search is a safepoint that stops every thread,
 * the loops included (two per scrape, up to ~1 ms each seen with {@code -Xlog:safepoint}). The four counts kept
 * come from counters the JVM maintains, with no pause.
 */
final class JvmExport
{
    private JvmExport()
    {
    }

    static PrometheusRegistry register()
    {
        final PrometheusRegistry registry = new PrometheusRegistry();
        JvmMemoryMetrics.builder().register(registry);
        JvmGarbageCollectorMetrics.builder().register(registry);
        registry.register(threads());
        JvmBufferPoolMetrics.builder().register(registry);
        JvmClassLoadingMetrics.builder().register(registry);
        JvmCompilationMetrics.builder().register(registry);
        JvmRuntimeInfoMetric.builder().register(registry);
        return registry;
    }

    private static MultiCollector threads()
    {
        final java.lang.management.ThreadMXBean bean = java.lang.management.ManagementFactory.getThreadMXBean();
        return () -> MetricSnapshots.of(
            gauge("jvm_threads_current", "Current thread count of a JVM", bean.getThreadCount()),
            gauge("jvm_threads_daemon", "Daemon thread count of a JVM", bean.getDaemonThreadCount()),
            gauge("jvm_threads_peak", "Peak thread count of a JVM", bean.getPeakThreadCount()),
            CounterSnapshot.builder().name("jvm_threads_started").help("Started thread count of a JVM")
                .dataPoint(CounterSnapshot.CounterDataPointSnapshot.builder().value(bean.getTotalStartedThreadCount()).build())
                .build());
    }

    private static GaugeSnapshot gauge(final String name, final String help, final double value)
    {
        return GaugeSnapshot.builder().name(name).help(help)
            .dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder().value(value).build()).build();
    }
}
