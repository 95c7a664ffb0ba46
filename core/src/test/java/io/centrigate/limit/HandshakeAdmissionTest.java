package io.centrigate.limit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(60)
class HandshakeAdmissionTest
{
    private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);

    @Test
    void aStormIsAdmittedAtTheRateInOrderUpToTheWaitThenRefused()
    {
        // 50/s, a burst of 5, at most 1 s of waiting: 100 upgrades at the same instant.
        final long t0 = 1_000 * MS;
        final HandshakeAdmission admission = new HandshakeAdmission(50, 5, 1_000 * MS, 0);
        long previous = -1;
        int admitted = 0;
        int refused = 0;
        for (int i = 0; i < 100; i++)
        {
            final long r = admission.take(t0);
            if (r < 0)
            {
                refused++;
                assertTrue(-r > 0 && -r <= 20 * MS, "a refused one learns when a slot frees: " + -r);
                continue;
            }
            assertEquals(0, refused, "nothing is admitted after a refusal at the same instant");
            admitted++;
            assertTrue(r >= previous, "slots in the order they were taken");
            assertEquals(i < 5 ? 0 : (i - 4) * 20 * MS, r, "upgrade " + i);
            previous = r;
        }
        assertEquals(5 + 50, admitted, "the burst, then one every 20 ms for 1 s");
        assertEquals(45, refused);
        assertEquals(50, admission.queued(t0));
        assertEquals(0, admission.queued(t0 + 2_000 * MS));
        // Time passes: the schedule drains at the rate, new upgrades get slots again.
        assertEquals(1_000 * MS - 20 * MS * 10 + 20 * MS, admission.take(t0 + 200 * MS));
    }

    /**
     * Clients that leave while they wait (their handshake timeout shorter than the wait) and come back: without the
     * slots given back the schedule ran away from the clock and every newcomer was refused
     * (bench/storm-admission.sh: 0 of 500 back within 40 s).
     */
    @Test
    void slotsOfUpgradesThatLeaveWhileTheyWaitGoBack()
    {
        final long t0 = 1_000 * MS;
        final HandshakeAdmission admission = new HandshakeAdmission(50, 1, 10_000 * MS, 0);
        // 500 clients each retry every 2 s and give up waiting after 2 s: 20 s of that.
        long now = t0;
        int admittedNow = 0;
        for (int round = 0; round < 10; round++, now += 2_000 * MS)
        {
            int leftThisRound = 0;
            for (int c = 0; c < 500; c++)
            {
                final long r = admission.take(now);
                if (r >= 0 && r <= 2_000 * MS)
                {
                    admittedNow++; // its slot comes before it gives up
                }
                else if (r > 0)
                {
                    leftThisRound++;
                }
            }
            for (int c = 0; c < leftThisRound; c++)
            {
                admission.giveBack(now + 2_000 * MS);
            }
            assertTrue(admission.queued(now + 2_000 * MS) <= 1, "no slot left held by clients that left: round "
                + round + ", " + admission.queued(now + 2_000 * MS));
        }
        // 50/s over 20 s: about 1,000 got their slot in time (without giving back: only the first round's ~100).
        assertTrue(admittedNow >= 900, "admitted in time: " + admittedNow);
        // A slot given back is never before now, and with nothing ahead nothing changes.
        admission.giveBack(now + 60_000 * MS);
        assertEquals(0, admission.take(now + 60_000 * MS));
    }

    /** Slots given back let newcomers come due in the time of upgrades still waiting: the gate keeps the rate. */
    @Test
    void theGateHoldsWhatGoesToTheRateWhenSlotsCameBack()
    {
        final long t0 = 1_000 * MS;
        final HandshakeAdmission admission = new HandshakeAdmission(50, 1, 10_000 * MS, 0);
        final java.util.List<long[]> waiting = new java.util.ArrayList<>(); // {due time}
        for (int c = 0; c < 200; c++)
        {
            waiting.add(new long[] {t0 + admission.take(t0)});
        }
        // Every other one leaves at once and gives its slot back; as many newcomers take slots.
        for (int c = 0; c < 100; c++)
        {
            waiting.remove(waiting.size() - 1 - c);
            admission.giveBack(t0);
        }
        for (int c = 0; c < 100; c++)
        {
            waiting.add(new long[] {t0 + admission.take(t0)});
        }
        // Time runs in 1 ms steps: each due upgrade asks the gate; count what goes per second.
        final int[] perSecond = new int[20];
        int gone = 0;
        for (long now = t0; now < t0 + 20_000 * MS && gone < 200; now += MS)
        {
            for (final long[] w : waiting)
            {
                if (w[0] > 0 && w[0] <= now)
                {
                    final long more = admission.admit(now);
                    if (more == 0)
                    {
                        w[0] = 0;
                        gone++;
                        perSecond[(int)((now - t0) / (1_000 * MS))]++;
                    }
                    else
                    {
                        w[0] = now + more;
                    }
                }
            }
        }
        assertEquals(200, gone, "every one that stayed goes");
        for (final int n : perSecond)
        {
            assertTrue(n <= 51 + HandshakeAdmission.GATE_SLACK_SLOTS,
                "at most the rate, the burst and the gate's slack in any second: " + java.util.Arrays.toString(perSecond));
        }
    }

    @Test
    void offAdmitsEverythingAtOnceAndAReloadCanTurnItOn()
    {
        final HandshakeAdmission admission = new HandshakeAdmission(0, 0, 0, 0);
        assertFalse(admission.enabled());
        for (int i = 0; i < 1000; i++)
        {
            assertEquals(0, admission.take(5 * MS));
        }
        admission.configure(1, 1, 0);
        assertTrue(admission.enabled());
        assertEquals(0, admission.take(5 * MS));
        assertTrue(admission.take(5 * MS) < 0, "no wait allowed: refused");
    }

    @Test
    void loopsTakingSlotsAtOnceNeverShareOne() throws Exception
    {
        final HandshakeAdmission admission = new HandshakeAdmission(1000, 1, TimeUnit.HOURS.toNanos(1), 0);
        final ConcurrentLinkedQueue<Long> waits = new ConcurrentLinkedQueue<>();
        final List<Thread> loops = new ArrayList<>();
        for (int t = 0; t < 4; t++)
        {
            loops.add(new Thread(() ->
            {
                for (int i = 0; i < 25_000; i++)
                {
                    waits.add(admission.take(MS));
                }
            }));
        }
        loops.forEach(Thread::start);
        for (final Thread t : loops)
        {
            t.join(30_000);
        }
        final List<Long> sorted = new ArrayList<>(waits);
        Collections.sort(sorted);
        assertEquals(100_000, sorted.size());
        for (int i = 0; i < sorted.size(); i++)
        {
            assertEquals(i * MS, sorted.get(i), "slot " + i);
        }
    }
}
