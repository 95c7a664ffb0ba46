package io.centrigate.upstream;

import java.util.concurrent.TimeUnit;

import io.centrigate.config.ProxyContext;

/**
 * Decides, a few times a second, which tunnels should move: all of a drained node's, and on a node over its
 * weighted share (after the drift lasted {@code rebalance-settle}) its excess over that share. It only offers
 * closes ({@link NodeTunnels}); the loops take them for their own tunnels, so no loop's sessions are touched by
 * another thread.
 * <p>
 * One coordinator per process holds the token bucket, rather than a bucket split across loops: the loops' shares
 * of a node's tunnels are uneven and change, and a split bucket either under-runs (a loop with tokens but no
 * tunnels of the node) or needs rebalancing itself. A loop takes closes from the shared offer with one CAS each,
 * so the process never closes more than the bucket allows however the tunnels are spread.
 * <p>
 * Cold: runs on one loop's timer, never per byte; plain arrays sized on the first tick and after a reload.
 */
public final class Rebalancer
{
    /** How often closes are offered: small against the settle time, large against a loop's duty cycle. */
    public static final long TICK_NS = TimeUnit.MILLISECONDS.toNanos(100);

    private final boolean enabled;
    private final int thresholdPercent;
    private final long settleNs;
    private final double ratePerSecond;
    private final double ratePercent;
    private final long minAgeNs;
    private double tokens;
    private long lastTickNs;
    private int rotate;
    /** Per group of the last tick: when its drift began (0: none), and whether it is moving tunnels now. */
    private UpstreamGroup[] seen = new UpstreamGroup[0];
    private long[] driftSinceNs = new long[0];
    private boolean[] moving = new boolean[0];
    /** Per group: its rebalance closes and tunnel opens (summed over nodes) when the current move began. */
    private long[] closesAtMoveStart = new long[0];
    private long[] opensAtMoveStart = new long[0];

    public Rebalancer(final ProxyContext ctx)
    {
        this(ctx.rebalance(), ctx.rebalanceThresholdPercent(), ctx.rebalanceSettleNs(), ctx.rebalanceRatePerSecond(),
            ctx.rebalanceRatePercent(), ctx.rebalanceMinAgeNs());
    }

    Rebalancer(final boolean enabled, final int thresholdPercent, final long settleNs, final double ratePerSecond,
        final double ratePercent, final long minAgeNs)
    {
        this.enabled = enabled;
        this.thresholdPercent = thresholdPercent;
        this.settleNs = settleNs;
        this.ratePerSecond = ratePerSecond;
        this.ratePercent = ratePercent;
        this.minAgeNs = minAgeNs;
    }

    public long minAgeNs()
    {
        return minAgeNs;
    }

    /** The close rate now: fixed, or the share of the process's open tunnels, at least one a second. */
    double rate(final long openTunnels)
    {
        return ratePerSecond > 0 ? ratePerSecond : Math.max(1.0, openTunnels * ratePercent / 100.0);
    }

    /**
     * One tick: takes back what the previous offer left, refills the bucket, and offers closes for this tick.
     * Returns the closes offered (the loops should look at their tunnels when it is not 0).
     */
    public int tick(final UpstreamGroup[] groups, final long nowNs)
    {
        return tick(groups, java.util.List.of(), nowNs);
    }

