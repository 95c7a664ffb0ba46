package io.centrigate.admin;

import io.prometheus.metrics.instrumentation.jvm.JvmBufferPoolMetrics;
import io.prometheus.metrics.instrumentation.jvm.JvmClassLoadingMetrics;
import io.prometheus.metrics.instrumentation.jvm.JvmCompilationMetrics;
import io.prometheus.metrics.instrumentation.jvm.JvmGarbageCollectorMetrics;
import io.prometheus.metrics.instrumentation.jvm.JvmMemoryMetrics;
import io.prometheus.metrics.instrumentation.jvm.JvmRuntimeInfoMetric;
import io.prometheus.metrics.instrumentation.jvm.JvmThreadsMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

/**
 * JVM memory, GC, threads, buffer pools, classes and JIT time from the Prometheus client's JVM instrumentation,
 * registered once per admin listener into a registry of its own (not the default one, so several proxies in one
 * JVM, as in tests, do not collide). The client's {@code ProcessMetrics} is left out: {@code process_open_fds},
 * {@code process_max_fds} and {@code process_start_time_seconds} are exported by {@link MetricsExport} already.
 * Collected on the admin thread at scrape time; nothing here runs on a loop.
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
        JvmThreadsMetrics.builder().register(registry);
        JvmBufferPoolMetrics.builder().register(registry);
        JvmClassLoadingMetrics.builder().register(registry);
        JvmCompilationMetrics.builder().register(registry);
        JvmRuntimeInfoMetric.builder().register(registry);
        return registry;
    }
}
