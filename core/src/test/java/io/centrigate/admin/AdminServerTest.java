package io.centrigate.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.centrigate.config.ProxyContext;
import io.centrigate.proxy.Proxy;
import io.centrigate.testing.HttpUpstream;
import io.centrigate.testing.RawClient;
import io.centrigate.testing.WsClient;
import io.centrigate.testing.WsEchoUpstream;

/** Issue 12: the admin listener's endpoints against a running proxy, on real loopback sockets. */
@Timeout(120)
class AdminServerTest
{
    private static final InetSocketAddress ANY_PORT = new InetSocketAddress("127.0.0.1", 0);
    private static final List<String> LOOPBACK = ProxyContext.DEFAULT_ADMIN_ALLOW;

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(10)).build();

    private static ProxyContext context(final InetSocketAddress upstream)
    {
        return new ProxyContext().listen(ANY_PORT).loops(2).upstream(upstream);
    }

    private HttpResponse<String> get(final AdminServer admin, final String path) throws Exception
    {
        return send(admin, HttpRequest.newBuilder(uri(admin, path)).GET());
    }

    private HttpResponse<String> send(final AdminServer admin, final HttpRequest.Builder request) throws Exception
    {
        return http.sendAsync(request.timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString())
            .get(30, TimeUnit.SECONDS);
    }

    private static URI uri(final AdminServer admin, final String path)
    {
        return URI.create("http://127.0.0.1:" + admin.boundAddresses().get(0).getPort() + path);
    }

    /**
     * The sum of a sample's values over all its label sets; {@code name{a="b"} } exactly those labels,
     * {@code name{a="b"} (without the closing brace) those and any more. Fails when no line matches.
     */
    static double sum(final String exposition, final String sample)
    {
        final String labels = sample.endsWith("}") ? "()" : sample.contains("{") ? "([^}]*\\})" : "(\\{[^}]*\\})?";
        final Matcher m = Pattern.compile("(?m)^" + Pattern.quote(sample) + labels + " (\\S+)").matcher(exposition);
        double total = 0;
        boolean found = false;
        while (m.find())
        {
            total += Double.parseDouble(m.group(2));
            found = true;
        }
        assertTrue(found, "no sample " + sample + " in:\n" + exposition);
        return total;
    }

    @Test
    void liveReadyStatusAndMetricsCountTunnelsAndRequests() throws Exception
    {
        final int tunnels = 3;
        final int requests = 5;
        try (WsEchoUpstream ws = WsEchoUpstream.start(0); HttpUpstream site = new HttpUpstream();
            Proxy proxy = Proxy.start(context(ws.address()).groupUpstream("site", site.address(), 2)
                .virtualHost("site.test", "site"));
            AdminServer admin = AdminServer.start(proxy, List.of(ANY_PORT), LOOPBACK, "9.9.9-test"))
        {
            final InetSocketAddress proxyAddress = proxy.boundAddresses().get(0);
            final HttpResponse<String> live = get(admin, "/live");
            assertEquals(200, live.statusCode());
            assertEquals("ok\n", live.body());
            final HttpResponse<String> ready = get(admin, "/ready");
            assertEquals(200, ready.statusCode(), ready.body());

            final List<WsClient> clients = new ArrayList<>();
            for (int i = 0; i < tunnels; i++)
            {
                final WsClient client = WsClient.connect(http, proxyAddress, "/connection/websocket");
                assertEquals("hello " + i, client.echoText("hello " + i));
                clients.add(client);
            }
            for (int i = 0; i < requests; i++)
            {
                try (RawClient client = new RawClient(proxyAddress))
                {
                    client.send("GET /page/" + i + " HTTP/1.1\r\nHost: site.test\r\nConnection: close\r\n\r\n");
                    final String answer = client.readAll();
                    assertTrue(answer.startsWith("HTTP/1.1 200 "), answer);
                }
            }

            final HttpResponse<String> metrics = get(admin, "/metrics");
            assertEquals(200, metrics.statusCode());
            assertEquals("text/plain; version=0.0.4; charset=utf-8", metrics.headers().firstValue("Content-Type").orElseThrow());
            final String text = metrics.body();
            assertEquals(tunnels, sum(text, "centrigate_tunnels_opened_total"), text);
            assertEquals(tunnels, sum(text, "centrigate_tunnels_open"), text);
            // Upgrades are requests too.
            assertEquals(tunnels + requests, sum(text, "centrigate_requests_total"), text);
            assertEquals(tunnels, sum(text, "centrigate_node_active_connections{group=\"default\",node=\"127.0.0.1:"
                + ws.address().getPort() + "\"}"), text);
            assertEquals(2, sum(text, "centrigate_node_weight{group=\"site\",node=\"127.0.0.1:"
                + site.address().getPort() + "\"}"), text);
            assertTrue(sum(text, "centrigate_connections_accepted_total") >= tunnels + requests, text);
            assertEquals(1, sum(text, "centrigate_ready"), text);
            assertEquals(1, sum(text, "centrigate_build_info{transport=\"" + proxy.context().transportInUse() +
                "\",version=\"9.9.9-test\"}"), text);
            assertTrue(sum(text, "process_open_fds") > 0, text);
            assertTrue(sum(text, "process_max_fds") > 0, text);
            assertTrue(sum(text, "process_start_time_seconds") > 1.6e9, text);
            assertEquals(0, sum(text, "centrigate_errors_total"), text);
            for (final String family : List.of("centrigate_connections_open", "centrigate_sessions",
                "centrigate_upstream_connects_total", "centrigate_upstream_connect_failures_total", "centrigate_retries_total",
                "centrigate_keepalive_reuses_total", "centrigate_buffer_waits_total", "centrigate_buffer_chunks_in_use",
                "centrigate_buffer_chunks_allocated", "centrigate_buffer_chunks_free", "centrigate_buffer_chunks_limit",
                "centrigate_going_away_frames_total", "centrigate_tunnel_frames_total{direction=\"up\"",
                "centrigate_tunnel_bytes_total{direction=\"down\"", "centrigate_node_up", "centrigate_node_connect_failures_total",
                "centrigate_upstream_pool_reuses_total", "centrigate_upstream_pool_idle", "centrigate_accept_errors_total"))
            {
                assertTrue(text.contains("\n" + family), family + " missing in:\n" + text);
            }

            // Every family docs/metrics.md documents is exported, and every exported family is documented.
            final String docs = java.nio.file.Files.readString(java.nio.file.Path.of("..", "docs", "metrics.md"));
            final java.util.Set<String> documented = new java.util.TreeSet<>();
            final Matcher row = Pattern.compile("(?m)^\\| `([a-z0-9_]+)` \\|").matcher(docs);
            while (row.find())
            {
                documented.add(row.group(1));
            }
            final java.util.Set<String> exported = new java.util.TreeSet<>();
            final Matcher type = Pattern.compile("(?m)^# TYPE (\\S+) ").matcher(text);
            while (type.find())
            {
                exported.add(type.group(1));
            }
            // Only with an upstream given by DNS name (none here; DiscoveryRunTest reads both through the CLI).
            exported.addAll(java.util.List.of("centrigate_upstream_resolutions_total", "centrigate_upstream_name_addresses"));
            assertEquals(documented, exported);

            // The scraper that asks for OpenMetrics gets it, with its # EOF.
            final HttpResponse<String> open = send(admin, HttpRequest.newBuilder(uri(admin, "/metrics"))
                .header("Accept", "application/openmetrics-text; version=1.0.0,text/plain;version=0.0.4;q=0.5"));
            assertEquals(200, open.statusCode());
            assertTrue(open.headers().firstValue("Content-Type").orElseThrow().startsWith("application/openmetrics-text"),
                open.headers().toString());
            assertTrue(open.body().endsWith("# EOF\n"), open.body());
            assertTrue(open.body().contains("# TYPE centrigate_tunnels_opened counter"), open.body());
            assertEquals(tunnels, sum(open.body(), "centrigate_tunnels_opened_total"));

            final HttpResponse<String> status = get(admin, "/status");
            assertEquals(200, status.statusCode());
            assertEquals("application/json", status.headers().firstValue("Content-Type").orElseThrow());
            final String json = status.body();
            assertTrue(json.contains("\"version\":\"9.9.9-test\",\"transport\":\"" +
                proxy.context().transportInUse() + "\""), json);
            assertTrue(json.contains("\"plain\":[\"127.0.0.1:" + proxyAddress.getPort() + "\"]"), json);
            assertTrue(json.contains("\"admin\":[\"127.0.0.1:" + admin.boundAddresses().get(0).getPort() + "\"]"), json);
            assertTrue(json.contains("\"loops\":2"), json);
            assertTrue(json.contains("{\"group\":\"default\",\"nodes\":[{\"address\":\"127.0.0.1:" + ws.address().getPort()
                + "\",\"weight\":1,\"state\":\"up\",\"active_connections\":" + tunnels), json);
            assertTrue(json.contains("{\"group\":\"site\",\"nodes\":[{\"address\":\"127.0.0.1:" + site.address().getPort()
                + "\",\"weight\":2,\"state\":\"up\""), json);
            assertTrue(json.contains("\"tunnels_opened\":" + tunnels + ","), json);
            assertTrue(json.contains("\"requests\":" + (tunnels + requests) + ","), json);
            assertTrue(json.matches("(?s)\\{\"version\".*\"uptime_seconds\":[0-9.]+,.*\\}\n"), json);

            for (final WsClient client : clients)
            {
                client.socket().sendClose(1000, "bye");
                client.closed().get(20, TimeUnit.SECONDS);
            }
        }
    }

    /** Connections are counted per listener, also when an acceptor loop hands them to another loop. */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.EnumSource(ProxyContext.AcceptMode.class)
    void connectionsAreCountedPerListener(final ProxyContext.AcceptMode mode) throws Exception
    {
        try (WsEchoUpstream ws = WsEchoUpstream.start(0);
            Proxy proxy = Proxy.start(new ProxyContext().listen(ANY_PORT).listen(ANY_PORT).loops(2).acceptMode(mode)
                .upstream(ws.address()));
            AdminServer admin = AdminServer.start(proxy, List.of(ANY_PORT), LOOPBACK, "test"))
        {
            final InetSocketAddress a = proxy.boundAddresses().get(0);
            final InetSocketAddress b = proxy.boundAddresses().get(1);
            final String la = "listener=\"127.0.0.1:" + a.getPort() + "\"";
            final String lb = "listener=\"127.0.0.1:" + b.getPort() + "\"";
            final List<java.net.Socket> clients = new ArrayList<>();
            try
            {
                for (int i = 0; i < 5; i++)
                {
                    clients.add(new java.net.Socket(a.getAddress(), (i < 3 ? a : b).getPort()));
                }
                String text = get(admin, "/metrics").body();
                final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                while (MetricsCountingTest.value(text, "centrigate_sessions") < 5 && System.nanoTime() < deadline)
                {
                    Thread.sleep(20);
                    text = get(admin, "/metrics").body();
                }
                assertEquals(3, MetricsCountingTest.value(text, "centrigate_connections_accepted_total", la), text);
                assertEquals(2, MetricsCountingTest.value(text, "centrigate_connections_accepted_total", lb), text);
                assertEquals(3, MetricsCountingTest.value(text, "centrigate_sessions", la), text);
                assertEquals(2, MetricsCountingTest.value(text, "centrigate_sessions", lb), text);
            }
            finally
            {
                for (final java.net.Socket c : clients)
                {
                    c.close();
                }
            }
            String text = get(admin, "/metrics").body();
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (MetricsCountingTest.value(text, "centrigate_sessions") > 0 && System.nanoTime() < deadline)
            {
                Thread.sleep(20);
                text = get(admin, "/metrics").body();
            }
            assertEquals(0, MetricsCountingTest.value(text, "centrigate_sessions", la), text);
            assertEquals(3, MetricsCountingTest.value(text, "centrigate_connections_accepted_total", la), text);
        }
    }

    /** A scrape is a burst of work on the admin thread: it runs at a lower priority than the loops (nice). */
    @Test
    void theAdminThreadRunsBelowTheLoopsPriority() throws Exception
    {
        org.junit.jupiter.api.Assumptions.assumeTrue(java.nio.file.Files.isDirectory(java.nio.file.Path.of("/proc/self/task")),
            "Linux only");
        try (WsEchoUpstream ws = WsEchoUpstream.start(0); Proxy proxy = Proxy.start(context(ws.address()));
            AdminServer admin = AdminServer.start(proxy, List.of(ANY_PORT), LOOPBACK, "test"))
        {
            // The thread lowers its class before it serves anything: once /live answered, it is done.
            assertEquals(200, get(admin, "/live").statusCode());
            final java.util.Map<String, Integer> policyByThread = new java.util.TreeMap<>();
            try (java.util.stream.Stream<java.nio.file.Path> tasks = java.nio.file.Files.list(java.nio.file.Path.of("/proc/self/task")))
            {
                for (final java.nio.file.Path task : (Iterable<java.nio.file.Path>)tasks::iterator)
                {
                    try
                    {
                        final String name = java.nio.file.Files.readString(task.resolve("comm")).trim();
                        if (name.startsWith("centrigate-"))
                        {
                            policyByThread.merge(name, io.centrigate.loop.BackgroundPriority.policyOf(
                                Long.parseLong(task.getFileName().toString())), Math::min);
                        }
                    }
                    catch (final java.nio.file.NoSuchFileException ended)
                    {
                        // A thread (of an earlier test, or a client) that ended while the list was read.
                    }
                }
            }
            // Thread names are cut to 15 characters in /proc.
            assertEquals(io.centrigate.loop.BackgroundPriority.SCHED_IDLE, policyByThread.get("centrigate-admi"), policyByThread.toString());
            assertEquals(0, policyByThread.get("centrigate-loop"), policyByThread.toString());
        }
    }

    @Test
    void headHasNoBodyUnknownPathsAre404OtherMethods405() throws Exception
    {
        try (WsEchoUpstream ws = WsEchoUpstream.start(0); Proxy proxy = Proxy.start(context(ws.address()));
            AdminServer admin = AdminServer.start(proxy, List.of(ANY_PORT), LOOPBACK, "test"))
        {
            final HttpResponse<String> head = send(admin, HttpRequest.newBuilder(uri(admin, "/live"))
                .method("HEAD", HttpRequest.BodyPublishers.noBody()));
            assertEquals(200, head.statusCode());
            assertEquals("", head.body());
            assertEquals(404, get(admin, "/nothing").statusCode());
            assertEquals(404, get(admin, "/favicon.ico").statusCode());
            final HttpResponse<String> post = send(admin, HttpRequest.newBuilder(uri(admin, "/ready"))
                .POST(HttpRequest.BodyPublishers.ofString("x")));
            assertEquals(405, post.statusCode());
            assertEquals("GET, HEAD", post.headers().firstValue("Allow").orElseThrow());
            // A query string does not change the path.
            assertEquals(200, get(admin, "/live?verbose=1").statusCode());
            // A head larger than the limit is refused, not buffered.
            try (RawClient raw = new RawClient(admin.boundAddresses().get(0)))
            {
                raw.send("GET /live HTTP/1.1\r\nX-Big: " + "a".repeat(AdminServer.MAX_HEAD_BYTES) + "\r\n\r\n");
                final String answer = raw.readHead();
                assertTrue(answer.startsWith("HTTP/1.1 431 "), answer);
            }
        }
    }

    @Test
    void theStatsPageIsOneSelfContainedFileUnderAStrictPolicy() throws Exception
    {
        try (WsEchoUpstream ws = WsEchoUpstream.start(0); Proxy proxy = Proxy.start(context(ws.address()));
            AdminServer admin = AdminServer.start(proxy, List.of(ANY_PORT), LOOPBACK, "test"))
        {
            for (final String path : List.of("/", "/index.html", "/?refresh=1"))
            {
                final HttpResponse<String> page = get(admin, path);
                assertEquals(200, page.statusCode(), path);
                assertEquals("text/html; charset=utf-8", page.headers().firstValue("Content-Type").orElseThrow());
                assertEquals("no-store", page.headers().firstValue("Cache-Control").orElseThrow());
                final String csp = page.headers().firstValue("Content-Security-Policy").orElseThrow();
                assertTrue(csp.startsWith("default-src 'none'; ") && csp.contains("connect-src 'self'") &&
                    csp.contains("script-src 'unsafe-inline'") && csp.contains("style-src 'unsafe-inline'"), csp);
                assertTrue(page.body().startsWith("<!DOCTYPE html>") && page.body().contains("fetch(\"/status\""),
                    page.body());
                // Nothing loaded from elsewhere: no external script, style, font or image.
                for (final String external : List.of("http://", "https://", "src=", "href=", "@import", "url("))
                {
                    assertTrue(!page.body().contains(external), "the page references " + external);
                }
            }
            final HttpResponse<String> head = send(admin, HttpRequest.newBuilder(uri(admin, "/"))
                .method("HEAD", HttpRequest.BodyPublishers.noBody()));
            assertEquals(200, head.statusCode());
            assertEquals("", head.body());
            assertEquals(405, send(admin, HttpRequest.newBuilder(uri(admin, "/"))
                .POST(HttpRequest.BodyPublishers.ofString("x"))).statusCode());
        }
    }

    @Test
    void aPeerOutsideTheAllowListGets403() throws Exception
    {
        try (WsEchoUpstream ws = WsEchoUpstream.start(0); Proxy proxy = Proxy.start(context(ws.address()));
            AdminServer admin = AdminServer.start(proxy, List.of(ANY_PORT), List.of("10.0.0.0/8"), "test"))
        {
            for (final String path : List.of("/live", "/ready", "/status", "/metrics", "/nothing"))
            {
                final HttpResponse<String> answer = get(admin, path);
                assertEquals(403, answer.statusCode(), path);
                assertTrue(answer.body().startsWith("forbidden"), answer.body());
            }
        }
    }

    @Test
    void notReadyWhenTheOnlyNodeRefused() throws Exception
    {
        final InetSocketAddress refusing;
        try (ServerSocket closed = new ServerSocket(0, 1, InetAddress.getLoopbackAddress()))
        {
            refusing = new InetSocketAddress("127.0.0.1", closed.getLocalPort());
        }
        try (Proxy proxy = Proxy.start(context(refusing).failTimeoutNs(TimeUnit.MINUTES.toNanos(5)));
            AdminServer admin = AdminServer.start(proxy, List.of(ANY_PORT), LOOPBACK, "test"))
        {
            // Nothing is known about the node yet: ready.
            assertEquals(200, get(admin, "/ready").statusCode());
            try (RawClient client = new RawClient(proxy.boundAddresses().get(0)))
            {
                client.send("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
                final String answer = client.readAll();
                assertTrue(answer.startsWith("HTTP/1.1 502 "), answer);
            }
            final HttpResponse<String> ready = get(admin, "/ready");
            assertEquals(503, ready.statusCode());
            assertEquals("no usable node\n", ready.body());
            assertEquals(200, get(admin, "/live").statusCode());
            final String json = get(admin, "/status").body();
            assertTrue(json.contains("\"state\":\"ejected\""), json);
            assertTrue(json.contains("\"not_ready_reason\":\"no usable node\""), json);
            final String text = get(admin, "/metrics").body();
            assertEquals(0, sum(text, "centrigate_node_up"), text);
            assertEquals(1, sum(text, "centrigate_node_connect_failures_total"), text);
            assertEquals(0, sum(text, "centrigate_ready"), text);
            assertEquals(1, sum(text, "centrigate_errors_total{kind=\"upstream_unavailable\""), text);
        }
    }

    @Test
    void drainingTurnsReadyTo503BeforeTheListenersCloseWhileLiveStays200() throws Exception
    {
        try (WsEchoUpstream ws = WsEchoUpstream.start(0);
            Proxy proxy = Proxy.start(context(ws.address()));
            AdminServer admin = AdminServer.start(proxy, List.of(ANY_PORT), LOOPBACK, "test"))
        {
            final InetSocketAddress proxyAddress = proxy.boundAddresses().get(0);
            final WsClient tunnel = WsClient.connect(http, proxyAddress, "/connection/websocket");
            assertEquals(200, get(admin, "/ready").statusCode());
            // Proxy.shutdown's first step, alone: readiness goes while the listeners still take clients.
            proxy.beginDrain();
            final HttpResponse<String> ready = get(admin, "/ready");
            assertEquals(503, ready.statusCode());
            assertEquals("draining\n", ready.body());
            final WsClient late = WsClient.connect(http, proxyAddress, "/connection/websocket");
            assertEquals("still served", late.echoText("still served"));
            late.socket().sendClose(1000, "bye");
            late.closed().get(20, TimeUnit.SECONDS);

            // The whole shutdown, with a tunnel open: draining, still live, until the proxy is closed.
            // On a thread of its own: the shutdown blocks for the whole drain, and in the common pool (one worker
            // on 2 cores) it starves whatever else uses that pool, the HttpClient's completions on JDK 25 included.
            final CompletableFuture<Void> shutdown = CompletableFuture.runAsync(
                () -> proxy.shutdown(TimeUnit.SECONDS.toNanos(60)), r -> new Thread(r, "test-shutdown").start());
            assertEquals(503, get(admin, "/ready").statusCode());
            assertEquals(200, get(admin, "/live").statusCode());
            assertTrue(get(admin, "/status").body().contains("\"draining\":true"));
            assertTrue(!shutdown.isDone(), "the open tunnel holds the drain");
            assertEquals("during drain", tunnel.echoText("during drain"));
            tunnel.socket().sendClose(1000, "bye");
            tunnel.closed().get(20, TimeUnit.SECONDS);
            shutdown.get(60, TimeUnit.SECONDS);
            assertEquals(503, get(admin, "/ready").statusCode());
            assertEquals(200, get(admin, "/live").statusCode());
        }
    }

    @Test
    void anAdminAddressThatCannotBindFailsNamingIt() throws Exception
    {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
            WsEchoUpstream ws = WsEchoUpstream.start(0); Proxy proxy = Proxy.start(context(ws.address())))
        {
            final InetSocketAddress address = new InetSocketAddress("127.0.0.1", taken.getLocalPort());
            final IOException e = assertThrows(IOException.class,
                () -> AdminServer.start(proxy, List.of(ANY_PORT, address), LOOPBACK, "test"));
            assertTrue(e.getMessage().startsWith("cannot listen on admin 127.0.0.1:" + taken.getLocalPort() + ": "),
                e.getMessage());
        }
    }
}
