package io.centrigate.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import io.centrigate.testing.HttpUpstream;
import io.centrigate.testing.WsClient;
import io.centrigate.testing.WsEchoUpstream;
import io.centrigate.tls.TestCertificates;

/**
 * Issue 11: {@code centrigate run} with the TLS options, as a process, serves HTTPS and WSS and redirects plain
 * HTTP, whether the options come as flags, from the file or from the environment; SIGHUP re-reads the certificate.
 */
class TlsRunTest
{
    @TempDir
    Path dir;

    /** A client context that trusts both test certificates, so a reload from one to the other is seen, not refused. */
    private static SSLContext trustingTestCertificates() throws Exception
    {
        final KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("ec", TestCertificates.ec().certificate());
        trust.setCertificateEntry("rsa", TestCertificates.rsa().certificate());
        final TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        final SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, tmf.getTrustManagers(), null);
        return context;
    }

    private static HttpClient client(final SSLContext tls)
    {
        // Redirects are not followed: the 301 itself is what is tested.
        return HttpClient.newBuilder().sslContext(tls).version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).followRedirects(HttpClient.Redirect.NEVER).build();
    }

    /** The port the startup line reports after {@code label} ({@code listening on}, {@code tls}, {@code redirect-http}). */
    private static int port(final String startup, final String label)
    {
        final Matcher m = Pattern.compile(" " + label + " 127\\.0\\.0\\.1:(\\d+)[ ,]").matcher(startup);
        assertTrue(m.find(), "no '" + label + " 127.0.0.1:PORT' in: " + startup);
        return Integer.parseInt(m.group(1));
    }

    private static HttpResponse<String> get(final HttpClient http, final String uri) throws Exception
    {
        return http.send(HttpRequest.newBuilder(URI.create(uri)).timeout(Duration.ofSeconds(20)).build(),
            HttpResponse.BodyHandlers.ofString());
    }

    private static WsClient wss(final HttpClient http, final int port) throws Exception
    {
        final WsClient client = new WsClient();
        final WebSocket socket = http.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(10))
            .buildAsync(URI.create("wss://127.0.0.1:" + port + "/connection/websocket"), client).get(20, TimeUnit.SECONDS);
        client.attach(socket);
        return client;
    }

    /** The certificate a fresh TLS handshake on {@code port} presents. */
    private static Certificate servedCertificate(final SSLContext tls, final int port) throws Exception
    {
        try (SSLSocket socket = (SSLSocket)tls.getSocketFactory().createSocket())
        {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
            socket.setSoTimeout(10_000);
            socket.startHandshake();
            return socket.getSession().getPeerCertificates()[0];
        }
    }

    @Test
    @Timeout(120)
    void servesHttpsAndWssAndRedirectsToHttpsWithEveryTlsOptionGivenAsAFlag() throws Exception
    {
        final TestCertificates cert = TestCertificates.ec();
        try (HttpUpstream site = new HttpUpstream();
            WsEchoUpstream centrifugo = WsEchoUpstream.start(0);
            CentrigateProcess run = CentrigateProcess.start(Map.of(), "run", "--loops", "2",
                "--listen", "127.0.0.1:0", "--upstream", "127.0.0.1:" + centrifugo.address().getPort(),
                // HTTP requests for Host localhost go to the plain HTTP upstream, WebSockets to 127.0.0.1 to the echo.
                "--vhost", "localhost=127.0.0.1:" + site.address().getPort(),
                "--tls-listen", "127.0.0.1:0", "--tls-cert", cert.certificatePem().toString(),
                "--tls-key", cert.privateKeyPem().toString(),
                "--redirect-http", "127.0.0.1:0", "--server-name", "example.test"))
        {
            final String startup = run.awaitLine("centrigate ");
            final int plain = port(startup, "listening on");
            final int tls = port(startup, "tls");
            final int redirect = port(startup, "redirect-http");
            assertTrue(plain != tls && tls != redirect && plain != redirect, startup);
            final HttpClient http = client(cert.clientContext());

            final HttpResponse<String> https = get(http, "https://localhost:" + tls + "/info?over=tls");
            assertEquals(200, https.statusCode());
            assertEquals(1, site.proxiedRequests().size());
            assertEquals("GET /info?over=tls HTTP/1.1", site.proxiedRequests().get(0).requestLine());
            assertEquals("https", site.proxiedRequests().get(0).header("X-Forwarded-Proto"));
            assertEquals("https", site.proxiedRequests().get(0).header("X-Scheme"));

            final WsClient ws = wss(http, tls);
            assertEquals("hello over wss", ws.echoText("hello over wss"));
            assertEquals("https", centrifugo.handshakes().get(0).get("x-forwarded-proto"));

            final HttpResponse<String> moved = get(http, "http://127.0.0.1:" + redirect + "/connection/websocket?cf_ws_frame_ping_pong=true");
            assertEquals(301, moved.statusCode());
            assertEquals("https://example.test:" + tls + "/connection/websocket?cf_ws_frame_ping_pong=true",
                moved.headers().firstValue("Location").orElse(null));
            assertEquals(1, site.proxiedRequests().size(), "the redirect listener proxies nothing");

            final HttpResponse<String> cleartext = get(http, "http://localhost:" + plain + "/info?over=plain");
            assertEquals(200, cleartext.statusCode());
            assertEquals("http", site.proxiedRequests().get(1).header("X-Forwarded-Proto"), "the plain listener stays plain");
        }
    }

    @Test
    @Timeout(120)
    void takesTheTlsOptionsFromTheFileAndTheEnvironmentAndRereadsTheCertificateOnSighup() throws Exception
    {
        final TestCertificates ec = TestCertificates.ec();
        final TestCertificates rsa = TestCertificates.rsa();
        try (WsEchoUpstream centrifugo = WsEchoUpstream.start(0))
        {
            final String settings = "upstream = 127.0.0.1:" + centrifugo.address().getPort() + "\nloops = 2\n" +
                "tls-listen = 127.0.0.1:0\nredirect-http = 127.0.0.1:0\n";
            final Path config = Files.writeString(dir.resolve("centrigate.conf"), settings +
                "tls-cert = " + ec.certificatePem() + "\ntls-key = " + ec.privateKeyPem() + "\n");
            try (CentrigateProcess run = CentrigateProcess.start(Map.of("CENTRIGATE_SERVER_NAME", "example.test"),
                "run", "--config", config.toString()))
            {
                final String startup = run.awaitLine("centrigate ");
                assertTrue(startup.contains(" listening on tls 127.0.0.1:"), "no plain listener was configured: " + startup);
                final int tls = port(startup, "tls");
                final int redirect = port(startup, "redirect-http");
                final SSLContext trust = trustingTestCertificates();
                final HttpClient http = client(trust);

                final WsClient before = wss(http, tls);
                assertEquals("file settings", before.echoText("file settings"));
                assertEquals(ec.certificate(), servedCertificate(trust, tls));
                final HttpResponse<String> moved = get(http, "http://127.0.0.1:" + redirect + "/x");
                assertEquals(301, moved.statusCode());
                assertEquals("https://example.test:" + tls + "/x", moved.headers().firstValue("Location").orElse(null),
                    "server-name from CENTRIGATE_SERVER_NAME");

                // A renewed certificate at a new path, as certbot's live/ links or a new file name give it.
                Files.writeString(config, settings +
                    "tls-cert = " + rsa.certificatePem() + "\ntls-key = " + rsa.privateKeyPem() + "\n");
                run.hangUp();
                run.awaitLine("centrigate: reloaded");
                assertEquals(rsa.certificate(), servedCertificate(trust, tls), "a new handshake gets the new certificate");
                assertEquals("still here", before.echoText("still here"), "a tunnel accepted before the reload is untouched");
                assertEquals("after reload", wss(http, tls).echoText("after reload"));

                // A pair that does not belong together is refused and the one in service stays.
                Files.writeString(config, settings +
                    "tls-cert = " + ec.certificatePem() + "\ntls-key = " + rsa.privateKeyPem() + "\n");
                run.hangUp();
                assertTrue(run.awaitErrorLine("centrigate: reload refused: ").contains("does not belong to the certificate"));
                assertEquals(rsa.certificate(), servedCertificate(trust, tls));
            }
        }
    }

    @Test
    @Timeout(60)
    void refusesToStartWithACertificateFileThatIsNotPem() throws Exception
    {
        final Path junk = Files.writeString(dir.resolve("cert.pem"), "not a certificate\n");
        try (CentrigateProcess run = CentrigateProcess.start(Map.of("CENTRIGATE_TLS_KEY", TestCertificates.ec().privateKeyPem().toString()),
            "run", "--tls-listen", "127.0.0.1:0", "--tls-cert", junk.toString()))
        {
            assertEquals(1, run.exitCode(30));
            assertTrue(run.stderr().contains("centrigate: bad certificate PEM in " + junk), run.stderr());
            assertTrue(!run.stderr().contains("\tat "), "a message, not a stack trace: " + run.stderr());
        }
    }
}
