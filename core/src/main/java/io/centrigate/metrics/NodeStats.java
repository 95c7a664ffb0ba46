package io.centrigate.metrics;

import java.util.Map;
import java.util.TreeMap;

import org.agrona.collections.Int2IntCounterMap;

/**
 * Per-node counters of one upstream group on one loop, written only by the loop thread (plain arrays indexed by
 * node). Made when the loop starts and again on a reload that changes the group (cold), so a session counts
 * into the object that matches the group it chose its node from. Index {@link #none()} stands for "no node"
 * (e.g. a 503 answered before any node was chosen).
 */
public final class NodeStats
{
    public static final int OUTCOME_101 = 0;
    /** Plus the status class - 1: 1xx at 1 ... 5xx at 5. */
    public static final int OUTCOME_UPSTREAM_CLASS = 0;
    public static final int OUTCOME_INVALID_101 = 6;
    public static final int OUTCOME_CONNECT_REFUSED = 7;
    public static final int OUTCOME_CONNECT_TIMEOUT = 8;
    public static final int OUTCOME_UPSTREAM_TIMEOUT = 9;
    public static final int OUTCOME_ANSWERED_502 = 10;
    public static final int OUTCOME_ANSWERED_503 = 11;
    public static final int OUTCOME_ANSWERED_504 = 12;
    public static final String[] OUTCOMES = {"101", "upstream_1xx", "upstream_2xx", "upstream_3xx", "upstream_4xx",
        "upstream_5xx", "invalid_101", "connect_refused", "connect_timeout", "upstream_timeout", "answered_502",
        "answered_503", "answered_504"};

    public static final int METHOD_GET = 0;
    public static final int METHOD_HEAD = 1;
    public static final int METHOD_POST = 2;
    public static final int METHOD_OTHER = 3;
    public static final String[] METHODS = {"GET", "HEAD", "POST", "other"};
    public static final String[] CODE_CLASSES = {"1xx", "2xx", "3xx", "4xx", "5xx"};
    private static final int REQUEST_SLOTS = METHODS.length * CODE_CLASSES.length;

    /** Close code slots shared with the per-loop close code arrays: no code in the frame, and out of range. */
    public static final int CLOSE_NONE = 0;
    public static final int CLOSE_OTHER = 1;
    public static final int CLOSE_CODES = 5000;

    public final String group;
    /** {@code HOST:PORT} of each node, then "none". */
    public final String[] nodes;
    public final long[] handshakes;
    public final long[] requests;
    public final long[] tunnels;
    public final long[] requestsActive;
    public final long[] bytesUp;
    public final long[] bytesDown;
    public final long[] errors;
    private final Int2IntCounterMap[] closeCodes;

    public NodeStats(final String group, final String[] nodeNames)
    {
        this.group = group;
        final int n = nodeNames.length + 1;
        nodes = java.util.Arrays.copyOf(nodeNames, n);
        nodes[n - 1] = "none";
        handshakes = new long[n * OUTCOMES.length];
        requests = new long[n * REQUEST_SLOTS];
        tunnels = new long[n];
        requestsActive = new long[n];
        bytesUp = new long[n];
        bytesDown = new long[n];
        errors = new long[n];
        closeCodes = new Int2IntCounterMap[n];
        for (int i = 0; i < n; i++)
        {
            closeCodes[i] = new Int2IntCounterMap(0);
        }
    }

    private NodeStats(final NodeStats from)
    {
        group = from.group;
        nodes = from.nodes;
        handshakes = from.handshakes.clone();
        requests = from.requests.clone();
        tunnels = from.tunnels.clone();
        requestsActive = from.requestsActive.clone();
        bytesUp = from.bytesUp.clone();
        bytesDown = from.bytesDown.clone();
        errors = from.errors.clone();
        closeCodes = new Int2IntCounterMap[from.closeCodes.length];
        for (int i = 0; i < closeCodes.length; i++)
        {
            final Int2IntCounterMap copy = new Int2IntCounterMap(0);
            from.closeCodes[i].forEach(copy::put);
            closeCodes[i] = copy;
        }
    }

    /** The slot for "no node". */
    public int none()
    {
        return nodes.length - 1;
    }

    /** {@code node} when it is one of this group's, else {@link #none()}. */
    public int slot(final int node)
    {
        return node >= 0 && node < nodes.length - 1 ? node : nodes.length - 1;
    }

    public void handshake(final int node, final int outcome)
    {
        handshakes[slot(node) * OUTCOMES.length + outcome]++;
    }

    public long handshakes(final int node, final int outcome)
    {
        return handshakes[node * OUTCOMES.length + outcome];
    }

    public void request(final int node, final int method, final int status)
    {
        requests[slot(node) * REQUEST_SLOTS + method * CODE_CLASSES.length + codeClass(status)]++;
    }

    public long requests(final int node, final int method, final int codeClass)
    {
        return requests[node * REQUEST_SLOTS + method * CODE_CLASSES.length + codeClass];
    }

    /** 0 for 1xx ... 4 for 5xx (out-of-range statuses into the nearest class). */
    public static int codeClass(final int status)
    {
        return Math.max(0, Math.min(4, status / 100 - 1));
    }

    /** A close code slot ({@link #CLOSE_NONE}, {@link #CLOSE_OTHER} or the code) seen on a tunnel of the node. */
    public void closeCode(final int node, final int slot)
    {
        closeCodes[slot(node)].incrementAndGet(slot);
    }

    /** Close codes by label ("1000", "none", "other") of one node; a copy. */
    public Map<String, Long> closeCodes(final int node)
    {
        final Map<String, Long> out = new TreeMap<>();
        closeCodes[node].forEach((code, count) -> out.merge(closeCodeLabel(code), (long)count, Long::sum));
        return out;
    }

    public static String closeCodeLabel(final int slot)
    {
        return slot == CLOSE_NONE ? "none" : slot == CLOSE_OTHER ? "other" : Integer.toString(slot);
    }

    /** Same group and nodes: a reload that changed neither keeps counting into the same object. */
    public boolean sameNodes(final String groupName, final String[] nodeNames)
    {
        return group.equals(groupName) && java.util.Arrays.equals(nodes, 0, nodes.length - 1, nodeNames, 0,
            nodeNames.length);
    }

    /** {@code HOST:PORT} as the metrics label it ({@code [v6]:port}). */
    public static String hostPort(final java.net.InetSocketAddress a)
    {
        final String host = a.getAddress() != null ? a.getAddress().getHostAddress() : a.getHostString();
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + a.getPort();
    }

    /** A copy for a snapshot (cold, on the loop thread). */
    public NodeStats copy()
    {
        return new NodeStats(this);
    }
}
