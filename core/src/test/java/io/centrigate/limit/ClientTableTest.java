package io.centrigate.limit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(120)
class ClientTableTest
{
    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);

    private static long key(final String address) throws Exception
    {
        return ClientTable.key(InetAddress.getByName(address));
    }

    @Test
    void anIpv4AddressIsItsOwnKeyAndAnIpv6AddressCountsWithItsSlash64() throws Exception
    {
        assertEquals(key("2001:db8:1:2::1"), key("2001:db8:1:2:ffff:1234:5678:9abc"));
        assertNotEquals(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assertNotEquals(key("192.0.2.1"), key("192.0.2.2"));
        final byte[] mapped = new byte[16];
        mapped[10] = (byte)0xFF;
        mapped[11] = (byte)0xFF;
        System.arraycopy(InetAddress.getByName("192.0.2.1").getAddress(), 0, mapped, 12, 4);
        assertEquals(key("192.0.2.1"), ClientTable.key(mapped, 16), "IPv4-mapped IPv6 is the IPv4 address");
        // No key is 0 (an empty slot): ::1 and the IPv4 address 0.0.0.0 included, and they differ.
        assertNotEquals(0, key("::1"));
        assertNotEquals(0, key("0.0.0.0"));
        assertNotEquals(key("::1"), key("0.0.0.0"));
        assertNotEquals(key("::1"), key("192.0.2.1"));
    }

    @Test
    void countsConnectionsUpToTheLimitAndReleasesThem() throws Exception
    {
        final ClientTable table = new ClientTable(1024, 0);
        final long a = key("192.0.2.1");
        final int[] slots = new int[3];
        for (int i = 0; i < 3; i++)
        {
            slots[i] = table.acquire(a, 3, i);
            assertTrue(slots[i] >= 0);
        }
        assertEquals(ClientTable.REFUSED, table.acquire(a, 3, 5));
        assertTrue(table.acquire(key("192.0.2.2"), 3, 5) >= 0, "another address has its own count");
        assertEquals(3, table.connections(a));
        table.release(slots[0]);
        assertEquals(2, table.connections(a));
        assertTrue(table.acquire(a, 3, 6) >= 0);
        assertEquals(ClientTable.REFUSED, table.acquire(a, 3, 7));
        assertTrue(table.acquire(a, 0, 7) >= 0, "0: no connection limit, only tracked");
    }

    @Test
    void theHandshakeBucketAllowsItsBurstThenOnePerInterval() throws Exception
    {
        final ClientTable table = new ClientTable(1024, 0);
        final int slot = table.acquire(key("192.0.2.1"), 0, SECOND);
        final long interval = SECOND / 10;
        final long t0 = 10 * SECOND;
        for (int i = 0; i < 3; i++)
        {
            assertEquals(0, table.takeHandshake(slot, interval, 3, t0), "burst " + i);
        }
        assertEquals(interval, table.takeHandshake(slot, interval, 3, t0), "the fourth waits one interval");
        assertEquals(interval / 2, table.takeHandshake(slot, interval, 3, t0 + interval / 2));
        assertEquals(0, table.takeHandshake(slot, interval, 3, t0 + interval));
        assertEquals(interval, table.takeHandshake(slot, interval, 3, t0 + interval));
        // A quiet time refills the bucket to its burst, not beyond.
        final long later = t0 + 100 * SECOND;
        for (int i = 0; i < 3; i++)
        {
            assertEquals(0, table.takeHandshake(slot, interval, 3, later));
        }
        assertTrue(table.takeHandshake(slot, interval, 3, later) > 0);
    }

    /**
     * A sprayer of millions of addresses neither grows the table nor takes the slot of a client that holds
     * connections or has spent its bucket; its own addresses, holding nothing, reuse slots (or go untracked).
     */
    @Test
    void aSprayerOfAddressesNeitherGrowsTheTableNorEvictsAnActiveClient() throws Exception
    {
        final ClientTable table = new ClientTable(1024, 0);
        final long heavy = key("198.51.100.7");
        final long limited = key("198.51.100.8");
        long now = SECOND;
        for (int i = 0; i < 10; i++)
        {
            assertTrue(table.acquire(heavy, 10, now) >= 0);
        }
        final int limitedSlot = table.acquire(limited, 10, now);
        for (int i = 0; i < 5; i++)
        {
            assertEquals(0, table.takeHandshake(limitedSlot, SECOND, 5, now));
        }
        table.release(limitedSlot); // no connection left, but its bucket is spent for 5 s

        final com.sun.management.ThreadMXBean threads =
            (com.sun.management.ThreadMXBean)ManagementFactory.getThreadMXBean();
        final long allocatedBefore = threads.getCurrentThreadAllocatedBytes();
        int untracked = 0;
        for (int i = 0; i < 3_000_000; i++)
        {
            final long sprayed = ClientTable.key(new byte[] {10, (byte)(i >>> 16), (byte)(i >>> 8), (byte)i}, 4);
            now += 100; // 3 M connections in 0.3 s
            final int slot = table.acquire(sprayed, 10, now);
            if (slot >= 0)
            {
                table.release(slot);
            }
            else
            {
                untracked++;
            }
        }
        final long allocated = threads.getCurrentThreadAllocatedBytes() - allocatedBefore;
        // The keys' byte arrays above are the test's (16 bytes + header each); the table itself allocates nothing.
        assertTrue(allocated < 3_000_000L * 40, "allocated " + allocated + " bytes");
        assertEquals(0, untracked, "addresses that hold nothing make room for each other");
        assertEquals(1024, table.slots(), "the table does not grow");
        assertEquals(10, table.connections(heavy), "the heavy client's count is kept");
        assertEquals(ClientTable.REFUSED, table.acquire(heavy, 10, now), "and its limit still holds");
        final int again = table.acquire(limited, 10, now);
        assertTrue(again >= 0);
        assertTrue(table.takeHandshake(again, SECOND, 5, now) > 0, "the spent bucket was not forgotten");
    }

    @Test
    void whenEveryNearbySlotHoldsConnectionsANewAddressIsUntrackedNotRefused() throws Exception
    {
        final ClientTable table = new ClientTable(1024, 0);
        final List<Integer> held = new ArrayList<>();
        int untracked = 0;
        for (int i = 0; i < 5_000; i++)
        {
            final int slot = table.acquire(ClientTable.key(new byte[] {10, 1, (byte)(i >>> 8), (byte)i}, 4), 1, SECOND);
            assertNotEquals(ClientTable.REFUSED, slot, "a full table never refuses a client");
            if (slot >= 0)
            {
                held.add(slot);
            }
            else
            {
                untracked++;
            }
        }
        assertTrue(held.size() <= 1024 && held.size() > 900, "held " + held.size());
        assertEquals(5_000 - held.size(), untracked);
        held.forEach(table::release);
        assertEquals(0, table.census(SECOND).connections());
        assertTrue(table.acquire(key("192.0.2.99"), 1, SECOND) >= 0, "released slots are reused");
    }

    /**
     * Two loops counting the first connections of one new address at the same moment give it one slot, so the limit
     * holds: with a limit of one, one of them is refused. Two slots (each claimer taking its own when the other's
     * claim won the first) let both through, and the limit stayed loose while they lived (ClientLimitsTest's fifth
     * connection at a limit of four was let through, under load).
     */
    @Test
    void twoLoopsInsertingOneNewAddressAtOnceGiveItOneSlot() throws Exception
    {
        final ClientTable table = new ClientTable(1 << 16, 0);
        final int rounds = 20_000;
        final int[][] got = new int[2][rounds];
        // Both threads spin to each round's start (a barrier's wake-up would set them microseconds apart).
        final java.util.concurrent.atomic.AtomicInteger arrived = new java.util.concurrent.atomic.AtomicInteger();
        final long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        final List<Thread> loops = new ArrayList<>();
        final AtomicReference<Throwable> error = new AtomicReference<>();
        for (int t = 0; t < 2; t++)
        {
            final int me = t;
            loops.add(new Thread(() ->
            {
                try
                {
                    for (int i = 0; i < rounds; i++)
                    {
                        arrived.incrementAndGet();
                        while (arrived.get() < 2 * (i + 1))
                        {
                            if (System.nanoTime() - giveUp > 0)
                            {
                                throw new AssertionError("the other thread never came to round " + i);
                            }
                            Thread.onSpinWait();
                        }
                        got[me][i] = table.acquire(ClientTable.key(new byte[] {10, 7, (byte)(i >>> 8), (byte)i}, 4),
                            1, SECOND);
                    }
                }
                catch (final Throwable e)
                {
                    error.compareAndSet(null, e);
                }
            }));
        }
        loops.forEach(Thread::start);
        for (final Thread t : loops)
        {
            t.join(120_000);
        }
        assertEquals(null, error.get());
        int both = 0;
        for (int i = 0; i < rounds; i++)
        {
            if (got[0][i] >= 0 && got[1][i] >= 0)
            {
                both++;
            }
            else
            {
                assertTrue(got[0][i] >= 0 || got[1][i] >= 0, "round " + i + ": neither counted");
            }
        }
        assertEquals(0, both,
            "rounds in which a new address got two slots and both its connections passed a limit of 1");
    }

    /** Loops share the table without locks: counts never pass the limit and return to zero. */
    @Test
    void concurrentLoopsNeverPassTheLimitAndLeaveNothingCounted() throws Exception
    {
        final ClientTable table = new ClientTable(4096, 0);
        final int addresses = 16;
        final int max = 3;
        final long[] keys = new long[addresses];
        for (int k = 0; k < addresses; k++)
        {
            keys[k] = ClientTable.key(new byte[] {10, 9, 0, (byte)k}, 4);
            table.release(table.acquire(keys[k], max, SECOND)); // present, so no two loops insert one at once
        }
        final AtomicIntegerArray heldNow = new AtomicIntegerArray(addresses);
        final AtomicReference<String> failure = new AtomicReference<>();
        final List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < 4; t++)
        {
            final int seed = t;
            workers.add(new Thread(() ->
            {
                final java.util.Random random = new java.util.Random(seed);
                final int[] mine = new int[8];
                final int[] mineKey = new int[8];
                int count = 0;
                for (int i = 0; i < 300_000 && failure.get() == null; i++)
                {
                    if (count == mine.length || count > 0 && random.nextBoolean())
                    {
                        final int j = random.nextInt(count);
                        heldNow.decrementAndGet(mineKey[j]);
                        table.release(mine[j]);
                        mine[j] = mine[--count];
                        mineKey[j] = mineKey[count];
                        continue;
                    }
                    final int k = random.nextInt(addresses);
                    final int slot = table.acquire(keys[k], max, SECOND + i);
                    if (slot >= 0)
                    {
                        if (heldNow.incrementAndGet(k) > max)
                        {
                            failure.set("address " + k + " holds more than " + max);
                        }
                        mine[count] = slot;
                        mineKey[count++] = k;
                    }
                    else if (slot == ClientTable.UNTRACKED)
                    {
                        failure.set("untracked in a table with room");
                    }
                }
                while (count > 0)
                {
                    heldNow.decrementAndGet(mineKey[--count]);
                    table.release(mine[count]);
                }
            }));
        }
        workers.forEach(Thread::start);
        for (final Thread w : workers)
        {
            w.join(60_000);
        }
        assertEquals(null, failure.get());
        assertEquals(0, table.census(SECOND).connections());
        for (final long k : keys)
        {
            assertEquals(0, table.connections(k));
        }
    }
}
