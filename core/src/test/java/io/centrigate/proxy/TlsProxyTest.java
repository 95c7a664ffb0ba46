package io.centrigate.proxy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.centrigate.testing.HttpUpstream;
import io.centrigate.testing.RawClient;
import io.centrigate.testing.WsClient;
import io.centrigate.testing.WsEchoUpstream;
import io.centrigate.tls.TestCertificates;

/** Issue 5, TLS: WSS and HTTPS on the same loops with a certificate made at test time, and the http→https redirect. */
@Timeout(60)
class TlsProxyTest
{
    private static HttpClient httpsClient()
    {
        return HttpClient.newBuilder().sslContext(TestCertificates.ec().clientContext()).version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    }

    @Test
    void carriesSecureWebSocketsAndHttpsAndSaysHttpsUpstream() throws Exception
    {
        final TestCertificates cert = TestCertificates.ec();
        try (WsEchoUpstream ws = WsEchoUpstream.start(0);
            Proxy proxy = TestProxies.start(new io.centrigate.config.ProxyContext().loops(2)
                .tlsListen(new InetSocketAddress("127.0.0.1", 0)).tlsCert(cert.certificatePem()).tlsKey(cert.privateKeyPem())
                .upstream(ws.address())))
        {
            final int port = proxy.boundTlsAddresses().get(0).getPort();
            final HttpClient http = httpsClient();
            final WsClient client = new WsClient();
            final WebSocket socket = http.newWebSocketBuilder()
                .buildAsync(URI.create("wss://localhost:" + port + "/connection/websocket"), client).get(20, TimeUnit.SECONDS);
            client.attach(socket);
            final byte[] big = new byte[300_000];
            new Random(7).nextBytes(big);
            assertArrayEquals(big, client.echoBinary(big));
            assertEquals("over tls", client.echoText("over tls"));
            assertEquals("https", ws.handshakes().get(0).get("x-forwarded-proto"));
            assertEquals("https", ws.handshakes().get(0).get("x-scheme"));
            socket.sendClose(1000, "");
            assertEquals(1000, client.closed().get(10, TimeUnit.SECONDS));
            TestProxies.awaitIdle(proxy, 10_000);
        }
        try (HttpUpstream upstream = new HttpUpstream();
            Proxy proxy = TestProxies.start(new io.centrigate.config.ProxyContext().loops(1)
                .tlsListen(new InetSocketAddress("127.0.0.1", 0)).tlsCert(cert.certificatePem()).tlsKey(cert.privateKeyPem())
                .upstream(upstream.address())))
        {
            final int port = proxy.boundTlsAddresses().get(0).getPort();
            final HttpClient http = httpsClient();
            for (int i = 0; i < 20; i++)
            {
                final HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + port + "/api/echo"))
                    .POST(HttpRequest.BodyPublishers.ofString("secret " + i)).build(), HttpResponse.BodyHandlers.ofString());
                assertEquals(200, r.statusCode());
                assertEquals("secret " + i, r.body());
            }
            assertEquals("https", upstream.requests().get(0).header("X-Forwarded-Proto"));
            assertEquals(1, proxy.snapshot(5, TimeUnit.SECONDS).get(0).accepted(), "one kept-alive TLS connection");
        }
    }

    @Test
    void redirectsPlainHttpToTheSameHostAndPathOverHttps() throws Exception
    {
        final TestCertificates cert = TestCertificates.ec();
        try (HttpUpstream upstream = new HttpUpstream();
            Proxy proxy = TestProxies.start(new io.centrigate.config.ProxyContext().loops(1)
                .tlsListen(new InetSocketAddress("127.0.0.1", 0)).tlsCert(cert.certificatePem()).tlsKey(cert.privateKeyPem())
                .redirectListen(new InetSocketAddress("127.0.0.1", 0)).upstream(upstream.address())))
        {
            final int tlsPort = proxy.boundTlsAddresses().get(0).getPort();
            try (RawClient client = new RawClient(proxy.boundRedirectAddresses().get(0)))
            {
                client.send("GET /connection/websocket?x=1 HTTP/1.1\r\nHost: Centrifugo.example.com:80\r\n\r\n");
                final String head = client.readHead();
                assertTrue(head.startsWith("HTTP/1.1 301 Moved Permanently\r\n"), head);
                assertEquals("https://Centrifugo.example.com:" + tlsPort + "/connection/websocket?x=1",
                    io.centrigate.testing.RawUpstream.header(head, "Location"));
            }
            try (RawClient client = new RawClient(proxy.boundRedirectAddresses().get(0)))
            {
                client.send("GET / HTTP/1.1\r\nHost: evil.example/path\r\n\r\n");
                assertTrue(client.readHead().startsWith("HTTP/1.1 400 "), "a Host that is not a host name");
            }
            assertTrue(upstream.requests().isEmpty(), "the redirect listener never proxies");
        }
    }
}
