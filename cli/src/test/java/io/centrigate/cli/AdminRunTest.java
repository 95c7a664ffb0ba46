package io.centrigate.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import io.centrigate.testing.WsClient;
import io.centrigate.testing.WsEchoUpstream;

/** Issue 12: the admin listener of the real {@code centrigate run} process, through SIGTERM with a drain. */
@Timeout(120)
class AdminRunTest
{
    private static final Pattern LISTEN = Pattern.compile(" listening on 127\\.0\\.0\\.1:(\\d+) ");
    private static final Pattern ADMIN = Pattern.compile(" admin 127\\.0\\.0\\.1:(\\d+) ");

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(10)).build();

    @TempDir
    Path dir;

    private HttpResponse<String> get(final int port, final String path) throws Exception
    {
        return http.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString()).get(30, TimeUnit.SECONDS);
    }

    private static int port(final Pattern pattern, final String line)
    {
        final Matcher m = pattern.matcher(line);
        assertTrue(m.find(), line);
        return Integer.parseInt(m.group(1));
    }

    @Test
    void scrapesThenReadyTurns503OnSigtermWhileLiveStays200() throws Exception
    {
        try (WsEchoUpstream node = WsEchoUpstream.start(0);
            CentrigateProcess proxy = CentrigateProcess.start(Map.of("CENTRIGATE_DRAIN_TIMEOUT", "2s"), "run",
                "--listen", "127.0.0.1:0", "--upstream", "127.0.0.1:" + node.address().getPort(),
                "--admin-listen", "127.0.0.1:0", "--loops", "2"))
        {
            final String line = proxy.awaitLine("centrigate ");
            final int listen = port(LISTEN, line);
            final int admin = port(ADMIN, line);
            assertEquals(200, get(admin, "/ready").statusCode());

            final WsClient tunnel = WsClient.connect(http, new InetSocketAddress("127.0.0.1", listen), "/connection/websocket");
            assertEquals("hi", tunnel.echoText("hi"));
            final HttpResponse<String> metrics = get(admin, "/metrics");
            assertEquals(200, metrics.statusCode());
            assertTrue(metrics.body().contains("centrigate_build_info{transport=\"" +
                System.getProperty("centrigate.transport", "nio") + "\",version=\"" + Main.version() + "\"} 1"), metrics.body());
            assertEquals(1.0, sumOf(metrics.body(), "centrigate_tunnels_opened_total"), metrics.body());
            assertEquals(1.0, sumOf(metrics.body(), "centrigate_tunnels_open"), metrics.body());
            final String status = get(admin, "/status").body();
            assertTrue(status.contains("\"plain\":[\"127.0.0.1:" + listen + "\"]"), status);
            assertTrue(status.contains("\"address\":\"127.0.0.1:" + node.address().getPort() + "\",\"weight\":1,\"state\":\"up\""),
                status);

            proxy.terminate();
            // Bounded poll: the signal is handled on its own thread, readiness goes with the drain's first step.
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            HttpResponse<String> ready = get(admin, "/ready");
            while (ready.statusCode() == 200 && System.nanoTime() - deadline < 0)
            {
                Thread.sleep(20);
                ready = get(admin, "/ready");
            }
            assertEquals(503, ready.statusCode());
            assertEquals("draining\n", ready.body());
            assertEquals(200, get(admin, "/live").statusCode());
            // The tunnel is still open during the drain (2 s), and the node still answers through it.
            assertEquals("during drain", tunnel.echoText("during drain"));
            assertEquals(1001, tunnel.closed().get(30, TimeUnit.SECONDS), "closed by the drain's going-away");
            assertEquals(0, proxy.exitCode(30));
        }
    }

    @Test
    void anAdminAddressThatCannotBindIsOneLineAndExit1() throws Exception
    {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
            CentrigateProcess proxy = CentrigateProcess.start(Map.of(), "run", "--listen", "127.0.0.1:0",
                "--admin-listen", "127.0.0.1:" + taken.getLocalPort()))
        {
            assertEquals(1, proxy.exitCode(60));
            final String err = proxy.stderr();
            assertTrue(err.startsWith("centrigate: cannot listen on admin 127.0.0.1:" + taken.getLocalPort() + ": "), err);
            assertEquals(1, err.lines().count(), err);
            assertFalse(err.contains("Exception"), err);
        }
    }

    @Test
    void promtoolAcceptsTheExposition() throws Exception
    {
        final Path promtool = onPath("promtool");
        Assumptions.assumeTrue(promtool != null,
            "promtool not installed (Debian package prometheus): 'promtool check metrics' skipped");
        try (WsEchoUpstream node = WsEchoUpstream.start(0);
            CentrigateProcess proxy = CentrigateProcess.start(Map.of(), "run", "--listen", "127.0.0.1:0",
                "--upstream", "127.0.0.1:" + node.address().getPort(), "--admin-listen", "127.0.0.1:0"))
        {
            final int admin = port(ADMIN, proxy.awaitLine("centrigate "));
            final Path scraped = Files.writeString(dir.resolve("metrics.txt"), get(admin, "/metrics").body());
            final Process check = new ProcessBuilder(promtool.toString(), "check", "metrics")
                .redirectInput(scraped.toFile()).redirectErrorStream(true).start();
            assertTrue(check.waitFor(60, TimeUnit.SECONDS), "promtool did not finish");
            final String out = new String(check.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertEquals(0, check.exitValue(), out);
        }
    }

    private static Path onPath(final String name)
    {
        for (final String d : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator))
        {
            final Path candidate = Path.of(d, name);
            if (!d.isEmpty() && Files.isExecutable(candidate))
            {
                return candidate;
            }
        }
        return null;
    }

    private static double sumOf(final String exposition, final String sample)
    {
        final Matcher m = Pattern.compile("(?m)^" + Pattern.quote(sample) + "(\\{[^}]*\\})? (\\S+)").matcher(exposition);
        double total = 0;
        boolean found = false;
        while (m.find())
        {
            total += Double.parseDouble(m.group(2));
            found = true;
        }
        assertTrue(found, "no sample " + sample);
        return total;
    }
}