    /**
     * As {@link #tick(UpstreamGroup[], long)}, and drains {@code retired}: nodes a reload or a DNS change removed
     * from their group, whose tunnels are closed (1012) at the same rate as an admin drain, before anything else.
     * Entries with no tunnel left are taken out of the collection (it must allow removal through its iterator).
     */
    public int tick(final UpstreamGroup[] groups, final java.util.Collection<NodeTunnels> retired, final long nowNs)
    {
        if (seen.length != groups.length || !sameGroups(groups))
        {
            seen = groups.clone();
            driftSinceNs = new long[groups.length];
            moving = new boolean[groups.length];
            closesAtMoveStart = new long[groups.length];
            opensAtMoveStart = new long[groups.length];
        }
        long open = 0;
        for (final java.util.Iterator<NodeTunnels> it = retired.iterator(); it.hasNext(); )
        {
            final NodeTunnels t = it.next();
            tokens += t.offer(0, 0);
            if (t.open() == 0)
            {
                it.remove();
            }
            open += t.open();
        }
        for (final UpstreamGroup g : groups)
        {
            for (int i = 0; i < g.size(); i++)
            {
                tokens += g.tunnels(i).offer(0, 0);
                open += g.tunnels(i).open();
            }
        }
        final double rate = rate(open);
        final double elapsed = lastTickNs == 0 ? TICK_NS : Math.min(nowNs - lastTickNs, TimeUnit.SECONDS.toNanos(1));
        lastTickNs = nowNs;
        // The bucket holds one tick's worth plus one close (the fraction a tick leaves must carry over, or a rate
        // of 19.9/s would run at 10/s): over any window the closes stay within rate × window + that much, and an
        // idle spell does not save up a burst.
        tokens = Math.min(tokens + rate * elapsed / 1e9, rate * TICK_NS / 1e9 + 1.0);
        int budget = (int)tokens;
        int offered = 0;
        rotate++;
        for (final NodeTunnels t : retired)
        {
            final int give = Math.min(t.open(), budget);
            if (give > 0)
            {
                tokens += t.offer(give, 0);
                budget -= give;
                offered += give;
            }
        }
        for (int g = 0; g < groups.length; g++)
        {
            final UpstreamGroup group = groups[g];
            final int n = group.size();
            final int[] counts = new int[n];
            final int[] weights = new int[n];
            final boolean[] balanced = new boolean[n];
            boolean ramping = false;
            for (int i = 0; i < n; i++)
            {
                counts[i] = group.tunnels(i).open();
                // A node in slow start counts at the weight least-conn gives it now: a close made for more than
                // that would only send the client back to the node it left (the reconnect picks by the same key).
                weights[i] = group.weight(i) * group.slowStartFactor(i, nowNs);
                balanced[i] = group.usable(i, nowNs);
                ramping |= !group.drained(i)
                    && (group.slowStarting(i, nowNs) || UpstreamGroup.EJECTED.equals(group.state(i, nowNs)));
            }
            long closes = 0;
            long opens = 0;
            for (int i = 0; i < n; i++)
            {
                closes += group.tunnels(i).rebalanceCloses();
                opens += group.tunnels(i).opens();
            }
            final boolean wasMoving = moving[g];
            final int[] excess = enabled ? rebalanceExcess(g, counts, weights, balanced, ramping, nowNs) : new int[n];
            if (moving[g] && !wasMoving)
            {
                closesAtMoveStart[g] = closes;
                opensAtMoveStart[g] = opens;
            }
            int moveBudget = moving[g] ? moveBudget(counts, weights, balanced,
                (closes - closesAtMoveStart[g]) - (opens - opensAtMoveStart[g])) : 0;
            // Drains first (an operator asked), then the excess; the starting node rotates so no node starves.
            for (int pass = 0; pass < 2; pass++)
            {
                for (int k = 0; k < n && budget > 0; k++)
                {
                    final int i = (k + rotate) % n;
                    final int want = pass == 0 ? (group.drained(i) ? counts[i] : 0) : Math.min(excess[i], moveBudget);
                    final int give = Math.min(want, budget);
                    if (give > 0)
                    {
                        tokens += pass == 0 ? group.tunnels(i).offer(give, 0) : group.tunnels(i).offer(0, give);
                        budget -= give;
                        offered += give;
                        if (pass == 1)
                        {
                            moveBudget -= give;
                        }
                    }
                }
            }
        }
        tokens -= offered;
        return offered;
    }

