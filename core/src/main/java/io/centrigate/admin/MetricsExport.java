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
import io.centrigate.metrics.LoopStats;
import io.centrigate.proxy.Proxy;
import io.centrigate.upstream.UpstreamGroup;
import io.centrigate.metrics.NodeStats;
import io.centrigate.metrics.TimeHistogram;
import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot.HistogramDataPointSnapshot;
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
        return snapshots(proxy, loops, version, ready, new MetricSnapshots());
    }

    /** {@code jvm}: the JVM families of {@link JvmExport}, added as they are. */
    static MetricSnapshots snapshots(final Proxy proxy, final List<LoopSnapshot> loops, final String version,
        final boolean ready, final MetricSnapshots jvm)
    {
        final List<MetricSnapshot> all = new ArrayList<>();
        all.add(InfoSnapshot.builder().name("centrigate_build").help("Build of the running centrigate and the transport it runs on (value 1).")
            .dataPoint(InfoDataPointSnapshot.builder().labels(Labels.of("version", version, "transport",
                proxy.context().transportInUse())).build()).build());
        all.add(gauge("centrigate_ready", "1 when /ready answers 200 (listeners accepting, a usable node), else 0.",
            ready ? 1 : 0));
        all.add(gauge("centrigate_connections_open", "Client connections open now, over all loops.",
            proxy.openConnections()));

        final List<String> listeners = new ArrayList<>();
        proxy.listenerAddresses().forEach(a -> listeners.add(hostPort(a)));
        all.add(perListener(loops, listeners, "centrigate_connections_accepted", "Client connections accepted, by loop "
            + "and listener.", true, LoopSnapshot::acceptedByListener));
        all.add(perListener(loops, listeners, "centrigate_sessions", "Client sessions (connections) a loop holds now, "
            + "by listener.", false, LoopSnapshot::openByListener));
        all.add(perLoop(loops, "centrigate_tunnels_opened", "WebSocket tunnels opened (upstream answered a valid 101).", true,
            LoopSnapshot::tunnelsOpened));
        all.add(perLoop(loops, "centrigate_tunnels_open", "WebSocket tunnels open now.", false, LoopSnapshot::tunnelsOpen));
        all.add(perLoop(loops, "centrigate_requests", "HTTP requests received (WebSocket upgrades included).", true,
            LoopSnapshot::requests));
        all.add(perLoop(loops, "centrigate_upstream_connects", "Upstream TCP connects started.", true,
            LoopSnapshot::upstreamConnects));
        all.add(perLoop(loops, "centrigate_upstream_connect_failures", "Upstream TCP connects that failed (refused, "
            + "unreachable, timed out).", true, LoopSnapshot::upstreamConnectFailures));
        all.add(perLoop(loops, "centrigate_upstream_source_bind_failures", "Upstream connects whose source address "
            + "(--upstream-source) could not be bound; the address is skipped for 10 s.", true,
            LoopSnapshot::upstreamSourceBindFailures));
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
        all.add(proxyHeaderRefused(loops));
        limits(proxy, loops, all);
        all.add(http2(loops));
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
        all.add(perDirection(loops, "centrigate_tunnel_frames", "WebSocket frames through tunnels, open ones included, by direction "
            + "(up: client to node).", LoopSnapshot::framesUp, LoopSnapshot::framesDown));
        all.add(perDirection(loops, "centrigate_tunnel_bytes", "WebSocket bytes (frame headers and payload) through "
            + "tunnels, open ones included, by direction (up: client to node).", LoopSnapshot::bytesUp, LoopSnapshot::bytesDown));
        all.add(perDirection(loops, "centrigate_tunnel_spliced_bytes", "WebSocket payload bytes of tunnels moved socket "
            + "to socket by splice(2), never through user space (epoll, io_uring; --splice-threshold), by direction; "
            + "part of centrigate_tunnel_bytes.", LoopSnapshot::splicedUp, LoopSnapshot::splicedDown));
        all.add(perLoop(loops, "centrigate_splice_no_pipe", "Frame payloads copied instead of spliced because no kernel "
            + "pipe was free (--splice-pipes taken, or the kernel refused a pipe).", true, LoopSnapshot::spliceNoPipe));
        all.add(perLoop(loops, "centrigate_splice_pipes_open", "Kernel pipes for splicing open now (in use or kept free).",
            false, LoopSnapshot::splicePipesOpen));
        all.add(errors(loops));
        nodes(proxy, all);
        final NodeTotals totals = new NodeTotals(loops);
        nodeCounters(totals, all);
        all.add(histogram(loops, LoopSnapshot::connectTime, "centrigate_upstream_connect_seconds",
            "Upstream TCP connect time (connect started to connected), pooled connections excluded."));
        all.add(histogram(loops, LoopSnapshot::upgradeTime, "centrigate_upgrade_seconds",
            "WebSocket upgrade request written to the node until its valid 101 arrived."));
        all.add(histogram(loops, LoopSnapshot::httpResponseTime, "centrigate_http_response_seconds",
            "Plain HTTP: request head forwarded to the node until its response head arrived."));
        all.add(histogram(loops, LoopSnapshot::tunnelLifetime, "centrigate_tunnel_lifetime_seconds",
            "WebSocket tunnel lifetime, 101 to close, of ended tunnels."));
        all.add(closeFrames(loops));
        all.add(CounterSnapshot.builder().name("centrigate_reloads")
            .help("Configuration reloads (SIGHUP) by result: ok (applied) or failed (refused, nothing changed).")
            .dataPoint(CounterDataPointSnapshot.builder().labels(Labels.of("result", "ok")).value(proxy.reloadsOk()).build())
            .dataPoint(CounterDataPointSnapshot.builder().labels(Labels.of("result", "failed"))
                .value(proxy.reloadsFailed()).build())
            .build());
        final Proxy.ReloadResult last = proxy.lastReload();
        all.add(gauge("centrigate_last_reload_timestamp_seconds", "When the last reload ended (ok or failed), seconds "
            + "since the Unix epoch; 0 before the first.", last == null ? 0 : last.timeMillis() / 1000.0));
        all.add(perLoop(loops, "centrigate_loop_iterations", "Duty cycles the event loop ran.", true,
            LoopSnapshot::iterations));
        all.add(perLoop(loops, "centrigate_loop_busy_seconds", "Time the loop spent working (not blocked or idle in "
            + "select); its rate is the busy ratio.", true, s -> s.busyNs() / 1e9));
        all.add(perLoop(loops, "centrigate_loop_wakeups", "Select calls that returned ready keys or woke from blocking.",
            true, LoopSnapshot::wakeups));
        all.add(perLoop(loops, "centrigate_loop_command_queue_depth", "Commands from other threads waiting for the "
            + "loop (reloads, snapshots, drain steps).", false, LoopSnapshot::commandQueueDepth));

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
        for (final MetricSnapshot s : jvm)
        {
            all.add(s);
        }
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

    /** One sample per loop and listener ({@code listener} is the listener's bound {@code HOST:PORT}). */
    private static MetricSnapshot perListener(final List<LoopSnapshot> loops, final List<String> listeners,
        final String name, final String help, final boolean counter,
        final java.util.function.Function<LoopSnapshot, long[]> values)
    {
        final CounterSnapshot.Builder counters = CounterSnapshot.builder().name(name).help(help);
        final GaugeSnapshot.Builder gauges = GaugeSnapshot.builder().name(name).help(help);
        for (final LoopSnapshot s : loops)
        {
            final long[] v = values.apply(s);
            for (int i = 0; i < listeners.size() && i < v.length; i++)
            {
                final Labels labels = Labels.of("listener", listeners.get(i), "loop", s.loop());
                if (counter)
                {
                    counters.dataPoint(CounterDataPointSnapshot.builder().labels(labels).value(v[i]).build());
                }
                else
                {
                    gauges.dataPoint(GaugeDataPointSnapshot.builder().labels(labels).value(v[i]).build());
                }
            }
        }
        return counter ? counters.build() : gauges.build();
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
    private static CounterSnapshot proxyHeaderRefused(final List<LoopSnapshot> loops)
    {
        final CounterSnapshot.Builder b = CounterSnapshot.builder().name("centrigate_proxy_protocol_refused")
            .help("Connections closed for their PROXY protocol header, by reason: missing, malformed, oversized, "
                + "disallowed (peer outside --proxy-protocol-from), timeout.");
        for (final LoopSnapshot s : loops)
        {
            for (int i = 0; i < LoopStats.PROXY_HEADER_REASONS.size(); i++)
            {
                b.dataPoint(CounterDataPointSnapshot.builder()
                    .labels(Labels.of("loop", s.loop(), "reason", LoopStats.PROXY_HEADER_REASONS.get(i)))
                    .value(s.proxyHeaderRefused()[i]).build());
            }
        }
        return b.build();
    }

    /** The client limits and upgrade admission ({@code io.centrigate.limit}); every series from the start, at 0. */
    private static void limits(final Proxy proxy, final List<LoopSnapshot> loops, final List<MetricSnapshot> all)
    {
        final CounterSnapshot.Builder refused = CounterSnapshot.builder().name("centrigate_client_limit_refused")
            .help("Connections answered 429 for a per-client limit, by reason: connections "
                + "(--max-connections-per-client), handshake_rate (--handshake-rate-per-client).");
        final CounterSnapshot.Builder admission = CounterSnapshot.builder().name("centrigate_admission")
            .help("WebSocket upgrades under --max-handshake-rate by result: immediate, waited (admitted after a wait "
                + "for their slot), refused (503: no slot within --admission-wait, or drain).");
        for (final LoopSnapshot s : loops)
        {
            final long[] l = s.limits();
            for (int i = 0; i < LoopStats.CLIENT_LIMIT_REASONS.size(); i++)
            {
                refused.dataPoint(CounterDataPointSnapshot.builder()
                    .labels(Labels.of("loop", s.loop(), "reason", LoopStats.CLIENT_LIMIT_REASONS.get(i)))
                    .value(l[LoopStats.REFUSED_CONNECTIONS + i]).build());
            }
            admission.dataPoint(CounterDataPointSnapshot.builder().labels(Labels.of("loop", s.loop(), "result", "immediate"))
                .value(l[LoopStats.ADMITTED_AT_ONCE]).build());
            admission.dataPoint(CounterDataPointSnapshot.builder().labels(Labels.of("loop", s.loop(), "result", "waited"))
                .value(l[LoopStats.ADMITTED_AFTER_WAIT]).build());
            admission.dataPoint(CounterDataPointSnapshot.builder().labels(Labels.of("loop", s.loop(), "result", "refused"))
                .value(l[LoopStats.ADMISSION_REFUSED]).build());
        }
        all.add(refused.build());
        all.add(perLoop(loops, "centrigate_client_table_untracked", "Client connections the client table could not "
            + "track (every slot of the address's window held by others): let through without a per-client limit.",
            true, s -> s.limits()[LoopStats.CLIENT_UNTRACKED]));
        final io.centrigate.limit.ClientTable.Census census = proxy.clientTableCensus();
        all.add(gauge("centrigate_client_table_slots", "Slots of the client table (--client-table-size; 0 while no "
            + "per-client limit is on).", census == null ? 0 : census.slots()));
        all.add(gauge("centrigate_client_table_addresses", "Client addresses (IPv4, IPv6 /64) with open connections "
            + "counted in the client table.", census == null ? 0 : census.addressesWithConnections()));
        all.add(admission.build());
        all.add(perLoop(loops, "centrigate_admission_waiting", "WebSocket upgrades waiting for their admission slot now.",
            false, s -> s.limits()[LoopStats.ADMISSION_WAITING]));
        all.add(gauge("centrigate_admission_queued", "Admission slots taken ahead of now beyond the burst: about how "
            + "many upgrades wait, over the process.", proxy.admissionQueued()));
        all.add(histogram(loops, LoopSnapshot::admissionWait, "centrigate_admission_wait_seconds",
            "How long admitted WebSocket upgrades waited for their slot (--max-handshake-rate); 0 for those at once."));
    }

    private static CounterSnapshot http2(final List<LoopSnapshot> loops)
    {
        final CounterSnapshot.Builder b = CounterSnapshot.builder().name("centrigate_http2_events")
            .help("HTTP/2 events (--http2 on), by kind: connections (ALPN chose h2), streams (requests), "
                + "streams_refused, resets_received, stream_errors, connection_errors.");
        for (final LoopSnapshot s : loops)
        {
            for (int i = 0; i < LoopStats.HTTP2_EVENTS.size(); i++)
            {
                b.dataPoint(CounterDataPointSnapshot.builder()
                    .labels(Labels.of("loop", s.loop(), "event", LoopStats.HTTP2_EVENTS.get(i)))
                    .value(s.http2()[i]).build());
            }
        }
        return b.build();
    }

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
            .help("1 when the node is usable; 0 while health checks found it down or it is ejected after failures.");
        final CounterSnapshot.Builder checks = CounterSnapshot.builder().name("centrigate_health_checks")
            .help("Active health checks of the node by result: ok (2xx), fail, timeout.");
        final CounterSnapshot.Builder changes = CounterSnapshot.builder().name("centrigate_node_state_changes")
            .help("Health check verdicts that changed the node's state, by the state it went to (up, down).");
        final CounterSnapshot.Builder retries = CounterSnapshot.builder().name("centrigate_upgrade_retries")
            .help("Upgrades and idempotent requests sent to another node after this one gave no answer byte "
                + "within --upgrade-timeout.");
        final GaugeSnapshot.Builder active = GaugeSnapshot.builder().name("centrigate_node_active_connections")
            .help("Upstream connections (tunnels and HTTP exchanges) counted on the node now.");
        final GaugeSnapshot.Builder weight = GaugeSnapshot.builder().name("centrigate_node_weight")
            .help("The node's weight for new picks: the configured one, or what the admin set.");
        final GaugeSnapshot.Builder draining = GaugeSnapshot.builder().name("centrigate_node_draining")
            .help("1 while the admin drained the node: no new connection, its tunnels closed with 1012.");
        final CounterSnapshot.Builder moves = CounterSnapshot.builder().name("centrigate_rebalance_closes")
            .help("Tunnels the proxy closed with 1012 to move their clients: reason rebalance (the node was over its "
                + "weighted share) or drain (the admin drained the node).");
        final CounterSnapshot.Builder failures = CounterSnapshot.builder().name("centrigate_node_connect_failures")
            .help("Failed connects (refused, unreachable, timed out) to the node since start or the last reload.");
        final GaugeSnapshot.Builder slowStart = GaugeSnapshot.builder().name("centrigate_node_slow_start_factor")
            .help("The node's share of new connections during slow start, 0..1 (1: full, not ramping; --slow-start).");
        final long now = System.nanoTime();
        for (final Map.Entry<String, UpstreamGroup> e : proxy.upstreamGroups().entrySet())
        {
            final UpstreamGroup group = e.getValue();
            for (int i = 0; i < group.size(); i++)
            {
                final Labels labels = Labels.of("group", e.getKey(), "node", hostPort(group.address(i)));
                slowStart.dataPoint(GaugeDataPointSnapshot.builder().labels(labels)
                    .value(group.slowStartFactor(i, now) / (double)UpstreamGroup.FULL_FACTOR).build());
                up.dataPoint(GaugeDataPointSnapshot.builder().labels(labels).value(group.usable(i, now) ? 1 : 0).build());
                active.dataPoint(GaugeDataPointSnapshot.builder().labels(labels).value(group.active(i)).build());
                weight.dataPoint(GaugeDataPointSnapshot.builder().labels(labels).value(group.weight(i)).build());
                draining.dataPoint(GaugeDataPointSnapshot.builder().labels(labels).value(group.drained(i) ? 1 : 0).build());
                moves.dataPoint(CounterDataPointSnapshot.builder().labels(labels.add("reason", "rebalance"))
                    .value(group.tunnels(i).rebalanceCloses()).build());
                moves.dataPoint(CounterDataPointSnapshot.builder().labels(labels.add("reason", "drain"))
                    .value(group.tunnels(i).drainCloses()).build());
                failures.dataPoint(CounterDataPointSnapshot.builder().labels(labels)
                    .value(group.connectFailures(i)).build());
                for (int r = 0; r < UpstreamGroup.CHECK_RESULTS.length; r++)
                {
                    checks.dataPoint(CounterDataPointSnapshot.builder()
                        .labels(labels.add("result", UpstreamGroup.CHECK_RESULTS[r])).value(group.checks(i, r)).build());
                }
                changes.dataPoint(CounterDataPointSnapshot.builder().labels(labels.add("to", "up"))
                    .value(group.stateChanges(i, false)).build());
                changes.dataPoint(CounterDataPointSnapshot.builder().labels(labels.add("to", "down"))
                    .value(group.stateChanges(i, true)).build());
                retries.dataPoint(CounterDataPointSnapshot.builder().labels(labels)
                    .value(group.upgradeRetries(i)).build());
            }
        }
        all.add(up.build());
        all.add(active.build());
        all.add(weight.build());
        all.add(draining.build());
        all.add(moves.build());
        all.add(failures.build());
        all.add(checks.build());
        all.add(changes.build());
        all.add(retries.build());
        all.add(slowStart.build());
        upstreamNames(proxy, all);
    }

    /** DNS discovery: lookups of each upstream name by result, and how many addresses it has now. */
    private static void upstreamNames(final Proxy proxy, final List<MetricSnapshot> all)
    {
        final CounterSnapshot.Builder resolutions = CounterSnapshot.builder().name("centrigate_upstream_resolutions")
            .help("Lookups of an upstream name by the resolver (--resolve-interval), by result: ok, fail (the last "
                + "good addresses are kept).");
        final GaugeSnapshot.Builder addresses = GaugeSnapshot.builder().name("centrigate_upstream_name_addresses")
            .help("Addresses (nodes) an upstream name stands for now: its last good resolution.");
        final Map<String, long[]> counts = proxy.resolutions();
        for (final Map.Entry<String, List<java.net.InetAddress>> e : proxy.resolvedNames().entrySet())
        {
            final Labels labels = Labels.of("name", e.getKey());
            final long[] c = counts.getOrDefault(e.getKey(), new long[2]);
            resolutions.dataPoint(CounterDataPointSnapshot.builder().labels(labels.add("result", "ok")).value(c[0]).build());
            resolutions.dataPoint(CounterDataPointSnapshot.builder().labels(labels.add("result", "fail")).value(c[1]).build());
            addresses.dataPoint(GaugeDataPointSnapshot.builder().labels(labels).value(e.getValue().size()).build());
        }
        all.add(resolutions.build());
        all.add(addresses.build());
    }

    private static void nodeCounters(final NodeTotals totals, final List<MetricSnapshot> all)
    {
        final CounterSnapshot.Builder handshakes = CounterSnapshot.builder().name("centrigate_handshakes")
            .help("WebSocket handshakes by node and outcome: 101, upstream_1xx..5xx (the node answered non-101), "
                + "invalid_101, connect_refused, connect_timeout, upstream_timeout (per attempt on the node), "
                + "answered_502/503/504 (the proxy answered the client itself).");
        final CounterSnapshot.Builder requests = CounterSnapshot.builder().name("centrigate_http_requests")
            .help("Plain HTTP exchanges the node answered, by method class and status class.");
        final GaugeSnapshot.Builder tunnels = GaugeSnapshot.builder().name("centrigate_node_tunnels")
            .help("WebSocket tunnels open to the node now.");
        final GaugeSnapshot.Builder active = GaugeSnapshot.builder().name("centrigate_node_requests_active")
            .help("Plain HTTP exchanges under way on the node now.");
        final CounterSnapshot.Builder bytes = CounterSnapshot.builder().name("centrigate_node_tunnel_bytes")
            .help("WebSocket bytes through tunnels to the node, open ones included, by direction (up: client to node).");
        final CounterSnapshot.Builder errors = CounterSnapshot.builder().name("centrigate_node_errors")
            .help("Failures on the node: connects failed, no answer in time, invalid or missing answers.");
        for (final Map.Entry<String, Map<String, NodeTotals.Node>> g : totals.groups.entrySet())
        {
            for (final Map.Entry<String, NodeTotals.Node> e : g.getValue().entrySet())
            {
                final NodeTotals.Node n = e.getValue();
                final boolean none = e.getKey().equals("none");
                if (none && n.isZero())
                {
                    continue;
                }
                final Labels labels = Labels.of("group", g.getKey(), "node", e.getKey());
                for (int o = 0; o < NodeStats.OUTCOMES.length; o++)
                {
                    if (!none || n.handshakes[o] != 0)
                    {
                        handshakes.dataPoint(CounterDataPointSnapshot.builder()
                            .labels(labels.add("outcome", NodeStats.OUTCOMES[o])).value(n.handshakes[o]).build());
                    }
                }
                for (int m = 0; m < NodeStats.METHODS.length; m++)
                {
                    for (int c = 0; c < NodeStats.CODE_CLASSES.length; c++)
                    {
                        if (n.requests[m][c] != 0)
                        {
                            requests.dataPoint(CounterDataPointSnapshot.builder()
                                .labels(labels.add("method", NodeStats.METHODS[m]).add("code", NodeStats.CODE_CLASSES[c]))
                                .value(n.requests[m][c]).build());
                        }
                    }
                }
                if (none)
                {
                    continue;
                }
                tunnels.dataPoint(GaugeDataPointSnapshot.builder().labels(labels).value(n.tunnels).build());
                active.dataPoint(GaugeDataPointSnapshot.builder().labels(labels).value(n.requestsActive).build());
                bytes.dataPoint(CounterDataPointSnapshot.builder().labels(labels.add("direction", "up"))
                    .value(n.bytesUp).build());
                bytes.dataPoint(CounterDataPointSnapshot.builder().labels(labels.add("direction", "down"))
                    .value(n.bytesDown).build());
                errors.dataPoint(CounterDataPointSnapshot.builder().labels(labels).value(n.errors).build());
            }
        }
        all.add(handshakes.build());
        all.add(requests.build());
        all.add(tunnels.build());
        all.add(active.build());
        all.add(bytes.build());
        all.add(errors.build());
    }

    /**
     * The loops' histograms merged, as a classic Prometheus histogram. Reading a loop's histogram folds what it
     * recorded since the last scrape into its buckets: that work is done here, on the admin thread.
     */
    static HistogramSnapshot histogram(final List<LoopSnapshot> loops,
        final java.util.function.Function<LoopSnapshot, TimeHistogram> which, final String name, final String help)
    {
        TimeHistogram.Buckets merged = null;
        for (final LoopSnapshot s : loops)
        {
            final TimeHistogram.Buckets b = which.apply(s).read();
            merged = merged == null ? b : merged.plus(b);
        }
        if (merged == null)
        {
            throw new IllegalStateException("no loops");
        }
        final double[] bounds = merged.upperBoundsSeconds();
        final double[] upper = java.util.Arrays.copyOf(bounds, bounds.length + 1);
        upper[bounds.length] = Double.POSITIVE_INFINITY;
        return HistogramSnapshot.builder().name(name).help(help)
            .dataPoint(HistogramDataPointSnapshot.builder()
                .classicHistogramBuckets(ClassicHistogramBuckets.of(upper, merged.counts()))
                .sum(merged.sumSeconds()).build())
            .build();
    }

    /** Close frames by direction and code, over all loops; only codes seen. */
    private static CounterSnapshot closeFrames(final List<LoopSnapshot> loops)
    {
        final long[] up = new long[NodeStats.CLOSE_CODES];
        final long[] down = new long[NodeStats.CLOSE_CODES];
        for (final LoopSnapshot s : loops)
        {
            final long[] seenUp = s.closeCodesUp();
            for (int i = 0; i < seenUp.length; i += 2)
            {
                up[(int)seenUp[i]] += seenUp[i + 1];
            }
            final long[] seenDown = s.closeCodesDown();
            for (int i = 0; i < seenDown.length; i += 2)
            {
                down[(int)seenDown[i]] += seenDown[i + 1];
            }
        }
        final CounterSnapshot.Builder b = CounterSnapshot.builder().name("centrigate_close_frames")
            .help("WebSocket close frames seen in tunnels by direction (up: client to node) and status code "
                + "(none: no code, other: outside 1000-4999); 1000 and 1001 always, other codes once seen.");
        for (int i = 0; i < NodeStats.CLOSE_CODES; i++)
        {
            // 1000 and 1001 from the start (at 0), so the family and a rate exist before the first close.
            final boolean always = i == 1000 || i == 1001;
            if (up[i] != 0 || always)
            {
                b.dataPoint(CounterDataPointSnapshot.builder()
                    .labels(Labels.of("code", NodeStats.closeCodeLabel(i), "direction", "up")).value(up[i]).build());
            }
            if (down[i] != 0 || always)
            {
                b.dataPoint(CounterDataPointSnapshot.builder()
                    .labels(Labels.of("code", NodeStats.closeCodeLabel(i), "direction", "down")).value(down[i]).build());
            }
        }
        return b.build();
    }

    /** How long a descriptor count is reused: counting walks the whole descriptor table (see below). */
    static final long FD_COUNT_TTL_NS = java.util.concurrent.TimeUnit.SECONDS.toNanos(5);
    private static volatile long fdCount = -1;
    private static volatile long fdCountAtNs;

    /**
     * Entries of /proc/self/fd (Linux); -1 when unknown. Reading the directory costs the kernel a step per
     * descriptor, about 8 ms at 10,000 (two per proxied connection), so a count is reused for
     * {@link #FD_COUNT_TTL_NS}: scrapes more often than that see the same value.
     */
    static long openFileDescriptors()
    {
        final long now = System.nanoTime();
        if (fdCount >= 0 && now - fdCountAtNs < FD_COUNT_TTL_NS)
        {
            return fdCount;
        }
        long count;
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd")))
        {
            count = fds.count() - 1; // the directory stream's own descriptor
        }
        catch (final IOException | RuntimeException e)
        {
            count = -1;
        }
        fdCountAtNs = now;
        fdCount = count;
        return count;
    }

    static String hostPort(final InetSocketAddress a)
    {
        final String host = a.getAddress() != null ? a.getAddress().getHostAddress() : a.getHostString();
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + a.getPort();
    }
}
