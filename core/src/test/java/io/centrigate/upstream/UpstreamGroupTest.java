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
}
