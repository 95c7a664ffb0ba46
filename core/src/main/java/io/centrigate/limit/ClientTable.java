package io.centrigate.limit;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Per client address (an IPv4 address, or the /64 of an IPv6 one: what one subscriber line or host gets): its open
 * connections and a token bucket of WebSocket handshakes. One table per process, shared by every loop.
 * <p>
 * <b>Memory is fixed</b>: {@code slots} entries of three longs (24 bytes each) in one {@link AtomicLongArray},
 * allocated at start; nothing is allocated per connection or per address. A key lives in one of {@link #PROBES}
 * slots from its hash on (open addressing with a bounded probe), so a lookup reads at most that many.
 * <p>
 * <b>When the window is full</b> a new address takes the slot of an entry that holds nothing (no open connection and
 * a full bucket: forgetting it changes no decision); if none of the {@link #PROBES} slots is such, the address is
 * <i>not tracked</i> (fail open, {@link #UNTRACKED}, counted by the caller). Refusing it instead would let anyone who
 * can fill the table (a sprayer of addresses) lock every new client out; and an address of a sprayer is in any case
 * a new address to a per-address limit. An address that holds connections is never evicted, nor one whose bucket
 * is not full again yet (it spent handshakes less than {@code burst / rate} ago): a heavy client keeps its counts
 * however many addresses are sprayed past it, and a sprayer cannot reset a limited client's bucket. Size the table
 * ({@code --client-table-size}, default {@value #DEFAULT_SLOTS}) at about twice the distinct addresses that hold
 * connections at once, so that the {@link #PROBES} slots of an address are rarely all held.
 * <p>
 * <b>Concurrency</b>: every word is read and written atomically, changes are CAS loops (lock-free). A slot's
 * {@code state} word holds its connection count, a generation and a CLAIMED bit. A slot changes its key only while
 * CLAIMED, which only a slot with no connections can become, or once, from none, by a CAS of the key word before
 * anything is counted on it; every change of the state (a claim, a re-key, a count) changes the word, and the
 * generation makes a re-keyed slot's word differ from what it was before. So a CAS that counts a connection, having
 * read the state, then the key, then CAS'd the state unchanged, counted it on that key. A connection is released on the
 * slot it was counted on ({@link #release}, the caller keeps the slot), never looked up again: counts cannot move to
 * another address or leak while the connection is open. Two loops inserting the same new address at the same moment
 * must not give it two slots, each counting part of its connections (the limit would be loose for as long as those on
 * the second live: a fifth connection let through at a limit of four, seen in ClientLimitsTest): a slot never used is
 * taken by a CAS of its key word, so both land on it; an insert that meets a claim of a used slot under way in the
 * address's window looks for the key again once that claim is done, and takes another slot only if the claimer stays
 * stalled for {@link #CLAIM_SPINS} spins and {@link #CLAIM_YIELDS} yields, or if the slot the other took was freed by
 * another address while this one looked past it (both rare: then both slots are found and the first is used; the limit
 * is loose by the second's count, never stuck).
 * <p>
 * <b>Handshake bucket</b>: GCRA (the virtual-scheduling form of a token bucket, as Nginx's {@code limit_req}): one
 * word, the theoretical arrival time of the next handshake; a handshake is allowed while that time is no more than
 * {@code burst} intervals ahead of now.
 */
public final class ClientTable
{
    public static final int DEFAULT_SLOTS = 65_536;
    public static final int MIN_SLOTS = 1_024;
    public static final int MAX_SLOTS = 1 << 24;
    /** Slots a key may live in: bounds every lookup, and how many entries an insert may look at for one to reuse. */
    public static final int PROBES = 8;
    /** {@link #acquire}: the address is not tracked (no slot free or reusable in its window); not limited. */
    public static final int UNTRACKED = -1;
    /** {@link #acquire}: the address holds its limit of connections already. */
    public static final int REFUSED = -2;

    private static final int STRIDE = 3;
    private static final int KEY = 0;
    private static final int STATE = 1;
    private static final int TAT = 2;
    /** No key is 0 ({@link #key} maps the one address prefix that would be to another value). */
    private static final long EMPTY = 0;
    private static final long CONNECTIONS = 0xFFFF_FFFFL;
    private static final long GENERATION = 0x7FFF_FFFF_0000_0000L;
    private static final long GENERATION_ONE = 1L << 32;
    private static final long CLAIMED = Long.MIN_VALUE;
    /** IPv4 keys: the address under a prefix no IPv6 source has (ff00::/8 is multicast). */
    private static final long V4 = 0xFF00_0000_0000_0000L;
    /** The IPv6 /64 ::/64 (::1 and the like), which would be the EMPTY key. */
    private static final long V6_ZERO = 0xFF01_0000_0000_0000L;

    /**
     * The epoch lies this far before the creating thread's clock: a loop's clock, read once per cycle, may be a
     * little behind it, and times must stay positive (0 is "long ago").
     */
    private static final long EPOCH_LEAD_NS = 1_000_000_000L;
    private final AtomicLongArray words;
    private final int mask;
    private final int shift;
    /** Times are kept relative to this, so 0 is "long ago" (a full bucket) and values stay positive. */
    private final long epochNs;

    /** @param slots rounded up to a power of two, {@value #MIN_SLOTS}..{@value #MAX_SLOTS}. */
    public ClientTable(final int slots, final long nowNs)
    {
        final int size = Integer.highestOneBit(Math.max(MIN_SLOTS, Math.min(MAX_SLOTS, slots) * 2 - 1));
        this.words = new AtomicLongArray(size * STRIDE);
        this.mask = size - 1;
        this.shift = 64 - Integer.numberOfTrailingZeros(size);
        this.epochNs = nowNs - EPOCH_LEAD_NS;
    }

    public int slots()
    {
        return mask + 1;
    }

    /** The key of an address: IPv4 (4 bytes, or IPv4-mapped IPv6) whole, IPv6 by its first 64 bits. Never 0. */
    public static long key(final byte[] address, final int length)
    {
        if (length == 4)
        {
            return V4 | (readInt(address, 0) & 0xFFFF_FFFFL);
        }
        if (isV4Mapped(address))
        {
            return V4 | (readInt(address, 12) & 0xFFFF_FFFFL);
        }
        final long prefix = (long)readInt(address, 0) << 32 | (readInt(address, 4) & 0xFFFF_FFFFL);
        return prefix == EMPTY ? V6_ZERO : prefix;
    }

    /** Cold: the peer at accept. */
    public static long key(final java.net.InetAddress address)
    {
        final byte[] bytes = address.getAddress();
        return key(bytes, bytes.length);
    }

    private static boolean isV4Mapped(final byte[] a)
    {
        if (a.length < 16 || a[10] != (byte)0xFF || a[11] != (byte)0xFF)
        {
            return false;
        }
        for (int i = 0; i < 10; i++)
        {
            if (a[i] != 0)
            {
                return false;
            }
        }
        return true;
    }

    private static int readInt(final byte[] a, final int at)
    {
        return (a[at] & 0xFF) << 24 | (a[at + 1] & 0xFF) << 16 | (a[at + 2] & 0xFF) << 8 | (a[at + 3] & 0xFF);
    }

    private int home(final long key)
    {
        return (int)((key * 0x9E37_79B9_7F4A_7C15L) >>> shift);
    }

    /**
     * Counts a connection of {@code key}.
     *
     * @param max the most connections the address may hold, 0 for no limit (the address is then only tracked for
     *            its handshake bucket).
     * @return the slot the connection is counted on (give it to {@link #release} when the connection ends),
     * {@link #REFUSED} when the address holds {@code max} already, or {@link #UNTRACKED}.
     */
    public int acquire(final long key, final int max, final long nowNs)
    {
        final long now = nowNs - epochNs;
        final int home = home(key);
        for (int round = 0; ; round++)
        {
            for (int p = 0; p < PROBES; p++)
            {
                final int slot = (home + p) & mask;
                final int counted = increment(slot, key, max);
                if (counted != UNTRACKED)
                {
                    return counted;
                }
            }
            // Another loop may be inserting this very key (the same new address's first connections on two
            // loops): its claim is under way, won a slot this loop wanted, or is done since our look above.
            // Taking the next slot then gives the address two slots, each counting part of its connections, and
            // the limit is loose for as long as those on the second live. So look again (a claim is a few stores);
            // only if the claimer stalls for CLAIM_SPINS spins and CLAIM_YIELDS yields is another slot taken.
            final int claimed = claim(key, max, home, now, round >= CLAIM_SPINS + CLAIM_YIELDS);
            if (claimed != CLAIM_BUSY)
            {
                return claimed;
            }
            if (round < CLAIM_SPINS)
            {
                Thread.onSpinWait();
            }
            else
            {
                Thread.yield(); // the claimer was descheduled between its stores: let it finish (rare, cold)
            }
        }
    }

    /** {@link #acquire}'s rounds that spin, then yield, waiting for a claim under way before taking another slot. */
    static final int CLAIM_SPINS = 100;
    static final int CLAIM_YIELDS = 100;
    /** {@link #claim}: a slot of the window is being claimed; look for the key again. */
    private static final int CLAIM_BUSY = -3;

    /**
     * A slot for {@code key}'s first connection, counted there: one never used, or one that holds nothing and whose
     * bucket is full again (taken from the address that left it).
     *
     * @param pastClaims skip slots being claimed instead of answering {@link #CLAIM_BUSY}.
     * @return the slot, {@link #REFUSED}, {@link #UNTRACKED}, or {@link #CLAIM_BUSY}.
     */
    private int claim(final long key, final int max, final int home, final long now, final boolean pastClaims)
    {
        for (int p = 0; p < PROBES; p++)
        {
            final int slot = (home + p) & mask;
            final int at = slot * STRIDE;
            final long state = words.get(at + STATE);
            if ((state & CLAIMED) != 0)
            {
                if (pastClaims)
                {
                    continue;
                }
                return CLAIM_BUSY;
            }
            final long holder = words.get(at + KEY);
            if (holder == EMPTY || holder == key)
            {
                // A slot never used takes its first key with one CAS of the key word: two loops inserting the same
                // new address both land on it (the one whose CAS fails finds the key there) and count on it.
                if (holder == key || words.compareAndSet(at + KEY, EMPTY, key) || words.get(at + KEY) == key)
                {
                    final int counted = increment(slot, key, max);
                    if (counted != UNTRACKED)
                    {
                        return counted;
                    }
                }
                if (pastClaims)
                {
                    continue;
                }
                return CLAIM_BUSY; // taken by another address meanwhile: look again
            }
            if ((state & CONNECTIONS) != 0 || words.get(at + TAT) > now)
            {
                continue; // held, or its bucket is not full: forgetting it would give that address its burst again
            }
            if (words.compareAndSet(at + STATE, state, state | CLAIMED))
            {
                words.set(at + KEY, key);
                words.set(at + TAT, 0);
                words.set(at + STATE, nextGeneration(state) | 1);
                return slot;
            }
            if (!pastClaims)
            {
                return CLAIM_BUSY; // another claim or count changed it first
            }
        }
        return UNTRACKED;
    }

    /** @return the slot, {@link #REFUSED}, or {@link #UNTRACKED} when the slot is not the key's. */
    private int increment(final int slot, final long key, final int max)
    {
        final int at = slot * STRIDE;
        while (true)
        {
            // State first, then key, then CAS of the state: see the class comment.
            final long state = words.get(at + STATE);
            if ((state & CLAIMED) != 0 || words.get(at + KEY) != key)
            {
                return UNTRACKED;
            }
            final long connections = state & CONNECTIONS;
            if (max > 0 && connections >= max || connections == CONNECTIONS)
            {
                return REFUSED;
            }
            if (words.compareAndSet(at + STATE, state, state + 1))
            {
                return slot;
            }
        }
    }

    private static long nextGeneration(final long state)
    {
        return (state + GENERATION_ONE) & GENERATION;
    }

    /** The connection counted on {@code slot} by {@link #acquire} ended. */
    public void release(final int slot)
    {
        final int at = slot * STRIDE;
        while (true)
        {
            final long state = words.get(at + STATE);
            if ((state & CONNECTIONS) == 0)
            {
                return; // never below zero (cannot happen: each acquire is released once)
            }
            if (words.compareAndSet(at + STATE, state, state - 1))
            {
                return;
            }
        }
    }

    /**
     * Takes one handshake from the bucket of the address counted on {@code slot} (the caller holds a connection
     * there, so the slot cannot change its key meanwhile).
     *
     * @param intervalNs one token per this (1 / rate).
     * @param burst      the bucket's size, at least 1.
     * @return 0 when taken, else how long until a handshake would be allowed (ns, at least 1).
     */
    public long takeHandshake(final int slot, final long intervalNs, final int burst, final long nowNs)
    {
        final int at = slot * STRIDE + TAT;
        final long now = nowNs - epochNs;
        final long tolerance = intervalNs * burst;
        while (true)
        {
            final long tat = words.get(at);
            final long next = Math.max(tat, now) + intervalNs;
            final long early = next - tolerance - now;
            if (early > 0)
            {
                return early;
            }
            if (words.compareAndSet(at, tat, next))
            {
                return 0;
            }
        }
    }

    /** Connections counted on {@code key} (cold: tests and status). */
    public int connections(final long key)
    {
        final int home = home(key);
        int n = 0;
        for (int p = 0; p < PROBES; p++)
        {
            final int at = ((home + p) & mask) * STRIDE;
            final long state = words.get(at + STATE);
            if ((state & CLAIMED) == 0 && words.get(at + KEY) == key)
            {
                n += (int)(state & CONNECTIONS);
            }
        }
        return n;
    }

    /**
     * A walk over the table (cold: a status or metrics read; a few milliseconds for a million slots): addresses with
     * open connections, the connections counted, and addresses whose bucket is not full.
     */
    public Census census(final long nowNs)
    {
        final long now = nowNs - epochNs;
        long holding = 0;
        long connections = 0;
        long limited = 0;
        for (int slot = 0; slot <= mask; slot++)
        {
            final int at = slot * STRIDE;
            final long state = words.get(at + STATE);
            final long n = state & CONNECTIONS;
            if (n > 0)
            {
                holding++;
                connections += n;
            }
            if (words.get(at + KEY) != EMPTY && words.get(at + TAT) > now)
            {
                limited++;
            }
        }
        return new Census(slots(), holding, connections, limited);
    }

    /** What {@link #census} counted. */
    public record Census(int slots, long addressesWithConnections, long connections, long addressesWithHandshakeDebt)
    {
    }
}
