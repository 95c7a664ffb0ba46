package io.centrigate.upstream;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

import io.centrigate.config.ProxyContext;
import io.centrigate.config.ProxyContext.Balance;

/**
 * The upstream nodes, shared by every loop. Choosing is lock-free: active counts and "skip until" marks are
 * atomics touched once per connection, never per byte.
 * <p>
 * A node that refused a connect is skipped for {@code failTimeout} (Nginx {@code max_fails=1 fail_timeout}),
 * so a reconnect storm after a node dies does not pay a refused connect per client. When every candidate is
 * marked, the marks are ignored: trying is better than answering 502 to a node that may be back. Other failures
 * (timeouts, stalled upgrades, invalid 101s, 502-class answers) eject a node for a backoff that doubles while it
 * keeps failing, within {@code max-ejected-percent} of the group and never the last usable node. A node that
 * active health checks found down is never picked.
 */
public final class UpstreamGroup
{
    private final InetSocketAddress[] addresses;
    private final String[] names;
    /** The weights new picks use: the configured ones, or what the admin set; replaced whole, never changed in place. */
    private volatile int[] weights;
    /** The smooth weighted round-robin order of {@link #weights}, published with it. */
    private volatile int[] roundRobinSlots;
    private final Balance balance;
    private final long failTimeoutNs;
    private final AtomicLongArray skipUntilNs;
    private final AtomicLongArray connectFailures;
    private final AtomicLong cursor = new AtomicLong();
    /**
     * 1 while active health checks say the node is down. Written only by the one loop that checks the node, and
     * only when its state changes; every loop reads it when picking (a volatile read, no shared write).
     */
    private final AtomicIntegerArray checkedDown;
    /** Passive failures in a row (connect errors and timeouts, stalled upgrades, invalid 101s, 502-class). */
    private final AtomicIntegerArray consecutiveFails;
    /** 1 while the node's mark came from a refused connect: the next successful connect lifts it. */
    private final AtomicIntegerArray connectMarked;
    /** Health checks by result ({@link #CHECK_OK}, {@link #CHECK_FAIL}, {@link #CHECK_TIMEOUT}), node-major. */
    private final AtomicLongArray checks;
    /** State changes to up (even index) and down (odd index), node-major. */
    private final AtomicLongArray stateChanges;
    /** Requests (upgrades, idempotent requests) moved away from the node after it sent no answer in time. */
    private final AtomicLongArray upgradeRetries;
    private final int maxEjectedPercent;
    /** Each node as {@code host:port} in ASCII, for the access log (made once, copied into its records). */
    private final byte[][] hostPorts;
    /**
     * Each node's rendezvous seed: a hash of its {@code host:port}, so a node keeps its seed (and its sessions)
     * when other nodes come or go, across reloads and DNS changes.
     */
    private final long[] rendezvousSeeds;

    // Slow start (--slow-start): kept apart from the rest so that other changes to the node table merge cleanly.
    /** 0: off. Set once before the group is published to the loops. */
    private long slowStartNs;
    /**
     * When the node's ramp began (it became usable again: up after checks, the end of an ejection, added by a
     * reload or DNS), {@code 0} when it has none. Written only on those rare changes; every pick reads it.
     */
    private final AtomicLongArray rampFromNs;

    public static final int CHECK_OK = 0;
    public static final int CHECK_FAIL = 1;
    public static final int CHECK_TIMEOUT = 2;
    public static final String[] CHECK_RESULTS = {"ok", "fail", "timeout"};
    /** What {@link #state} returns. */
    public static final String UP = "up";
    public static final String DOWN = "down";
    public static final String EJECTED = "ejected";
    /** Slow start factors are fixed point: this is 100 % (a pick compares weights scaled by it). */
    public static final int FULL_FACTOR = 1024;
    /**
     * Where a ramp begins: 5 % of the node's weight (Envoy's {@code min_weight_percent} is 10 %; lower, because a
     * node back from a restart meets the whole reconnect storm of its old clients).
     */
    static final int MIN_FACTOR = FULL_FACTOR / 20;
    /** Drained by the admin: no new connection, its tunnels closed at the rebalance rate. */
    public static final String DRAINING = "draining";
    /** A passive ejection lasts {@code failTimeout}, doubled per further failure in a row, up to this many times it. */
    static final int MAX_BACKOFF_FACTOR = 8;

