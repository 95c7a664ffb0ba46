package io.centrigate.admin;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import io.centrigate.metrics.LoopSnapshot;
import io.centrigate.metrics.NodeStats;

/** The loops' per-node counters added up by group and node address; built on the admin thread per scrape. */
final class NodeTotals
{
    /** One node's counters over every loop. */
    static final class Node
    {
        final long[] handshakes = new long[NodeStats.OUTCOMES.length];
        final long[][] requests = new long[NodeStats.METHODS.length][NodeStats.CODE_CLASSES.length];
        long tunnels;
        long requestsActive;
        long bytesUp;
        long bytesDown;
        long errors;
        final Map<String, Long> closeCodes = new TreeMap<>();

        long handshakesTotal()
        {
            long n = 0;
            for (final long h : handshakes)
            {
                n += h;
            }
            return n;
        }

        long requestsTotal()
        {
            long n = 0;
            for (final long[] m : requests)
            {
                for (final long c : m)
                {
                    n += c;
                }
            }
            return n;
        }

        boolean isZero()
        {
            return handshakesTotal() == 0 && requestsTotal() == 0 && tunnels == 0 && requestsActive == 0 &&
                bytesUp == 0 && bytesDown == 0 && errors == 0 && closeCodes.isEmpty();
        }
    }

    /** group, then node address ("none" for answers given before any node was chosen). */
    final Map<String, Map<String, Node>> groups = new LinkedHashMap<>();

    NodeTotals(final List<LoopSnapshot> loops)
    {
        for (final LoopSnapshot loop : loops)
        {
            for (final NodeStats stats : loop.nodes())
            {
                final Map<String, Node> nodes = groups.computeIfAbsent(stats.group, g -> new LinkedHashMap<>());
                for (int i = 0; i < stats.nodes.length; i++)
                {
                    final Node node = nodes.computeIfAbsent(stats.nodes[i], n -> new Node());
                    for (int o = 0; o < NodeStats.OUTCOMES.length; o++)
                    {
                        node.handshakes[o] += stats.handshakes(i, o);
                    }
                    for (int m = 0; m < NodeStats.METHODS.length; m++)
                    {
                        for (int c = 0; c < NodeStats.CODE_CLASSES.length; c++)
                        {
                            node.requests[m][c] += stats.requests(i, m, c);
                        }
                    }
                    node.tunnels += stats.tunnels[i];
                    node.requestsActive += stats.requestsActive[i];
                    node.bytesUp += stats.bytesUp[i];
                    node.bytesDown += stats.bytesDown[i];
                    node.errors += stats.errors[i];
                    stats.closeCodes(i).forEach((code, count) -> node.closeCodes.merge(code, count, Long::sum));
                }
            }
        }
    }

    /** The node's totals, or an empty one when no loop has counted it yet (e.g. just after a reload). */
    Node node(final String group, final String node)
    {
        final Map<String, Node> nodes = groups.get(group);
        final Node n = nodes == null ? null : nodes.get(node);
        return n != null ? n : new Node();
    }
}
