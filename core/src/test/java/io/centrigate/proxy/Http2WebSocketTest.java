package io.centrigate.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.centrigate.config.ProxyContext;
import io.centrigate.metrics.LoopSnapshot;
import io.centrigate.metrics.LoopStats;
import io.centrigate.testing.HttpUpstream;
import io.centrigate.testing.WsEchoUpstream;
import io.centrigate.tls.TestCertificates;

/**
 * Issue 16: WebSocket over HTTP/2 (RFC 8441), driven by a client built on the python-h2 package
 * ({@code src/test/python/h2_websocket.py}) over TLS with ALPN h2, against a real WebSocket node
 * ({@link WsEchoUpstream}) behind an in-process proxy.
 */
@Timeout(180)
class Http2WebSocketTest
{
    static final String PYTHON = "/usr/bin/python3";
    static final Path SCRIPT = Path.of("src/test/python/h2_websocket.py").toAbsolutePath();

    @BeforeAll
    static void needsH2() throws Exception
    {
        Assumptions.assumeTrue(Files.isExecutable(Path.of(PYTHON)), PYTHON + " missing");
        final Process p = new ProcessBuilder(PYTHON, "-c", "import h2").redirectErrorStream(true).start();
        Assumptions.assumeTrue(p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0,
            "python3-h2 missing (scripts/install-test-deps.sh installs it)");
    }

    private static Proxy start(final InetSocketAddress upstream) throws Exception
    {
        return TestProxies.start(context(upstream));
    }

    private static ProxyContext context(final InetSocketAddress upstream)
    {
        final TestCertificates cert = TestCertificates.ec();
        return new ProxyContext().loops(1).http2(true)
            .tlsListen(new InetSocketAddress("127.0.0.1", 0)).tlsCert(cert.certificatePem())
            .tlsKey(cert.privateKeyPem()).upstream(upstream).healthCheckPath("off");
    }

    /** The Python client as a process whose output lines arrive in a queue; every wait on it is bounded. */
    static final class PyClient implements AutoCloseable
    {
        final Process process;
        final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        final List<String> all = new ArrayList<>();
        final StringBuilder err = new StringBuilder();

        PyClient(final String... args) throws IOException
        {
            final List<String> cmd = new ArrayList<>(List.of(PYTHON, SCRIPT.toString()));
            cmd.addAll(List.of(args));
            process = new ProcessBuilder(cmd).start();
            final Thread out = new Thread(() -> pump(new BufferedReader(new InputStreamReader(process.getInputStream(),
                StandardCharsets.UTF_8)), true), "py-out");
            final Thread errs = new Thread(() -> pump(new BufferedReader(new InputStreamReader(
                process.getErrorStream(), StandardCharsets.UTF_8)), false), "py-err");
            out.setDaemon(true);
            errs.setDaemon(true);
            out.start();
            errs.start();
        }

        private void pump(final BufferedReader r, final boolean stdout)
        {
            try
            {
                String line;
                while ((line = r.readLine()) != null)
                {
                    if (stdout)
                    {
                        synchronized (all)
                        {
                            all.add(line);
                        }
                        lines.add(line);
                    }
                    else
                    {
                        synchronized (err)
                        {
                            err.append(line).append('\n');
                        }
                    }
                }
            }
            catch (final IOException ignore)
            {
                // the process ended
            }
        }

        String await(final String prefix, final long seconds) throws InterruptedException
        {
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
            while (System.nanoTime() < deadline)
            {
                final String line = lines.poll(100, TimeUnit.MILLISECONDS);
                if (line != null && line.startsWith(prefix))
                {
                    return line;
                }
                if (line == null && !process.isAlive() && lines.isEmpty())
                {
                    break;
                }
            }
            throw new AssertionError("no line \"" + prefix + "\" from the client: " + output());
        }

        void succeeds(final long seconds) throws InterruptedException
        {
            assertTrue(process.waitFor(seconds, TimeUnit.SECONDS), "client still running: " + output());
            assertEquals(0, process.exitValue(), "client failed: " + output());
        }

        String output()
        {
            synchronized (all)
            {
                synchronized (err)
                {
                    return all + " / stderr: " + err;
                }
            }
        }

        @Override
        public void close()
        {
            process.destroyForcibly();
        }
    }

