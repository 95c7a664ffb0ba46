package io.centrigate.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.http.HttpClient;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.centrigate.config.ProxyContext;
import io.centrigate.testing.HttpUpstream;
import io.centrigate.testing.RawClient;
import io.centrigate.testing.SilentNode;
import io.centrigate.testing.WsClient;
import io.centrigate.testing.WsEchoUpstream;
import io.centrigate.upstream.UpstreamGroup;

/** Issue 13, node health: active checks, a stalled upgrade tried elsewhere, passive ejection. */
@Timeout(90)
class HealthCheckTest
{
    private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);

    static void await(final String what, final BooleanSupplier condition) throws InterruptedException
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!condition.getAsBoolean())
        {
            if (System.nanoTime() - deadline > 0)
            {
                throw new AssertionError("not within 30 s: " + what);
            }
            Thread.sleep(20); // a bounded poll, not a synchronisation by time
        }
    }

    private static List<WsClient> connectAll(final HttpClient http, final Proxy proxy, final int n) throws Exception
    {
        final List<CompletableFuture<WsClient>> pending = new ArrayList<>();
        for (int i = 0; i < n; i++)
        {
            pending.add(CompletableFuture.supplyAsync(() ->
            {
                try
                {
                    return WsClient.connect(http, TestProxies.address(proxy), "/connection/websocket");
                }
                catch (final Exception e)
                {
                    throw new IllegalStateException(e);
                }
            }));
        }
        final List<WsClient> clients = new ArrayList<>();
        for (int i = 0; i < n; i++)
        {
            final WsClient c = pending.get(i).get(30, TimeUnit.SECONDS);
            assertEquals("hi " + i, c.echoText("hi " + i));
            clients.add(c);
        }
        return clients;
    }

    private static void closeAll(final List<WsClient> clients) throws Exception
    {
        for (final WsClient c : clients)
        {
            c.socket().sendClose(1000, "");
            c.closed().get(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void aHungNodeGoesDownItsUpgradesSucceedElsewhereAndItGetsTunnelsAgainAfterRise() throws Exception
    {
        try (WsEchoUpstream good = WsEchoUpstream.start(0);
            WsEchoUpstream behindSilent = WsEchoUpstream.start(0);
            SilentNode silent = new SilentNode(behindSilent.address());
            Proxy proxy = TestProxies.start(TestProxies.context(silent.address(), good.address())
                .healthCheckPath("/health").healthCheckIntervalNs(200 * MS).healthCheckTimeoutNs(200 * MS)
                .healthCheckFall(2).healthCheckRise(2).upgradeTimeoutNs(300 * MS)))
        {
            final UpstreamGroup group = proxy.upstreams();
            final HttpClient http = HttpClient.newHttpClient();
            // At once, before any check failed: the clients that land on the hung node are moved after 300 ms.
            final List<WsClient> first = connectAll(http, proxy, 20);
            assertEquals(20, good.openNow(), "every tunnel through the good node");
            assertEquals(0, behindSilent.opened());

            await("the hung node is down by checks", () -> group.checkedDown(0));
            assertEquals(UpstreamGroup.DOWN, group.state(0, System.nanoTime()));
            assertTrue(group.checks(0, UpstreamGroup.CHECK_TIMEOUT) >= 2, "two checks timed out");
            assertEquals(1, group.stateChanges(0, true));
            assertTrue(group.checks(1, UpstreamGroup.CHECK_OK) >= 1, "the good node answers /health");
            assertTrue(good.healthChecks() >= 1);
            assertEquals(UpstreamGroup.UP, group.state(1, System.nanoTime()));

            // While it is down: new clients all go to the good node, without waiting for a stall.
            final List<WsClient> meanwhile = connectAll(http, proxy, 5);
            assertEquals(25, good.openNow());

            silent.answer(true);
            await("the node is up again after rise good checks", () -> !group.checkedDown(0));
            assertEquals(1, group.stateChanges(0, false));
            // Least-conn: the empty node gets the new tunnels.
            final List<WsClient> after = connectAll(http, proxy, 10);
            assertEquals(10, behindSilent.openNow(), "the recovered node gets new tunnels");
            closeAll(first);
            closeAll(meanwhile);
            closeAll(after);
        }
    }

    @Test
    void aStalledUpgradeIsMovedAndCountedOnTheNode() throws Exception
    {
        try (WsEchoUpstream good = WsEchoUpstream.start(0);
            SilentNode silent = new SilentNode(good.address());
            Proxy proxy = TestProxies.start(TestProxies.context(silent.address(), good.address())
                .upgradeTimeoutNs(300 * MS).balance(ProxyContext.Balance.ROUND_ROBIN).loops(1)))
        {
            final HttpClient http = HttpClient.newHttpClient();
            // Round robin over two nodes: one of the first two clients lands on the hung node.
            final List<WsClient> clients = connectAll(http, proxy, 2);
            assertEquals(2, good.openNow());
            final UpstreamGroup group = proxy.upstreams();
            assertEquals(1, group.upgradeRetries(0));
            assertEquals(0, group.upgradeRetries(1));
            assertEquals(UpstreamGroup.EJECTED, group.state(0, System.nanoTime()), "passively ejected");
            closeAll(clients);
        }
    }

    /** A node that closes an upgrade's connection before answering (going down): the upgrade goes to another node. */
    @Test
    void anUpgradeWhoseNodeClosesBeforeAnsweringGoesToAnotherNode() throws Exception
    {
        try (WsEchoUpstream good = WsEchoUpstream.start(0);
            SilentNode dying = new SilentNode(good.address());
            Proxy proxy = TestProxies.start(TestProxies.context(dying.address(), good.address())
                .balance(ProxyContext.Balance.ROUND_ROBIN).loops(1)))
        {
            dying.closeWithoutAnswer(true);
            final HttpClient http = HttpClient.newHttpClient();
            // Round robin over two nodes: one of the first two clients lands on the dying node.
            final List<WsClient> clients = connectAll(http, proxy, 2);
            assertEquals(2, good.openNow(), "both upgrades opened on the good node");
            assertEquals(1, dying.accepted(), "one went to the dying node first");
            assertEquals(UpstreamGroup.EJECTED, proxy.upstreams().state(0, System.nanoTime()), "passively ejected");
            closeAll(clients);
        }
    }

    @Test
    void anIdempotentRequestIsMovedButAPostWaitsForItsNode() throws Exception
    {
        try (HttpUpstream good = new HttpUpstream();
            SilentNode silent = new SilentNode(good.address());
            Proxy proxy = TestProxies.start(TestProxies.context(silent.address(), good.address())
                .upgradeTimeoutNs(200 * MS).readTimeoutNs(1500 * MS).balance(ProxyContext.Balance.ROUND_ROBIN)
                .failTimeoutNs(0).loops(1)))
        {
            // fail-timeout 0: nothing is ejected, so round robin keeps alternating between the two nodes.
            int answered = 0;
            int timedOut = 0;
            for (int i = 0; i < 4; i++)
            {
                try (RawClient client = new RawClient(TestProxies.address(proxy)))
                {
                    client.send("POST /connection/http_stream HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n" +
                        "Connection: close\r\n\r\n{}");
                    final String answer = client.readAll();
                    if (answer.startsWith("HTTP/1.1 504 "))
                    {
                        timedOut++;
                    }
                    else
                    {
                        assertTrue(answer.startsWith("HTTP/1.1 200 "), answer);
                        answered++;
                    }
                }
            }
            assertEquals(2, timedOut, "the POSTs that went to the hung node waited for it (504), none moved");
            assertEquals(2, answered);
            assertEquals(2, good.requests().size(), "the good node saw only its own POSTs");
            assertEquals(0, proxy.upstreams().upgradeRetries(0));

            for (int i = 0; i < 2; i++)
            {
                try (RawClient client = new RawClient(TestProxies.address(proxy)))
                {
                    client.send("GET /info HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
                    final String answer = client.readAll();
                    assertTrue(answer.startsWith("HTTP/1.1 200 "), answer);
                }
            }
            assertEquals(2, proxy.upstreams().upgradeRetries(0), "each GET that met the hung node was moved");
        }
    }

    @Test
    void withNoOtherNodeAStalledUpgradeWaitsAsBeforeAndTheLastNodeIsNotEjected() throws Exception
    {
        try (WsEchoUpstream backend = WsEchoUpstream.start(0);
            SilentNode silent = new SilentNode(backend.address());
            Proxy proxy = TestProxies.start(TestProxies.context(silent.address())
                .upgradeTimeoutNs(200 * MS).readTimeoutNs(1500 * MS));
            RawClient client = new RawClient(TestProxies.address(proxy)))
        {
            client.send(RawClient.upgradeRequest(RawClient.newKey(), ""));
            final String answer = client.readAll();
            assertTrue(answer.startsWith("HTTP/1.1 504 "), answer);
            final UpstreamGroup group = proxy.upstreams();
            assertEquals(0, group.upgradeRetries(0));
            assertEquals(UpstreamGroup.UP, group.state(0, System.nanoTime()), "the only node is never ejected");
        }
    }
}
