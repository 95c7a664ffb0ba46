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
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.centrigate.testing.RawClient;
import io.centrigate.testing.RawUpstream;
import io.centrigate.testing.WsEchoUpstream;

/**
 * Issue 15 through the real process: {@code --max-connections-per-client}, {@code --handshake-rate-per-client},
 * {@code --max-handshake-rate} with {@code --admission-wait} (from the environment), their 429s and 503 with
 * Retry-After, the counters on {@code /metrics} and {@code /status}, and {@code config} printing them.
 */
@Timeout(120)
class ClientLimitsRunTest
{
    private static final Pattern LISTEN = Pattern.compile(" listening on 127\\.0\\.0\\.1:(\\d+) ");
    private static final Pattern ADMIN = Pattern.compile(" admin 127\\.0\\.0\\.1:(\\d+) ");

    private static int port(final Pattern pattern, final String line)
    {
        final Matcher m = pattern.matcher(line);
        assertTrue(m.find(), line);
        return Integer.parseInt(m.group(1));
    }

    private static String upgrade()
    {
        return RawClient.upgradeRequest(RawClient.newKey(), "");
    }

    private static String get(final HttpClient http, final int port, final String path) throws Exception
    {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
            HttpResponse.BodyHandlers.ofString()).body();
    }

    @Test
    void limitsAnswer429And503WithRetryAfterAndAreCounted() throws Exception
    {
        try (WsEchoUpstream node = WsEchoUpstream.start(0);
            CentrigateProcess proxy = CentrigateProcess.start(
                Map.of("CENTRIGATE_MAX_HANDSHAKE_RATE", "1/m:6", "CENTRIGATE_ADMISSION_WAIT", "0"), "run",
                "--listen", "127.0.0.1:0", "--upstream", "127.0.0.1:" + node.address().getPort(),
                "--health-check-path", "off", "--admin-listen", "127.0.0.1:0", "--loops", "1",
                "--max-connections-per-client", "2", "--handshake-rate-per-client", "1/m:2",
                "--client-table-size", "4096"))
        {
            final String line = proxy.awaitLine("centrigate ");
            final InetSocketAddress address = new InetSocketAddress("127.0.0.1", port(LISTEN, line));
            final List<RawClient> open = new ArrayList<>();
            for (int i = 0; i < 2; i++)
            {
                final RawClient c = new RawClient(address, "127.0.0.1");
                c.send(upgrade());
                assertTrue(c.readHead().startsWith("HTTP/1.1 101 "));
                open.add(c);
            }
            try (RawClient third = new RawClient(address, "127.0.0.1"))
            {
                final String answer = third.readAll();
                assertTrue(answer.startsWith("HTTP/1.1 429 Too Many Requests\r\n"), answer);
                assertEquals("1", RawUpstream.header(answer, "Retry-After"));
            }
            for (int i = 0; i < 3; i++)
            {
                try (RawClient c = new RawClient(address, "127.0.0.2"))
                {
                    c.send(upgrade());
                    final String head = c.readHead();
                    if (i < 2)
                    {
                        assertTrue(head.startsWith("HTTP/1.1 101 "), head);
                        continue;
                    }
                    assertTrue(head.startsWith("HTTP/1.1 429 "), head);
                    final int retryAfter = Integer.parseInt(RawUpstream.header(head, "Retry-After"));
                    assertTrue(retryAfter > 30 && retryAfter <= 60, head);
                }
            }
            for (int i = 0; i < 2; i++)
            {
                try (RawClient c = new RawClient(address, "127.0.0.3"))
                {
                    c.send(upgrade());
                    assertTrue(c.readHead().startsWith("HTTP/1.1 101 "), "admission slot " + (5 + i));
                }
            }
            try (RawClient c = new RawClient(address, "127.0.0.4"))
            {
                c.send(upgrade());
                final String head = c.readHead();
                assertTrue(head.startsWith("HTTP/1.1 503 Service Unavailable\r\n"), "six slots a minute: " + head);
                final int retryAfter = Integer.parseInt(RawUpstream.header(head, "Retry-After"));
                assertTrue(retryAfter > 30 && retryAfter <= 60, head);
            }
            final long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
            while (node.opened() < 6 && System.nanoTime() - deadline < 0)
            {
                Thread.sleep(5); // the node's onOpen runs a moment after its 101: a bounded poll
            }
            assertEquals(6, node.opened(), "no refused upgrade reached the node");

            final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
            final int admin = port(ADMIN, line);
            final String metrics = get(http, admin, "/metrics");
            for (final String sample : List.of(
                "centrigate_client_limit_refused_total{loop=\"centrigate-loop-0\",reason=\"connections\"} 1",
                "centrigate_client_limit_refused_total{loop=\"centrigate-loop-0\",reason=\"handshake_rate\"} 1",
                "centrigate_admission_total{loop=\"centrigate-loop-0\",result=\"immediate\"} 6",
                "centrigate_admission_total{loop=\"centrigate-loop-0\",result=\"refused\"} 1",
                "centrigate_client_table_slots 4096"))
            {
                assertTrue(metrics.contains(sample), sample + " in\n" + metrics);
            }
            final String status = get(http, admin, "/status");
            assertTrue(status.contains("\"client_limits\":{\"max_connections_per_client\":2,"), status);
            assertTrue(status.contains("\"refused\":{\"connections\":1,\"handshake_rate\":1}"), status);
            assertTrue(status.contains("\"max_handshake_rate\":\"1/m:6\""), status);
            for (final RawClient c : open)
            {
                c.close();
            }
        }
    }

    @Test
    void configPrintsTheNewOptions() throws Exception
    {
        try (CentrigateProcess config = CentrigateProcess.start(Map.of("CENTRIGATE_ADMISSION_WAIT", "3s"), "config",
            "--max-handshake-rate", "200/s:50"))
        {
            final String printed = String.join("\n", List.of(config.awaitLine("max-connections-per-client"),
                config.awaitLine("handshake-rate-per-client"), config.awaitLine("client-table-size"),
                config.awaitLine("max-handshake-rate"), config.awaitLine("admission-wait")));
            assertTrue(printed.contains("max-handshake-rate = 200/s:50"), printed);
            assertTrue(printed.contains("admission-wait = 3s"), printed);
            assertTrue(printed.contains("max-connections-per-client = 0"), printed);
            assertEquals(0, config.exitCode(30));
        }
    }
}
