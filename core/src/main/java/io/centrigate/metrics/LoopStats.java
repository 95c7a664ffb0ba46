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
}
