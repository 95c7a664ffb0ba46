package io.centrigate.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.http.HttpClient;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.centrigate.testing.RawClient;
import io.centrigate.testing.RawUpstream;
import io.centrigate.testing.WsClient;
import io.centrigate.testing.WsEchoUpstream;

/** Acceptance 2 and 3: the client address upstream, and failover on connect errors. */
@Timeout(60)
class UpstreamChoiceTest
{
    /** A loopback port with nothing listening: bind, note the port, close. */
    static InetSocketAddress closedPort() throws Exception
    {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress()))
        {
            return new InetSocketAddress("127.0.0.1", s.getLocalPort());
        }
    }

    @Test
    void overwritesAForgedXRealIpWithTheClientsAddress() throws Exception
    {
        try (RawUpstream upstream = new RawUpstream();
            Proxy proxy = TestProxies.start(TestProxies.context(upstream.address()));
            RawClient client = new RawClient(TestProxies.address(proxy), "127.0.0.77"))
        {
            client.send(RawClient.upgradeRequest(RawClient.newKey(),
                "X-Real-IP: 1.2.3.4\r\nX-Forwarded-For: 10.0.0.1\r\nX-Scheme: https\r\n"));
            final String head = upstream.take().requestHead();
            assertTrue(client.readHead().startsWith("HTTP/1.1 101 "));
            assertEquals("127.0.0.77", RawUpstream.header(head, "X-Real-IP"), head);
            assertEquals(1, head.split("(?i)\r\nX-Real-IP:", -1).length - 1, "exactly one X-Real-IP: " + head);
            assertEquals("10.0.0.1, 127.0.0.77", RawUpstream.header(head, "X-Forwarded-For"));
            assertEquals("http", RawUpstream.header(head, "X-Scheme"));
            assertEquals("http", RawUpstream.header(head, "X-Forwarded-Proto"));
            assertEquals("centrifugo.example.com", RawUpstream.header(head, "Host"));
            assertEquals("https://example.com", RawUpstream.header(head, "Origin"));
        }
    }

    @Test
    void connectsEveryClientThroughTheSecondNodeWhenTheFirstRefuses() throws Exception
    {
        try (WsEchoUpstream live = WsEchoUpstream.start(0);
            Proxy proxy = TestProxies.start(TestProxies.context(closedPort(), live.address())))
        {
            final HttpClient http = HttpClient.newHttpClient();
            final List<WsClient> clients = new ArrayList<>();
            for (int i = 0; i < 40; i++)
            {
                final WsClient c = WsClient.connect(http, TestProxies.address(proxy), "/connection/websocket");
                assertEquals("hi " + i, c.echoText("hi " + i));
                clients.add(c);
            }
            assertEquals(40, live.opened());
            assertTrue(proxy.upstreams().connectFailures(0) >= 1, "the dead node was tried");
            for (final WsClient c : clients)
            {
                c.socket().sendClose(1000, "");
                c.closed().get(10, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void answers502QuicklyWhenEveryNodeRefuses() throws Exception
    {
        try (Proxy proxy = TestProxies.start(TestProxies.context(closedPort(), closedPort())))
        {
            for (int i = 0; i < 5; i++)
            {
                try (RawClient client = new RawClient(TestProxies.address(proxy)))
                {
                    client.socket().setSoTimeout(5000);
                    client.send(RawClient.upgradeRequest(RawClient.newKey(), ""));
                    final String response = client.readAll();
                    assertTrue(response.startsWith("HTTP/1.1 502 Bad Gateway\r\n"), response);
                }
            }
            TestProxies.awaitIdle(proxy, 10_000);
        }
    }

    @Test
    void answers503BeyondMaxConnections() throws Exception
    {
        try (RawUpstream upstream = new RawUpstream();
            Proxy proxy = TestProxies.start(TestProxies.context(upstream.address()).maxConnections(3)))
        {
            final List<RawClient> held = new ArrayList<>();
            for (int i = 0; i < 3; i++)
            {
                final RawClient c = new RawClient(TestProxies.address(proxy));
                c.send(RawClient.upgradeRequest(RawClient.newKey(), ""));
                assertTrue(c.readHead().startsWith("HTTP/1.1 101 "));
                held.add(c);
            }
            try (RawClient extra = new RawClient(TestProxies.address(proxy)))
            {
                final String response = extra.readAll();
                assertTrue(response.startsWith("HTTP/1.1 503 "), response);
                assertTrue(response.contains("Retry-After: 1"), response);
            }
            for (final RawClient c : held)
            {
                c.close();
            }
        }
    }
}
