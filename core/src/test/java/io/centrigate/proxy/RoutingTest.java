package io.centrigate.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.http.HttpClient;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.centrigate.config.ProxyContext;
import io.centrigate.testing.HttpUpstream;
import io.centrigate.testing.RawClient;
import io.centrigate.testing.WsClient;
import io.centrigate.testing.WsEchoUpstream;

/** Issue 5, routes: the embedded prefix, virtual hosts, and the guard on Centrifugo's operator endpoints. */
@Timeout(30)
class RoutingTest
{
    private static String get(final Proxy proxy, final String localAddress, final String request) throws Exception
    {
        try (RawClient client = new RawClient(TestProxies.address(proxy), localAddress))
        {
            client.send(request);
            return client.readHead();
        }
    }

    @Test
    void embeddedModeStripsThePrefixForWebSocketAndHttpAndAnswers404Outside() throws Exception
    {
        try (WsEchoUpstream ws = WsEchoUpstream.start(0);
            Proxy proxy = TestProxies.start(TestProxies.context(ws.address()).prefix("/centrifugo")))
        {
            final WsClient client = WsClient.connect(HttpClient.newHttpClient(), TestProxies.address(proxy),
                "/centrifugo/connection/websocket?format=json");
            assertEquals("through the prefix", client.echoText("through the prefix"));
            assertEquals("/connection/websocket?format=json", ws.handshakes().get(0).get(":path"));

            assertTrue(get(proxy, null, "GET /index.html HTTP/1.1\r\nHost: a\r\n\r\n").startsWith("HTTP/1.1 404 "));
            assertTrue(get(proxy, null, "GET /centrifugoX/connection HTTP/1.1\r\nHost: a\r\n\r\n").startsWith("HTTP/1.1 404 "),
                "a prefix matches whole path segments only");
        }
        try (HttpUpstream http = new HttpUpstream();
            Proxy proxy = TestProxies.start(TestProxies.context(http.address()).prefix("/centrifugo/")))
        {
            assertTrue(get(proxy, null, "GET /centrifugo/connection/sse?cf_connect=%7B%7D HTTP/1.1\r\nHost: a\r\n\r\n")
                .startsWith("HTTP/1.1 200 "));
            assertTrue(get(proxy, null, "GET /centrifugo HTTP/1.1\r\nHost: a\r\n\r\n").startsWith("HTTP/1.1 200 "));
            assertTrue(get(proxy, null, "GET /centrifugo?x=1 HTTP/1.1\r\nHost: a\r\n\r\n").startsWith("HTTP/1.1 200 "));
            final List<String> lines = http.requests().stream().map(HttpUpstream.Request::requestLine).toList();
            assertEquals(List.of("GET /connection/sse?cf_connect=%7B%7D HTTP/1.1", "GET / HTTP/1.1", "GET /?x=1 HTTP/1.1"), lines);
        }
    }

    @Test
    void requestsOutsideThePrefixGoToTheDefaultUpstream() throws Exception
    {
        try (HttpUpstream centrifugo = new HttpUpstream();
            HttpUpstream site = new HttpUpstream();
            Proxy proxy = TestProxies.start(TestProxies.context(centrifugo.address()).prefix("/centrifugo")
                .groupUpstream("site", site.address(), 1).outsidePrefixGroup("site")))
        {
            assertTrue(get(proxy, null, "GET /about HTTP/1.1\r\nHost: a\r\n\r\n").startsWith("HTTP/1.1 200 "));
            assertTrue(get(proxy, null, "GET /centrifugo/health HTTP/1.1\r\nHost: a\r\n\r\n").startsWith("HTTP/1.1 200 "));
            assertEquals("GET /about HTTP/1.1", site.requests().get(0).requestLine());
            assertEquals("GET /health HTTP/1.1", centrifugo.requests().get(0).requestLine());
            assertEquals(1, site.requests().size());
            assertEquals(1, centrifugo.requests().size());
        }
    }

    @Test
    void routesByHostToUpstreamGroups() throws Exception
    {
        try (HttpUpstream centrifugo = new HttpUpstream();
            HttpUpstream app = new HttpUpstream();
            Proxy proxy = TestProxies.start(new ProxyContext().listen(new java.net.InetSocketAddress("127.0.0.1", 0)).loops(1)
                .groupUpstream("centrifugo", centrifugo.address(), 1)
                .upstream(app.address())
                .virtualHost("centrifugo.example.com", "centrifugo")
                .virtualHost("*.rt.example.com", "centrifugo")))
        {
            assertTrue(get(proxy, null, "GET /connection/sse HTTP/1.1\r\nHost: Centrifugo.Example.com:443\r\n\r\n")
                .startsWith("HTTP/1.1 200 "));
            assertTrue(get(proxy, null, "GET /connection/sse HTTP/1.1\r\nHost: eu.rt.example.com\r\n\r\n")
                .startsWith("HTTP/1.1 200 "));
            assertTrue(get(proxy, null, "GET /home HTTP/1.1\r\nHost: www.example.com\r\n\r\n").startsWith("HTTP/1.1 200 "));
            assertEquals(2, centrifugo.requests().size());
            assertEquals(1, app.requests().size());
            assertEquals("GET /home HTTP/1.1", app.requests().get(0).requestLine());
        }
    }

    @Test
    void guardsOperatorEndpointsByClientAddress() throws Exception
    {
        try (HttpUpstream centrifugo = new HttpUpstream();
            Proxy proxy = TestProxies.start(TestProxies.context(centrifugo.address()).internalAllow(List.of("127.0.0.1/32"))))
        {
            // 127.0.0.66 stands for an internet client, 127.0.0.1 for the operator's network.
            for (final String path : List.of("/api", "/api/publish", "/%61pi/publish", "/metrics", "/debug/pprof/heap",
                "/swagger/index.html", "/admin/api"))
            {
                final String head = get(proxy, "127.0.0.66", "POST " + path + " HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n");
                assertTrue(head.startsWith("HTTP/1.1 403 Forbidden\r\n"), path + ": " + head);
            }
            assertTrue(centrifugo.requests().isEmpty(), "nothing reached the node");
            for (final String path : List.of("/connection/http_stream", "/emulation", "/health", "/apix", "/api-docs"))
            {
                final String head = get(proxy, "127.0.0.66", "POST " + path + " HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n");
                assertTrue(head.startsWith("HTTP/1.1 200 "), path + ": " + head);
            }
            assertTrue(get(proxy, "127.0.0.1", "POST /api/publish HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n")
                .startsWith("HTTP/1.1 200 "), "allowed from the internal range");
        }
    }

    @Test
    void theGuardCanBeSwitchedOff() throws Exception
    {
        try (HttpUpstream centrifugo = new HttpUpstream();
            Proxy proxy = TestProxies.start(TestProxies.context(centrifugo.address())
                .internalAllow(List.of("10.0.0.0/8")).internalPaths(List.of())))
        {
            assertTrue(get(proxy, "127.0.0.66", "GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n").startsWith("HTTP/1.1 200 "));
        }
    }
}
