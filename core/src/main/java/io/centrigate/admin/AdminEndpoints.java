package io.centrigate.admin;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import io.centrigate.config.ProxyContext;
import io.centrigate.metrics.LoopSnapshot;
import io.centrigate.proxy.Proxy;
import io.centrigate.upstream.UpstreamGroup;
import io.prometheus.metrics.expositionformats.ExpositionFormatWriter;
import io.prometheus.metrics.expositionformats.OpenMetricsTextFormatWriter;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;

/** What each admin path answers; runs on the admin thread, reads the proxy only through snapshots and atomics. */
final class AdminEndpoints
{
    /** How long a scrape waits for the loops' snapshots (each taken on its loop thread). */
    static final long SNAPSHOT_TIMEOUT_MS = 2_000;

    private static final ExpositionFormatWriter TEXT = PrometheusTextFormatWriter.create();
    private static final ExpositionFormatWriter OPEN_METRICS = OpenMetricsTextFormatWriter.create();

    /** The live stats page ({@code GET /}): one self-contained HTML file in the jar, read once. */
    static final byte[] STATS_PAGE = statsPage();

    private final Proxy proxy;
    private final String version;
    private final List<InetSocketAddress> adminAddresses;
    private final NodeActions nodeActions;
    /** JVM metrics, registered once when the admin listener starts. */
    private final io.prometheus.metrics.model.registry.PrometheusRegistry jvm = JvmExport.register();

    AdminEndpoints(final Proxy proxy, final String version, final List<InetSocketAddress> adminAddresses)
    {
        this.proxy = proxy;
        this.version = version;
        this.adminAddresses = adminAddresses;
        this.nodeActions = new NodeActions(proxy);
    }

    AdminResponse answer(final AdminRequest request)
    {
        final String path = request.path();
        if (path.startsWith(NodeActions.PREFIX))
        {
            return nodeActions.answer(request);
        }
        final boolean page = path.equals("/") || path.equals("/index.html");
        final boolean known = page || path.equals("/live") || path.equals("/ready") || path.equals("/status") ||
            path.equals("/metrics");
        if (!known)
        {
            return AdminResponse.text(404, "Not Found", "not found: /, /live, /ready, /status, /metrics\n");
        }
        if (!request.method().equals("GET") && !request.method().equals("HEAD"))
        {
            return AdminResponse.methodNotAllowed();
        }
        if (page)
        {
            return AdminResponse.page(STATS_PAGE);
        }
        switch (path)
        {
            case "/live": return AdminResponse.text(200, "OK", "ok\n");
            case "/ready":
                final String reason = notReadyReason();
                return reason == null ? AdminResponse.text(200, "OK", "ready\n")
                    : AdminResponse.text(503, "Service Unavailable", reason + "\n");
            case "/status": return AdminResponse.json(status());
            default: return metrics(request.wantsOpenMetrics());
        }
    }

    private static byte[] statsPage()
    {
        try (java.io.InputStream in = AdminEndpoints.class.getResourceAsStream("stats.html"))
        {
            if (in == null)
            {
                throw new IllegalStateException("stats.html missing from the jar");
            }
            return in.readAllBytes();
        }
        catch (final IOException e)
        {
            throw new java.io.UncheckedIOException("cannot read stats.html", e);
        }
    }

    /** Null when ready: listeners accepting and a usable node in the default group; else a one-word reason. */
    String notReadyReason()
    {
        if (proxy.draining())
        {
            return "draining";
        }
        if (!proxy.accepting())
        {
            return "not accepting";
        }
        final UpstreamGroup group = proxy.upstreams();
        final long now = System.nanoTime();
        for (int i = 0; i < group.size(); i++)
        {
            if (group.usable(i, now))
            {
                return null;
            }
        }
        return "no usable node";
    }