    static String port(final Proxy proxy)
    {
        return Integer.toString(proxy.boundTlsAddresses().get(0).getPort());
    }

    @Test
    void extendedConnectEchoesByteExactAndDrainSendsClose1001() throws Exception
    {
        try (WsEchoUpstream node = WsEchoUpstream.start(0);
            Proxy proxy = start(node.address());
            PyClient client = new PyClient("echo", "127.0.0.1", port(proxy)))
        {
            client.await("SETTINGS_ENABLE_CONNECT_PROTOCOL 1", 30);
            client.await("STATUS 200", 30);
            client.await("ECHO OK", 60);
            client.await("READY", 10);

            // The node saw an ordinary HTTP/1.1 upgrade of the same path, with a key of ours.
            assertEquals(1, node.handshakes().size());
            final Map<String, String> h = node.handshakes().get(0);
            assertEquals("/connection/websocket?cf_ws=1", h.get(":path"));
            assertEquals("websocket", h.get("upgrade").toLowerCase());
            assertTrue(h.get("connection").toLowerCase().contains("upgrade"));
            assertEquals("13", h.get("sec-websocket-version"));
            assertEquals(24, h.get("sec-websocket-key").length());
            assertEquals("https://example.test", h.get("origin"));
            assertEquals("127.0.0.1:" + port(proxy), h.get("host"));
            assertEquals("https", h.get("x-forwarded-proto"));

            final LoopSnapshot s = proxy.snapshot(5, TimeUnit.SECONDS).get(0);
            assertEquals(1, s.http2()[LoopStats.HTTP2_WEBSOCKET_STREAMS]);
            assertEquals(1, s.tunnelsOpened());

            // Drain: the tunnel gets its close 1001 at a frame boundary, as an HTTP/1.1 tunnel does.
            final Thread drain = new Thread(() -> proxy.shutdown(TimeUnit.MILLISECONDS.toNanos(300)), "drain");
            drain.start();
            assertEquals("CLOSE 1001", client.await("CLOSE", 60));
            // The closing handshake ends the stream cleanly both ways, and GOAWAY(NO_ERROR) came as for any stream.
            assertEquals("END ended=True reset=None goaway=0", client.await("END", 30));
            client.await("DONE", 10);
            client.succeeds(10);
            drain.join(30_000);
        }
    }

    /**
     * An extended CONNECT waiting for its admission slot ({@code --max-handshake-rate}) when the drain begins is
     * answered 503 with Retry-After at once, as an HTTP/1.1 upgrade waiting there is (AdmissionTest): its slot may be
     * seconds away and the process taking over admits it sooner. It was left waiting and reset at the drain's end.
     */
    @Test
    void aDrainAnswersAWaitingExtendedConnect503AtOnce() throws Exception
    {
        try (WsEchoUpstream node = WsEchoUpstream.start(0);
            Proxy proxy = TestProxies.start(context(node.address()).maxHandshakeRate("6/m")
                .admissionWaitNs(TimeUnit.SECONDS.toNanos(30)));
            PyClient client = new PyClient("admission-drain", "127.0.0.1", port(proxy)))
        {
            client.await("FIRST 200", 30);
            client.await("WAITING", 30);
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (proxy.snapshot(5, TimeUnit.SECONDS).get(0).limits()[LoopStats.ADMISSION_WAITING] != 1)
            {
                assertTrue(System.nanoTime() - deadline < 0, "the second stream is not waiting: " + client.output());
                Thread.sleep(5); // polling interval of a bounded wait
            }
            // The slot is 10 s away and the drain lasts 20 s: an answer within 5 s is the drain's.
            final Thread drain = new Thread(() -> proxy.shutdown(TimeUnit.SECONDS.toNanos(20)), "drain");
            drain.start();
            assertEquals("ANSWER status=503 retry-after=1 ended=True reset=None", client.await("ANSWER", 5));
            client.await("DONE", 10);
            client.succeeds(10);
            drain.join(30_000);
            assertEquals(1, node.handshakes().size(), "the waiting upgrade never reached the node");
        }
    }

