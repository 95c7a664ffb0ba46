package io.centrigate.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.centrigate.testing.SilentNode;
import io.centrigate.testing.WsClient;
import io.centrigate.testing.WsEchoUpstream;

/**
 * Issue 13, slow start in the real {@code centrigate run} process: a node up again after its checks is shown in
 * slow start ({@code /status}, {@code /metrics}) and gets few of the new clients while its ramp is young.
 */
@Timeout(120)
class SlowStartRunTest
{
    private static final Pattern LISTEN = Pattern.compile(" listening on 127\\.0\\.0\\.1:(\\d+) ");
    private static final Pattern ADMIN = Pattern.compile(" admin 127\\.0\\.0\\.1:(\\d+) ");

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(10)).build();

    private static int port(final Pattern pattern, final String line)
    {
        final Matcher m = pattern.matcher(line);
        assertTrue(m.find(), line);
        return Integer.parseInt(m.group(1));
    }

    private String get(final int admin, final String path) throws Exception
    {
        return http.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + admin + path))
            .timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString()).get(30, TimeUnit.SECONDS).body();
    }

    private String await(final int admin, final String path, final String what, final Predicate<String> condition)
        throws Exception
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        String body = get(admin, path);
        while (!condition.test(body))
        {
            assertTrue(System.nanoTime() - deadline < 0, "not within 30 s: " + what + "; last " + path + ":\n" + body);
            Thread.sleep(50); // a bounded poll
            body = get(admin, path);
        }
        return body;
    }

    private static double sample(final String exposition, final String name, final String labels)
    {
        final Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + "\\{([^}]*)\\} (\\S+)").matcher(exposition);
        while (m.find())
        {
            if (m.group(1).contains(labels))
            {
                return Double.parseDouble(m.group(2));
            }
        }
        return -1;
    }

    private List<WsClient> connect(final InetSocketAddress proxy, final int n, final List<WsClient> all) throws Exception
    {
        for (int i = 0; i < n; i++)
        {
            final WsClient c = WsClient.connect(http, proxy, "/connection/websocket");
            assertEquals("m" + i, c.echoText("m" + i));
            all.add(c);
        }
        return all;
    }

    @Test
    void aNodeBackAfterChecksIsInSlowStartAndGetsFewNewClients() throws Exception
    {
        try (WsEchoUpstream good = WsEchoUpstream.start(0);
            WsEchoUpstream behind = WsEchoUpstream.start(0);
            SilentNode returning = new SilentNode(behind.address());
            CentrigateProcess proxy = CentrigateProcess.start(Map.of(), "run", "--listen", "127.0.0.1:0",
                "--upstream", "127.0.0.1:" + returning.address().getPort() + ",127.0.0.1:" + good.address().getPort(),
                "--admin-listen", "127.0.0.1:0", "--loops", "2", "--health-check-interval", "100ms",
                "--health-check-timeout", "200ms", "--health-check-fall", "1", "--health-check-rise", "2",
                "--slow-start", "1h"))
        {
            final String line = proxy.awaitLine("centrigate ");
            final InetSocketAddress address = new InetSocketAddress("127.0.0.1", port(LISTEN, line));
            final int admin = port(ADMIN, line);
            final String node = "node=\"127.0.0.1:" + returning.address().getPort() + "\"";
            final String statusOf = "\"address\":\"127.0.0.1:" + returning.address().getPort() + "\",\"weight\":1,\"state\":";
            await(admin, "/status", "the silent node down", s -> s.contains(statusOf + "\"down\""));
            final List<WsClient> all = new ArrayList<>();
            connect(address, 20, all);
            assertEquals(20, good.openNow());

            returning.answer(true);
            final String status = await(admin, "/status", "the node up again, in slow start",
                s -> s.contains(statusOf + "\"slow-start\""));
            final Matcher factor = Pattern.compile(Pattern.quote(statusOf) + "\"slow-start\",[^{}]*\"slow_start_factor\":([0-9.]+)")
                .matcher(status);
            assertTrue(factor.find(), status);
            assertTrue(Double.parseDouble(factor.group(1)) < 0.1, status);
            final String metrics = get(admin, "/metrics");
            final double gauge = sample(metrics, "centrigate_node_slow_start_factor", node);
            assertTrue(gauge > 0.04 && gauge < 0.1, "slow start factor " + gauge);
            assertEquals(1, sample(metrics, "centrigate_node_slow_start_factor",
                "node=\"127.0.0.1:" + good.address().getPort() + "\""), "the other node is not ramping");

            connect(address, 10, all);
            assertTrue(behind.openNow() <= 3, "early in slow start the recovered node got " + behind.openNow() + " of 10");
            for (final WsClient c : all)
            {
                c.socket().sendClose(1000, "");
                c.closed().get(10, TimeUnit.SECONDS);
            }
        }
    }
}
