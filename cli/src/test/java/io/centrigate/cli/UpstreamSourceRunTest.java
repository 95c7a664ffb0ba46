package io.centrigate.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.centrigate.testing.HttpUpstream;

/** Issue 15 through the real process: {@code --upstream-source} and {@code --sockjs-sticky}. */
@Timeout(120)
class UpstreamSourceRunTest
{
    private static int port(final String startup)
    {
        final Matcher m = Pattern.compile(" listening on 127\\.0\\.0\\.1:(\\d+)[ ,]").matcher(startup);
        assertTrue(m.find(), startup);
        return Integer.parseInt(m.group(1));
    }

    /** One request on a connection of its own; the status line. */
    private static String request(final int port, final String method, final String path) throws Exception
    {
        try (Socket s = new Socket("127.0.0.1", port))
        {
            s.setSoTimeout(10_000);
            final OutputStream out = s.getOutputStream();
            out.write((method + " " + path + " HTTP/1.1\r\nHost: c\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            final InputStream in = s.getInputStream();
            final String answer = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
            return answer.substring(0, answer.indexOf("\r\n"));
        }
    }

    @Test
    void connectsComeFromTheSourceAddressesInTurnAndOneThatCannotBindIsSkippedAndReported() throws Exception
    {
        try (HttpUpstream node = new HttpUpstream();
            CentrigateProcess run = CentrigateProcess.start(Map.of("CENTRIGATE_UPSTREAM_KEEPALIVE", "0"), "run",
                "--loops", "1", "--listen", "127.0.0.1:0", "--upstream", "127.0.0.1:" + node.address().getPort(),
                "--health-check-path", "off", "--upstream-source", "127.0.0.2-127.0.0.4,192.0.2.1"))
        {
            final String startup = run.awaitLine("centrigate ");
            assertTrue(startup.contains(" upstream-sources 4"), startup);
            final int port = port(startup);
            for (int i = 0; i < 7; i++)
            {
                assertEquals("HTTP/1.1 200 OK", request(port, "GET", "/api/info?i=" + i));
            }
            final String line = run.awaitErrorLine("centrigate: upstream-source 192.0.2.1: ");
            assertTrue(line.contains("Cannot assign requested address"), line);
            assertEquals("127.0.0.2,127.0.0.3,127.0.0.4,127.0.0.2,127.0.0.3,127.0.0.4,127.0.0.2",
                node.peers().stream().map(InetAddress::getHostAddress).collect(Collectors.joining(",")));
        }
    }

    @Test
    void aBadSourceRangeIsAConfigurationErrorThatSaysWhy() throws Exception
    {
        try (CentrigateProcess run = CentrigateProcess.start(Map.of("CENTRIGATE_UPSTREAM_SOURCE", "127.0.0.9-127.0.0.2"),
            "run", "--listen", "127.0.0.1:0"))
        {
            assertEquals(2, run.exitCode(30));
            assertTrue(run.stderr().contains("range goes down in '127.0.0.9-127.0.0.2'"), run.stderr());
        }
    }

    @Test
    void sockJsSessionsStickToANodeUnlessTurnedOff() throws Exception
    {
        for (final String sticky : List.of("on", "off"))
        {
            try (HttpUpstream a = new HttpUpstream(); HttpUpstream b = new HttpUpstream();
                CentrigateProcess run = CentrigateProcess.start(Map.of("CENTRIGATE_SOCKJS_STICKY", sticky), "run",
                    "--loops", "2", "--listen", "127.0.0.1:0", "--health-check-path", "off", "--upstream",
                    "127.0.0.1:" + a.address().getPort() + ",127.0.0.1:" + b.address().getPort()))
            {
                final int port = port(run.awaitLine("centrigate "));
                int split = 0;
                for (int s = 0; s < 10; s++)
                {
                    final String session = "/connection/sockjs/" + (100 + s) + "/sess" + s + "/";
                    for (final String t : List.of("xhr_streaming", "xhr_send", "xhr_send", "xhr"))
                    {
                        assertEquals("HTTP/1.1 200 OK", request(port, "POST", session + t));
                    }
                    final String id = "/sess" + s + "/";
                    final Set<Integer> nodes = new HashSet<>();
                    a.proxiedRequests().stream().filter(r -> r.requestLine().contains(id)).forEach(r -> nodes.add(0));
                    b.proxiedRequests().stream().filter(r -> r.requestLine().contains(id)).forEach(r -> nodes.add(1));
                    if (nodes.size() > 1)
                    {
                        split++;
                    }
                }
                if (sticky.equals("on"))
                {
                    assertEquals(0, split, "sessions split over the nodes");
                }
                else
                {
                    assertTrue(split > 0, "least-conn alternates the two equal nodes");
                }
            }
        }
    }
}
