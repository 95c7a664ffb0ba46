package io.centrigate.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import io.centrigate.testing.HttpUpstream;
import io.centrigate.testing.WsEchoUpstream;
import io.centrigate.tls.TestCertificates;

/**
 * Issue 16 through the real process: {@code --http2 on} (here from the environment) serves HTTP/2 to
 * {@code curl --http2} and to the JDK's HttpClient on the TLS listener, each stream proxied to an HTTP/1.1 node;
 * with the default ({@code off}) the same client gets HTTP/1.1.
 */
class Http2RunTest
{
    @TempDir
    Path dir;

    private static int tlsPort(final String startup)
    {
        final Matcher m = Pattern.compile(" tls 127\\.0\\.0\\.1:(\\d+)[ ,]").matcher(startup);
        assertTrue(m.find(), "no 'tls 127.0.0.1:PORT' in: " + startup);
        return Integer.parseInt(m.group(1));
    }

    private static boolean curlHasHttp2()
    {
        try
        {
            final Process p = new ProcessBuilder("curl", "--version").redirectErrorStream(true).start();
            final String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            return p.waitFor(10, TimeUnit.SECONDS) && out.contains("HTTP2");
        }
        catch (final Exception e)
        {
            return false;
        }
    }

    /** Runs curl, returns what {@code -w %{http_version} %{http_code}} printed. */
    private String curl(final Path out, final String... args) throws Exception
    {
        final List<String> command = new ArrayList<>(List.of("curl", "-sS", "--max-time", "30", "--http2",
            "--cacert", TestCertificates.ec().certificatePem().toString(), "-o", out.toString(),
            "-w", "%{http_version} %{http_code}"));
        command.addAll(List.of(args));
        final Process p = new ProcessBuilder(command).redirectError(dir.resolve("curl.err").toFile()).start();
        final String printed = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(40, TimeUnit.SECONDS), "curl did not end");
        assertEquals(0, p.exitValue(), "curl failed: " + Files.readString(dir.resolve("curl.err")));
        return printed;
    }

    @Test
    @Timeout(120)
    void curlAndTheJdkClientGetHttp2WhenOnAndHttp11WhenOff() throws Exception
    {
        final TestCertificates cert = TestCertificates.ec();
        final byte[] big = new byte[1 << 20];
        new Random(16).nextBytes(big);
        final Path upload = Files.write(dir.resolve("upload.bin"), big);
        try (HttpUpstream node = new HttpUpstream();
            CentrigateProcess run = CentrigateProcess.start(Map.of("CENTRIGATE_HTTP2", "on"), "run", "--loops", "1",
                "--listen", "127.0.0.1:0", "--upstream", "127.0.0.1:" + node.address().getPort(),
                "--tls-listen", "127.0.0.1:0", "--tls-cert", cert.certificatePem().toString(),
                "--tls-key", cert.privateKeyPem().toString(), "--http2-max-concurrent-streams", "50"))
        {
            final int port = tlsPort(run.awaitLine("centrigate "));
            final String base = "https://localhost:" + port;
            if (curlHasHttp2())
            {
                final Path got = dir.resolve("got.bin");
                assertEquals("2 200", curl(got, base + "/api/small"));
                assertEquals(0, Files.size(got));
                assertEquals("2 200", curl(got, "--data-binary", "@" + upload, base + "/api/echo"));
                assertArrayEquals(big, Files.readAllBytes(got));
                assertEquals("GET /api/small HTTP/1.1", node.proxiedRequests().get(0).requestLine());
                assertEquals("https", node.proxiedRequests().get(0).header("X-Forwarded-Proto"));
            }
            final HttpClient http = HttpClient.newBuilder().sslContext(cert.clientContext())
                .version(HttpClient.Version.HTTP_2).connectTimeout(Duration.ofSeconds(5)).build();
            final HttpResponse<byte[]> posted = http.send(HttpRequest.newBuilder(URI.create(base + "/api/echo"))
                .timeout(Duration.ofSeconds(30)).POST(HttpRequest.BodyPublishers.ofByteArray(big)).build(),
                HttpResponse.BodyHandlers.ofByteArray());
            assertEquals(HttpClient.Version.HTTP_2, posted.version());
            assertArrayEquals(big, posted.body());
        }
        try (HttpUpstream node = new HttpUpstream();
            CentrigateProcess run = CentrigateProcess.start(Map.of(), "run", "--loops", "1",
                "--listen", "127.0.0.1:0", "--upstream", "127.0.0.1:" + node.address().getPort(),
                "--tls-listen", "127.0.0.1:0", "--tls-cert", cert.certificatePem().toString(),
                "--tls-key", cert.privateKeyPem().toString()))
        {
            final int port = tlsPort(run.awaitLine("centrigate "));
            final HttpClient http = HttpClient.newBuilder().sslContext(cert.clientContext())
                .version(HttpClient.Version.HTTP_2).connectTimeout(Duration.ofSeconds(5)).build();
            final HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("https://localhost:" + port +
                "/api/echo")).timeout(Duration.ofSeconds(30)).POST(HttpRequest.BodyPublishers.ofString("off")).build(),
                HttpResponse.BodyHandlers.ofString());
            assertEquals(HttpClient.Version.HTTP_1_1, r.version(), "--http2 is off by default");
            assertEquals("off", r.body());
            if (curlHasHttp2())
            {
                assertEquals("1.1 200", curl(dir.resolve("off.bin"), "https://localhost:" + port + "/api/echo"));
            }
        }
        assumeTrue(curlHasHttp2(), "curl without HTTP/2: only the JDK client ran");
    }

    /**
     * WebSocket over HTTP/2 (RFC 8441) through the real process: the python-h2 client of core's tests does an
     * extended CONNECT, its frames are echoed byte-exact by a real WebSocket node, and SIGTERM brings it close 1001.
     */
    @Test
    @Timeout(120)
    void webSocketOverHttp2GetsEchoesAndClose1001OnSigterm() throws Exception
    {
        final Path script = Path.of("../core/src/test/python/h2_websocket.py").toAbsolutePath().normalize();
        final Process probe = new ProcessBuilder("/usr/bin/python3", "-c", "import h2").redirectErrorStream(true)
            .start();
        assumeTrue(probe.waitFor(30, TimeUnit.SECONDS) && probe.exitValue() == 0,
            "python3-h2 missing (scripts/install-test-deps.sh installs it)");
        final TestCertificates cert = TestCertificates.ec();
        try (WsEchoUpstream node = WsEchoUpstream.start(0);
            CentrigateProcess run = CentrigateProcess.start(Map.of(), "run", "--loops", "1", "--http2", "on",
                "--listen", "127.0.0.1:0", "--upstream", "127.0.0.1:" + node.getPort(),
                "--health-check-path", "off", "--drain-timeout", "1s",
                "--tls-listen", "127.0.0.1:0", "--tls-cert", cert.certificatePem().toString(),
                "--tls-key", cert.privateKeyPem().toString()))
        {
            final int port = tlsPort(run.awaitLine("centrigate "));
            final Process client = new ProcessBuilder("/usr/bin/python3", script.toString(), "echo", "127.0.0.1",
                String.valueOf(port)).redirectError(dir.resolve("client.err").toFile()).start();
            try
            {
                final java.util.concurrent.BlockingQueue<String> lines = new java.util.concurrent.LinkedBlockingQueue<>();
                final Thread reader = new Thread(() ->
                {
                    try (java.io.BufferedReader r = new java.io.BufferedReader(new java.io.InputStreamReader(
                        client.getInputStream(), StandardCharsets.UTF_8)))
                    {
                        String line;
                        while ((line = r.readLine()) != null)
                        {
                            lines.add(line);
                        }
                    }
                    catch (final java.io.IOException ignore)
                    {
                        // the client ended
                    }
                });
                reader.setDaemon(true);
                reader.start();
                assertTrue(awaitLine(lines, "ECHO OK", client).startsWith("ECHO OK"));
                awaitLine(lines, "READY", client);
                assertEquals("13", node.handshakes().get(0).get("sec-websocket-version"));
                run.terminate(); // SIGTERM: drain, then close 1001 at a frame boundary
                assertEquals("CLOSE 1001", awaitLine(lines, "CLOSE", client));
                awaitLine(lines, "DONE", client);
                assertTrue(client.waitFor(30, TimeUnit.SECONDS), "client did not end");
                assertEquals(0, client.exitValue(), Files.readString(dir.resolve("client.err")));
                assertEquals(0, run.exitCode(30));
            }
            finally
            {
                client.destroyForcibly();
            }
        }
    }

    private String awaitLine(final java.util.concurrent.BlockingQueue<String> lines, final String prefix,
        final Process client) throws Exception
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline)
        {
            final String line = lines.poll(100, TimeUnit.MILLISECONDS);
            if (line != null && line.startsWith(prefix))
            {
                return line;
            }
            if (line == null && !client.isAlive() && lines.isEmpty())
            {
                break;
            }
        }
        throw new AssertionError("no line '" + prefix + "' from the client; stderr: " +
            Files.readString(dir.resolve("client.err")));
    }
}
