package io.centrigate.upstream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import io.centrigate.config.ProxyContext;
import io.centrigate.config.ProxyContext.Balance;

class UpstreamGroupTest
{
    private static UpstreamGroup group(final Balance balance, final long failTimeoutNs, final int... weights)
    {
        final List<ProxyContext.Upstream> list = new ArrayList<>();
        for (int i = 0; i < weights.length; i++)
        {
            list.add(new ProxyContext.Upstream(new InetSocketAddress("127.0.0.1", 9000 + i), weights[i]));
        }
        return new UpstreamGroup(list, balance, failTimeoutNs);
    }

    @Test
    void leastConnKeepsEqualNodesWithinOneOfEachOther()
    {
        final UpstreamGroup g = group(Balance.LEAST_CONN, 0, 1, 1, 1);
        for (int i = 0; i < 300; i++)
        {
            g.acquire(0, 0);
        }
        assertArrayEquals(new int[] {100, 100, 100}, new int[] {g.active(0), g.active(1), g.active(2)});
        g.release(1);
        g.release(1);
        assertEquals(1, g.acquire(0, 0), "the node with fewest connections gets the next one");
    }

    /** A reload or a DNS change builds a new group: connections made before it still count in least-conn after it. */
    @Test
    void leastConnCountsCarryOverToTheGroupThatReplacesIt()
    {
        final UpstreamGroup old = group(Balance.LEAST_CONN, 0, 1, 1);
        for (int i = 0; i < 10; i++)
        {
            old.acquire(0, 0);
        }
        old.release(1);
        old.release(1);
        final UpstreamGroup fresh = group(Balance.LEAST_CONN, 0, 1, 1);
        fresh.inheritAdminState(old);
        assertArrayEquals(new int[] {5, 3}, new int[] {fresh.active(0), fresh.active(1)});
        assertEquals(1, fresh.acquire(0, 0), "the node with fewer connections before the swap gets the next one");
        assertEquals(1, fresh.acquire(0, 0));
        // Sessions that hold the old group release into the same counts.
        old.release(0);
        old.release(0);
        assertArrayEquals(new int[] {3, 5}, new int[] {fresh.active(0), fresh.active(1)});
        assertEquals(0, fresh.acquire(0, 0));
    }

    @Test
    void leastConnHonoursWeights()
    {
        final UpstreamGroup g = group(Balance.LEAST_CONN, 0, 3, 1);
        for (int i = 0; i < 400; i++)
        {
            g.acquire(0, 0);
        }
        assertEquals(300, g.active(0));
        assertEquals(100, g.active(1));
    }

    @Test
    void roundRobinInterleavesWeightsSmoothly()
    {
        assertArrayEquals(new int[] {0, 0, 1, 0, 2, 0, 0}, UpstreamGroup.smoothWeightedOrder(new int[] {5, 1, 1}));
        final UpstreamGroup g = group(Balance.ROUND_ROBIN, 0, 1, 2);
        final int[] counts = new int[2];
        for (int i = 0; i < 300; i++)
        {
            counts[g.acquire(0, 0)]++;
        }
        assertArrayEquals(new int[] {100, 200}, counts);
    }

    @Test
    void skipsANodeThatRefusedUntilItsFailTimeoutPasses()
    {
        final UpstreamGroup g = group(Balance.LEAST_CONN, 1000, 1, 1);
        g.connectFailed(0, 0);
        for (int i = 0; i < 10; i++)
        {
            assertEquals(1, g.acquire(500, 0));
        }
        assertEquals(0, g.acquire(1000, 0), "usable again once the fail timeout passed");
        g.connectFailed(0, 2000);
        g.connected(0);
        assertEquals(0, g.acquire(2001, 0), "a successful connect clears the mark");
    }

    @Test
    void triesMarkedNodesWhenEveryNodeIsMarkedAndNeverRetriesATriedOne()
    {
        final UpstreamGroup g = group(Balance.LEAST_CONN, 1000, 1, 1);
        g.connectFailed(0, 0);
        g.connectFailed(1, 0);
        final int first = g.acquire(10, 0);
        final int second = g.acquire(10, 1L << first);
        assertEquals(1 - first, second);
        assertEquals(-1, g.acquire(10, 0b11), "every node tried");
    }

    @Test
    void passiveEjectionNeverTakesTheLastUsableNode()
    {
        final UpstreamGroup two = group(Balance.LEAST_CONN, 1000, 1, 1);
        two.failed(0, 0);
        assertEquals(UpstreamGroup.EJECTED, two.state(0, 10));
        two.failed(1, 0);
        assertEquals(UpstreamGroup.UP, two.state(1, 10), "the last usable node stays");
        for (int i = 0; i < 5; i++)
        {
            assertEquals(1, two.acquire(10, 0));
        }

        final UpstreamGroup one = group(Balance.LEAST_CONN, 1000, 1);
        for (int i = 0; i < 5; i++)
        {
            one.failed(0, 0);
        }
        assertEquals(UpstreamGroup.UP, one.state(0, 10), "a group of one never loses its node");
        assertEquals(0, one.acquire(10, 0));
    }

