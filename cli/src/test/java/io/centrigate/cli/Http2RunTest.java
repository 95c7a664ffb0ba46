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
}
