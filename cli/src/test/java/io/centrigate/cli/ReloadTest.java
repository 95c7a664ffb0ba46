package io.centrigate.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import io.centrigate.testing.WsClient;
import io.centrigate.testing.WsEchoUpstream;

/** Issue 5, acceptance 4 (first half): 500 tunnels across SIGHUP all survive; new ones follow the new config. */
class ReloadTest
{
    private static String awaitLine(final BlockingQueue<String> lines, final String prefix) throws InterruptedException
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline)
        {
            final String line = lines.poll(1, TimeUnit.SECONDS);
            if (line != null && line.startsWith(prefix))
            {
                return line;
            }
        }
        throw new AssertionError("no line starting with '" + prefix + "' within 20 s");
    }

    @Test
    @Timeout(120)
    void fiveHundredTunnelsSurviveAReloadThatMovesNewConnectionsToAnotherNode(@TempDir final Path dir) throws Exception
    {
        try (WsEchoUpstream first = WsEchoUpstream.start(0);
            WsEchoUpstream second = WsEchoUpstream.start(0))
        {
            final Path config = dir.resolve("centrigate.conf");
            Files.writeString(config, "listen = 127.0.0.1:0\nupstream = 127.0.0.1:" + first.address().getPort() + "\nloops = 2\n");
            final String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            final Process process = new ProcessBuilder(java, "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), Main.class.getName(), "run", "--config", config.toString())
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
            final Thread reader = new Thread(() ->
            {
                try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8)))
                {
                    String line;
                    while ((line = out.readLine()) != null)
                    {
                        lines.add(line);
                    }
                }
                catch (final Exception ignore)
                {
                    // The process ended.
                }
            });
            reader.setDaemon(true);
            reader.start();
            try
            {
                final String startup = awaitLine(lines, "centrigate ");
                final int port = Integer.parseInt(startup.replaceAll(".* listening on 127\\.0\\.0\\.1:(\\d+).*", "$1"));
                final InetSocketAddress proxy = new InetSocketAddress("127.0.0.1", port);
                final HttpClient http = HttpClient.newHttpClient();
                final List<WsClient> tunnels = new ArrayList<>();
                for (int i = 0; i < 500; i++)
                {
                    tunnels.add(WsClient.connect(http, proxy, "/connection/websocket"));
                }
                assertEquals(500, first.opened());

                Files.writeString(config, "listen = 127.0.0.1:0\nupstream = 127.0.0.1:" + second.address().getPort() + "\nloops = 2\n");
                final Process hup = new ProcessBuilder("kill", "-HUP", String.valueOf(process.pid())).start();
                assertEquals(0, hup.waitFor());
                assertTrue(awaitLine(lines, "centrigate: reloaded").contains(":" + second.address().getPort()));

                for (int i = 0; i < tunnels.size(); i++)
                {
                    assertEquals("still here " + i, tunnels.get(i).echoText("still here " + i));
                }
                assertEquals(500, first.openNow(), "no established tunnel was touched");
                final WsClient fresh = WsClient.connect(http, proxy, "/connection/websocket");
                assertEquals("new node", fresh.echoText("new node"));
                assertEquals(1, second.opened(), "new connections follow the reloaded configuration");
            }
            finally
            {
                process.destroy();
                process.waitFor(30, TimeUnit.SECONDS);
                process.destroyForcibly();
            }
        }
    }
}
