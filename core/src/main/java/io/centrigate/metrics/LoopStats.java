package io.centrigate.metrics;

import io.centrigate.http.HttpError;

/**
 * Counters of one loop, written only by its thread (plain fields: no fences on the hot path). Other threads
 * read them through a {@link LoopSnapshot} taken on the loop thread.
 */
public final class LoopStats
{
    public long accepted;
    public long sessions;
    public long tunnelsOpened;
    /** Tunnels ended (counted where their frame counts are added); open = opened - closed. */
    public long tunnelsClosed;
    public long upstreamConnectFailures;
    /** Upstream connects whose source address (--upstream-source) could not be bound: the address is skipped a while. */
    public long upstreamSourceBindFailures;
    public long acceptErrors;
    public long bufferWaits;
    public long requests;
    public long upstreamConnects;
    public long retries;
    public long keepAliveReuses;
    public long goingAwayFrames;
    /** Connections closed for their PROXY protocol header, by {@link #PROXY_HEADER_REASONS} index. */
    public final long[] proxyHeaderRefused = new long[5];
    public static final int PROXY_HEADER_MISSING = 0;
    public static final int PROXY_HEADER_MALFORMED = 1;
    public static final int PROXY_HEADER_OVERSIZED = 2;
    public static final int PROXY_HEADER_DISALLOWED = 3;
    public static final int PROXY_HEADER_TIMEOUT = 4;
    /** HTTP/2 events ({@code --http2 on}), by {@link #HTTP2_EVENTS} index. */
    public final long[] http2 = new long[7];
    /** WebSocket payload bytes moved by splice(2) in tunnels, by {@link #SPLICED_UP} and {@link #SPLICED_DOWN}. */
    public final long[] spliced = new long[2];
    public static final int SPLICED_UP = 0;
    public static final int SPLICED_DOWN = 1;
    public static final int HTTP2_CONNECTIONS = 0;
    public static final int HTTP2_STREAMS = 1;
    public static final int HTTP2_STREAMS_REFUSED = 2;
    public static final int HTTP2_RESETS_RECEIVED = 3;
    public static final int HTTP2_STREAM_ERRORS = 4;
    public static final int HTTP2_CONNECTION_ERRORS = 5;
    public static final int HTTP2_WEBSOCKET_STREAMS = 6;
    /** The {@code event} label of each index of {@link #http2}. */
    public static final java.util.List<String> HTTP2_EVENTS = java.util.List.of("connections", "streams",
        "streams_refused", "resets_received", "stream_errors", "connection_errors", "websocket_streams");
    /** The {@code reason} label of each index of {@link #proxyHeaderRefused}. */
    public static final java.util.List<String> PROXY_HEADER_REASONS =
        java.util.List.of("missing", "malformed", "oversized", "disallowed", "timeout");
    /** WebSocket frames and bytes of closed tunnels, client to upstream and back (from frame headers). */
    /** Bucket upper bounds (seconds) of the connect, upgrade and HTTP response time histograms; +Inf added. */
    static final double[] LATENCY_BOUNDS = {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
        0.1, 0.25, 0.5, 1, 2.5, 5, 10};
    /** Bucket upper bounds (seconds) of the tunnel lifetime histogram; +Inf added. */
    static final double[] LIFETIME_BOUNDS = {1, 10, 60, 300, 900, 3600, 14400, 43200, 86400};
    /**
     * The client limits and the admission of upgrades ({@code io.centrigate.limit}), by the indexes below: refusals
     * by reason, addresses the client table could not track, upgrades admitted at once, after a wait, refused, and
     * (a gauge) upgrades waiting now.
     */
    public final long[] limits = new long[7];
    public static final int REFUSED_CONNECTIONS = 0;
    public static final int REFUSED_HANDSHAKE_RATE = 1;
    public static final int CLIENT_UNTRACKED = 2;
    public static final int ADMITTED_AT_ONCE = 3;
    public static final int ADMITTED_AFTER_WAIT = 4;
    public static final int ADMISSION_REFUSED = 5;
    public static final int ADMISSION_WAITING = 6;
    /** The {@code reason} label of {@link #REFUSED_CONNECTIONS} and {@link #REFUSED_HANDSHAKE_RATE}. */
    public static final java.util.List<String> CLIENT_LIMIT_REASONS = java.util.List.of("connections", "handshake_rate");
    /** Bucket upper bounds (seconds) of the admission wait histogram; +Inf added. */
    static final double[] WAIT_BOUNDS = {0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
    /** How long admitted upgrades waited for their slot ({@code --max-handshake-rate}), 0 for those at once; ms. */
    public final TimeHistogram admissionWait = new TimeHistogram(1_000_000, 3_600_000L, WAIT_BOUNDS);
    /** Connections accepted and open per listener (by the proxy's listener index); sized before the loop starts. */
    public long[] acceptedByListener = new long[1];
    public long[] openByListener = new long[1];

    /** Sizes the per-listener counts; before the loop thread starts. */
    public void listeners(final int count)
    {
        acceptedByListener = new long[Math.max(1, count)];
        openByListener = new long[Math.max(1, count)];
    }

    /**
     * WebSocket bytes and frames through this loop's tunnels, by {@link #BYTES_UP} ... {@link #FRAMES_DOWN}: added by
     * the tunnels' frame trackers as they pass (see {@code FrameTracker.countInto}), so open tunnels show.
     */
    public final long[] tunnelTraffic = new long[4];
    public static final int BYTES_UP = 0;
    public static final int FRAMES_UP = 1;
    public static final int BYTES_DOWN = 2;
    public static final int FRAMES_DOWN = 3;
    /** Access log lines this loop could not hand to the writer (its ring was full): lost, never waited for. */
    public long accessLogDropped;
    public final long[] errors = new long[HttpError.values().length];
    /** Close frames by code ({@link NodeStats#CLOSE_NONE}, {@link NodeStats#CLOSE_OTHER} or the code), per direction. */
    public final long[] closeCodesUp = new long[NodeStats.CLOSE_CODES];
    public final long[] closeCodesDown = new long[NodeStats.CLOSE_CODES];
    /** Upstream TCP connect (start to connected), in microseconds, up to an hour. */
    public final TimeHistogram connectTime = new TimeHistogram(1_000, 3_600_000_000L, LATENCY_BOUNDS);
    /** Upgrade request written to the node until its 101 arrived. */
    public final TimeHistogram upgradeTime = new TimeHistogram(1_000, 3_600_000_000L, LATENCY_BOUNDS);
    /** Plain HTTP: request head forwarded until the response head arrived. */
    public final TimeHistogram httpResponseTime = new TimeHistogram(1_000, 3_600_000_000L, LATENCY_BOUNDS);
    /** Tunnel open (101) to close, in milliseconds, up to 31 days. */
    public final TimeHistogram tunnelLifetime = new TimeHistogram(1_000_000, 31L * 24 * 3600 * 1000, LIFETIME_BOUNDS);

    /**
     * The codes seen so far as pairs {@code [code, count, code, count, ...]}: a snapshot copies a few slots rather
     * than the whole 5,000-slot table, on the loop thread.
     */
    public static long[] seenCodes(final long[] counts)
    {
        int seen = 0;
        for (final long c : counts)
        {
            if (c != 0)
            {
                seen++;
            }
        }
        final long[] pairs = new long[seen * 2];
        int j = 0;
        for (int code = 0; code < counts.length && j < pairs.length; code++)
        {
            if (counts[code] != 0)
            {
                pairs[j++] = code;
                pairs[j++] = counts[code];
            }
        }
        return pairs;
    }
}
