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
    public long acceptErrors;
    public long bufferWaits;
    public long requests;
    public long upstreamConnects;
    public long retries;
    public long keepAliveReuses;
    public long goingAwayFrames;
    /** WebSocket frames and bytes of closed tunnels, client to upstream and back (from frame headers). */
    public long framesUp;
    public long framesDown;
    public long bytesUp;
    public long bytesDown;
    /** Access log lines this loop could not hand to the writer (its ring was full): lost, never waited for. */
    public long accessLogDropped;
    public final long[] errors = new long[HttpError.values().length];
    /** Close frames by code ({@link NodeStats#CLOSE_NONE}, {@link NodeStats#CLOSE_OTHER} or the code), per direction. */
    public final long[] closeCodesUp = new long[NodeStats.CLOSE_CODES];
    public final long[] closeCodesDown = new long[NodeStats.CLOSE_CODES];
    /** Upstream TCP connect (start to connected), in microseconds, up to an hour. */
    public final TimeHistogram connectTime = new TimeHistogram(1_000, 3_600_000_000L);
    /** Upgrade request written to the node until its 101 arrived. */
    public final TimeHistogram upgradeTime = new TimeHistogram(1_000, 3_600_000_000L);
    /** Plain HTTP: request head forwarded until the response head arrived. */
    public final TimeHistogram httpResponseTime = new TimeHistogram(1_000, 3_600_000_000L);
    /** Tunnel open (101) to close, in milliseconds, up to 31 days. */
    public final TimeHistogram tunnelLifetime = new TimeHistogram(1_000_000, 31L * 24 * 3600 * 1000);
}
