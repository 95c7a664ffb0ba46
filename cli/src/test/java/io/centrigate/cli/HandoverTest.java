package io.centrigate.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.centrigate.testing.RawClient;
import io.centrigate.testing.WsClient;
import io.centrigate.testing.WsEchoUpstream;

/**
 * Issue 5, acceptance 4 (second half): two centrigate processes on one port. The old one gets SIGTERM while new
 * clients keep connecting: every old tunnel receives close 1001 and reconnects to the new process, and not one
 * new connection fails.
 */
class HandoverTest
{
    private static Process start(final int port, final int upstreamPort) throws Exception
    {
        final String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        final Process process = new ProcessBuilder(java, "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED",
            "-cp", System.getProperty("java.class.path"), Main.class.getName(), "run",
            "--listen", "127.0.0.1:" + port, "--upstream", "127.0.0.1:" + upstreamPort, "--loops", "2")
            .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        final String line = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))
            .readLine();
        assertTrue(line != null && line.startsWith("centrigate "), "startup line: " + line);
        return process;
    }

    @Test
    @Timeout(120)
    void anOldProcessHandsItsPortToANewOneWithoutAFailedConnection() throws Exception
    {
        try
        {
            // Lets the kernel move connections still queued on the closing listener (the shipped sysctl sets it).
            Files.writeString(Path.of("/proc/sys/net/ipv4/tcp_migrate_req"), "1");
        }
        catch (final Exception ignore)
        {
            // Not root: the old process's final accept sweep still keeps the window to microseconds.
        }
        final int port;
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress()))
        {
            port = probe.getLocalPort();
        }
        try (WsEchoUpstream upstream = WsEchoUpstream.start(0))
        {
            final InetSocketAddress address = new InetSocketAddress("127.0.0.1", port);
            final Process oldProcess = start(port, upstream.address().getPort());
            Process newProcess = null;
            final AtomicBoolean running = new AtomicBoolean(true);
            try
            {
                final HttpClient http = HttpClient.newHttpClient();
                final List<WsClient> clients = new ArrayList<>();
                for (int i = 0; i < 100; i++)
                {
                    clients.add(WsClient.connect(http, address, "/connection/websocket"));
                }
                newProcess = start(port, upstream.address().getPort());

                final AtomicInteger handshakes = new AtomicInteger();
                final List<String> failures = new CopyOnWriteArrayList<>();
                final Thread newClients = new Thread(() ->
                {
                    while (running.get())
                    {
                        try (RawClient c = new RawClient(address))
                        {
                            c.send(RawClient.upgradeRequest(RawClient.newKey(), ""));
                            final String head = c.readHead();
                            if (head == null || !head.startsWith("HTTP/1.1 101 "))
                            {
                                failures.add(String.valueOf(head));
                            }
                            handshakes.incrementAndGet();
                        }
                        catch (final Exception e)
                        {
                            failures.add(e.toString());
                        }
                    }
                }, "new-clients");
                newClients.start();

                oldProcess.destroy(); // SIGTERM: stop accepting, drain (0 s), close 1001
                for (final WsClient c : clients)
                {
                    assertEquals(1001, c.closed().get(20, TimeUnit.SECONDS), "close 1001 (going away)");
                }
                assertTrue(oldProcess.waitFor(20, TimeUnit.SECONDS));
                assertEquals(0, oldProcess.exitValue());
                for (int i = 0; i < clients.size(); i++)
                {
                    final WsClient again = WsClient.connect(http, address, "/connection/websocket");
                    assertEquals("reconnected " + i, again.echoText("reconnected " + i));
                }
                final int before = handshakes.get();
                final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                while (handshakes.get() < before + 100 && System.nanoTime() < deadline)
                {
                    Thread.sleep(10); // a bounded wait for more new clients to get through
                }
                running.set(false);
                newClients.join(10_000);
                assertTrue(handshakes.get() >= before + 100, "new clients kept connecting");
                assertTrue(failures.isEmpty(), "new clients failed during the handover: " + failures);
            }
            finally
            {
                running.set(false);
                oldProcess.destroyForcibly();
                if (newProcess != null)
                {
                    newProcess.destroy();
                    newProcess.waitFor(20, TimeUnit.SECONDS);
                    newProcess.destroyForcibly();
                }
            }
        }
    }
}
