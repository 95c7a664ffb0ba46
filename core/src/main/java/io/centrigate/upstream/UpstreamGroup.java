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
 * marked, the marks are ignored: trying is better than answering 502 to a node that may be back.
 */
public final class UpstreamGroup
{
    private final InetSocketAddress[] addresses;
    private final String[] names;
    private final int[] weights;
    private final int[] roundRobinSlots;
    private final Balance balance;
    private final long failTimeoutNs;
    private final AtomicIntegerArray active;
    private final AtomicLongArray skipUntilNs;
    private final AtomicLongArray connectFailures;
    private final AtomicLong cursor = new AtomicLong();
    /** Each node as {@code host:port} in ASCII, for the access log (made once, copied into its records). */
    private final byte[][] hostPorts;

    public UpstreamGroup(final List<ProxyContext.Upstream> upstreams, final Balance balance, final long failTimeoutNs)
    {
        final int n = upstreams.size();
        if (n == 0)
        {
            throw new IllegalArgumentException("no upstreams");
        }
        addresses = new InetSocketAddress[n];
        names = new String[n];
        hostPorts = new byte[n][];
        weights = new int[n];
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
        this.balance = balance;
        this.failTimeoutNs = failTimeoutNs;
        active = new AtomicIntegerArray(n);
        skipUntilNs = new AtomicLongArray(n);
        connectFailures = new AtomicLongArray(n);
        roundRobinSlots = smoothWeightedOrder(weights);
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
        return active.get(i);
    }

    public long connectFailures(final int i)
    {
        return connectFailures.get(i);
    }

    public int weight(final int i)
    {
        return weights[i];
    }

    /** Not known to be down: no refused connect within the fail timeout. A read, safe from any thread. */
    public boolean usable(final int i, final long nowNs)
    {
        final long until = skipUntilNs.get(i);
        return until == 0 || nowNs - until >= 0;
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
            active.incrementAndGet(choice);
        }
        return choice;
    }

    public void release(final int node)
    {
        active.decrementAndGet(node);
    }

    /** Connect refused or unreachable: skip the node for a while. */
    public void connectFailed(final int node, final long nowNs)
    {
        connectFailures.incrementAndGet(node);
        if (failTimeoutNs > 0)
        {
            skipUntilNs.set(node, nowNs + failTimeoutNs);
        }
    }

    /** A connect succeeded: the node is usable again at once. */
    public void connected(final int node)
    {
        if (skipUntilNs.get(node) != 0)
        {
            skipUntilNs.set(node, 0);
        }
    }

    private int choose(final long nowNs, final long triedMask, final boolean honourSkip)
    {
        final int n = addresses.length;
        if (balance == Balance.ROUND_ROBIN)
        {
            final int slots = roundRobinSlots.length;
            final long start = cursor.getAndIncrement();
            for (int k = 0; k < slots; k++)
            {
                final int node = roundRobinSlots[(int)((start + k) % slots)];
                if (eligible(node, nowNs, triedMask, honourSkip))
                {
                    return node;
                }
            }
            return -1;
        }
        // Least connections relative to weight; ties rotate so equal nodes share new connections evenly.
        final int start = (int)(cursor.getAndIncrement() % n);
        int best = -1;
        long bestActive = 0;
        int bestWeight = 1;
        for (int k = 0; k < n; k++)
        {
            final int node = (start + k) % n;
            if (!eligible(node, nowNs, triedMask, honourSkip))
            {
                continue;
            }
            final long a = active.get(node);
            if (best < 0 || a * bestWeight < bestActive * weights[node])
            {
                best = node;
                bestActive = a;
                bestWeight = weights[node];
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
        if (honourSkip)
        {
            final long until = skipUntilNs.get(node);
            return until == 0 || nowNs - until >= 0;
        }
        return true;
    }
}
