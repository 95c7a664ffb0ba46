package io.centrigate.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
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

import io.centrigate.testing.WsClient;
import io.centrigate.testing.WsEchoUpstream;

/**
 * Issue 14: {@code --splice-threshold} and {@code --splice-pipes} through the real process. On a native transport
 * (JDK 22+ with {@code -Dcentrigate.transport=epoll} or {@code io_uring}) a 256 KiB message is spliced; threshold 0
 * (here from the environment) turns it off; NIO accepts the options and splices nothing.
 */
@Timeout(120)
class SpliceRunTest
{
    private static final Pattern LISTEN = Pattern.compile(" listening on 127\\.0\\.0\\.1:(\\d+) ");
    private static final Pattern ADMIN = Pattern.compile(" admin 127\\.0\\.0\\.1:(\\d+) ");

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(10)).build();

    private static boolean nativeTransport()
    {
        final String t = System.getProperty("centrigate.transport", "nio");
        return Runtime.version().feature() >= 22 && ("epoll".equals(t) || "io_uring".equals(t));
    }

    @Test
    void aLargeMessageIsSplicedOnANativeTransport() throws Exception
    {
        final double spliced = echoLargeMessage(Map.of(), "--splice-threshold", "32k", "--splice-pipes", "2");
        if (nativeTransport())
        {
            assertTrue(spliced >= 2 * (256 * 1024 - 64 * 1024), "spliced " + spliced);
        }
        else
        {
            assertEquals(0.0, spliced, "NIO cannot splice");
        }
    }

    @Test
    void thresholdZeroFromTheEnvironmentTurnsSplicingOff() throws Exception
    {
        assertEquals(0.0, echoLargeMessage(Map.of("CENTRIGATE_SPLICE_THRESHOLD", "0")));
    }

    @Test
    void aThresholdBelowOneKibIsRefusedWithItsReason() throws Exception
    {
        try (CentrigateProcess run = CentrigateProcess.start(Map.of(), "run", "--listen", "127.0.0.1:0",
            "--upstream", "127.0.0.1:9", "--splice-threshold", "100"))
        {
            assertEquals(2, run.exitCode(30));
            assertTrue(run.stderr().contains("splice-threshold must be 0 (off) or within [1 KiB, 1 GiB]"), run.stderr());
        }
    }

    /** Echoes one 256 KiB binary message through the process; returns the spliced bytes, both directions. */
    private double echoLargeMessage(final Map<String, String> env, final String... options) throws Exception
    {
        try (WsEchoUpstream node = WsEchoUpstream.start(0))
        {
            final java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("run", "--listen",
                "127.0.0.1:0", "--upstream", "127.0.0.1:" + node.address().getPort(), "--admin-listen", "127.0.0.1:0",
                "--loops", "1"));
            args.addAll(java.util.List.of(options));
            try (CentrigateProcess proxy = CentrigateProcess.start(env, args.toArray(new String[0])))
            {
                final String line = proxy.awaitLine("centrigate ");
                final boolean on = nativeTransport() && !env.containsKey("CENTRIGATE_SPLICE_THRESHOLD");
                assertTrue(line.contains(on ? " splice 32768 " : " splice off "), line);
                final WsClient ws = WsClient.connect(http, new InetSocketAddress("127.0.0.1", port(LISTEN, line)),
                    "/connection/websocket");
                final byte[] message = new byte[256 * 1024];
                for (int i = 0; i < message.length; i++)
                {
                    message[i] = (byte)(i * 7 + (i >>> 10));
                }
                assertArrayEquals(message, ws.echoBinary(message));
                final String metrics = http.sendAsync(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + port(ADMIN, line) + "/metrics")).timeout(Duration.ofSeconds(20))
                    .build(), HttpResponse.BodyHandlers.ofString()).get(30, TimeUnit.SECONDS).body();
                return sumOf(metrics, "centrigate_tunnel_spliced_bytes_total");
            }
        }
    }

    private static int port(final Pattern pattern, final String line)
    {
        final Matcher m = pattern.matcher(line);
        assertTrue(m.find(), line);
        return Integer.parseInt(m.group(1));
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
