package io.centrigate.upstream;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One node's load as the balancer sees it, shared by every loop: connections and tunnels open, and how many tunnels the
 * rebalancer currently asks the loops to close. A reload hands the same object to the new group for the same
 * address, so tunnels opened before it are still counted (and still closable) after it.
 * <p>
 * Touched once per tunnel open and close and once per close the rebalancer asks for, never per byte.
 */
public final class NodeTunnels
{
    /** Tunnels open on the node that no one asked to close yet (a tunnel leaves the count when its close begins). */
    private final AtomicInteger open = new AtomicInteger();
    /**
     * Connections to the node chosen by the balancer and not yet released (tunnels, HTTP exchanges, connects
     * under way): least-conn's count. Shared with the group a reload or a DNS change builds for the same address,
     * like the tunnel count, so connections made before the swap still weigh in the picks after it (and are
     * released into the same count by the sessions that hold the old group).
     */
    private final AtomicInteger connections = new AtomicInteger();

    public int connections()
    {
        return connections.get();
    }

    void connectionOpened()
    {
        connections.incrementAndGet();
    }

    void connectionClosed()
    {
        connections.decrementAndGet();
    }
    /** Closes the loops may still take for a drain (any tunnel of the node, whatever its age). */
    private final AtomicInteger drainQuota = new AtomicInteger();
    /** Closes the loops may still take to rebalance (only tunnels older than the minimum age). */
    private final AtomicInteger rebalanceQuota = new AtomicInteger();
    private final AtomicLong drainCloses = new AtomicLong();
    private final AtomicLong rebalanceCloses = new AtomicLong();
    private final AtomicLong opens = new AtomicLong();

    public static final int NONE = 0;
    public static final int DRAIN = 1;
    public static final int REBALANCE = 2;

    public void opened()
    {
        open.incrementAndGet();
        opens.incrementAndGet();
    }

    /** Tunnels ever opened on the node: the rebalancer sees from it whether the clients it moved came back. */
    public long opens()
    {
        return opens.get();
    }

    public void closed()
    {
        open.decrementAndGet();
    }

    public int open()
    {
        return open.get();
    }

    /** Something left to close on this node: a loop then looks at its tunnels of the node. */
    public boolean wanted()
    {
        return drainQuota.get() > 0 || rebalanceQuota.get() > 0;
    }

    /**
     * Takes one close for a tunnel of the node that is {@code ageNs} old: {@link #DRAIN}, {@link #REBALANCE} or
     * {@link #NONE}. The caller then closes it and calls {@link #closed()} once.
     */
    public int claim(final long ageNs, final long minAgeNs)
    {
        if (take(drainQuota))
        {
            drainCloses.incrementAndGet();
            return DRAIN;
        }
        if (ageNs >= minAgeNs && take(rebalanceQuota))
        {
            rebalanceCloses.incrementAndGet();
            return REBALANCE;
        }
        return NONE;
    }

    private static boolean take(final AtomicInteger quota)
    {
        int q;
        while ((q = quota.get()) > 0)
        {
            if (quota.compareAndSet(q, q - 1))
            {
                return true;
            }
        }
        return false;
    }

    /** Offers closes to the loops; returns what the previous offer left untaken (the coordinator's tokens back). */
    int offer(final int drain, final int rebalance)
    {
        return drainQuota.getAndSet(drain) + rebalanceQuota.getAndSet(rebalance);
    }

    public long drainCloses()
    {
        return drainCloses.get();
    }

    public long rebalanceCloses()
    {
        return rebalanceCloses.get();
    }
}