    private List<LoopSnapshot> loopSnapshots()
    {
        try
        {
            return proxy.snapshot(SNAPSHOT_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        }
        catch (final Exception e)
        {
            return null; // a loop did not answer in time (or the proxy is closing)
        }
    }

    private AdminResponse metrics(final boolean openMetrics)
    {
        final List<LoopSnapshot> loops = loopSnapshots();
        if (loops == null)
        {
            return AdminResponse.text(503, "Service Unavailable", "loops did not answer a snapshot in time\n");
        }
        final ExpositionFormatWriter writer = openMetrics ? OPEN_METRICS : TEXT;
        final ByteArrayOutputStream out = new ByteArrayOutputStream(16 * 1024);
        try
        {
            writer.write(out, MetricsExport.snapshots(proxy, loops, version, notReadyReason() == null, jvm.scrape()));
        }
        catch (final IOException e)
        {
            return AdminResponse.text(500, "Internal Server Error", "cannot write metrics: " + e.getMessage() + "\n");
        }
        return new AdminResponse(200, "OK", writer.getContentType(), out.toByteArray(), null);
    }

    private String status()
    {
        final Json json = new Json().beginObject();
        json.field("version", version);
        json.field("transport", proxy.context().transportInUse());
        final long started = proxy.startedAtMillis();
        json.field("started_at", Instant.ofEpochMilli(started).toString());
        json.key("uptime_seconds").value(Math.max(0, System.currentTimeMillis() - started) / 1000.0);
        final String reason = notReadyReason();
        json.field("ready", reason == null);
        if (reason != null)
        {
            json.field("not_ready_reason", reason);
        }
        json.field("draining", proxy.draining());
        final Proxy.ReloadResult reload = proxy.lastReload();
        if (reload != null)
        {
            json.key("last_reload").beginObject()
                .field("time", Instant.ofEpochMilli(reload.timeMillis()).toString())
                .field("ok", reload.ok())
                .key("errors").beginArray();
            reload.errors().forEach(json::value);
            json.endArray().endObject();
        }
        else
        {
            json.key("last_reload").nullValue();
        }
        json.key("listeners").beginObject();
        addresses(json, "plain", proxy.boundAddresses());
        addresses(json, "tls", proxy.boundTlsAddresses());
        addresses(json, "redirect", proxy.boundRedirectAddresses());
        addresses(json, "admin", adminAddresses);
        json.endObject();
        json.field("loops", proxy.context().loops());
        json.field("connections_open", proxy.openConnections());
        final List<LoopSnapshot> loops = loopSnapshots();
        final NodeTotals totals = new NodeTotals(loops == null ? List.of() : loops);
        json.key("upstreams").beginArray();
        final long now = System.nanoTime();
        for (final Map.Entry<String, UpstreamGroup> e : proxy.upstreamGroups().entrySet())
        {
            final UpstreamGroup group = e.getValue();
            json.beginObject().field("group", e.getKey()).key("nodes").beginArray();
            for (int i = 0; i < group.size(); i++)
            {
                final String address = MetricsExport.hostPort(group.address(i));
                final NodeTotals.Node n = totals.node(e.getKey(), address);
                json.beginObject()
                    .field("address", address);
                if (!ProxyContext.isIpLiteral(group.address(i).getHostString()))
                {
                    json.field("name", group.address(i).getHostString()); // DNS discovery: the name it came from
                }
                json

                    .field("weight", group.weight(i))
                    .field("state", nodeState(group, i, now))
                    .field("active_connections", group.active(i))
                    .field("connect_failures", group.connectFailures(i))
                    .field("tunnels", n.tunnels)
                    .field("requests_active", n.requestsActive)
                    .field("handshakes_total", n.handshakesTotal())
                    .field("requests_total", n.requestsTotal())
                    .field("bytes_up_total", n.bytesUp)
                    .field("bytes_down_total", n.bytesDown)
                    .field("errors_total", n.errors)
                    .key("slow_start_factor").value(group.slowStartFactor(i, now) / (double)UpstreamGroup.FULL_FACTOR)
                    .key("close_codes").beginObject();
                n.closeCodes.forEach(json::field);
                json.endObject()
                    .field("drained", group.drained(i))
                    .field("rebalance_closes_total", group.tunnels(i).rebalanceCloses())
                    .field("drain_closes_total", group.tunnels(i).drainCloses())
                    .endObject();
            }
            json.endArray().endObject();
        }
        json.endArray();
        upstreamNames(json);
        if (loops != null)
        {
            json.key("loop_stats").beginArray();
            for (final LoopSnapshot s : loops)
            {
                json.beginObject()
                    .field("loop", s.loop())
                    .field("iterations", s.iterations())
                    .field("wakeups", s.wakeups())
                    .key("busy_seconds_total").value(s.busyNs() / 1e9)
                    .field("command_queue_depth", s.commandQueueDepth())
                    .field("tunnels_open", s.tunnelsOpen())
                    .field("sessions", s.sessions())
                    .endObject();
            }
            json.endArray();
            totals(json, loops);
            limits(json, loops);
        }
        return json.endObject().toString() + "\n";
    }

    /** Per-client limits and upgrade admission: the settings, what the table holds, what was refused and waits. */
    private void limits(final Json json, final List<LoopSnapshot> loops)
    {
        final long[] sum = new long[loops.isEmpty() ? 7 : loops.get(0).limits().length];
        for (final LoopSnapshot s : loops)
        {
            for (int i = 0; i < sum.length; i++)
            {
                sum[i] += s.limits()[i];
            }
        }
        final ProxyContext ctx = proxy.context();
        final io.centrigate.limit.ClientTable.Census census = proxy.clientTableCensus();
        json.key("client_limits").beginObject()
            .field("max_connections_per_client", ctx.maxConnectionsPerClient())
            .field("handshake_rate_per_client", ctx.handshakeRatePerClient())
            .key("refused").beginObject()
            .field("connections", sum[io.centrigate.metrics.LoopStats.REFUSED_CONNECTIONS])
            .field("handshake_rate", sum[io.centrigate.metrics.LoopStats.REFUSED_HANDSHAKE_RATE])
            .endObject()
            .field("untracked", sum[io.centrigate.metrics.LoopStats.CLIENT_UNTRACKED]);
        json.key("table");
        if (census == null)
        {
            json.nullValue();
        }
        else
        {
            json.beginObject()
                .field("slots", census.slots())
                .field("addresses_with_connections", census.addressesWithConnections())
                .field("connections", census.connections())
                .field("addresses_with_handshake_debt", census.addressesWithHandshakeDebt())
                .endObject();
        }
        json.endObject();
        json.key("admission").beginObject()
            .field("max_handshake_rate", ctx.maxHandshakeRate())
            .key("admission_wait_seconds").value(ctx.admissionWaitNs() / 1e9)
            .field("admitted_immediately", sum[io.centrigate.metrics.LoopStats.ADMITTED_AT_ONCE])
            .field("admitted_after_wait", sum[io.centrigate.metrics.LoopStats.ADMITTED_AFTER_WAIT])
            .field("refused", sum[io.centrigate.metrics.LoopStats.ADMISSION_REFUSED])
            .field("waiting", sum[io.centrigate.metrics.LoopStats.ADMISSION_WAITING])
            .field("queued", proxy.admissionQueued())
            .endObject();
    }

    private static void addresses(final Json json, final String name, final List<InetSocketAddress> addresses)
    {
        json.key(name).beginArray();
        for (final InetSocketAddress a : addresses)
        {
            json.value(MetricsExport.hostPort(a));
        }
        json.endArray();
    }

    private static void totals(final Json json, final List<LoopSnapshot> loops)
    {
        long sessions = 0, accepted = 0, tunnelsOpened = 0, tunnelsOpen = 0, requests = 0, connects = 0, failures = 0;
        long retries = 0, reuses = 0, waits = 0, allocated = 0, free = 0, goingAway = 0;
        long framesUp = 0, framesDown = 0, bytesUp = 0, bytesDown = 0;
        final Map<String, Long> errors = new java.util.TreeMap<>();
        for (final LoopSnapshot s : loops)
        {
            sessions += s.sessions();
            accepted += s.accepted();
            tunnelsOpened += s.tunnelsOpened();
            tunnelsOpen += s.tunnelsOpen();
            requests += s.requests();
            connects += s.upstreamConnects();
            failures += s.upstreamConnectFailures();
            retries += s.retries();
            reuses += s.keepAliveReuses();
            waits += s.bufferWaits();
            allocated += s.chunksAllocated();
            free += s.chunksFree();
            goingAway += s.goingAwayFrames();
            framesUp += s.framesUp();
            framesDown += s.framesDown();
            bytesUp += s.bytesUp();
            bytesDown += s.bytesDown();
            s.errors().forEach((kind, n) -> errors.merge(kind.toLowerCase(java.util.Locale.ROOT), n, Long::sum));
        }
        json.key("totals").beginObject()
            .field("sessions", sessions)
            .field("connections_accepted", accepted)
            .field("tunnels_opened", tunnelsOpened)
            .field("tunnels_open", tunnelsOpen)
            .field("requests", requests)
            .field("upstream_connects", connects)
            .field("upstream_connect_failures", failures)
            .field("retries", retries)
            .field("keepalive_reuses", reuses)
            .field("buffer_waits", waits)
            .field("buffer_chunks_allocated", allocated)
            .field("buffer_chunks_free", free)
            .field("buffer_chunks_in_use", allocated - free)
            .field("going_away_frames", goingAway)
            .field("frames_up", framesUp)
            .field("frames_down", framesDown)
            .field("bytes_up", bytesUp)
            .field("bytes_down", bytesDown);
        json.key("errors").beginObject();
        errors.forEach(json::field);
        json.endObject().endObject();
    }

    /** DNS discovery: each upstream name with its last good addresses and its lookups by result. */
    private void upstreamNames(final Json json)
    {
        final Map<String, long[]> counts = proxy.resolutions();
        json.key("upstream_names").beginArray();
        for (final Map.Entry<String, List<java.net.InetAddress>> e : proxy.resolvedNames().entrySet())
        {
            json.beginObject().field("name", e.getKey()).key("addresses").beginArray();
            for (final java.net.InetAddress a : e.getValue())
            {
                json.value(a.getHostAddress());
            }
            final long[] c = counts.getOrDefault(e.getKey(), new long[2]);
            json.endArray().field("resolutions_ok", c[0]).field("resolutions_failed", c[1]).endObject();
        }
        json.endArray();
    }

    /** {@link UpstreamGroup#state}, with {@code slow-start} for a usable node still ramping up its share. */
    static String nodeState(final UpstreamGroup group, final int i, final long now)
    {
        final String state = group.state(i, now);
        return UpstreamGroup.UP.equals(state) && group.slowStarting(i, now) ? "slow-start" : state;
    }
}