    public UpstreamGroup(final List<ProxyContext.Upstream> upstreams, final Balance balance, final long failTimeoutNs)
    {
        this(upstreams, balance, failTimeoutNs, ProxyContext.DEFAULT_MAX_EJECTED_PERCENT);
    }

    public UpstreamGroup(final List<ProxyContext.Upstream> upstreams, final Balance balance, final long failTimeoutNs,
        final int maxEjectedPercent)
    {
        final int n = upstreams.size();
        if (n == 0)
        {
            throw new IllegalArgumentException("no upstreams");
        }
        addresses = new InetSocketAddress[n];
        names = new String[n];
        hostPorts = new byte[n][];
        final int[] weights = new int[n];
        for (int i = 0; i < n; i++)
        {
            addresses[i] = upstreams.get(i).address();
            names[i] = upstreams.get(i).toString();
            final InetSocketAddress a = addresses[i];
            final String host = a.getAddress().getHostAddress();
            hostPorts[i] = ((host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + a.getPort())
                .getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            weights[i] = upstreams.get(i).weight();
        }
        rendezvousSeeds = new long[n];
        for (int i = 0; i < n; i++)
        {
            long h = 0xcbf29ce484222325L;
            for (final byte b : hostPorts[i])
            {
                h = (h ^ (b & 0xFF)) * 0x100000001b3L;
            }
            rendezvousSeeds[i] = mix(h);
        }
        this.balance = balance;
        this.failTimeoutNs = failTimeoutNs;
        skipUntilNs = new AtomicLongArray(n);
        connectFailures = new AtomicLongArray(n);
        checkedDown = new AtomicIntegerArray(n);
        consecutiveFails = new AtomicIntegerArray(n);
        connectMarked = new AtomicIntegerArray(n);
        checks = new AtomicLongArray(n * CHECK_RESULTS.length);
        stateChanges = new AtomicLongArray(n * 2);
        upgradeRetries = new AtomicLongArray(n);
        rampFromNs = new AtomicLongArray(n);
        this.maxEjectedPercent = maxEjectedPercent;
        this.weights = weights;
        roundRobinSlots = smoothWeightedOrder(weights);
        configWeights = weights.clone();
        drained = new AtomicIntegerArray(n);
        tunnels = new NodeTunnels[n];
        for (int i = 0; i < n; i++)
        {
            tunnels[i] = new NodeTunnels();
        }
    }

    /**
     * Nginx's smooth weighted round robin, unrolled once at start into a slot table, so picking is one
     * atomic increment: weights 5,1,1 give a,a,b,a,c,a,a rather than a,a,a,a,a,b,c.
     */
    static int[] smoothWeightedOrder(final int[] weights)
    {
        int total = 0;
        for (final int w : weights)
        {
            total += w;
        }
        final int[] slots = new int[total];
        final int[] current = new int[weights.length];
        for (int s = 0; s < total; s++)
        {
            int best = 0;
            for (int i = 0; i < weights.length; i++)
            {
                current[i] += weights[i];
                if (current[i] > current[best])
                {
                    best = i;
                }
            }
            current[best] -= total;
            slots[s] = best;
        }
        return slots;
    }

    public int size()
    {
        return addresses.length;
    }

    public InetSocketAddress address(final int i)
    {
        return addresses[i];
    }

    /** The node's {@code host:port} (IPv6 in brackets) as ASCII bytes; do not modify. */
    public byte[] hostPort(final int i)
    {
        return hostPorts[i];
    }

    public String name(final int i)
    {
        return names[i];
    }

    public int active(final int i)
    {
        return tunnels[i].connections();
    }

    public long connectFailures(final int i)
    {
        return connectFailures.get(i);
    }

    public int weight(final int i)
    {
        return weights[i];
    }

    /**
     * Neither down by health checks nor ejected after failures (a refused connect, a stalled upgrade...) within its
     * backoff. A read, safe from any thread.
     */
    public boolean usable(final int i, final long nowNs)
    {
        return checkedDown.get(i) == 0 && !ejected(i, nowNs) && drained.get(i) == 0;
    }

    private boolean ejected(final int i, final long nowNs)
    {
        final long until = skipUntilNs.get(i);
        return until != 0 && nowNs - until < 0;
    }

    /** {@link #UP}, {@link #DOWN} (health checks), {@link #EJECTED} (passive, for a backoff) or {@link #DRAINING}. */
    public String state(final int i, final long nowNs)
    {
        return drained.get(i) != 0 ? DRAINING : checkedDown.get(i) != 0 ? DOWN : ejected(i, nowNs) ? EJECTED : UP;
    }

    /** Down by active health checks. */
    public boolean checkedDown(final int i)
    {
        return checkedDown.get(i) != 0;
    }

    /**
     * The checking loop's verdict; only a change is written (rare), and it is counted. Returns true when the state
     * changed.
     */
    public boolean checkedDown(final int i, final boolean down)
    {
        if ((checkedDown.get(i) != 0) == down)
        {
            return false;
        }
        checkedDown.set(i, down ? 1 : 0);
        stateChanges.incrementAndGet(i * 2 + (down ? 1 : 0));
        if (!down)
        {
            // Back after checks: a clean slate, not the backoff of the failures that took it down.
            consecutiveFails.set(i, 0);
            skipUntilNs.set(i, 0);
            beginRamp(i, System.nanoTime());
        }
        return true;
    }

    public void checked(final int i, final int result)
    {
        checks.incrementAndGet(i * CHECK_RESULTS.length + result);
    }

    public long checks(final int i, final int result)
    {
        return checks.get(i * CHECK_RESULTS.length + result);
    }

    /** State changes of the node to up ({@code down} false) or to down. */
    public long stateChanges(final int i, final boolean down)
    {
        return stateChanges.get(i * 2 + (down ? 1 : 0));
    }

    public void upgradeRetried(final int i)
    {
        upgradeRetries.incrementAndGet(i);
    }

    public long upgradeRetries(final int i)
    {
        return upgradeRetries.get(i);
    }

    /** Takes over the health of the same addresses in the group a reload replaces (cold). */
    public void inheritHealth(final UpstreamGroup old, final boolean checked)
    {
        for (int i = 0; i < addresses.length; i++)
        {
            for (int j = 0; j < old.addresses.length; j++)
            {
                if (addresses[i].equals(old.addresses[j]))
                {
                    checkedDown.set(i, checked ? old.checkedDown.get(j) : 0);
                    skipUntilNs.set(i, old.skipUntilNs.get(j));
                    consecutiveFails.set(i, old.consecutiveFails.get(j));
                    break;
                }
            }
        }
    }

    /**
     * Chooses a node and counts the connection on it; the caller must call {@link #release(int)} once.
     *
     * @param triedMask nodes (bit i for node i &lt; 64) this connection already failed to reach.
     * @return the node, or -1 when every node was tried.
     */
    public int acquire(final long nowNs, final long triedMask)
    {
        int choice = choose(nowNs, triedMask, true);
        if (choice < 0)
        {
            choice = choose(nowNs, triedMask, false);
        }
        if (choice >= 0)
        {
            tunnels[choice].connectionOpened();
        }
        return choice;
    }

    /**
     * As {@link #acquire(long, long)}, but with an affinity key other than 0 ({@code Router.sockJsKey}: one SockJS
     * session) the node is chosen by weighted rendezvous hashing over the nodes that may be picked: each scores
     * {@code weight / -ln(u)} with {@code u} uniform in (0, 1) from the key and the node's seed, and the highest
     * wins. The same key goes to the same node while that node is usable; when a node goes (down, ejected,
     * drained, removed) only its keys move, spread over the others in proportion to their weights, and a node
     * that comes back takes back its share only. Slow start and load play no part: a session must not wander.
     */
    public int acquire(final long nowNs, final long triedMask, final long affinityKey)
    {
        if (affinityKey == 0)
        {
            return acquire(nowNs, triedMask);
        }
        int choice = rendezvous(affinityKey, nowNs, triedMask, true);
        if (choice < 0)
        {
            choice = rendezvous(affinityKey, nowNs, triedMask, false);
        }
        if (choice >= 0)
        {
            tunnels[choice].connectionOpened();
        }
        return choice;
    }

    private int rendezvous(final long key, final long nowNs, final long triedMask, final boolean honourSkip)
    {
        final int[] weights = this.weights;
        int best = -1;
        double bestScore = 0;
        for (int node = 0; node < addresses.length; node++)
        {
            if (!eligible(node, nowNs, triedMask, honourSkip))
            {
                continue;
            }
            final double score = rendezvousScore(key, rendezvousSeeds[node], weights[node]);
            if (best < 0 || score > bestScore)
            {
                best = node;
                bestScore = score;
            }
        }
        return best;
    }

    /** Weighted rendezvous (Schindelhauer and Schomaker's logarithmic method): {@code weight / -ln(u)}. */
    static double rendezvousScore(final long key, final long seed, final int weight)
    {
        final long h = mix(key ^ seed);
        final double u = ((h >>> 11) + 0.5) * 0x1.0p-53; // 53 bits in (0, 1): ln(u) is finite and negative
        return weight / -Math.log(u);
    }

    /** The 64-bit finaliser of MurmurHash3: every input bit reaches every output bit. */
    public static long mix(final long value)
    {
        long h = value;
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        h *= 0xc4ceb9fe1a85ec53L;
        h ^= h >>> 33;
        return h;
    }

    public void release(final int node)
    {
        tunnels[node].connectionClosed();
    }

    /**
     * Connect refused or unreachable: skip the node for a while. A refused connect is a fact, not a guess, so it
     * marks the node whatever the share of ejected nodes (as before: Nginx {@code max_fails=1}); picking still
     * falls back to marked nodes when every node is marked, so the group never ends up empty.
     */
    public void connectFailed(final int node, final long nowNs)
    {
        connectFailures.incrementAndGet(node);
        eject(node, nowNs, true);
    }

    /** A connect that timed out: counted as a connect failure, and a passive failure (capped ejection). */
    public void connectTimedOut(final int node, final long nowNs)
    {
        connectFailures.incrementAndGet(node);
        eject(node, nowNs, false);
    }

    /** Some node outside {@code excludedMask} (bit i for node i &lt; 64) is usable now. */
    public boolean anyUsableBesides(final long nowNs, final long excludedMask)
    {
        for (int i = 0; i < addresses.length; i++)
        {
            if ((i >= 64 || (excludedMask & (1L << i)) == 0) && usable(i, nowNs))
            {
                return true;
            }
        }
        return false;
    }

    /**
     * Passive outlier detection: a connect timeout, a stalled upgrade, an invalid 101 or a 502-class answer. The
     * node is ejected for {@code failTimeout}, doubled per failure in a row up to {@link #MAX_BACKOFF_FACTOR}
     * times, unless that would eject more than {@code max-ejected-percent} of the group's nodes or the last one
     * still usable.
     */
    public void failed(final int node, final long nowNs)
    {
        eject(node, nowNs, false);
    }

    private void eject(final int node, final long nowNs, final boolean always)
    {
        final int inARow = consecutiveFails.incrementAndGet(node);
        if (failTimeoutNs <= 0)
        {
            return;
        }
        if (!always && !ejected(node, nowNs) && !mayEject(node, nowNs))
        {
            return;
        }
        connectMarked.set(node, always ? 1 : 0);
        final long factor = Math.min(MAX_BACKOFF_FACTOR, 1L << Math.min(30, inARow - 1));
        skipUntilNs.set(node, nowNs + failTimeoutNs * factor);
        beginRamp(node, nowNs + failTimeoutNs * factor); // ramps from where the ejection ends
    }

    /** Ejecting {@code node} would leave another usable node and stay within the share of ejected nodes. */
    boolean mayEject(final int node, final long nowNs)
    {
        final int n = addresses.length;
        int unusable = 0;
        for (int i = 0; i < n; i++)
        {
            if (i != node && !usable(i, nowNs))
            {
                unusable++;
            }
        }
        if (unusable + 1 >= n)
        {
            return false; // the last usable node stays
        }
        return (unusable + 1) * 100 <= (long)maxEjectedPercent * n;
    }

    /** A connect succeeded: a node marked after refused connects is usable again at once. */
    public void connected(final int node)
    {
        if (connectMarked.get(node) != 0)
        {
            connectMarked.set(node, 0);
            skipUntilNs.set(node, 0);
            rampFromNowIfLater(node);
        }
    }

    /** A good answer (a valid 101, or an HTTP answer other than 502/503/504): the failures in a row end. */
    public void answered(final int node)
    {
        if (consecutiveFails.get(node) != 0)
        {
            consecutiveFails.set(node, 0);
        }
        if (skipUntilNs.get(node) != 0)
        {
            skipUntilNs.set(node, 0);
            rampFromNowIfLater(node);
        }
    }

    /** Sets {@code --slow-start} (0: off); before the group is handed to the loops. */
    public UpstreamGroup slowStartNs(final long ns)
    {
        slowStartNs = ns;
        return this;
    }

    public long slowStartNs()
    {
        return slowStartNs;
    }

    /**
     * The node's share during slow start, {@link #MIN_FACTOR}..{@link #FULL_FACTOR} (fixed point, 1024 = 100 %),
     * growing linearly over {@code --slow-start} from when it became usable again. Two reads, no write: safe and
     * cheap on every pick.
     */
    public int slowStartFactor(final int node, final long nowNs)
    {
        final long from = rampFromNs.get(node);
        if (from == 0 || slowStartNs <= 0)
        {
            return FULL_FACTOR;
        }
        final long elapsed = nowNs - from;
        if (elapsed >= slowStartNs)
        {
            return FULL_FACTOR;
        }
        if (elapsed <= 0)
        {
            return MIN_FACTOR;
        }
        return MIN_FACTOR + (int)((FULL_FACTOR - MIN_FACTOR) * (double)elapsed / slowStartNs);
    }

    /** In slow start now: usable again within the last {@code --slow-start}. */
    public boolean slowStarting(final int node, final long nowNs)
    {
        return slowStartFactor(node, nowNs) < FULL_FACTOR;
    }

    /**
     * Round robin during slow start: the node's slot is skipped with probability 1 - factor, decided by a hash
     * of the shared cursor value this pick already took (spread over the slots, no further shared write).
     */
    private boolean slowStartSkips(final int node, final long nowNs, final long ticket)
    {
        final int factor = slowStartFactor(node, nowNs);
        if (factor >= FULL_FACTOR)
        {
            return false;
        }
        final int draw = (int)((ticket * 0x9E3779B97F4A7C15L) >>> 54); // 0..1023, Fibonacci hashing
        return draw >= factor;
    }

    private void beginRamp(final int node, final long fromNs)
    {
        rampFromNs.set(node, fromNs == 0 ? 1 : fromNs);
    }

    /** An ejection lifted early (a good answer or connect): the ramp starts now, not where the backoff would end. */
    private void rampFromNowIfLater(final int node)
    {
        final long from = rampFromNs.get(node);
        final long now = System.nanoTime();
        if (from != 0 && from - now > 0)
        {
            beginRamp(node, now);
        }
    }

    /**
     * After a reload or a DNS change (cold): a node whose address was in one of the {@code old} groups keeps its
     * ramp; an address that is new ramps from {@code nowNs}. The first groups of a process are not ramped: every
     * node starts alike.
     */
    public void inheritSlowStart(final UpstreamGroup[] old, final long nowNs)
    {
        for (int i = 0; i < addresses.length; i++)
        {
            long from = nowNs;
            search:
            for (final UpstreamGroup o : old)
            {
                for (int j = 0; j < o.addresses.length; j++)
                {
                    if (addresses[i].equals(o.addresses[j]))
                    {
                        from = o.rampFromNs.get(j);
                        break search;
                    }
                }
            }
            if (from == 0)
            {
                rampFromNs.set(i, 0);
            }
            else
            {
                beginRamp(i, from);
            }
        }
    }

    private int choose(final long nowNs, final long triedMask, final boolean honourSkip)
    {
        final int n = addresses.length;
        if (balance == Balance.ROUND_ROBIN)
        {
            final int[] order = roundRobinSlots;
            final int slots = order.length;
            final long start = cursor.getAndIncrement();
            int rampingFallback = -1;
            for (int k = 0; k < slots; k++)
            {
                final int node = order[(int)((start + k) % slots)];
                if (eligible(node, nowNs, triedMask, honourSkip))
                {
                    if (slowStartSkips(node, nowNs, start + k))
                    {
                        rampingFallback = rampingFallback < 0 ? node : rampingFallback;
                        continue;
                    }
                    return node;
                }
            }
            return rampingFallback;
        }
        // Least connections relative to weight; ties rotate so equal nodes share new connections evenly.
        final int[] weights = this.weights;
        final int start = (int)(cursor.getAndIncrement() % n);
        int best = -1;
        long bestActive = 0;
        long bestWeight = 1;
        for (int k = 0; k < n; k++)
        {
            final int node = (start + k) % n;
            if (!eligible(node, nowNs, triedMask, honourSkip))
            {
                continue;
            }
            // (active + 1) / (weight x slow start factor), HAProxy's fwlc key: a ramping node at 0 tunnels is
            // not "infinitely" lighter than the others; without slow start the order is that of active / weight.
            final long a = tunnels[node].connections() + 1;
            final long w = (long)weights[node] * slowStartFactor(node, nowNs);
            if (best < 0 || a * bestWeight < bestActive * w)
            {
                best = node;
                bestActive = a;
                bestWeight = w;
            }
        }
        return best;
    }

    private boolean eligible(final int node, final long nowNs, final long triedMask, final boolean honourSkip)
    {
        if (node < 64 && (triedMask & (1L << node)) != 0)
        {
            return false;
        }
        if (checkedDown.get(node) != 0 || drained.get(node) != 0)
        {
            return false; // down by health checks (or drained) is down, even when every node is
        }
        return !honourSkip || !ejected(node, nowNs);
    }

    // ---------------------------------------------------------------- admin drain, runtime weight, rebalancing

    /** The weights from the configuration, to tell on a reload whether the config changed a node. */
    private final int[] configWeights;
    /** 1 while the admin drained the node. Written by the admin thread, read by every loop when picking. */
    private final AtomicIntegerArray drained;
    /** Open tunnels and close requests per node, shared with the group a reload replaces (same address). */
    private final NodeTunnels[] tunnels;

    public NodeTunnels tunnels(final int i)
    {
        return tunnels[i];
    }

    public boolean drained(final int i)
    {
        return drained.get(i) != 0;
    }

    /** Admin drain (true) or undrain; the rebalancer closes a drained node's tunnels at its rate. Any thread. */
    public void drain(final int i, final boolean drain)
    {
        drained.set(i, drain ? 1 : 0);
    }

    /**
     * A new weight for new picks (admin, cold). The round-robin order is rebuilt and published with the weights
     * in one volatile write each; a pick racing with it sees the old or the new table, both consistent.
     */
    public synchronized void weight(final int i, final int weight)
    {
        if (weight < 1 || weight > ProxyContext.MAX_WEIGHT)
        {
            throw new IllegalArgumentException("weight must be 1.." + ProxyContext.MAX_WEIGHT);
        }
        final int[] next = weights.clone();
        next[i] = weight;
        final int[] order = smoothWeightedOrder(next);
        roundRobinSlots = order;
        weights = next;
    }

    /**
     * Takes over, for each node the reload kept at the same address with the same configured weight, what the
     * admin set (drain, weight); and for every kept address the open tunnels, so tunnels opened before the reload
     * stay counted and closable. A node whose configuration changed starts from its configuration (cold).
     */
    public void inheritAdminState(final UpstreamGroup old)
    {
        for (int i = 0; i < addresses.length; i++)
        {
            for (int j = 0; j < old.addresses.length; j++)
            {
                if (addresses[i].equals(old.addresses[j]))
                {
                    tunnels[i] = old.tunnels[j];
                    if (configWeights[i] == old.configWeights[j])
                    {
                        drained.set(i, old.drained.get(j));
                        if (old.weights[j] != weights[i])
                        {
                            weight(i, old.weights[j]);
                        }
                    }
                    break;
                }
            }
        }
    }

    /** The node of {@code host:port} (as /status shows it), or -1. */
    public int nodeIndex(final String hostPort)
    {
        for (int i = 0; i < addresses.length; i++)
        {
            if (new String(hostPorts[i], java.nio.charset.StandardCharsets.US_ASCII).equals(hostPort) ||
                names[i].equals(hostPort))
            {
                return i;
            }
        }
        return -1;
    }
}
