package io.centrigate.limit;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Admission of WebSocket upgrades at the rate the nodes can take ({@code --max-handshake-rate}), for the whole
 * process: when a node restart sends thousands of clients back at once, each Centrifugo connect verifies a token and
 * restores subscriptions, and a node flooded with them times out clients that then retry into the flood. Here each
 * upgrade takes the next free slot of a schedule that advances by {@code 1 / rate} per upgrade (GCRA, one atomic
 * word: the time of the next free slot): within the burst it goes at once, otherwise it waits for its slot, in the
 * order the upgrades took their slots, up to {@code --admission-wait}; beyond that it is refused (503 with
 * {@code Retry-After}) without taking a slot. A smoothed storm ends sooner than an unsmoothed one: SDKs back off
 * after each failed attempt, so every connect that fails on an overloaded node costs its client seconds.
 * <p>
 * An upgrade whose client leaves while it waits gives its slot back ({@link #giveBack}): the schedule moves one slot
 * earlier, so the slots reserved ahead of now stay as many as the upgrades still waiting. Without it, clients whose
 * handshake timeout is shorter than the wait leave, retry and take new slots, and the schedule runs away from the
 * clock until every newcomer is past the wait limit (bench/storm-admission.sh: 0 of 500 back within 40 s). The
 * slots still held keep their times, so two upgrades could come due in one slot's time: a second schedule over the
 * upgrades that actually go ({@link #admit}) holds them to the rate, the later one waiting a little more.
 */
public final class HandshakeAdmission
{
    /** The schedule: relative to {@link #epochNs}, when the next upgrade may go without burst; 0: long ago. */
    private final AtomicLong next = new AtomicLong();
    /**
     * The gate, the same arithmetic over the upgrades that actually go ({@link #admit}): slots given back let the
     * schedule serve newcomers in the time of upgrades still waiting, so without it the node could see a multiple of
     * the rate for a while (828/s at 200/s in bench/storm-admission.sh before the gate).
     */
    private final AtomicLong gate = new AtomicLong();
    /**
     * The epoch lies this far before the creating thread's clock: a loop's clock, read once per cycle, may be a
     * little behind it, and times must stay positive (0 is "long ago").
     */
    private static final long EPOCH_LEAD_NS = 1_000_000_000L;
    /** See {@link #admit}: the gate's tolerance beyond the burst, in slots. */
    static final int GATE_SLACK_SLOTS = 8;
    private final long epochNs;
    private volatile Settings settings;

    private record Settings(long intervalNs, long toleranceNs, long maxWaitNs)
    {
    }

    /**
     * @param perSecond upgrades per second, 0 for no admission control.
     * @param burst     upgrades that may go at once after a quiet time, at least 1.
     * @param maxWaitNs the longest an upgrade waits for its slot.
     */
    public HandshakeAdmission(final double perSecond, final int burst, final long maxWaitNs, final long nowNs)
    {
        this.epochNs = nowNs - EPOCH_LEAD_NS;
        configure(perSecond, burst, maxWaitNs);
    }

    /** A reload's new settings; the schedule already taken stays. */
    public void configure(final double perSecond, final int burst, final long maxWaitNs)
    {
        if (perSecond <= 0)
        {
            settings = null;
            return;
        }
        final long interval = Math.max(1, Math.round(1e9 / perSecond));
        settings = new Settings(interval, interval * Math.max(1, burst), maxWaitNs);
    }

    public boolean enabled()
    {
        return settings != null;
    }

    /**
     * Takes a slot for one upgrade.
     *
     * @return 0: go now; above 0: the slot is taken, go after this many ns; below 0: refused, no slot taken, and
     * {@code -result} ns from now a new upgrade would get a slot within the wait limit.
     */
    public long take(final long nowNs)
    {
        final Settings s = settings;
        if (s == null)
        {
            return 0;
        }
        final long now = nowNs - epochNs;
        while (true)
        {
            final long taken = next.get();
            final long after = Math.max(taken, now) + s.intervalNs;
            final long wait = after - s.toleranceNs - now;
            if (wait > s.maxWaitNs)
            {
                return -(wait - s.maxWaitNs);
            }
            if (next.compareAndSet(taken, after))
            {
                return Math.max(0, wait);
            }
        }
    }

    /**
     * An upgrade whose slot has come (or that may go at once) asks to go: 0 when it may, else how many ns more it
     * waits (another upgrade took this slot's time). Holds what the nodes see to the rate and burst.
     */
    public long admit(final long nowNs)
    {
        final Settings s = settings;
        if (s == null)
        {
            return 0;
        }
        final long now = nowNs - epochNs;
        while (true)
        {
            final long taken = gate.get();
            final long after = Math.max(taken, now) + s.intervalNs;
            // A few slots of slack on top of the burst: upgrades due in one timer tick (slots of a high rate, or
            // timers bunched on a loaded loop) go in the order the schedule gave them rather than being reshuffled
            // by the gate; what it catches is the pile-up that slots given back can make.
            final long wait = after - s.toleranceNs - GATE_SLACK_SLOTS * s.intervalNs - now;
            if (wait > 0)
            {
                return wait;
            }
            if (gate.compareAndSet(taken, after))
            {
                return 0;
            }
        }
    }

    /** An upgrade that took a slot for later leaves before it: the schedule moves back one slot, not before now. */
    public void giveBack(final long nowNs)
    {
        final Settings s = settings;
        if (s == null)
        {
            return;
        }
        final long now = nowNs - epochNs;
        while (true)
        {
            final long taken = next.get();
            if (taken <= now)
            {
                return; // nothing reserved ahead of now any more
            }
            if (next.compareAndSet(taken, Math.max(now, taken - s.intervalNs)))
            {
                return;
            }
        }
    }

    /** Slots taken ahead of now beyond the burst: about how many upgrades wait for theirs (cold, status). */
    public long queued(final long nowNs)
    {
        final Settings s = settings;
        if (s == null)
        {
            return 0;
        }
        final long ahead = next.get() - s.toleranceNs - (nowNs - epochNs);
        return ahead <= 0 ? 0 : (ahead + s.intervalNs - 1) / s.intervalNs;
    }
}
