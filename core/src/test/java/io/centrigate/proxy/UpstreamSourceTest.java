package io.centrigate.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.centrigate.metrics.LoopSnapshot;
import io.centrigate.testing.HttpUpstream;
import io.centrigate.testing.RawClient;
import io.centrigate.testing.WsClient;
import io.centrigate.testing.WsEchoUpstream;
import io.centrigate.upstream.UpstreamGroup;

/**
 * {@code --upstream-source}: connects to the node come from the source addresses in turn; one that cannot be bound
 * is skipped and counted while clients are served; none that can: 503, and the node is not marked.
 */
@Timeout(60)
class UpstreamSourceTest
{
    /** TEST-NET-1 (RFC 5737): on no machine, so a bind to it fails with EADDRNOTAVAIL. */
    private static final String NOT_HERE = "192.0.2.1";

    /** One request on a connection of its own; returns the status line. */
    static String get(final Proxy proxy, final String path) throws Exception
    {
        try (RawClient client = new RawClient(TestProxies.address(proxy)))
        {
            client.send("GET " + path + " HTTP/1.1\r\nHost: centrifugo\r\nConnection: close\r\n\r\n");
            final String answer = client.readAll();
            return answer.substring(0, answer.indexOf("\r\n"));
        }
    }

    private static String addresses(final List<InetAddress> peers)
    {
        return peers.stream().map(InetAddress::getHostAddress).collect(Collectors.joining(","));
    }

    private static long bindFailures(final Proxy proxy) throws Exception
    {
        return proxy.snapshot(5, TimeUnit.SECONDS).stream().mapToLong(LoopSnapshot::upstreamSourceBindFailures).sum();
    }

    @Test
    void eachConnectComesFromTheNextSourceAddress() throws Exception
    {
        try (HttpUpstream node = new HttpUpstream();
            Proxy proxy = TestProxies.start(TestProxies.context(node.address()).loops(1).upstreamKeepAlive(0)
                .upstreamSource("127.0.0.2-127.0.0.4")))
        {
            for (int i = 0; i < 6; i++)
            {
                assertEquals("HTTP/1.1 200 OK", get(proxy, "/api/info?i=" + i));
            }
            assertEquals("127.0.0.2,127.0.0.3,127.0.0.4,127.0.0.2,127.0.0.3,127.0.0.4", addresses(node.peers()));
            assertEquals(0, bindFailures(proxy));
            // The suite runs once per transport: each binds its own way (epoll with IP_BIND_ADDRESS_NO_PORT).
            assertEquals(System.getProperty("centrigate.transport", "nio"), proxy.context().transportInUse());
        }
    }

    @Test
    void webSocketTunnelsComeFromTheSourceAddressesToo() throws Exception
    {
        try (WsEchoUpstream node = WsEchoUpstream.start(0);
            Proxy proxy = TestProxies.start(TestProxies.context(node.address()).loops(1)
                .upstreamSource("127.0.0.5,127.0.0.6")))
        {
            final java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
            for (int i = 0; i < 4; i++)
            {
                final WsClient c = WsClient.connect(http, TestProxies.address(proxy), "/connection/websocket");
                assertEquals("hi " + i, c.echoText("hi " + i));
                c.socket().sendClose(1000, "");
                c.closed().get(10, TimeUnit.SECONDS);
            }
            assertEquals("127.0.0.5,127.0.0.6,127.0.0.5,127.0.0.6", addresses(node.peers()));
        }
    }

    @Test
    void aSourceAddressThatCannotBindIsSkippedAndCountedWhileClientsAreServed() throws Exception
    {
        try (HttpUpstream node = new HttpUpstream();
            Proxy proxy = TestProxies.start(TestProxies.context(node.address()).loops(1).upstreamKeepAlive(0)
                .upstreamSource("127.0.0.2," + NOT_HERE + ",127.0.0.3")))
        {
            for (int i = 0; i < 6; i++)
            {
                assertEquals("HTTP/1.1 200 OK", get(proxy, "/api/info?i=" + i));
            }
            // The failed address is skipped for 10 s: one failure, then the turn goes over the other two.
            assertEquals("127.0.0.2,127.0.0.3,127.0.0.2,127.0.0.3,127.0.0.2,127.0.0.3", addresses(node.peers()));
            assertEquals(1, bindFailures(proxy));
            assertEquals(0, proxy.upstreams().connectFailures(0), "a local bind failure is not the node's");
            assertEquals(UpstreamGroup.UP, proxy.upstreams().state(0, System.nanoTime()));
        }
    }

    @Test
    void withNoSourceAddressThatBindsTheRequestIsRefusedAndTheNodeStaysUp() throws Exception
    {
        try (HttpUpstream node = new HttpUpstream();
            Proxy proxy = TestProxies.start(TestProxies.context(node.address()).loops(1)
                .upstreamSource(NOT_HERE)))
        {
            assertEquals("HTTP/1.1 503 Service Unavailable", get(proxy, "/api/info"));
            assertEquals("HTTP/1.1 503 Service Unavailable", get(proxy, "/api/info"));
            assertEquals(0, node.connections());
            assertEquals(2, bindFailures(proxy), "a marked address is tried again when it is the only one");
            assertEquals(0, proxy.upstreams().connectFailures(0));
            assertEquals(UpstreamGroup.UP, proxy.upstreams().state(0, System.nanoTime()));
        }
    }

    @Test
    void aNodeOfTheOtherFamilyIsReachedWithoutASourceAddress() throws Exception
    {
        try (HttpUpstream node = new HttpUpstream();
            Proxy proxy = TestProxies.start(TestProxies.context(node.address()).loops(1).upstreamKeepAlive(0)
                .upstreamSource("fd00::1")))
        {
            assertEquals("HTTP/1.1 200 OK", get(proxy, "/api/info"));
            assertEquals("127.0.0.1", addresses(node.peers()));
            assertEquals(0, bindFailures(proxy));
        }
    }
}
