package io.centrigate.metrics;

import java.util.List;
import java.util.Map;

/** A consistent copy of one loop's state, made on the loop thread. */
public record LoopSnapshot(
    String loop,
    long sessions,
    long accepted,
    long tunnelsOpened,
    long upstreamConnectFailures,
    long acceptErrors,
    int chunksAllocated,
    int chunksFree,
    int chunksHighWater,
    long bufferWaits,
    int timers,
    long requests,
    long upstreamConnects,
    long retries,
    long keepAliveReuses,
    long pooledReuses,
    int pooledIdle,
    long framesUp,
    long framesDown,
    long bytesUp,
    long bytesDown,
    Map<String, Long> errors,
    long tunnelsClosed,
    long goingAwayFrames,
    long accessLogDropped,
    long iterations,
    long wakeups,
    long busyNs,
    int commandQueueDepth,
    /** Copies of the per-node counters, one per upstream group, in the groups' order. */
    List<NodeStats> nodes,
    /** Close codes seen, as {@code [code, count, ...]} pairs ({@link LoopStats#seenCodes}). */
    long[] closeCodesUp,
    long[] closeCodesDown,
    /** The loop's live histograms: {@link TimeHistogram#read()} is the reader's work, off the loop. */
    TimeHistogram connectTime,
    TimeHistogram upgradeTime,
    TimeHistogram httpResponseTime,
    TimeHistogram tunnelLifetime,
    /** Connections accepted and open by listener index ({@code Proxy.listenerAddresses()}). */
    long[] acceptedByListener,
    long[] openByListener,
    /** Upstream connects whose source address could not be bound ({@code --upstream-source}). */
    long upstreamSourceBindFailures,
    /** Connections closed for their PROXY protocol header, by {@link LoopStats#PROXY_HEADER_REASONS} index. */
    long[] proxyHeaderRefused,
    /** Client limits and upgrade admission, by {@link LoopStats}'s {@code REFUSED_CONNECTIONS}... indexes. */
    long[] limits,
    TimeHistogram admissionWait,
    /** HTTP/2 events by {@link LoopStats#HTTP2_EVENTS} index. */
    long[] http2,
    /** Payload bytes spliced up and down, payloads copied for want of a pipe, pipes open now. */
    long splicedUp,
    long splicedDown,
    long spliceNoPipe,
    int splicePipesOpen)
{
    /** Tunnels of this loop open when the snapshot was taken. */
    public long tunnelsOpen()
    {
        return tunnelsOpened - tunnelsClosed;
    }

    public int chunksInUse()
    {
        return chunksAllocated - chunksFree;
    }
}