    /**
     * How many more tunnels a move may close now: the room the nodes under their share have (their deficit, shares
     * rounded down) less the tunnels this move closed whose clients have not come back yet ({@code unreturned}:
     * closes since the move began minus tunnels opened in the group since then). A close is only worth making for
     * a client that will land on a node short of its share; clients that do not reconnect (or not yet) would
     * otherwise make every tick close more, shrinking the shares, until the fuller nodes were cut down to the
     * emptiest one (bench/scale.sh, whose clients never reconnect, lost 2,333 to 18,374 tunnels this way). New
     * clients count as returns: least-conn sends them to the nodes short of their share too.
     */
    static int moveBudget(final int[] counts, final int[] weights, final boolean[] balanced, final long unreturned)
    {
        long total = 0;
        long weightSum = 0;
        for (int i = 0; i < counts.length; i++)
        {
            if (balanced[i])
            {
                total += counts[i];
                weightSum += weights[i];
            }
        }
        if (weightSum == 0)
        {
            return 0;
        }
        long deficit = 0;
        for (int i = 0; i < counts.length; i++)
        {
            if (balanced[i])
            {
                deficit += Math.max(0, total * weights[i] / weightSum - counts[i]);
            }
        }
        return (int)Math.max(0, Math.min(Integer.MAX_VALUE, deficit - Math.max(0, unreturned)));
    }

    /** Whether a rebalance of group {@code g} (as of the last tick) is under way: for the log, cold. */
    public boolean moving(final int g)
    {
        return g < moving.length && moving[g];
    }

    private boolean sameGroups(final UpstreamGroup[] groups)
    {
        for (int g = 0; g < groups.length; g++)
        {
            if (seen[g] != groups[g])
            {
                return false;
            }
        }
        return true;
    }

    /**
     * The group's excess per node once its drift outlasted the settle time; zeros otherwise. A rebalance under way
     * goes on while a node of the group ramps up ({@code ramping}: in slow start, or ejected for a while, after which
     * it ramps): its share grows with the ramp, and a node ejected for a moment must not start the settle time over.
     */
    private int[] rebalanceExcess(final int g, final int[] counts, final int[] weights, final boolean[] balanced,
        final boolean ramping, final long nowNs)
    {
        if (drifted(counts, weights, balanced, thresholdPercent))
        {
            if (driftSinceNs[g] == 0)
            {
                driftSinceNs[g] = nowNs;
            }
            if (nowNs - driftSinceNs[g] >= settleNs)
            {
                moving[g] = true;
            }
        }
        else
        {
            driftSinceNs[g] = 0;
        }
        final int[] excess = excess(counts, weights, balanced);
        if (!moving[g])
        {
            return new int[counts.length];
        }
        int left = 0;
        for (final int e : excess)
        {
            left += e;
        }
        if (left == 0 && !ramping)
        {
            moving[g] = false; // every node at or below its share: done until the next drift
        }
        return excess;
    }

    /**
     * Some node (of those {@code balanced}) holds more or fewer tunnels than its weighted share by more than
     * {@code thresholdPercent} of that share. Integer arithmetic: {@code |c·W − T·w| · 100 > t · T·w}.
     */
    static boolean drifted(final int[] counts, final int[] weights, final boolean[] balanced, final int thresholdPercent)
    {
        long total = 0;
        long weightSum = 0;
        for (int i = 0; i < counts.length; i++)
        {
            if (balanced[i])
            {
                total += counts[i];
                weightSum += weights[i];
            }
        }
        if (total == 0 || weightSum == 0)
        {
            return false;
        }
        for (int i = 0; i < counts.length; i++)
        {
            if (balanced[i])
            {
                final long expected = total * weights[i];
                if (Math.abs(counts[i] * weightSum - expected) * 100 > thresholdPercent * expected)
                {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * Tunnels above each node's weighted share, rounded up ({@code ceil(T·w/W)}): closing them never takes a node
     * below its share, and since least-conn sends each reconnect to the node furthest below, the moved clients
     * land where they are missing. The threshold only decides when to start (hysteresis): stopping at the
     * threshold would leave a restarted node of two at 40 %, and moving a client costs one reconnect either way.
     */
    static int[] excess(final int[] counts, final int[] weights, final boolean[] balanced)
    {
        long total = 0;
        long weightSum = 0;
        for (int i = 0; i < counts.length; i++)
        {
            if (balanced[i])
            {
                total += counts[i];
                weightSum += weights[i];
            }
        }
        final int[] excess = new int[counts.length];
        if (weightSum == 0)
        {
            return excess;
        }
        for (int i = 0; i < counts.length; i++)
        {
            if (balanced[i])
            {
                final long share = (total * weights[i] + weightSum - 1) / weightSum;
                excess[i] = (int)Math.max(0, counts[i] - share);
            }
        }
        return excess;
    }
}
