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
    public long upstreamConnectFailures;
    public long acceptErrors;
    public long bufferWaits;
    public final long[] errors = new long[HttpError.values().length];
}
