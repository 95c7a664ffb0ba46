package io.centrigate.upstream;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.centrigate.config.ProxyContext;

/**
 * Upstreams given by DNS name (DNS discovery): a name stands for every address it resolves to, each a node with
 * the entry's weight. Resolving blocks, so it is done at start, on a reload and on the resolver's own thread, never
 * on a loop. The JDK resolver is used (it honours {@code /etc/hosts}, {@code nsswitch} and search domains like every
 * other program on the host, which a DNS library would not, and it needs nothing more on the class path); it gives
 * no TTLs, so the interval is ours ({@code --resolve-interval}). Cold path.
 */
public final class UpstreamNames
{
    private UpstreamNames()
    {
    }

    /** Every name among the upstreams of {@code ctx}, in configuration order. */
    public static List<String> names(final ProxyContext ctx)
    {
        final List<String> names = new ArrayList<>();
        for (final List<ProxyContext.Upstream> group : ctx.groups().values())
        {
            for (final ProxyContext.Upstream u : group)
            {
                if (u.named() && !names.contains(u.address().getHostString()))
                {
                    names.add(u.address().getHostString());
                }
            }
        }
        return names;
    }

    /**
     * The addresses of every name of {@code ctx}: those of {@code known} as they are, the others resolved now.
     *
     * @throws IllegalArgumentException naming the upstream when a name does not resolve (a configuration error).
     */
    public static Map<String, List<InetAddress>> resolveAll(final ProxyContext ctx, final Map<String, List<InetAddress>> known)
    {
        final Map<String, List<InetAddress>> all = new LinkedHashMap<>();
        for (final String name : names(ctx))
        {
            final List<InetAddress> have = known.get(name);
            try
            {
                all.put(name, have != null ? have : resolve(name));
            }
            catch (final UnknownHostException e)
            {
                throw new IllegalArgumentException("upstream: cannot resolve host '" + name + "'");
            }
        }
        return Map.copyOf(all);
    }

    /** Every address of {@code name} (A and AAAA), sorted so that two answers in another order compare equal. */
    public static List<InetAddress> resolve(final String name) throws UnknownHostException
    {
        final InetAddress[] addresses = InetAddress.getAllByName(name);
        Arrays.sort(addresses, (a, b) -> Arrays.compare(a.getAddress(), b.getAddress()));
        final List<InetAddress> distinct = new ArrayList<>();
        for (final InetAddress a : addresses)
        {
            if (distinct.isEmpty() || !Arrays.equals(distinct.get(distinct.size() - 1).getAddress(), a.getAddress()))
            {
                distinct.add(a);
            }
        }
        return List.copyOf(distinct);
    }

    /**
     * The nodes of a group: a literal entry as it is, a named one as one node per address of {@code names} (the
     * name kept as the address's host name, for {@code /status}); an address already in the group is not added twice.
     */
    public static List<ProxyContext.Upstream> expand(final List<ProxyContext.Upstream> group,
        final Map<String, List<InetAddress>> names)
    {
        final List<ProxyContext.Upstream> nodes = new ArrayList<>();
        for (final ProxyContext.Upstream u : group)
        {
            final List<InetAddress> addresses = u.named() ? names.get(u.address().getHostString()) : null;
            if (addresses == null)
            {
                add(nodes, u);
                continue;
            }
            for (final InetAddress a : addresses)
            {
                try
                {
                    final InetAddress named = InetAddress.getByAddress(u.address().getHostString(), a.getAddress());
                    add(nodes, new ProxyContext.Upstream(new InetSocketAddress(named, u.address().getPort()), u.weight()));
                }
                catch (final UnknownHostException e)
                {
                    throw new IllegalStateException(e); // only for an address of a wrong length: not from a resolver
                }
            }
        }
        return nodes;
    }

    private static void add(final List<ProxyContext.Upstream> nodes, final ProxyContext.Upstream u)
    {
        for (final ProxyContext.Upstream n : nodes)
        {
            if (n.address().equals(u.address()))
            {
                return;
            }
        }
        nodes.add(u);
    }
}