    @Test
    void nodeRefusalReachesTheClientAsItsStatus() throws Exception
    {
        try (HttpUpstream node = new HttpUpstream();
            Proxy proxy = start(node.address());
            PyClient client = new PyClient("refused", "127.0.0.1", port(proxy)))
        {
            node.handler((r, out) ->
            {
                out.write(("HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: 9\r\n\r\nforbidden")
                    .getBytes(StandardCharsets.US_ASCII));
                out.flush();
                return false;
            });
            assertEquals("REFUSED 403 forbidden", client.await("REFUSED", 30));
            client.succeeds(30);
            final HttpUpstream.Request r = node.requests().get(0);
            assertTrue(r.requestLine().startsWith("GET /connection/websocket HTTP/1.1"), r.requestLine());
            assertEquals("websocket", r.header("Upgrade"));
            assertNotNull(r.header("Sec-WebSocket-Key"));
            TestProxies.awaitIdle(proxy, 10_000);
        }
    }

    @Test
    void malformedExtendedConnectIsResetAndOtherProtocolsAre501() throws Exception
    {
        try (WsEchoUpstream node = WsEchoUpstream.start(0);
            Proxy proxy = start(node.address());
            PyClient client = new PyClient("malformed", "127.0.0.1", port(proxy)))
        {
            client.await("SETTINGS_ENABLE_CONNECT_PROTOCOL 1", 30);
            assertEquals("MALFORMED :path RST_STREAM 1", client.await("MALFORMED :path", 30));
            assertEquals("MALFORMED :scheme RST_STREAM 1", client.await("MALFORMED :scheme", 30));
            assertEquals("MALFORMED :authority RST_STREAM 1", client.await("MALFORMED :authority", 30));
            assertEquals("PROTOCOL chat 501", client.await("PROTOCOL", 30));
            assertEquals("CONNECT 501", client.await("CONNECT", 30));
            client.await("AFTER OK", 30);
            client.succeeds(30);
            assertEquals(1, node.handshakes().size(), "only the well-formed stream reached the node");
        }
    }

    @Test
    void endsPassBothWays() throws Exception
    {
        try (WsEchoUpstream node = WsEchoUpstream.start(0);
            Proxy proxy = start(node.address());
            PyClient client = new PyClient("ends", "127.0.0.1", port(proxy)))
        {
            client.await("NODE CLOSE 4000 END_STREAM", 30);
            client.await("RESET READY", 30);
            // The client's RST_STREAM ends the node's connection (as a TCP reset of an HTTP/1.1 client would).
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (node.openNow() != 0 && System.nanoTime() < deadline)
            {
                Thread.sleep(10); // polling interval of a bounded wait
            }
            assertEquals(0, node.openNow(), "node connection of the reset stream still open");
            client.process.getOutputStream().write('\n');
            client.process.getOutputStream().flush();
            client.await("LATER OK", 30);
            client.succeeds(30);
        }
    }

    @Test
    void idleTunnelStreamIsEndedByTheTunnelIdleTimeout() throws Exception
    {
        try (WsEchoUpstream node = WsEchoUpstream.start(0);
            Proxy proxy = TestProxies.start(context(node.address()).tunnelIdleTimeoutNs(TimeUnit.SECONDS.toNanos(1)));
            PyClient client = new PyClient("idle", "127.0.0.1", port(proxy)))
        {
            // A cut tunnel is a TCP reset for its client: RST_STREAM(CONNECT_ERROR), RFC 8441 §6.
            final String idle = client.await("IDLE", 30);
            assertTrue(idle.startsWith("IDLE reset=10 ended=False"), idle);
            client.await("AFTER OK", 30);
            client.succeeds(30);
        }
    }

    @Test
    void fiftyWebSocketStreamsOnOneConnection() throws Exception
    {
        try (WsEchoUpstream node = WsEchoUpstream.start(0);
            Proxy proxy = start(node.address());
            PyClient client = new PyClient("many", "127.0.0.1", port(proxy), "50"))
        {
            client.await("OPEN 50", 60);
            client.await("MANY OK 50", 120);
            client.succeeds(30);
            assertEquals(50, node.handshakes().size());
            final LoopSnapshot s = proxy.snapshot(5, TimeUnit.SECONDS).get(0);
            assertEquals(1, s.accepted(), "one HTTP/2 connection");
            assertEquals(50, s.http2()[LoopStats.HTTP2_WEBSOCKET_STREAMS]);
            assertNotEquals(0, s.tunnelsOpened());
        }
    }
}