    @Test
    void passiveEjectionStaysWithinTheShareAndBacksOffUpToEightTimes()
    {
        final UpstreamGroup four = group(Balance.LEAST_CONN, 1000, 1, 1, 1, 1);
        four.failed(0, 0);
        four.failed(1, 0);
        four.failed(2, 0);
        assertEquals(UpstreamGroup.EJECTED, four.state(0, 10));
        assertEquals(UpstreamGroup.EJECTED, four.state(1, 10));
        assertEquals(UpstreamGroup.UP, four.state(2, 10), "50 % of four nodes: two at most");

        final UpstreamGroup g = group(Balance.LEAST_CONN, 1000, 1, 1);
        final long[] expected = {1000, 2000, 4000, 8000, 8000};
        long now = 0;
        for (final long backoff : expected)
        {
            g.failed(0, now);
            assertEquals(UpstreamGroup.EJECTED, g.state(0, now + backoff - 1));
            assertEquals(UpstreamGroup.UP, g.state(0, now + backoff), "backoff " + backoff);
            now += backoff;
        }
        g.answered(0);
        g.failed(0, now);
        assertEquals(UpstreamGroup.UP, g.state(0, now + 1000), "a good answer ends the failures in a row");
    }

    @Test
    void aNodeDownByChecksIsNeverPickedEvenWhenItIsTheLast()
    {
        final UpstreamGroup g = group(Balance.ROUND_ROBIN, 1000, 1, 1);
        assertEquals(true, g.checkedDown(0, true));
        assertEquals(false, g.checkedDown(0, true), "no change, nothing written");
        for (int i = 0; i < 4; i++)
        {
            assertEquals(1, g.acquire(0, 0));
        }
        g.checkedDown(1, true);
        assertEquals(-1, g.acquire(0, 0), "down is down: a fast 502");
        g.checkedDown(0, false);
        assertEquals(0, g.acquire(0, 0));
        assertEquals(1, g.stateChanges(0, false));
        assertEquals(1, g.stateChanges(0, true));
    }

    @Test
    void aPassiveEjectionRampsFromWhereItEnds()
    {
        final long second = 1_000_000_000L;
        final UpstreamGroup g = group(Balance.LEAST_CONN, 10 * second, 1, 1, 1).slowStartNs(20 * second);
        final long t0 = 1_000 * second;
        assertEquals(UpstreamGroup.FULL_FACTOR, g.slowStartFactor(0, t0), "no ramp before anything happened");
        g.failed(0, t0); // ejected until t0 + 10 s
        assertEquals(UpstreamGroup.MIN_FACTOR, g.slowStartFactor(0, t0 + 10 * second));
        final int half = g.slowStartFactor(0, t0 + 20 * second);
        assertEquals((UpstreamGroup.FULL_FACTOR + UpstreamGroup.MIN_FACTOR) / 2, half, 1, "linear: half way at 10 s of 20");
        assertEquals(UpstreamGroup.FULL_FACTOR, g.slowStartFactor(0, t0 + 30 * second));
        assertEquals(UpstreamGroup.FULL_FACTOR, g.slowStartFactor(1, t0 + 10 * second), "the others are not ramped");

        // Least-conn while ramping at 5 %: node 0 takes a new connection only at about a 20th of the others' load.
        for (int i = 0; i < 40; i++)
        {
            g.acquire(t0 + 10 * second, 1L);
        }
        assertEquals(0, g.active(0));
        int toRamping = 0;
        for (int i = 0; i < 20; i++)
        {
            toRamping += g.acquire(t0 + 10 * second, 0) == 0 ? 1 : 0;
        }
        assertEquals(1, toRamping, "one of 20 to the node at 5 %, against 20 of 20 at full weight");
    }

    @Test
    void aReloadKeepsTheRampsOfKnownAddressesAndRampsNewOnes()
    {
        final long second = 1_000_000_000L;
        final UpstreamGroup old = group(Balance.LEAST_CONN, 0, 1, 1).slowStartNs(20 * second);
        final UpstreamGroup fresh = group(Balance.LEAST_CONN, 0, 1, 1, 1).slowStartNs(20 * second);
        final long t0 = 1_000 * second;
        fresh.inheritSlowStart(new UpstreamGroup[] {old}, t0);
        assertEquals(UpstreamGroup.FULL_FACTOR, fresh.slowStartFactor(0, t0), "a node the old group had as it was");
        assertEquals(UpstreamGroup.FULL_FACTOR, fresh.slowStartFactor(1, t0));
        assertEquals(UpstreamGroup.MIN_FACTOR, fresh.slowStartFactor(2, t0), "a new address ramps from now");
        assertEquals(UpstreamGroup.FULL_FACTOR, fresh.slowStartFactor(2, t0 + 20 * second));
    }
}
