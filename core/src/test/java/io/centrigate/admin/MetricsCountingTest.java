package io.centrigate.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
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

/**
 * Issue 12, metrics step 2: what the loops count per node, per outcome, per close code and in the histograms,
 * against real loopback peers: two WebSocket nodes, a node that answers an upgrade 403, a refused node, and an
 * HTTP node.
 */
@Timeout(120)
class MetricsCountingTest
{
    private static final InetSocketAddress ANY_PORT = new InetSocketAddress("127.0.0.1", 0);

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(10)).build();

    private String get(final AdminServer admin, final String path) throws Exception
    {
        final HttpResponse<String> r = http.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" +
            admin.boundAddresses().get(0).getPort() + path)).timeout(Duration.ofSeconds(20)).GET().build(),
            HttpResponse.BodyHandlers.ofString()).get(30, TimeUnit.SECONDS);
        assertEquals(200, r.statusCode(), r.body());
        return r.body();
    }

    /** The sum over every sample of {@code name} whose labels contain all of {@code labels}; 0 when none. */
    static double value(final String text, final String name, final String... labels)
    {
        final Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + "(\\{[^}]*\\})? (\\S+)$").matcher(text);
        double total = 0;
        while (m.find())
        {
            final String set = m.group(1) == null ? "" : m.group(1);
            boolean all = true;
            for (final String l : labels)
            {
                all &= set.contains(l);
            }
            if (all)
            {
                total += Double.parseDouble(m.group(2));
            }
        }
        return total;
    }

    private static String node(final InetSocketAddress a)
    {
        return "node=\"127.0.0.1:" + a.getPort() + "\"";
    }

    private String awaitMetrics(final AdminServer admin, final Predicate<String> done) throws Exception
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        String text = get(admin, "/metrics");
        while (!done.test(text) && System.nanoTime() < deadline)
        {
            Thread.sleep(50);
            text = get(admin, "/metrics");
        }
        return text;
    }

    private static boolean answer(final HttpUpstream.Request r, final OutputStream out) throws Exception
    {
        if (r.requestLine().contains("/missing"))
        {
            out.write("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            return true;
        }
        return HttpUpstream.echo(r, out);
    }

    @Test
    void handshakesRequestsHistogramsAndCloseCodesAreCountedPerNode() throws Exception
    {
        // Issue 12, acceptance 1: 300 tunnels and 1,000 HTTP requests.
        final int tunnels = 300;
        final int gets = 700;
        final int posts = 250;
        final int missing = 50;
        final InetSocketAddress refused;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress()))
        {
            refused = new InetSocketAddress("127.0.0.1", s.getLocalPort());
        }
        try (WsEchoUpstream a = WsEchoUpstream.start(0); WsEchoUpstream b = WsEchoUpstream.start(0);
            HttpUpstream denied = new HttpUpstream().handler((r, out) ->
            {
                out.write("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
                out.flush();
                return false;
            });
            HttpUpstream site = new HttpUpstream().handler(MetricsCountingTest::answer);
            Proxy proxy = Proxy.start(new ProxyContext().listen(ANY_PORT).loops(2).upstream(a.address())
                .upstream(b.address())
                .groupUpstream("site", site.address(), 1).virtualHost("site.test", "site")
                .groupUpstream("denied", denied.address(), 1).virtualHost("denied.test", "denied")
                .groupUpstream("dead", refused, 1).virtualHost("dead.test", "dead"));
            AdminServer admin = AdminServer.start(proxy, List.of(ANY_PORT), ProxyContext.DEFAULT_ADMIN_ALLOW, "test"))
        {
            final InetSocketAddress proxyAddress = proxy.boundAddresses().get(0);
            final List<WsClient> clients = new ArrayList<>();
            for (int i = 0; i < tunnels; i++)
            {
                final WsClient client = WsClient.connect(http, proxyAddress, "/connection/websocket");
                assertEquals("hi " + i, client.echoText("hi " + i));
                clients.add(client);
            }
            for (int i = 0; i < gets + posts + missing; i++)
            {
                try (RawClient client = new RawClient(proxyAddress))
                {
                    final String request = i < gets ? "GET /page/" + i + " HTTP/1.1\r\nHost: site.test\r\n\r\n" :
                        i < gets + posts ? "POST /p HTTP/1.1\r\nHost: site.test\r\nContent-Length: 2\r\n\r\nhi" :
                        "GET /missing HTTP/1.1\r\nHost: site.test\r\n\r\n";
                    client.send(request.replace("\r\n\r\n", "\r\nConnection: close\r\n\r\n"));
                    final String answer = client.readAll();
                    assertTrue(answer.startsWith(i < gets + posts ? "HTTP/1.1 200 " : "HTTP/1.1 404 "), answer);
                }
            }
            try (RawClient client = new RawClient(proxyAddress))
            {
                client.send(RawClient.upgradeRequest(RawClient.newKey(), "").replace("centrifugo.example.com",
                    "denied.test"));
                final String answer = client.readAll();
                assertTrue(answer.startsWith("HTTP/1.1 403 "), answer);
            }
            try (RawClient client = new RawClient(proxyAddress))
            {
                client.send(RawClient.upgradeRequest(RawClient.newKey(), "").replace("centrifugo.example.com",
                    "dead.test"));
                final String answer = client.readAll();
                assertTrue(answer.startsWith("HTTP/1.1 502 "), answer);
            }

            // While the tunnels are open.
            String text = get(admin, "/metrics");
            assertEquals(tunnels, value(text, "centrigate_node_tunnels", "group=\"default\""), text);
            assertTrue(value(text, "centrigate_node_tunnels", node(a.address())) > 0, text);
            assertTrue(value(text, "centrigate_node_tunnels", node(b.address())) > 0, text);
            assertEquals(tunnels, value(text, "centrigate_handshakes_total", "group=\"default\"", "outcome=\"101\""), text);
            assertEquals(tunnels, value(text, "centrigate_handshakes_total", "group=\"default\""), text);
            assertEquals(1, value(text, "centrigate_handshakes_total", "group=\"denied\"", node(denied.address()),
                "outcome=\"upstream_4xx\""), text);
            assertEquals(1, value(text, "centrigate_handshakes_total", "group=\"denied\""), text);
            assertEquals(1, value(text, "centrigate_handshakes_total", "group=\"dead\"", node(refused),
                "outcome=\"connect_refused\""), text);
            assertEquals(1, value(text, "centrigate_handshakes_total", "group=\"dead\"", "node=\"none\"",
                "outcome=\"answered_502\""), text);
            assertEquals(2, value(text, "centrigate_handshakes_total", "group=\"dead\""), text);
            assertEquals(1, value(text, "centrigate_node_errors_total", node(refused)), text);
            assertEquals(gets, value(text, "centrigate_http_requests_total", node(site.address()), "method=\"GET\"",
                "code=\"2xx\""), text);
            assertEquals(posts, value(text, "centrigate_http_requests_total", node(site.address()), "method=\"POST\"",
                "code=\"2xx\""), text);
            assertEquals(missing, value(text, "centrigate_http_requests_total", node(site.address()), "method=\"GET\"",
                "code=\"4xx\""), text);
            assertEquals(gets + posts + missing, value(text, "centrigate_http_requests_total"), text);
            assertEquals(0, value(text, "centrigate_node_requests_active"), text);
            assertEquals(tunnels, value(text, "centrigate_upgrade_seconds_count"), text);
            assertEquals(gets + posts + missing, value(text, "centrigate_http_response_seconds_count"), text);
            assertEquals(value(text, "centrigate_upstream_connects_total") -
                value(text, "centrigate_upstream_connect_failures_total"),
                value(text, "centrigate_upstream_connect_seconds_count"), text);
            assertEquals(value(text, "centrigate_upgrade_seconds_count"),
                value(text, "centrigate_upgrade_seconds_bucket", "le=\"+Inf\""), text);
            assertTrue(value(text, "centrigate_upgrade_seconds_bucket", "le=\"10.0\"") == tunnels, text);
            assertEquals(0, value(text, "centrigate_tunnel_lifetime_seconds_count"), text);
            assertTrue(value(text, "centrigate_loop_iterations_total") > 0, text);
            assertTrue(value(text, "centrigate_loop_wakeups_total") > 0, text);
            assertTrue(value(text, "centrigate_loop_busy_seconds_total") > 0, text);
            assertTrue(text.contains("\ncentrigate_loop_command_queue_depth{"), text);
            assertEquals(0, value(text, "centrigate_reloads_total"), text);

            final String status = get(admin, "/status");
            final Matcher tunnelsField = Pattern.compile("\"tunnels\":(\\d+)").matcher(status);
            int statusTunnels = 0;
            while (tunnelsField.find())
            {
                statusTunnels += Integer.parseInt(tunnelsField.group(1));
            }
            assertEquals(tunnels, statusTunnels, status);
            assertTrue(status.contains("{\"address\":\"127.0.0.1:" + site.address().getPort() + "\",\"weight\":1,"
                + "\"state\":\"up\",\"active_connections\":0,\"connect_failures\":0,\"tunnels\":0,\"requests_active\":0,"
                + "\"handshakes_total\":0,\"requests_total\":" + (gets + posts + missing) + ","), status);
            assertTrue(status.contains("\"last_reload\":null"), status);
            assertTrue(status.contains("\"loop_stats\":[{\"loop\":\"centrigate-loop-0\",\"iterations\":"), status);

            // Close codes: the client closes with 4001 and 1000, the node with 3001.
            for (int i = 0; i < tunnels; i++)
            {
                final WsClient client = clients.get(i);
                if (i < 3)
                {
                    client.socket().sendClose(4001, "four");
                }
                else if (i < 5)
                {
                    client.socket().sendClose(1000, "bye");
                }
                else
                {
                    client.socket().sendText("close:3001", true).get(20, TimeUnit.SECONDS);
                }
                client.closed().get(20, TimeUnit.SECONDS);
            }
            // The lifetime histogram is read live at the scrape, the counters come from the loops' snapshot taken
            // just before: a tunnel closed in between is in the first and still open in the second. Wait for both.
            text = awaitMetrics(admin, t -> value(t, "centrigate_tunnel_lifetime_seconds_count") == tunnels &&
                value(t, "centrigate_node_tunnels") == 0 && value(t, "centrigate_tunnels_open") == 0);
            assertEquals(tunnels, value(text, "centrigate_tunnel_lifetime_seconds_count"), text);
            assertEquals(tunnels, value(text, "centrigate_tunnel_lifetime_seconds_bucket", "le=\"+Inf\""), text);
            assertEquals(0, value(text, "centrigate_node_tunnels"), text);
            assertEquals(3, value(text, "centrigate_close_frames_total", "direction=\"up\"", "code=\"4001\""), text);
            assertEquals(3, value(text, "centrigate_close_frames_total", "direction=\"down\"", "code=\"4001\""), text);
            assertTrue(value(text, "centrigate_close_frames_total", "direction=\"up\"", "code=\"1000\"") >= 2, text);
            assertEquals(tunnels - 5, value(text, "centrigate_close_frames_total", "direction=\"down\"", "code=\"3001\""),
                text);
            assertTrue(value(text, "centrigate_node_tunnel_bytes_total", "direction=\"up\"") > 0, text);
            assertTrue(value(text, "centrigate_node_tunnel_bytes_total", "direction=\"down\"") > 0, text);

            final String after = get(admin, "/status");
            // Both directions of a node: its own 3001s and the clients' answers to them.
            final Matcher codes3001 = Pattern.compile("\"3001\":(\\d+)").matcher(after);
            int sum3001 = 0;
            while (codes3001.find())
            {
                sum3001 += Integer.parseInt(codes3001.group(1));
            }
            assertEquals(2 * (tunnels - 5), sum3001, after);
            assertTrue(Pattern.compile("\"close_codes\":\\{[^}]*\"4001\":").matcher(after).find(), after);
        }
    }

    /** Tunnels live for hours: their bytes and frames count as they pass, not when the tunnel ends. */
    @Test
    void trafficOfOpenTunnelsIsCountedAsItPasses() throws Exception
    {
        try (WsEchoUpstream ws = WsEchoUpstream.start(0);
            Proxy proxy = Proxy.start(new ProxyContext().listen(ANY_PORT).loops(1).upstream(ws.address()));
            AdminServer admin = AdminServer.start(proxy, List.of(ANY_PORT), ProxyContext.DEFAULT_ADMIN_ALLOW, "test"))
        {
            final WsClient client = WsClient.connect(http, proxy.boundAddresses().get(0), "/connection/websocket");
            final int messages = 10;
            final String payload = "x".repeat(100);
            for (int i = 0; i < messages; i++)
            {
                assertEquals(payload, client.echoText(payload));
            }
            // Each echo came back through the proxy, so both directions were counted before this scrape.
            final String text = get(admin, "/metrics");
            // Client to node: masked text frames (2 header bytes, 4 of mask, 100 of payload); back: unmasked (2 + 100).
            assertEquals(messages, value(text, "centrigate_tunnel_frames_total", "direction=\"up\""), text);
            assertEquals(messages * 106, value(text, "centrigate_tunnel_bytes_total", "direction=\"up\""), text);
            assertEquals(messages, value(text, "centrigate_tunnel_frames_total", "direction=\"down\""), text);
            assertEquals(messages * 102, value(text, "centrigate_tunnel_bytes_total", "direction=\"down\""), text);
            assertEquals(messages * 106, value(text, "centrigate_node_tunnel_bytes_total", node(ws.address()),
                "direction=\"up\""), text);
            assertEquals(messages * 102, value(text, "centrigate_node_tunnel_bytes_total", node(ws.address()),
                "direction=\"down\""), text);
            assertEquals(1, value(text, "centrigate_tunnels_open"), text);
            client.socket().sendClose(1000, "bye");
            client.closed().get(20, TimeUnit.SECONDS);
            // Closing adds the close frames and nothing twice.
            final String after = awaitMetrics(admin, t -> value(t, "centrigate_tunnels_open") == 0);
            assertEquals(messages + 1, value(after, "centrigate_tunnel_frames_total", "direction=\"up\""), after);
            assertTrue(value(after, "centrigate_tunnel_bytes_total", "direction=\"up\"") < messages * 106 + 40, after);
        }
    }

    @Test
    void reloadsAreCountedOkAndFailed() throws Exception
    {
        try (WsEchoUpstream a = WsEchoUpstream.start(0);
            Proxy proxy = Proxy.start(new ProxyContext().listen(ANY_PORT).loops(1).upstream(a.address()));
            AdminServer admin = AdminServer.start(proxy, List.of(ANY_PORT), ProxyContext.DEFAULT_ADMIN_ALLOW, "test"))
        {
            final InetSocketAddress proxyAddress = proxy.boundAddresses().get(0);
            final WsClient before = WsClient.connect(http, proxyAddress, "/connection/websocket");
            assertEquals("x", before.echoText("x"));
            // Same group and nodes: per-node counters carry on, the open tunnel stays counted.
            proxy.reload(new ProxyContext().listen(ANY_PORT).loops(1).upstream(a.address()));
            proxy.reloadFailed(List.of("line 3: unknown option"));
            final String text = get(admin, "/metrics");
            assertEquals(1, value(text, "centrigate_reloads_total", "result=\"ok\""), text);
            assertEquals(1, value(text, "centrigate_reloads_total", "result=\"failed\""), text);
            assertTrue(value(text, "centrigate_last_reload_timestamp_seconds") > 1.6e9, text);
            assertEquals(1, value(text, "centrigate_node_tunnels", node(a.address())), text);
            final String status = get(admin, "/status");
            assertTrue(status.contains("\"ok\":false,\"errors\":[\"line 3: unknown option\"]"), status);
            before.socket().sendClose(1000, "bye");
            before.closed().get(20, TimeUnit.SECONDS);
        }
    }
}
