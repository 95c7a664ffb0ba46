package io.centrigate.upstream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import io.centrigate.config.ProxyContext;
import io.centrigate.config.ProxyContext.Balance;

/** The share, threshold and excess arithmetic, and the token bucket, without sockets. */
class RebalancerTest
{
    private static final boolean[] ALL2 = {true, true};
    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);

    private static UpstreamGroup group(final int... weights)
    {
        final List<ProxyContext.Upstream> list = new ArrayList<>();
        for (int i = 0; i < weights.length; i++)
        {
            list.add(new ProxyContext.Upstream(new InetSocketAddress("127.0.0.1", 9000 + i), weights[i]));
        }
        return new UpstreamGroup(list, Balance.LEAST_CONN, 0);
    }

    private static void open(final UpstreamGroup g, final int node, final int n)
    {
        for (int i = 0; i < n; i++)
        {
            g.tunnels(node).opened();
        }
    }

    @Test
    void driftIsMeasuredAgainstTheWeightedShare()
    {
        assertFalse(Rebalancer.drifted(new int[] {1100, 900}, new int[] {1, 1}, ALL2, 20), "10 % off the share");
        assertFalse(Rebalancer.drifted(new int[] {1200, 800}, new int[] {1, 1}, ALL2, 20), "exactly 20 % is not more");
        assertTrue(Rebalancer.drifted(new int[] {1201, 799}, new int[] {1, 1}, ALL2, 20));
        assertTrue(Rebalancer.drifted(new int[] {2000, 0}, new int[] {1, 1}, ALL2, 20), "a restarted node");
        assertFalse(Rebalancer.drifted(new int[] {1500, 500}, new int[] {3, 1}, ALL2, 20), "weights 3:1 want 1500:500");
        assertTrue(Rebalancer.drifted(new int[] {1000, 1000}, new int[] {3, 1}, ALL2, 20));
        assertFalse(Rebalancer.drifted(new int[] {0, 0}, new int[] {1, 1}, ALL2, 20), "nothing to balance");
    }

    @Test
    void nodesOutsideTheBalanceDoNotCount()
    {
        final boolean[] firstOnly = {true, false};
        assertFalse(Rebalancer.drifted(new int[] {2000, 0}, new int[] {1, 1}, firstOnly, 20), "the other node is down");
        assertArrayEquals(new int[] {0, 0}, Rebalancer.excess(new int[] {2000, 0}, new int[] {1, 1}, firstOnly));
    }

    @Test
    void excessNeverTakesANodeBelowItsShare()
    {
        assertArrayEquals(new int[] {1000, 0}, Rebalancer.excess(new int[] {2000, 0}, new int[] {1, 1}, ALL2));
        assertArrayEquals(new int[] {500, 0}, Rebalancer.excess(new int[] {2000, 0}, new int[] {3, 1}, ALL2));
        // Shares rounded up: 3 tunnels on two nodes close 1, never 2 (which would just swap the nodes).
        assertArrayEquals(new int[] {1, 0}, Rebalancer.excess(new int[] {3, 0}, new int[] {1, 1}, ALL2));
        assertArrayEquals(new int[] {0, 0}, Rebalancer.excess(new int[] {2, 1}, new int[] {1, 1}, ALL2));
        assertArrayEquals(new int[] {200, 200, 0},
            Rebalancer.excess(new int[] {1200, 1200, 600}, new int[] {1, 1, 1}, new boolean[] {true, true, true}));
    }

    @Test
    void closesWaitForTheSettleTimeThenGoAtTheRate()
    {
        final UpstreamGroup g = group(1, 1);
        open(g, 0, 2000);
        final Rebalancer r = new Rebalancer(true, 20, 10 * SECOND, 0, 1.0, 0); // 1 % of 2000 = 20/s
        long now = 1_000_000_000L;
        int offered = 0;
        for (int t = 0; t < 99; t++, now += Rebalancer.TICK_NS)
        {
            offered += r.tick(new UpstreamGroup[] {g}, now);
        }
        assertEquals(0, offered, "no close before the drift lasted --rebalance-settle");
        long taken = 0;
        for (int t = 0; t < 50; t++, now += Rebalancer.TICK_NS) // 5 s: at most 100 closes at 20/s
        {
            r.tick(new UpstreamGroup[] {g}, now);
            while (g.tunnels(0).claim(Long.MAX_VALUE, 0) == NodeTunnels.REBALANCE)
            {
                g.tunnels(0).closed();
                taken++;
            }
        }
        assertTrue(taken >= 90 && taken <= 102, "20/s for 5 s, got " + taken);
        assertEquals(taken, g.tunnels(0).rebalanceCloses());
    }

    @Test
    void rebalancingStopsAtTheShareAndNeverClosesYoungTunnels()
    {
        final UpstreamGroup g = group(1, 1);
        open(g, 0, 30);
        final Rebalancer r = new Rebalancer(true, 20, 0, 1000, 0, SECOND);
        long now = 1_000_000_000L;
        r.tick(new UpstreamGroup[] {g}, now);
        assertEquals(NodeTunnels.NONE, g.tunnels(0).claim(SECOND - 1, SECOND), "younger than the minimum age");
        int moved = 0;
        for (int t = 0; t < 20; t++, now += Rebalancer.TICK_NS)
        {
            r.tick(new UpstreamGroup[] {g}, now);
            while (g.tunnels(0).claim(SECOND, SECOND) == NodeTunnels.REBALANCE)
            {
                g.tunnels(0).closed();
                g.tunnels(1).opened(); // least-conn sends the reconnect to the lighter node
                moved++;
            }
        }
        assertEquals(15, moved, "down to the share, not just under the threshold");
        assertEquals(15, g.tunnels(0).open());
    }

    /**
     * Clients that do not come back (bench/scale.sh's never reconnect): a move closes no more than the nodes short of
     * their share can take back, instead of cutting every fuller node down to the emptiest one; when clients do
     * come back (or new ones arrive) it goes on to the shares.
     */
    @Test
    void aMoveClosesNoMoreThanTheShortNodesCanTakeBackUntilClientsReturn()
    {
        final UpstreamGroup g = group(1, 1, 1);
        open(g, 0, 3000);
        open(g, 1, 3000);
        open(g, 2, 1000); // a node that stalled for a moment while clients connected
        final Rebalancer r = new Rebalancer(true, 20, 0, 1000, 0, 0);
        final UpstreamGroup[] groups = {g};
        long now = 1_000_000_000L;
        int closed = 0;
        for (int t = 0; t < 600; t++, now += Rebalancer.TICK_NS) // a minute at up to 1,000 closes a second
        {
            r.tick(groups, now);
            for (int node = 0; node < 2; node++)
            {
                while (g.tunnels(node).claim(Long.MAX_VALUE, 0) == NodeTunnels.REBALANCE)
                {
                    g.tunnels(node).closed();
                    closed++;
                }
            }
        }
        // 7,000 tunnels, shares 2,333: node 2 is 1,333 short. The old arithmetic closed 4,000 (down to 1,000 each).
        assertTrue(closed <= 1333, "closed " + closed + " for a deficit of 1,333 while no client came back");
        assertTrue(closed >= 1000, "the move still starts: " + closed);
        assertTrue(r.moving(0));
        // The clients come back (least-conn: to node 2), and the move goes on to the shares.
        for (int t = 0; t < 600; t++, now += Rebalancer.TICK_NS)
        {
            r.tick(groups, now);
            for (int node = 0; node < 2; node++)
            {
                while (g.tunnels(node).claim(Long.MAX_VALUE, 0) == NodeTunnels.REBALANCE)
                {
                    g.tunnels(node).closed();
                    g.tunnels(2).opened();
                }
            }
            final int back = Math.max(0, 7000 - g.tunnels(0).open() - g.tunnels(1).open() - g.tunnels(2).open());
            open(g, 2, back);
        }
        for (int node = 0; node < 3; node++)
        {
            final int open = g.tunnels(node).open();
            assertTrue(open >= 2332 && open <= 2335, "node " + node + " at its share: " + open);
        }
        assertTrue(!r.moving(0), "done");
    }

    /**
     * A restarted node in slow start: closes follow its ramp (a close beyond what least-conn would send it only
     * bounces the client back to the node it left), and an ejection in the middle of the move pauses it without
     * starting the settle time over.
     */
    @Test
    void aRampingNodeIsFilledAtTheRampsPaceAndAnEjectionOnlyPausesTheMove()
    {
        final long slowStart = 30 * SECOND;
        final UpstreamGroup g = new UpstreamGroup(List.of(
            new ProxyContext.Upstream(new InetSocketAddress("127.0.0.1", 9000), 1),
            new ProxyContext.Upstream(new InetSocketAddress("127.0.0.1", 9001), 1)), Balance.LEAST_CONN, 10 * SECOND)
            .slowStartNs(slowStart);
        open(g, 0, 2000);
        g.checkedDown(1, true);
        g.checkedDown(1, false); // back after checks: its ramp begins now
        long now = System.nanoTime(); // the ramp is timed on the real clock
        final Rebalancer r = new Rebalancer(true, 20, 0, 1000, 0, 0); // no settle, 1,000/s: the share is the limit
        int moved = 0;
        for (int t = 0; t < 10; t++, now += Rebalancer.TICK_NS) // the first second: factor 5 % to about 8 %
        {
            r.tick(new UpstreamGroup[] {g}, now);
            moved += moveToTheOtherNode(g);
        }
        // Least-conn's share for the ramping node is 2000 x f / (1 + f): at most about 150 here; a rebalance by
        // weight alone would have moved the full 1,000 in this second (1,000/s), most of them straight back.
        assertTrue(moved > 50 && moved < 200, "moves follow the ramp: " + moved);
        final int before = moved;

        g.failed(1, now); // a stalled upgrade: ejected for 10 s, then it ramps again from 5 %
        for (int t = 0; t < 50; t++, now += Rebalancer.TICK_NS)
        {
            r.tick(new UpstreamGroup[] {g}, now);
            moved += moveToTheOtherNode(g);
        }
        assertEquals(before, moved, "nothing moves to an ejected node");
        for (int t = 0; t < 500 && g.tunnels(0).open() > 1000; t++, now += Rebalancer.TICK_NS)
        {
            r.tick(new UpstreamGroup[] {g}, now);
            moved += moveToTheOtherNode(g);
        }
        assertEquals(1000, g.tunnels(0).open(), "the move went on after the ejection, to the share");
        assertEquals(1000, g.tunnels(1).open());
    }

    /** What the loops and the clients do with the offered closes: each closed tunnel reconnects to the other node. */
    private static int moveToTheOtherNode(final UpstreamGroup g)
    {
        int moved = 0;
        while (g.tunnels(0).claim(Long.MAX_VALUE, 0) == NodeTunnels.REBALANCE)
        {
            g.tunnels(0).closed();
            g.tunnels(1).opened();
            moved++;
        }
        return moved;
    }

    @Test
    void aDrainedNodeIsEmptiedWhateverItsTunnelsAgeAndEvenWithRebalancingOff()
    {
        final UpstreamGroup g = group(1, 1);
        open(g, 0, 10);
        open(g, 1, 10);
        g.drain(1, true);
        final Rebalancer r = new Rebalancer(false, 20, 0, 1000, 0, 60 * SECOND);
        long now = 1_000_000_000L;
        int drained = 0;
        for (int t = 0; t < 5; t++, now += Rebalancer.TICK_NS)
        {
            r.tick(new UpstreamGroup[] {g}, now);
            assertEquals(NodeTunnels.NONE, g.tunnels(0).claim(0, 60 * SECOND), "nothing to do on the other node");
            while (g.tunnels(1).claim(0, 60 * SECOND) == NodeTunnels.DRAIN)
            {
                g.tunnels(1).closed();
                drained++;
            }
        }
        assertEquals(10, drained);
        assertEquals(UpstreamGroup.DRAINING, g.state(1, now));
        assertEquals(0, g.acquire(now, 0), "a drained node gets no new connection");
        assertEquals(0, g.acquire(now, 0));
    }

    @Test
    void aNewWeightChangesNewPicksAndSurvivesAReloadOfTheSameNode()
    {
        final UpstreamGroup g = group(1, 1);
        g.weight(0, 3);
        int first = 0;
        final UpstreamGroup rr = new UpstreamGroup(List.of(
            new ProxyContext.Upstream(new InetSocketAddress("127.0.0.1", 9000), 1),
            new ProxyContext.Upstream(new InetSocketAddress("127.0.0.1", 9001), 1)), Balance.ROUND_ROBIN, 0);
        rr.weight(0, 3);
        for (int i = 0; i < 400; i++)
        {
            if (rr.acquire(0, 0) == 0)
            {
                first++;
            }
        }
        assertEquals(300, first, "weights 3:1 in round robin");
        g.drain(1, true);
        final UpstreamGroup same = group(1, 1);
        same.inheritAdminState(g);
        assertEquals(3, same.weight(0));
        assertTrue(same.drained(1));
        final UpstreamGroup changed = group(2, 1);
        changed.inheritAdminState(g);
        assertEquals(2, changed.weight(0), "the reloaded config changed the node: its weight wins");
        assertTrue(changed.drained(1));
        assertTrue(changed.tunnels(0) == g.tunnels(0), "tunnels opened before the reload stay counted");
    }
}
