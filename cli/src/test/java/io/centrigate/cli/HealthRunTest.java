package io.centrigate.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.centrigate.testing.SilentNode;
import io.centrigate.testing.WsClient;
import io.centrigate.testing.WsEchoUpstream;

/** Issue 13: node health in the real {@code centrigate run} process: a hung node next to a good one. */
@Timeout(120)
class HealthRunTest
{
    private static final Pattern LISTEN = Pattern.compile(" listening on 127\\.0\\.0\\.1:(\\d+) ");
    private static final Pattern ADMIN = Pattern.compile(" admin 127\\.0\\.0\\.1:(\\d+) ");

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(10)).build();

    private String metrics(final int admin) throws Exception
    {
        return http.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + admin + "/metrics"))
            .timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString()).get(30, TimeUnit.SECONDS).body();
    }

    private static int port(final Pattern pattern, final String line)
    {
        final Matcher m = pattern.matcher(line);
        assertTrue(m.find(), line);
        return Integer.parseInt(m.group(1));
    }

    private static double value(final String exposition, final String name, final String labels)
    {
        final String v = sample(exposition, name, labels);
        return v == null ? -1 : Double.parseDouble(v);
    }

    private static String sample(final String exposition, final String name, final String labels)
    {
        final Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + "\\{([^}]*)\\} (\\S+)").matcher(exposition);
        while (m.find())
        {
            if (m.group(1).contains(labels))
            {
                return m.group(2);
            }
        }
        return null;
    }

    @Test
    void aHungNodeIsShownDownAndClientsUpgradeThroughTheGoodOne() throws Exception
    {
        try (WsEchoUpstream good = WsEchoUpstream.start(0);
            SilentNode silent = new SilentNode(good.address());
            CentrigateProcess proxy = CentrigateProcess.start(Map.of(), "run", "--listen", "127.0.0.1:0",
                "--upstream", "127.0.0.1:" + silent.address().getPort() + ",127.0.0.1:" + good.address().getPort(),
                "--admin-listen", "127.0.0.1:0", "--loops", "2", "--health-check-interval", "200ms",
                "--health-check-timeout", "200ms", "--health-check-fall", "2", "--upgrade-timeout", "300ms"))
        {
            final String line = proxy.awaitLine("centrigate ");
            final int listen = port(LISTEN, line);
            final int admin = port(ADMIN, line);
            final InetSocketAddress address = new InetSocketAddress("127.0.0.1", listen);
            // Two clients at once, before any check: least-conn sends one of them to the hung node, from which
            // its upgrade is moved after 300 ms.
            final WsClient a = WsClient.connect(http, address, "/connection/websocket");
            final WsClient b = WsClient.connect(http, address, "/connection/websocket");
            assertEquals("a", a.echoText("a"));
            assertEquals("b", b.echoText("b"));
            assertEquals(2, good.openNow());

            final String silentNode = "node=\"127.0.0.1:" + silent.address().getPort() + "\"";
            final String goodNode = "node=\"127.0.0.1:" + good.address().getPort() + "\"";
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            String text = metrics(admin);
            while (value(text, "centrigate_node_state_changes_total", silentNode + ",to=\"down\"") != 1)
            {
                assertTrue(System.nanoTime() - deadline < 0, "the hung node was not shown down: " + text);
                Thread.sleep(50); // a bounded poll
                text = metrics(admin);
            }
            assertEquals(0, value(text, "centrigate_node_up", silentNode), text);
            assertEquals(1, value(text, "centrigate_node_up", goodNode), text);
            assertTrue(value(text, "centrigate_health_checks_total", silentNode + ",result=\"timeout\"") >= 2, text);
            assertTrue(value(text, "centrigate_health_checks_total", goodNode + ",result=\"ok\"") >= 1, text);

            final String status = http.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + admin + "/status"))
                .timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString()).get(30, TimeUnit.SECONDS).body();
            assertTrue(status.contains("\"address\":\"127.0.0.1:" + silent.address().getPort() + "\",\"weight\":1,\"state\":\"down\""),
                status);
            assertTrue(status.contains("\"address\":\"127.0.0.1:" + good.address().getPort() + "\",\"weight\":1,\"state\":\"up\""),
                status);

            final WsClient c = WsClient.connect(http, address, "/connection/websocket");
            assertEquals("c", c.echoText("c"));
            for (final WsClient w : new WsClient[] {a, b, c})
            {
                w.socket().sendClose(1000, "");
                w.closed().get(10, TimeUnit.SECONDS);
            }
        }
    }
}
