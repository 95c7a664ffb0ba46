package io.centrigate.proxy;

import org.agrona.DirectBuffer;

import io.centrigate.http.RequestHead;
import io.centrigate.metrics.AccessLog;
import io.centrigate.metrics.LoopStats;
import io.centrigate.websocket.FrameTracker;

/**
 * What one client session keeps for its access log lines; a session has one only while {@code --access-log} is
 * on (otherwise its reference stays null and nothing here exists). Written and read on the session's loop only.
 * <p>
 * Why a copy of the request's method and path: a line is written when the exchange or tunnel <em>ends</em>,
 * long after the chunk that held the head went back to the pool. The alternatives cost more: holding the head
 * chunk would pin 32 KiB per tunnel; writing a "start" record at upgrade for the writer to join with the end
 * would keep the same bytes per open tunnel in the writer's map, and lose or leak lines when either half is
 * dropped from a full ring. So the session copies at most {@link AccessLog#MAX_PATH} bytes of path (and the
 * method) into one array when the head is parsed, reused by every request of a keep-alive connection; when the
 * request becomes a tunnel the array is cut to its exact length, so an idle tunnel holds a few dozen bytes for
 * the log (no buffer) and a connection with the log off holds nothing.
 */
final class ExchangeLog
{
    private static final int MAX_METHOD = 16;

    private final AccessLog log;
    private byte[] head;
    /** -1: no parsed head (a request the proxy refused before it could read one): method and path are null. */
    private int methodLength = -1;
    private int pathLength;
    private boolean truncated;
    /** A request began and its line is not written yet. */
    private boolean pending;
    private long startNs;
    private long upstreamStartNs;
    /** Response head arrived (for a tunnel: the 101, the tunnel's start). */
    private long responseNs;
    private long bytesIn;
    private long upBase;
    private long downBase;
    private int status;
    private byte[] node;
    /** Why the tunnel ended, once known ({@link AccessLog#END_CLIENT_CLOSE} ...); 0 while not. */
    private int end;

    ExchangeLog(final AccessLog log)
    {
        this.log = log;
    }

    boolean pending()
    {
        return pending;
    }

    /** A parsed request head: a new exchange begins (method and path copied, capped). */
    void begin(final DirectBuffer buf, final RequestHead request, final long headStartNs, final int headLength,
        final long upBytesIn, final long downBytesOut)
    {
        start(headStartNs, upBytesIn, downBytesOut);
        bytesIn = headLength;
        final int m = Math.min(request.methodLength(), MAX_METHOD);
        final int p = Math.min(request.pathLength(), AccessLog.MAX_PATH);
        if (head == null || head.length < MAX_METHOD + AccessLog.MAX_PATH)
        {
            head = new byte[MAX_METHOD + AccessLog.MAX_PATH];
        }
        buf.getBytes(request.methodOffset(), head, 0, m);
        buf.getBytes(request.pathOffset(), head, m, p);
        methodLength = m;
        pathLength = p;
        truncated = p < request.pathLength();
    }

    /**
     * An answer the proxy generates itself (an error, a redirect); begins the exchange if no head was parsed,
     * with {@code headBytes} read of it.
     */
    void answered(final int status, final long startNs, final int headBytes, final long upBytesIn,
        final long downBytesOut)
    {
        if (!pending)
        {
            start(startNs, upBytesIn, downBytesOut);
            methodLength = -1;
            pathLength = 0;
            truncated = false;
            bytesIn = headBytes;
        }
        this.status = status;
    }

    private void start(final long nowNs, final long upBytesIn, final long downBytesOut)
    {
        pending = true;
        startNs = nowNs;
        upBase = upBytesIn;
        downBase = downBytesOut;
        upstreamStartNs = 0;
        responseNs = 0;
        status = 0;
        node = null;
        end = 0;
    }

    void requestBody(final int bytes)
    {
        bytesIn += bytes;
    }

    void upstreamStart(final long nowNs)
    {
        if (upstreamStartNs == 0)
        {
            upstreamStartNs = nowNs;
        }
    }

    void node(final byte[] hostPort)
    {
        node = hostPort;
    }

    /** The upstream's answer head (or its 101) arrived. */
    void response(final int status, final byte[] hostPort, final long nowNs)
    {
        this.status = status;
        this.node = hostPort;
        this.responseNs = nowNs;
    }

    /** The 101 made this exchange a tunnel: only its ws line will be written, and the copy shrinks to fit. */
    void tunnelOpened(final byte[] hostPort, final long nowNs)
    {
        response(101, hostPort, nowNs);
        pending = false;
        if (head != null && methodLength >= 0)
        {
            head = java.util.Arrays.copyOf(head, methodLength + pathLength);
        }
    }

    /** Why the tunnel ends, if nothing said so before. */
    void endIfUnknown(final int why)
    {
        if (end == 0)
        {
            end = why;
        }
    }

    void end(final int why)
    {
        end = why;
    }

    int end()
    {
        return end;
    }

    /** The exchange ended (answer written, or the connection closed under it): its line. */
    void writeHttp(final LoopStats stats, final byte[] client, final int clientLength, final long nowNs,
        final long upBytesIn, final long downBytesOut)
    {
        if (!pending)
        {
            return;
        }
        pending = false;
        final long upstreamNs = upstreamStartNs == 0 ? -1 : (responseNs != 0 ? responseNs : nowNs) - upstreamStartNs;
        // 499 (Nginx: client closed request) when the client left before any answer began.
        if (!log.http(System.currentTimeMillis(), nowNs - startNs, upstreamNs, bytesIn + upBytesIn - upBase,
            downBytesOut - downBase, status == 0 ? 499 : status, client, clientLength, head, methodLength, pathLength,
            truncated, node))
        {
            stats.accessLogDropped++;
        }
    }

    /** The tunnel ended: its line, with both directions' counts and close frames ({@code proxyCode}: what the proxy sent). */
    void writeWs(final LoopStats stats, final byte[] client, final int clientLength, final long nowNs,
        final FrameTracker upFrames,
        final FrameTracker downFrames, final boolean proxyClosedUp, final boolean proxyClosedDown, final int proxyCode)
    {
        final int upBy = upFrames.closeFrames() > 0 ? AccessLog.BY_CLIENT : proxyClosedUp ? AccessLog.BY_PROXY : AccessLog.BY_NONE;
        final int upCode = upBy == AccessLog.BY_CLIENT ? upFrames.closeCode() : upBy == AccessLog.BY_PROXY ? proxyCode : AccessLog.NO_CODE;
        final int downBy = downFrames.closeFrames() > 0 ? AccessLog.BY_NODE : proxyClosedDown ? AccessLog.BY_PROXY : AccessLog.BY_NONE;
        final int downCode = downBy == AccessLog.BY_NODE ? downFrames.closeCode() : downBy == AccessLog.BY_PROXY ? proxyCode : AccessLog.NO_CODE;
        if (!log.ws(System.currentTimeMillis(), responseNs - startNs, nowNs - responseNs, upFrames.bytes(),
            downFrames.bytes(), upFrames.frames(), downFrames.frames(), upCode, upBy, downCode, downBy,
            end == 0 ? AccessLog.END_ERROR : end, client, clientLength, head, methodLength, pathLength, truncated, node))
        {
            stats.accessLogDropped++;
        }
    }
}
