package io.centrigate.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import io.centrigate.testing.HttpUpstream;
import io.centrigate.testing.RawClient;
import io.centrigate.testing.WsClient;
import io.centrigate.testing.WsEchoUpstream;

/** Issue 12: {@code centrigate run --access-log FILE} as a process: its lines, and SIGUSR1 reopening the file. */
@Timeout(120)
class AccessLogRunTest
{
    private static final Pattern LISTEN = Pattern.compile(" listening on 127\\.0\\.0\\.1:(\\d+) ");

    @TempDir
    Path dir;

    @Test
    void oneRequestAndOneTunnelGiveTwoLinesAndUsr1ReopensTheMovedFile() throws Exception
    {
        final Path log = dir.resolve("access.log");
        final Path rotated = dir.resolve("access.log.1");
        final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();
        try (WsEchoUpstream node = WsEchoUpstream.start(0);
            HttpUpstream site = new HttpUpstream();
            CentrigateProcess proxy = CentrigateProcess.start(Map.of(), "run", "--listen", "127.0.0.1:0",
                "--upstream", "127.0.0.1:" + node.address().getPort(),
                "--vhost", "site.test=127.0.0.1:" + site.address().getPort(),
                "--access-log", log.toString(), "--loops", "1"))
        {
            final Matcher m = LISTEN.matcher(proxy.awaitLine("centrigate "));
            assertTrue(m.find());
            final InetSocketAddress address = new InetSocketAddress("127.0.0.1", Integer.parseInt(m.group(1)));

            get(address, "/first?token=x");
            final WsClient tunnel = WsClient.connect(http, address, "/connection/websocket");
            assertEquals("hi", tunnel.echoText("hi"));
            tunnel.socket().sendClose(1000, "bye").get(10, TimeUnit.SECONDS);
            tunnel.closed().get(10, TimeUnit.SECONDS);

            final List<String> lines = awaitLines(log, 2);
            assertTrue(lines.get(0).contains("\"type\":\"http\"") && lines.get(0).contains("\"path\":\"/first\"") &&
                lines.get(0).contains("\"status\":200"), lines.get(0));
            assertTrue(lines.get(1).contains("\"type\":\"ws\"") && lines.get(1).contains("\"end\":\"client_close\"") &&
                lines.get(1).contains("\"close_up\":{\"code\":1000,\"by\":\"client\"}"), lines.get(1));

            // logrotate: move the file, then USR1; the next line goes to a new file of the old name.
            Files.move(log, rotated);
            proxy.signal("USR1");
            awaitExists(log);
            get(address, "/second");
            final List<String> after = awaitLines(log, 1);
            assertTrue(after.get(0).contains("\"path\":\"/second\""), after.get(0));
            assertEquals(2, Files.readAllLines(rotated).size(), "the moved file keeps its lines");
        }
    }

    private static void get(final InetSocketAddress address, final String path) throws Exception
    {
        try (RawClient c = new RawClient(address))
        {
            c.send("GET " + path + " HTTP/1.1\r\nHost: site.test\r\nConnection: close\r\n\r\n");
            final String answer = c.readAll();
            assertTrue(answer.startsWith("HTTP/1.1 200"), answer);
        }
    }

    /** Polls (bounded) until the file holds {@code n} complete lines; more is a failure. */
    private static List<String> awaitLines(final Path file, final int n) throws Exception
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        List<String> lines = List.of();
        while (System.nanoTime() - deadline < 0)
        {
            if (Files.exists(file))
            {
                final String text = Files.readString(file, StandardCharsets.UTF_8);
                lines = text.isEmpty() ? List.of() : List.of(text.split("\n"));
                if (lines.size() >= n && text.endsWith("\n"))
                {
                    assertEquals(n, lines.size(), text);
                    return lines;
                }
            }
            Thread.sleep(20); // polling interval of a bounded wait
        }
        throw new AssertionError("expected " + n + " lines in " + file + ", got " + lines);
    }

    private static void awaitExists(final Path file) throws Exception
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!Files.exists(file))
        {
            assertTrue(System.nanoTime() - deadline < 0, file + " was not reopened after SIGUSR1");
            Thread.sleep(20); // polling interval of a bounded wait
        }
    }
}
