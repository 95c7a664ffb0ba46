package io.centrigate.admin;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;
import java.util.stream.Stream;

import io.centrigate.config.OpenFileLimit;
import io.centrigate.http.HttpError;
import io.centrigate.metrics.LoopSnapshot;
import io.centrigate.proxy.Proxy;
import io.centrigate.upstream.UpstreamGroup;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.InfoSnapshot;
import io.prometheus.metrics.model.snapshots.InfoSnapshot.InfoDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;

/**
 * The {@code /metrics} families, built on the admin thread as the Prometheus client's model (no registry: one
 * snapshot per scrape) from the loops' {@link LoopSnapshot}s and the upstream groups' atomics. Every family is
 * documented in {@code docs/metrics.md}. Counter names are given without {@code _total}: the writers add it.
 */
final class MetricsExport
{
    private MetricsExport()
    {
    }

    static MetricSnapshots snapshots(final Proxy proxy, final List<LoopSnapshot> loops, final String version,
        final boolean ready)
    {
        final List<MetricSnapshot> all = new ArrayList<>();
        all.add(InfoSnapshot.builder().name("centrigate_build").help("Build of the running centrigate (value 1).")
            .dataPoint(InfoDataPointSnapshot.builder().labels(Labels.of("version", version)).build()).build());
        all.add(gauge("centrigate_ready", "1 when /ready answers 200 (listeners accepting, a usable node), else 0.",
            ready ? 1 : 0));
        all.add(gauge("centrigate_connections_open", "Client connections open now, over all loops.",
            proxy.openConnections()));

        all.add(perLoop(loops, "centrigate_connections_accepted", "Client connections accepted.", true, LoopSnapshot::accepted));
        all.add(perLoop(loops, "centrigate_sessions", "Client sessions (connections) a loop holds now.", false, LoopSnapshot::sessions));
        all.add(perLoop(loops, "centrigate_tunnels_opened", "WebSocket tunnels opened (upstream answered a valid 101).", true,
            LoopSnapshot::tunnelsOpened));
        all.add(perLoop(loops, "centrigate_tunnels_open", "WebSocket tunnels open now.", false, LoopSnapshot::tunnelsOpen));
        all.add(perLoop(loops, "centrigate_requests", "HTTP requests received (WebSocket upgrades included).", true,
            LoopSnapshot::requests));
        all.add(perLoop(loops, "centrigate_upstream_connects", "Upstream TCP connects started.", true,
            LoopSnapshot::upstreamConnects));
        all.add(perLoop(loops, "centrigate_upstream_connect_failures", "Upstream TCP connects that failed (refused, "
            + "unreachable, timed out).", true, LoopSnapshot::upstreamConnectFailures));
        all.add(perLoop(loops, "centrigate_retries", "New connect rounds after timed-out connects, and requests replayed after a reused upstream connection failed.", true,
            LoopSnapshot::retries));
        all.add(perLoop(loops, "centrigate_keepalive_reuses", "Client connections kept open for another request after an answer.", true,
            LoopSnapshot::keepAliveReuses));
        all.add(perLoop(loops, "centrigate_upstream_pool_reuses", "Requests sent on a pooled idle upstream connection.",
            true, LoopSnapshot::pooledReuses));
        all.add(perLoop(loops, "centrigate_upstream_pool_idle", "Idle upstream connections pooled now.", false,
            LoopSnapshot::pooledIdle));
        all.add(perLoop(loops, "centrigate_accept_errors", "accept() calls that failed (e.g. EMFILE).", true,
            LoopSnapshot::acceptErrors));
        all.add(perLoop(loops, "centrigate_buffer_waits", "Reads that waited for a buffer chunk (pool at its limit).",
            true, LoopSnapshot::bufferWaits));
        all.add(perLoop(loops, "centrigate_buffer_chunks_in_use", "Buffer chunks held by connections now.", false,
            LoopSnapshot::chunksInUse));
        all.add(perLoop(loops, "centrigate_buffer_chunks_allocated", "Buffer chunks allocated (off-heap) now.", false,
            LoopSnapshot::chunksAllocated));
        all.add(perLoop(loops, "centrigate_buffer_chunks_free", "Allocated buffer chunks free for reuse now.", false,
            LoopSnapshot::chunksFree));
        final int maxChunks = proxy.context().maxChunksPerLoop();
        all.add(perLoop(loops, "centrigate_buffer_chunks_limit", "Buffer chunks a loop may allocate at most "
            + "(its share of --buffer-memory).", false, s -> maxChunks));
        all.add(perLoop(loops, "centrigate_going_away_frames", "WebSocket close frames 1001 sent on drain.", true,
            LoopSnapshot::goingAwayFrames));
        all.add(perLoop(loops, "centrigate_access_log_dropped", "Access log lines dropped because the ring to the "
            + "writer thread was full (never waited for).", true, LoopSnapshot::accessLogDropped));
        all.add(perDirection(loops, "centrigate_tunnel_frames", "WebSocket frames of ended tunnels, by direction "
            + "(up: client to node).", LoopSnapshot::framesUp, LoopSnapshot::framesDown));
        all.add(perDirection(loops, "centrigate_tunnel_bytes", "WebSocket bytes (frame headers and payload) of ended "
            + "tunnels, by direction (up: client to node).", LoopSnapshot::bytesUp, LoopSnapshot::bytesDown));
        all.add(errors(loops));
        nodes(proxy, all);

        final long openFds = openFileDescriptors();
        if (openFds >= 0)
        {
            all.add(gauge("process_open_fds", "Open file descriptors.", openFds));
        }
        final long maxFds = OpenFileLimit.current();
        if (maxFds > 0)
        {
            all.add(gauge("process_max_fds", "Maximum number of open file descriptors (RLIMIT_NOFILE soft limit).",
                maxFds));
        }
        all.add(gauge("process_start_time_seconds", "Start time of the process since the Unix epoch, in seconds.",
            ProcessHandle.current().info().startInstant()
                .map(i -> i.toEpochMilli() / 1000.0).orElse(proxy.startedAtMillis() / 1000.0)));
        return new MetricSnapshots(all);
    }

