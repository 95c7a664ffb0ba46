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
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.centrigate.testing.HttpUpstream;
import io.centrigate.testing.RawClient;

/**
 * Issue 15 through the real process: {@code --proxy-protocol} with {@code --trusted-proxies} behind it (a CDN edge that
 * a TCP load balancer passes on), a connection refused for its missing header, and the counter on {@code /metrics}.
 */
@Timeout(120)
class ProxyProtocolRunTest
{
    private static final Pattern LISTEN = Pattern.compile(" listening on 127\\.0\\.0\\.1:(\\d+) ");
    private static final Pattern ADMIN = Pattern.compile(" admin 127\\.0\\.0\\.1:(\\d+) ");

    private static int port(final Pattern pattern, final String line)
    {
        final Matcher m = pattern.matcher(line);
        assertTrue(m.find(), line);
        return Integer.parseInt(m.group(1));
    }

    @Test
    void theNodeSeesTheClientBehindTheBalancerAndTheCdn() throws Exception
    {
        try (HttpUpstream node = new HttpUpstream();
            CentrigateProcess proxy = CentrigateProcess.start(Map.of("CENTRIGATE_TRUSTED_PROXIES", "10.0.0.0/8"), "run",
                "--listen", "127.0.0.1:0", "--upstream", "127.0.0.1:" + node.address().getPort(),
                "--proxy-protocol", "plain", "--proxy-protocol-from", "127.0.0.0/8", "--admin-listen", "127.0.0.1:0",
                "--loops", "1"))
        {
            final String line = proxy.awaitLine("centrigate ");
            final InetSocketAddress address = new InetSocketAddress("127.0.0.1", port(LISTEN, line));
            try (RawClient client = new RawClient(address))
            {
                client.send("PROXY TCP4 10.1.2.3 10.0.0.1 40000 443\r\nGET /connection/http_stream HTTP/1.1\r\n" +
                    "Host: a\r\nX-Forwarded-For: 198.51.100.1, 203.0.113.9\r\nX-Forwarded-Proto: https\r\n\r\n");
                assertTrue(client.readHead().startsWith("HTTP/1.1 200 "));
            }
            final HttpUpstream.Request r = node.proxiedRequests().get(0);
            assertEquals("203.0.113.9", r.header("X-Real-IP"));
            assertEquals("198.51.100.1, 203.0.113.9, 10.1.2.3", r.header("X-Forwarded-For"));
            assertEquals("https", r.header("X-Forwarded-Proto"));

            try (RawClient client = new RawClient(address))
            {
                client.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
                assertEquals(-1, client.socket().getInputStream().read(), "closed without an answer");
            }
            assertTrue(proxy.awaitErrorLine("centrigate: proxy-protocol: 127.0.0.1: missing").contains("closed"));
            final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
            final String metrics = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port(ADMIN, line) +
                "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
            assertTrue(metrics.contains("centrigate_proxy_protocol_refused_total{loop=\"centrigate-loop-0\",reason=\"missing\"} 1"),
                metrics);
            assertEquals(1, node.proxiedRequests().size());
        }
    }
}
