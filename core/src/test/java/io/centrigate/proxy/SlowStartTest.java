package io.centrigate.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.http.HttpClient;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.centrigate.config.ProxyContext;
import io.centrigate.testing.SilentNode;
import io.centrigate.testing.WsClient;
import io.centrigate.testing.WsEchoUpstream;
import io.centrigate.upstream.UpstreamGroup;

/**
 * Issue 13, slow start: a node that is up again after its health checks gets a small, growing share of new
 * connections over {@code --slow-start} instead of all of them (least-conn) or its full turn (round robin). The
 * phases are told apart by the node's state as the group reports it, never by elapsed time.
 */
@Timeout(90)
class SlowStartTest
{
    private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);
    private static final int BEFORE = 20;
    private static final int K = 10;

    /** A proxy over a node that is down by checks (node 0) and a good one (node 1). */
    private static ProxyContext context(final SilentNode returning, final WsEchoUpstream good, final long slowStartNs,
        final ProxyContext.Balance balance)
    {
        return TestProxies.context(returning.address(), good.address())
            .healthCheckPath("/health").healthCheckIntervalNs(100 * MS).healthCheckTimeoutNs(200 * MS)
            .healthCheckFall(1).healthCheckRise(2).upgradeTimeoutNs(300 * MS).slowStartNs(slowStartNs).balance(balance)
            .loops(1);
    }

    /** One by one, so each pick sees the counts of the previous ones. */
    private static List<WsClient> connect(final HttpClient http, final Proxy proxy, final int n) throws Exception
    {
        final List<WsClient> clients = new ArrayList<>();
        for (int i = 0; i < n; i++)
        {
            final WsClient c = WsClient.connect(http, TestProxies.address(proxy), "/connection/websocket");
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

    /** Node 0 down by checks while {@link #BEFORE} clients land on node 1, then up again after rise good checks. */
    private static List<WsClient> downThenBack(final Proxy proxy, final SilentNode returning, final HttpClient http)
        throws Exception
    {
        final UpstreamGroup group = proxy.upstreams();
        HealthCheckTest.await("node 0 down by checks", () -> group.checkedDown(0));
        final List<WsClient> before = connect(http, proxy, BEFORE);
        returning.answer(true);
        HealthCheckTest.await("node 0 up after rise good checks", () -> !group.checkedDown(0));
        return before;
    }

    @Test
    void leastConnGivesARecoveredNodeAFewNewConnectionsFirstThenItsShare() throws Exception
    {
        try (WsEchoUpstream good = WsEchoUpstream.start(0);
            WsEchoUpstream behind = WsEchoUpstream.start(0);
            SilentNode returning = new SilentNode(behind.address());
            Proxy proxy = TestProxies.start(context(returning, good, TimeUnit.SECONDS.toNanos(8),
                ProxyContext.Balance.LEAST_CONN)))
        {
            final UpstreamGroup group = proxy.upstreams();
            final HttpClient http = HttpClient.newHttpClient();
            final List<WsClient> before = downThenBack(proxy, returning, http);
            assertEquals(BEFORE, good.openNow());
            assertTrue(group.slowStarting(0, System.nanoTime()), "ramping after it came back");

            // Early in the ramp: least-conn compares (active + 1) / (weight x factor), so the empty node takes a
            // new connection only while it holds far fewer than its full share.
            final List<WsClient> early = connect(http, proxy, K);
            // A node counts a tunnel in its onOpen, which can trail the client's 101: count once both nodes have.
            HealthCheckTest.await("the nodes counted the early tunnels", () -> good.openNow() + behind.openNow() == BEFORE + K);
            final int earlyOnReturning = behind.openNow();
            // The bound follows the factor the ramp had reached by the end of the phase (about 0.1 normally; on a
            // slow box more), so it holds whatever the phase took, and stays far below the K of no slow start.
            final double factor = group.slowStartFactor(0, System.nanoTime()) / (double)UpstreamGroup.FULL_FACTOR;
            assertTrue(factor < 0.3, "the early phase took most of the ramp: factor " + factor);
            final int bound = 1 + (int)(factor * (BEFORE + K + 1));
            assertTrue(earlyOnReturning <= bound, "early in slow start (factor " + factor + ") the recovered node got " +
                earlyOnReturning + " of " + K);

            HealthCheckTest.await("slow start over", () -> !group.slowStarting(0, System.nanoTime()));
            final List<WsClient> late = connect(http, proxy, K);
            HealthCheckTest.await("the nodes counted the late tunnels", () -> good.openNow() + behind.openNow() == BEFORE + 2 * K);
            final int lateOnReturning = behind.openNow() - earlyOnReturning;
            assertTrue(lateOnReturning >= K - 1, "after slow start the emptier node got " + lateOnReturning + " of " + K);
            closeAll(before);
            closeAll(early);
            closeAll(late);
        }
    }

    @Test
    void withoutSlowStartLeastConnSendsEveryNewConnectionToTheRecoveredNode() throws Exception
    {
        try (WsEchoUpstream good = WsEchoUpstream.start(0);
            WsEchoUpstream behind = WsEchoUpstream.start(0);
            SilentNode returning = new SilentNode(behind.address());
            Proxy proxy = TestProxies.start(context(returning, good, 0, ProxyContext.Balance.LEAST_CONN)))
        {
            final HttpClient http = HttpClient.newHttpClient();
            final List<WsClient> before = downThenBack(proxy, returning, http);
            assertTrue(!proxy.upstreams().slowStarting(0, System.nanoTime()));
            final List<WsClient> early = connect(http, proxy, K);
            assertEquals(K, behind.openNow(), "--slow-start 0: the empty node takes every new connection");
            closeAll(before);
            closeAll(early);
        }
    }

    @Test
    void roundRobinSkipsMostTurnsOfARampingNode() throws Exception
    {
        for (final long slowStartNs : new long[] {TimeUnit.HOURS.toNanos(1), 0})
        {
            try (WsEchoUpstream good = WsEchoUpstream.start(0);
                WsEchoUpstream behind = WsEchoUpstream.start(0);
                SilentNode returning = new SilentNode(behind.address());
                Proxy proxy = TestProxies.start(context(returning, good, slowStartNs, ProxyContext.Balance.ROUND_ROBIN)))
            {
                final HttpClient http = HttpClient.newHttpClient();
                final List<WsClient> before = downThenBack(proxy, returning, http);
                final List<WsClient> after = connect(http, proxy, 2 * K);
                if (slowStartNs > 0)
                {
                    // 5 % of its turns at the start of a one-hour ramp: a handful at most of 20.
                    assertTrue(behind.openNow() <= 4, "ramping node got " + behind.openNow() + " of " + 2 * K);
                }
                else
                {
                    assertEquals(K, behind.openNow(), "without slow start every other new connection");
                }
                closeAll(before);
                closeAll(after);
            }
        }
    }
}