    private static GaugeSnapshot gauge(final String name, final String help, final double value)
    {
        return GaugeSnapshot.builder().name(name).help(help)
            .dataPoint(GaugeDataPointSnapshot.builder().value(value).build()).build();
    }

    private static MetricSnapshot perLoop(final List<LoopSnapshot> loops, final String name, final String help,
        final boolean counter, final ToDoubleFunction<LoopSnapshot> value)
    {
        if (counter)
        {
            final CounterSnapshot.Builder b = CounterSnapshot.builder().name(name).help(help);
            for (final LoopSnapshot s : loops)
            {
                b.dataPoint(CounterDataPointSnapshot.builder().labels(Labels.of("loop", s.loop()))
                    .value(value.applyAsDouble(s)).build());
            }
            return b.build();
        }
        final GaugeSnapshot.Builder b = GaugeSnapshot.builder().name(name).help(help);
        for (final LoopSnapshot s : loops)
        {
            b.dataPoint(GaugeDataPointSnapshot.builder().labels(Labels.of("loop", s.loop()))
                .value(value.applyAsDouble(s)).build());
        }
        return b.build();
    }

    private static CounterSnapshot perDirection(final List<LoopSnapshot> loops, final String name, final String help,
        final ToDoubleFunction<LoopSnapshot> up, final ToDoubleFunction<LoopSnapshot> down)
    {
        final CounterSnapshot.Builder b = CounterSnapshot.builder().name(name).help(help);
        for (final LoopSnapshot s : loops)
        {
            b.dataPoint(CounterDataPointSnapshot.builder().labels(Labels.of("direction", "up", "loop", s.loop()))
                .value(up.applyAsDouble(s)).build());
            b.dataPoint(CounterDataPointSnapshot.builder().labels(Labels.of("direction", "down", "loop", s.loop()))
                .value(down.applyAsDouble(s)).build());
        }
        return b.build();
    }

    /** Every kind for every loop, zeros included, so a rate or an alert has a series before the first error. */
    private static CounterSnapshot errors(final List<LoopSnapshot> loops)
    {
        final CounterSnapshot.Builder b = CounterSnapshot.builder().name("centrigate_errors")
            .help("Error answers the proxy generated, by kind (io.centrigate.http.HttpError, lower case) and status.");
        for (final LoopSnapshot s : loops)
        {
            final Map<String, Long> errors = s.errors();
            for (final HttpError kind : HttpError.values())
            {
                b.dataPoint(CounterDataPointSnapshot.builder()
                    .labels(Labels.of("kind", kind.name().toLowerCase(Locale.ROOT), "loop", s.loop(),
                        "status", String.valueOf(kind.status())))
                    .value(errors.getOrDefault(kind.name(), 0L)).build());
            }
        }
        return b.build();
    }

    private static void nodes(final Proxy proxy, final List<MetricSnapshot> all)
    {
        final GaugeSnapshot.Builder up = GaugeSnapshot.builder().name("centrigate_node_up")
            .help("1 when the node is usable, 0 while it is skipped after a failed connect (--fail-timeout).");
        final GaugeSnapshot.Builder active = GaugeSnapshot.builder().name("centrigate_node_active_connections")
            .help("Upstream connections (tunnels and HTTP exchanges) counted on the node now.");
        final GaugeSnapshot.Builder weight = GaugeSnapshot.builder().name("centrigate_node_weight")
            .help("The node's configured weight.");
        final CounterSnapshot.Builder failures = CounterSnapshot.builder().name("centrigate_node_connect_failures")
            .help("Failed connects (refused, unreachable, timed out) to the node since start or the last reload.");
        final long now = System.nanoTime();
        for (final Map.Entry<String, UpstreamGroup> e : proxy.upstreamGroups().entrySet())
        {
            final UpstreamGroup group = e.getValue();
            for (int i = 0; i < group.size(); i++)
            {
                final Labels labels = Labels.of("group", e.getKey(), "node", hostPort(group.address(i)));
                up.dataPoint(GaugeDataPointSnapshot.builder().labels(labels).value(group.usable(i, now) ? 1 : 0).build());
                active.dataPoint(GaugeDataPointSnapshot.builder().labels(labels).value(group.active(i)).build());
                weight.dataPoint(GaugeDataPointSnapshot.builder().labels(labels).value(group.weight(i)).build());
                failures.dataPoint(CounterDataPointSnapshot.builder().labels(labels)
                    .value(group.connectFailures(i)).build());
            }
        }
        all.add(up.build());
        all.add(active.build());
        all.add(weight.build());
        all.add(failures.build());
    }

    /** Entries of /proc/self/fd (Linux); -1 when unknown. */
    static long openFileDescriptors()
    {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd")))
        {
            return fds.count() - 1; // the directory stream's own descriptor
        }
        catch (final IOException | RuntimeException e)
        {
            return -1;
        }
    }

    static String hostPort(final InetSocketAddress a)
    {
        final String host = a.getAddress() != null ? a.getAddress().getHostAddress() : a.getHostString();
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + a.getPort();
    }
}
