package io.centrigate.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import io.centrigate.testing.ReconnectingClients;
import io.centrigate.testing.WsEchoUpstream;

/**
 * Issue 13, acceptance 4: a node drained on the admin listener of the real process loses all its tunnels, each
 * closed with 1012 at a frame boundary (the JDK client library sees a clean close, never a protocol error), at
 * the configured rate; the endpoints want the bearer token; undrain and a new weight show in /status and metrics.
 */
@Timeout(150)
class NodeDrainRunTest
{
    private static final Pattern LISTEN = Pattern.compile(" listening on 127\\.0\\.0\\.1:(\\d+) ");
    private static final Pattern ADMIN = Pattern.compile(" admin 127\\.0\\.0\\.1:(\\d+) ");
    private static final int CLIENTS = 300;
    private static final int RATE = 40;
    private static final String TOKEN = "s3cret-token";

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(10)).build();

    @TempDir
    Path dir;

    @Test
    void drainMovesEveryTunnelOffTheNodeWith1012AtTheRateAndNeedsTheToken() throws Exception
    {
        final Path tokenFile = dir.resolve("token");
        Files.writeString(tokenFile, TOKEN + "\n");
        final Path accessLog = dir.resolve("access.log");
        try (WsEchoUpstream a = WsEchoUpstream.start(0);
            WsEchoUpstream b = WsEchoUpstream.start(0);
            CentrigateProcess proxy = CentrigateProcess.start(Map.of("CENTRIGATE_REBALANCE", "on"), "run",
                "--rebalance-threshold", "10", "--rebalance-settle", "1s", "--rebalance-min-age", "1s",
                "--listen", "127.0.0.1:0", "--loops", "2",
                "--upstream", "127.0.0.1:" + a.address().getPort() + ",127.0.0.1:" + b.address().getPort(),
                "--admin-listen", "127.0.0.1:0", "--admin-token-file", tokenFile.toString(),
                "--rebalance-rate", String.valueOf(RATE), "--access-log", accessLog.toString()))
        {
            final String line = proxy.awaitLine("centrigate ");
            final int listen = port(LISTEN, line);
            final int admin = port(ADMIN, line);
            final String nodeA = "127.0.0.1:" + a.address().getPort();
            final String drainA = "/upstreams/default/nodes/" + nodeA + "/drain";

            assertEquals(401, post(admin, drainA, null).statusCode(), "no token");
            assertEquals(403, post(admin, drainA, "wrong").statusCode(), "wrong token");
            assertEquals(405, get(admin, drainA).statusCode(), "GET changes nothing");
            assertEquals(404, post(admin, "/upstreams/default/nodes/127.0.0.1:1/drain", TOKEN).statusCode());
            assertEquals(404, post(admin, "/upstreams/nope/nodes/" + nodeA + "/drain", TOKEN).statusCode());
            assertTrue(get(admin, "/status").body().contains("\"address\":\"" + nodeA + "\",\"weight\":1,\"state\":\"up\""));

            try (ReconnectingClients clients = new ReconnectingClients(
                URI.create("ws://127.0.0.1:" + listen + "/connection/websocket"), CLIENTS))
            {
                clients.start(100, 1000, 10, 64 * 1024);
                await(() -> clients.open() == CLIENTS && a.openNow() + b.openNow() == CLIENTS, "all clients open");
                final int onA = a.openNow();
                assertTrue(onA > CLIENTS / 4, "least-conn spread the clients: " + onA + " on A");
                await(() -> clients.echoes() > CLIENTS, "traffic flows");

                final long drainedAt = System.nanoTime();
                final HttpResponse<String> drained = post(admin, drainA, TOKEN);
                assertEquals(200, drained.statusCode(), drained.body());
                assertTrue(drained.body().contains("\"state\":\"draining\""), drained.body());
                await(() -> a.openNow() == 0 && clients.open() == CLIENTS && b.openNow() == CLIENTS,
                    "every tunnel moved off the drained node");

                final List<ReconnectingClients.Close> closes = clients.closes();
                assertEquals(onA, closes.size(), "one close per tunnel the node had");
                assertTrue(closes.stream().allMatch(c -> c.code() == 1012), "only 1012: " + closes);
                assertEquals(List.of(), clients.errors(), "no protocol error in the client library");
                assertEquals(0, clients.handshakeFailures(), () -> "why: " + clients.handshakeFailureReasons());
                // Rate: at most RATE a second plus the bucket (one tick's worth and one), with slack for the
                // clients' receipt times bunching on a busy box.
                final int perTwoSeconds = clients.maxClosesInWindow(1012, drainedAt, TimeUnit.SECONDS.toNanos(2));
                assertTrue(perTwoSeconds <= 2 * RATE + RATE / 10 + 1 + RATE / 4,
                    "closes in a 2 s window: " + perTwoSeconds + " at --rebalance-rate " + RATE);

                final String metrics = get(admin, "/metrics").body();
                assertEquals(onA, sample(metrics, "centrigate_rebalance_closes_total{group=\"default\",node=\"" + nodeA +
                    "\",reason=\"drain\"}"), metrics);
                assertEquals(1, sample(metrics, "centrigate_node_draining{group=\"default\",node=\"" + nodeA + "\"}"));
                final String status = get(admin, "/status").body();
                assertTrue(status.contains("\"address\":\"" + nodeA + "\",\"weight\":1,\"state\":\"draining\""), status);
                assertTrue(status.contains("\"drained\":true,\"rebalance_closes_total\":0,\"drain_closes_total\":" + onA),
                    status);
                await(() -> countLines(accessLog, "\"close_down\":{\"code\":1012,\"by\":\"proxy\"}") == onA,
                    "an access log line per moved tunnel with the proxy's 1012");
                assertEquals(onA, countLines(accessLog, "\"end\":\"node_drain\""));

                // Weight 3 and undrain: the empty node's share is now three quarters, and rebalancing (on, with a
                // short settle and minimum age here) moves B's excess back to it; least-conn weighs the picks.
                assertEquals(400, post(admin, "/upstreams/default/nodes/" + nodeA + "/weight?value=0", TOKEN).statusCode());
                assertEquals(200, post(admin, "/upstreams/default/nodes/" + nodeA + "/weight?value=3", TOKEN).statusCode());
                final long undrainedAt = System.nanoTime();
                assertEquals(200, post(admin, "/upstreams/default/nodes/" + nodeA + "/undrain", TOKEN).statusCode());
                assertTrue(get(admin, "/status").body().contains("\"address\":\"" + nodeA +
                    "\",\"weight\":3,\"state\":\"up\""));
                await(() -> a.openNow() == CLIENTS * 3 / 4 && clients.open() == CLIENTS,
                    "rebalanced to the weighted shares 3:1");
                assertTrue(clients.closes().stream().allMatch(c -> c.code() == 1012));
                assertEquals(List.of(), clients.errors(), "no protocol error in the client library");
                final int moveBack = clients.maxClosesInWindow(1012, undrainedAt, TimeUnit.SECONDS.toNanos(2));
                assertTrue(moveBack <= 2 * RATE + RATE / 10 + 1 + RATE / 4, "closes in a 2 s window: " + moveBack);
                final String after = get(admin, "/metrics").body();
                assertEquals(3, sample(after, "centrigate_node_weight{group=\"default\",node=\"" + nodeA + "\"}"));
                assertEquals(0, sample(after, "centrigate_node_draining{group=\"default\",node=\"" + nodeA + "\"}"));
                assertEquals(CLIENTS * 3 / 4, sample(after, "centrigate_rebalance_closes_total{group=\"default\",node=\"127.0.0.1:" +
                    b.address().getPort() + "\",reason=\"rebalance\"}"), after);
            }
        }
    }

    private static long countLines(final Path file, final String fragment)
    {
        try
        {
            return Files.exists(file) ? Files.readAllLines(file).stream().filter(l -> l.contains(fragment)).count() : 0;
        }
        catch (final java.io.IOException e)
        {
            return -1;
        }
    }

    private static void await(final BooleanSupplier condition, final String what) throws InterruptedException
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!condition.getAsBoolean())
        {
            if (System.nanoTime() - deadline > 0)
            {
                throw new AssertionError("timed out waiting: " + what);
            }
            Thread.sleep(50); // polling a condition, bounded by the deadline
        }
    }

    private HttpResponse<String> get(final int port, final String path) throws Exception
    {
        return http.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString()).get(30, TimeUnit.SECONDS);
    }

    private HttpResponse<String> post(final int port, final String path, final String token) throws Exception
    {
        final HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .timeout(Duration.ofSeconds(20)).POST(HttpRequest.BodyPublishers.noBody());
        if (token != null)
        {
            b.header("Authorization", "Bearer " + token);
        }
        return http.sendAsync(b.build(), HttpResponse.BodyHandlers.ofString()).get(30, TimeUnit.SECONDS);
    }

    private static int port(final Pattern pattern, final String line)
    {
        final Matcher m = pattern.matcher(line);
        assertTrue(m.find(), line);
        return Integer.parseInt(m.group(1));
    }

    static double sample(final String exposition, final String series)
    {
        final Matcher m = Pattern.compile("(?m)^" + Pattern.quote(series) + " (\\S+)").matcher(exposition);
        assertTrue(m.find(), "no sample " + series);
        return Double.parseDouble(m.group(1));
    }
}
