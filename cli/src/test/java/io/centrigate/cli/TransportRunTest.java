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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import io.centrigate.testing.HttpUpstream;
import io.centrigate.testing.WsClient;
import io.centrigate.testing.WsEchoUpstream;

/**
 * Issue 14: {@code --transport} as an operator gives it. epoll and io_uring run where the JDK has
 * {@code java.lang.foreign} (22+; io_uring also needs a kernel that allows it, as this machine's does); on an older
 * JDK asking for either is a start-up error that says why, and {@code auto} falls back to NIO.
 */
class TransportRunTest
{
    private static final boolean FFM = Runtime.version().feature() >= 22;

    private static int listenPort(final String startup)
    {
        final Matcher m = Pattern.compile(" listening on 127\\.0\\.0\\.1:(\\d+)[ ,]").matcher(startup);
        assertTrue(m.find(), startup);
        return Integer.parseInt(m.group(1));
    }

    /** A WebSocket echo and a plain HTTP exchange through the process: the transport carries both. */
    private static void serves(final String startup, final WsEchoUpstream ws, final HttpUpstream site) throws Exception
    {
        final int port = listenPort(startup);
        final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
        final WsClient client = WsClient.connect(http, new InetSocketAddress("127.0.0.1", port), "/connection/websocket");
        assertEquals("over the transport", client.echoText("over the transport"));
        final HttpResponse<String> answer = http.send(HttpRequest.newBuilder(
            URI.create("http://localhost:" + port + "/info")).timeout(Duration.ofSeconds(20)).build(),
            HttpResponse.BodyHandlers.ofString());
        assertEquals(200, answer.statusCode());
        assertEquals("GET /info HTTP/1.1", site.proxiedRequests().get(0).requestLine());
    }

    @Test
    @Timeout(120)
    void autoRunsEpollWhereTheJdkHasTheForeignApiAndNioElsewhere() throws Exception
    {
        try (HttpUpstream site = new HttpUpstream();
            WsEchoUpstream ws = WsEchoUpstream.start(0);
            CentrigateProcess run = CentrigateProcess.start(Map.of("CENTRIGATE_TRANSPORT", "auto"), "run",
                "--loops", "2", "--listen", "127.0.0.1:0", "--upstream", "127.0.0.1:" + ws.address().getPort(),
                "--vhost", "localhost=127.0.0.1:" + site.address().getPort()))
        {
            final String startup = run.awaitLine("centrigate ");
            assertTrue(startup.contains(" transport " + (FFM ? "epoll" : "nio") + " "), startup);
            serves(startup, ws, site);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"epoll", "io_uring"})
    @Timeout(120)
    void aNativeTransportRunsOnJdk22OrIsRefusedWithItsReason(final String transport) throws Exception
    {
        try (HttpUpstream site = new HttpUpstream();
            WsEchoUpstream ws = WsEchoUpstream.start(0);
            CentrigateProcess run = CentrigateProcess.start(Map.of(), "run", "--transport", transport,
                "--loops", "2", "--listen", "127.0.0.1:0", "--upstream", "127.0.0.1:" + ws.address().getPort(),
                "--vhost", "localhost=127.0.0.1:" + site.address().getPort()))
        {
            if (FFM)
            {
                final String startup = run.awaitLine("centrigate ");
                assertTrue(startup.contains(" transport " + transport + " "), startup);
                serves(startup, ws, site);
            }
            else
            {
                assertEquals(2, run.exitCode(30));
                final String err = run.stderr();
                assertTrue(err.contains("transport " + transport +
                    " is not available here: java.lang.foreign needs JDK 22"), err);
            }
        }
    }
}
