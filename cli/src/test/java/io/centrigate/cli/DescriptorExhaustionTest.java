package io.centrigate.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import io.centrigate.testing.WsClient;
import io.centrigate.testing.WsEchoUpstream;

/**
 * EMFILE on accept: with a tiny open-files limit and a flood of idle connections, the proxy keeps serving the
 * tunnel it has, does not spin on the listener, says so in its log, and accepts again once descriptors free up.
 */
class DescriptorExhaustionTest
{
    private static long cpuTicks(final long pid) throws Exception
    {
        final String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        final String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime + stime
    }

    @Test
    @Timeout(90)
    void keepsServingAndDoesNotSpinWhenAcceptHitsTheOpenFilesLimit(@TempDir final Path dir) throws Exception
    {
        try (WsEchoUpstream upstream = WsEchoUpstream.start(0))
        {
            final Path log = dir.resolve("stderr.log");
            final String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            final String cmd = "ulimit -n 256 && exec '" + java + "' --add-exports java.base/jdk.internal.misc=ALL-UNNAMED" +
                " -cp '" + System.getProperty("java.class.path") + "' " + Main.class.getName() +
                " run --listen 127.0.0.1:0 --upstream 127.0.0.1:" + upstream.address().getPort() +
                " --loops 1 --max-connections 5000 --header-timeout 60s";
            final Process process = new ProcessBuilder("bash", "-c", cmd).redirectError(log.toFile()).start();
            final List<Socket> flood = new ArrayList<>();
            try
            {
                final String line = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))
                    .readLine();
                assertTrue(line != null && line.startsWith("centrigate "), "startup line: " + line);
                final int port = Integer.parseInt(line.replaceAll(".* listening on 127\\.0\\.0\\.1:(\\d+).*", "$1"));
                final InetSocketAddress proxy = new InetSocketAddress("127.0.0.1", port);
                final HttpClient http = HttpClient.newHttpClient();
                final WsClient tunnel = WsClient.connect(http, proxy, "/connection/websocket");
                assertEquals("before", tunnel.echoText("before"));

                // Idle connections the kernel completes into the backlog until the proxy's descriptors run out.
                for (int i = 0; i < 400; i++)
                {
                    final Socket s = new Socket();
                    s.connect(proxy, 2000);
                    flood.add(s);
                }
                final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                while (!Files.readString(log).contains("pausing accept") && System.nanoTime() < deadline)
                {
                    Thread.sleep(50); // polling a log file within a bound
                }
                assertTrue(Files.readString(log).contains("pausing accept"), "EMFILE reported: " + Files.readString(log));

                final long before = cpuTicks(process.pid());
                assertEquals("during", tunnel.echoText("during"), "the existing tunnel is still served");
                Thread.sleep(2000); // a window in which a spinning loop would burn a whole core
                final long used = cpuTicks(process.pid()) - before;
                assertTrue(used < 100, "no busy loop on the listener: " + used + " ticks of CPU in 2 s");

                for (final Socket s : flood)
                {
                    s.close();
                }
                flood.clear();
                final WsClient after = WsClient.connect(http, proxy, "/connection/websocket");
                assertEquals("after", after.echoText("after"), "accepting again once descriptors are free");
                final long reports = Files.readAllLines(log).stream().filter(l -> l.contains("pausing accept")).count();
                assertTrue(reports <= 2, "logged once per interval, not per failure: " + reports);
            }
            finally
            {
                for (final Socket s : flood)
                {
                    s.close();
                }
                process.destroy();
                process.waitFor(20, TimeUnit.SECONDS);
                process.destroyForcibly();
            }
        }
    }
}
