package io.centrigate.proxy;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;

import org.agrona.DirectBuffer;
import org.agrona.collections.Int2ObjectHashMap;
import org.agrona.concurrent.UnsafeBuffer;

import io.centrigate.buffer.ChunkPool;
import io.centrigate.config.ProxyContext;
import io.centrigate.h2.ErrorCode;
import io.centrigate.h2.FrameHeader;
import io.centrigate.h2.FrameListener;
import io.centrigate.h2.FrameReader;
import io.centrigate.h2.FrameWriter;
import io.centrigate.h2.HpackDecoder;
import io.centrigate.h2.HpackEncoder;
import io.centrigate.h2.RequestFields;
import io.centrigate.h2.Setting;
import io.centrigate.loop.Connection;
import io.centrigate.tls.TlsChannel;

/**
 * An HTTP/2 connection (RFC 9113) on a TLS connection whose ALPN chose {@code h2}: the connection's state (the
 * SETTINGS exchange, PING, GOAWAY, both flow-control windows, the stream table and its states, the concurrency
 * limit) over the codec of {@code io.centrigate.h2}. Each request stream becomes an {@link H2Stream} served by a
 * {@link ClientSession} of its own, which sees HTTP/1.1 and proxies it to a node over the upstream pool as any
 * other request; this class turns the frames into the stream's bytes and back.
 * <p>
 * Stream states (§5.1) are kept implicitly: a stream in the table is open or half-closed; its id at or below
 * {@link #lastStreamId} and absent is closed; above it, idle. The {@link ClientSession} that holds the TLS
 * connection only forwards its readiness here. Loop thread only.
 */
final class H2Connection implements FrameListener, io.centrigate.loop.EventLoop.TimerTarget
{
    static final long NO_ROOM = -1;
    static final long INTERIM = -2;
    static final long NO_BODY = -3;
    static final long CHUNKED = -4;
    static final long UNTIL_CLOSE = -5;
    /** A WebSocket stream's 101 became :status 200 (RFC 8441 §5): the stream is a tunnel from here on. */
    static final long TUNNEL = -6;

    private static final UnsafeBuffer HTTP11 = ascii(" HTTP/1.1\r\n");
    private static final UnsafeBuffer HOST = ascii("Host: ");
    private static final UnsafeBuffer CRLF = ascii("\r\n");
    private static final UnsafeBuffer COLON = ascii(": ");
    private static final UnsafeBuffer COOKIE = ascii("Cookie: ");
    private static final UnsafeBuffer COOKIE_SEPARATOR = ascii("; ");
    private static final UnsafeBuffer CHUNKED_CLOSE = ascii("Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
    private static final UnsafeBuffer CLOSE = ascii("Connection: close\r\n\r\n");
    private static final UnsafeBuffer LAST_CHUNK = ascii("0\r\n\r\n");
    private static final UnsafeBuffer LAST_CHUNK_ONLY = ascii("0\r\n");

    private final ProxyLoop owner;
    private final ClientSession parent;
    private final TlsChannel tls;
    private final Connection socket;
    private final ChunkPool pool;
    private final FrameReader reader;
    private final FrameWriter writer = new FrameWriter();
    private final HpackDecoder decoder;
    private final HpackEncoder encoder = new HpackEncoder(true);
    private final RequestFields fields;
    private final H2WebSocket webSocket = new H2WebSocket();
    private final Int2ObjectHashMap<H2Stream> streams = new Int2ObjectHashMap<>();
    /** Streams copied for one dispatch round, so sessions may close theirs meanwhile. */
    private final H2Stream[] round;
    /**
     * Streams waiting for what they all share (room in {@link #out}, the connection's send window), in the order
     * they began to wait. While any wait they are offered the output first and in that order, each for one frame
     * before it goes to the end again (round robin), and a stream not among them that wants to write joins the end
     * (as Nginx's {@code h2c->waiting} for the window): otherwise
     * whoever came first in the table, or whose node answered in the same cycle, took the output again and again,
     * and a stream could wait until many others had finished. A stream held back only by its own window is not
     * here: it holds nobody up.
     */
    private H2Stream waitingFirst;
    private H2Stream waitingLast;

    private final ByteBuffer inBuffer;
    private final UnsafeBuffer in;
    private final ByteBuffer outBuffer;
    private final UnsafeBuffer out;
    /** Bytes queued in {@link #out} are [outStart, outEnd). */
    private int outStart;
    private int outEnd;
    /** The largest HEADERS a response can need: a stream is writable only while that much room is left. */
    private final int headRoom;
    private final UnsafeBuffer block;
    private final UnsafeBuffer scratch;
    private int blockLength;
    /** The stream whose field block is being collected (HEADERS then CONTINUATION). */
    private int blockStream;
    private boolean blockEndStream;

    private final int maxConcurrentStreams;
    private final int initialStreamWindow;
    private final int connectionWindow;
    private int lastStreamId;
    private long connSendWindow = Setting.DEFAULT_INITIAL_WINDOW_SIZE;
    private long connRecvWindow = Setting.DEFAULT_INITIAL_WINDOW_SIZE;
    private int connUnacked;
    private long peerInitialWindow = Setting.DEFAULT_INITIAL_WINDOW_SIZE;
    private boolean goAwaySent;
    private boolean peerGoneAway;
    private boolean closed;
    private boolean dispatchQueued;
    private boolean flushQueued;
    private boolean failed;
    /** The first GOAWAY of a drain and its PING went out; the final GOAWAY follows the PING's ACK. */
    private boolean drainPingSent;
    private static final long DRAIN_PING = 0x63656e7472696761L; // "centriga"
    /** {@code keepalive-timeout}: a connection without streams this long gets GOAWAY and is closed; 0 = never. */
    private final long idleTimeoutNs;
    private long idleSinceNs;
    private long timerId = org.agrona.DeadlineTimerWheel.NULL_DEADLINE;
    /** {@code http2-flood-limit}: costly frames per {@link #FLOOD_WINDOW_NS}, and the count of the current window. */
    private final int floodLimit;
    private long floodWindowStartNs;
    private int floodCount;
    private static final long FLOOD_WINDOW_NS = java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
    /**
     * {@code send-timeout} for the connection as a whole: output the socket has not taken for this long (the client
     * stopped reading) ends the connection, as a stream whose window stays closed is ended by its session's.
     */
    private final long sendTimeoutNs;
    /** When queued output last moved (0 while none waits). */
    private long stallSinceNs;
    /** After a connection error: GOAWAY out, output shut, input read and dropped until EOF or the linger time. */
    private boolean lingering;
    private long lingerStartNs;
    /** The stall and linger deadlines share one timer, apart from the idle one. */
    private final io.centrigate.loop.EventLoop.TimerTarget guard = this::onGuardTimer;
    private long guardTimerId = org.agrona.DeadlineTimerWheel.NULL_DEADLINE;
    /**
     * §5.1: the last streams closed, newest last, each id negated when it was us who reset it. A frame on a closed
     * stream we reset was in flight and is ignored; on one that ended or that the client reset it is a stream error
     * (STREAM_CLOSED); a new stream at or below {@link #lastStreamId} that was never open breaks §5.1.1.
     */
    private final int[] recentlyClosed = new int[64];
    private int recentlyClosedNext;
    private static final int NEVER_OPEN = 0;
    private static final int ENDED = 1;
    private static final int RESET_BY_US = 2;

    H2Connection(final ProxyLoop owner, final ClientSession parent, final TlsChannel tls, final ByteBuffer early)
        throws IOException
    {
        this.owner = owner;
        this.parent = parent;
        this.tls = tls;
        this.socket = tls.socket();
        this.pool = owner.pool();
        final ProxyContext ctx = owner.context();
        this.maxConcurrentStreams = ctx.http2MaxConcurrentStreams();
        this.initialStreamWindow = ctx.http2InitialStreamWindow();
        this.connectionWindow = ctx.http2ConnectionWindow();
        this.idleTimeoutNs = ctx.keepAliveTimeoutNs();
        this.floodLimit = ctx.http2FloodLimit();
        this.sendTimeoutNs = ctx.sendTimeoutNs();
        final int maxHeaderList = ctx.http2EffectiveHeaderListSize();
        // A block may exceed the list size it decodes to only by its encoding's overhead: twice the list size
        // leaves room for that, so a head over the list limit gets its 431, and the bound still holds.
        this.reader = new FrameReader(FrameHeader.DEFAULT_MAX_FRAME_SIZE, 2 * maxHeaderList, true);
        this.decoder = new HpackDecoder(Setting.DEFAULT_HEADER_TABLE_SIZE, maxHeaderList);
        this.fields = new RequestFields(maxHeaderList, maxHeaderList / 32 + 1);
        this.round = new H2Stream[maxConcurrentStreams];
        this.block = new UnsafeBuffer(new byte[2 * maxHeaderList]);
        final int chunk = pool.chunkSize();
        this.scratch = new UnsafeBuffer(new byte[chunk + chunk / 2 + 64]);
        this.headRoom = writer.headersLength(scratch.capacity()) + 64;
        this.inBuffer = ByteBuffer.allocateDirect(2 * (FrameHeader.LENGTH + FrameHeader.DEFAULT_MAX_FRAME_SIZE));
        this.in = new UnsafeBuffer(inBuffer);
        this.outBuffer = ByteBuffer.allocateDirect(2 * headRoom + 2 * (FrameHeader.LENGTH +
            FrameHeader.DEFAULT_MAX_FRAME_SIZE));
        this.out = new UnsafeBuffer(outBuffer);
        if (early != null)
        {
            inBuffer.put(early);
        }
        sendSettings();
        becameIdle();
        owner.stats().http2[io.centrigate.metrics.LoopStats.HTTP2_CONNECTIONS]++;
    }

    /** The last stream ended (or none began yet): the idle timeout runs from now. */
    private void becameIdle()
    {
        idleSinceNs = owner.loop().nowNs();
        if (idleTimeoutNs > 0 && timerId == org.agrona.DeadlineTimerWheel.NULL_DEADLINE && !closed)
        {
            timerId = owner.loop().schedule(this, idleSinceNs + idleTimeoutNs);
        }
    }

    @Override
    public void onTimer(final long nowNs)
    {
        timerId = org.agrona.DeadlineTimerWheel.NULL_DEADLINE;
        if (closed || !streams.isEmpty())
        {
            return; // re-armed when the last stream ends
        }
        if (nowNs - idleSinceNs < idleTimeoutNs)
        {
            timerId = owner.loop().schedule(this, idleSinceNs + idleTimeoutNs);
            return;
        }
        goAway(ErrorCode.NO_ERROR);
        goAwaySentFinal = true;
        flushOut();
        close();
    }

    private void sendSettings()
    {
        // RFC 8441 §3: extended CONNECT (WebSocket over HTTP/2) is accepted.
        final int[] ids = {Setting.MAX_CONCURRENT_STREAMS, Setting.INITIAL_WINDOW_SIZE, Setting.MAX_HEADER_LIST_SIZE,
            Setting.ENABLE_CONNECT_PROTOCOL};
        final long[] values = {maxConcurrentStreams, initialStreamWindow, block.capacity() / 2, 1};
        outEnd += FrameWriter.settings(out, outEnd, ids, values, ids.length);
        if (connectionWindow > Setting.DEFAULT_INITIAL_WINDOW_SIZE)
        {
            outEnd += FrameWriter.windowUpdate(out, outEnd, 0, connectionWindow - Setting.DEFAULT_INITIAL_WINDOW_SIZE);
            connRecvWindow = connectionWindow;
        }
    }

    // ---------------------------------------------------------------- socket readiness

    /** The TLS connection's readiness, forwarded by the session that holds it. */
    void onSocketReady(final int ready)
    {
        if (failed)
        {
            close();
            return;
        }
        try
        {
            tls.flushPending();
            if (lingering)
            {
                linger();
                return;
            }
            flushOut();
            readFrames();
            if (!closed && !lingering)
            {
                dispatch();
            }
        }
        catch (final IOException e)
        {
            close();
        }
        catch (final RuntimeException e)
        {
            owner.errorLog().log("internal", "http2: " + e);
            close();
        }
    }

    private void readFrames() throws IOException
    {
        for (int i = 0; i < 16 && !closed && !goAwaySentFinal && outRoom() >= headRoom; i++)
        {
            final int n = inBuffer.hasRemaining() ? tls.read(inBuffer) : 0;
            if (n < 0)
            {
                close();
                return;
            }
            final int consumed = reader.read(in, 0, inBuffer.position(), this);
            if (consumed == FrameReader.ERROR)
            {
                // The GOAWAY is queued by onConnectionError (or by whoever stopped the reader).
                finalGoAway();
                return;
            }
            if (consumed > 0)
            {
                inBuffer.flip().position(consumed);
                inBuffer.compact();
            }
            if (n == 0 && consumed == 0 && !tls.hasBufferedInput())
            {
                return;
            }
        }
        if (!closed && !goAwaySentFinal && outRoom() >= headRoom && tls.hasBufferedInput())
        {
            requestDispatch(); // decrypted input the socket will not report again (with no room: on OP_WRITE)
        }
    }

    private boolean goAwaySentFinal;

    /**
     * Stream readiness, level-like: every stream ready for what its session wants is called, again while any
     * still is (bounded), then the rest waits for the loop's next duty cycle.
     */
    void dispatch()
    {
        for (int pass = 0; pass < 4 && !closed; pass++)
        {
            int n = 0;
            for (H2Stream w = waitingFirst; w != null; w = w.nextWaiting)
            {
                round[n++] = w;
            }
            for (final H2Stream s : streams.values())
            {
                if (!s.waiting)
                {
                    round[n++] = s;
                }
            }
            boolean any = false;
            for (int i = 0; i < n; i++)
            {
                final H2Stream s = round[i];
                round[i] = null;
                if (closed || s.closed || s.handler() == null)
                {
                    continue;
                }
                final int ops = s.ready() & s.interest();
                if (ops != 0)
                {
                    any = true;
                    s.handler().onReady(s, ops);
                }
            }
            if (!any)
            {
                break;
            }
            if (pass == 3)
            {
                requestDispatch();
            }
        }
        if (!closed)
        {
            flushOut();
            // The last answers may still be queued: the connection ends only once they are out.
            if ((peerGoneAway || goAwaySent) && streams.isEmpty() && !hasOutput())
            {
                close();
                return;
            }
            updateInterest();
        }
    }

    /** Asks for a {@link #dispatch()} in the loop's next duty cycle (a stream became ready outside of one). */
    void requestDispatch()
    {
        if (!dispatchQueued && !closed)
        {
            dispatchQueued = true;
            owner.h2Dispatch(this);
        }
    }

    /**
     * Writes queued frames at the start of the loop's next cycle instead of now: the answers of many streams
     * that come in one cycle (their nodes' reads) then go out in one TLS record and one system call rather than
     * one each. A stream that finds no room in the output flushes at once ({@link H2Stream#write}).
     */
    void flushSoon()
    {
        if (!flushQueued && !closed)
        {
            flushQueued = true;
            owner.h2Flush(this);
        }
    }

    /** Called by the loop's duty cycle. */
    void queuedFlush()
    {
        flushQueued = false;
        if (!closed && !lingering)
        {
            flushOut();
        }
    }

    boolean hasQueuedOutput()
    {
        return outEnd > outStart;
    }

    /** Called by the loop's duty cycle. */
    void queuedDispatch()
    {
        dispatchQueued = false;
        if (failed)
        {
            close();
        }
        else if (!closed)
        {
            onSocketReady(0);
        }
    }

    private void updateInterest()
    {
        int want = 0;
        if (lingering || !goAwaySentFinal && outRoom() >= headRoom)
        {
            want |= Connection.OP_READ;
        }
        if (outEnd > outStart)
        {
            want |= Connection.OP_WRITE;
        }
        socket.interest(tls.interestOps(want));
    }

    private boolean hasOutput()
    {
        return outEnd > outStart || tls.hasPendingOutput();
    }

    /** Writes what is queued as far as TLS takes it. */
    void flushOut()
    {
        if (closed)
        {
            return;
        }
        try
        {
            boolean moved = false;
            if (outEnd > outStart)
            {
                outBuffer.limit(outEnd).position(outStart);
                moved = tls.write(outBuffer) > 0;
                outStart = outBuffer.position();
                outBuffer.clear();
                if (outStart == outEnd)
                {
                    outStart = 0;
                    outEnd = 0;
                }
                else if (outStart > out.capacity() / 2)
                {
                    out.putBytes(0, out, outStart, outEnd - outStart);
                    outEnd -= outStart;
                    outStart = 0;
                }
            }
            outputMoved(moved);
            if (moved && waitingFirst != null)
            {
                requestDispatch(); // room for the streams waiting, in their order
            }
            updateInterest();
        }
        catch (final IOException e)
        {
            // Often called from inside a stream's session: it learns of the failure from its next read or write
            // (and aborts as for a failed client socket); the connection closes from the loop's next duty cycle.
            failed = true;
            requestDispatch();
        }
    }

    /** Keeps the stall deadline: it moves with every write the socket takes, and ends once nothing is queued. */
    private void outputMoved(final boolean moved)
    {
        if (!hasOutput())
        {
            stallSinceNs = 0;
            return;
        }
        if (moved || stallSinceNs == 0)
        {
            stallSinceNs = owner.loop().nowNs();
            if (sendTimeoutNs > 0)
            {
                armGuard(stallSinceNs + sendTimeoutNs);
            }
        }
    }

    /** A later deadline than the armed one needs no new timer: the armed one fires early and re-arms. */
    private void armGuard(final long deadlineNs)
    {
        if (guardTimerId == org.agrona.DeadlineTimerWheel.NULL_DEADLINE && !closed)
        {
            guardTimerId = owner.loop().schedule(guard, deadlineNs);
        }
    }

    private void onGuardTimer(final long nowNs)
    {
        guardTimerId = org.agrona.DeadlineTimerWheel.NULL_DEADLINE;
        if (closed)
        {
            return;
        }
        long next = Long.MAX_VALUE;
        if (lingering)
        {
            if (nowNs - lingerStartNs >= ProxyLoop.LINGER_TIMEOUT_NS)
            {
                close();
                return;
            }
            next = lingerStartNs + ProxyLoop.LINGER_TIMEOUT_NS;
        }
        if (sendTimeoutNs > 0 && stallSinceNs != 0 && hasOutput())
        {
            if (nowNs - stallSinceNs >= sendTimeoutNs)
            {
                // The client takes nothing: no GOAWAY could reach it either.
                owner.errorLog().log("http2", "send timeout: the client stopped reading");
                close();
                return;
            }
            next = Math.min(next, stallSinceNs + sendTimeoutNs);
        }
        if (next != Long.MAX_VALUE)
        {
            armGuard(next);
        }
    }

    /** The TLS connection failed: streams' reads and writes fail too. */
    boolean failed()
    {
        return failed;
    }

    private int outRoom()
    {
        return out.capacity() - outEnd;
    }

    // ---------------------------------------------------------------- for the streams

    /**
     * Whether a stream's next write can move something (its head, or body within both windows), and it is its turn:
     * nobody waits for the output, or it is one of those waiting.
     */
    boolean writable(final H2Stream s)
    {
        return !closed && outRoom() >= headRoom && (s.inHead() || s.sendWindow > 0 && connSendWindow > 0) &&
            (waitingFirst == null || s.waiting);
    }

    /** Others wait for the shared output and {@code s} is not one of them: it must queue behind them. */
    boolean mustWait(final H2Stream s)
    {
        return waitingFirst != null && !s.waiting;
    }

    /** Other streams wait for the shared output (besides {@code s}). */
    boolean othersWaiting(final H2Stream s)
    {
        return waitingFirst != null && (waitingFirst != s || s.nextWaiting != null);
    }

    /** What a stream may write in one turn while others wait: one frame. */
    int turn()
    {
        return writer.maxFrameSize();
    }

    /** {@code s} found no room or no connection window: it waits at the end of the queue (if not in it yet). */
    void await(final H2Stream s)
    {
        if (s.waiting || s.closed)
        {
            return;
        }
        s.waiting = true;
        s.prevWaiting = waitingLast;
        s.nextWaiting = null;
        if (waitingLast == null)
        {
            waitingFirst = s;
        }
        else
        {
            waitingLast.nextWaiting = s;
        }
        waitingLast = s;
    }

    /** {@code s} wrote all it had, waits for its own window only, or ended: it leaves the queue. */
    void stopWaiting(final H2Stream s)
    {
        if (!s.waiting)
        {
            return;
        }
        s.waiting = false;
        if (s.prevWaiting == null)
        {
            waitingFirst = s.nextWaiting;
        }
        else
        {
            s.prevWaiting.nextWaiting = s.nextWaiting;
        }
        if (s.nextWaiting == null)
        {
            waitingLast = s.prevWaiting;
        }
        else
        {
            s.nextWaiting.prevWaiting = s.prevWaiting;
        }
        s.prevWaiting = null;
        s.nextWaiting = null;
    }

    /** A stream's own window opened while others wait for the shared output: it takes its turn behind them. */
    private void windowOpened(final H2Stream s, final long before)
    {
        if (before <= 0 && s.sendWindow > 0 && waitingFirst != null && (s.interest() & Connection.OP_WRITE) != 0)
        {
            await(s);
        }
    }

    /**
     * A response head the session wrote (HTTP/1.1, {@code length} bytes up to its empty line): HEADERS for it.
     *
     * @return how the body is framed: its Content-Length, or {@link #NO_BODY}, {@link #CHUNKED},
     * {@link #UNTIL_CLOSE}; {@link #INTERIM} for a 1xx; {@link #NO_ROOM} when it must wait for output room.
     */
    long headers(final H2Stream s, final UnsafeBuffer head, final int length) throws IOException
    {
        if (outRoom() < headRoom)
        {
            return NO_ROOM;
        }
        // Status line: "HTTP/1.x NNN reason"
        int p = 0;
        while (p < length && head.getByte(p) != ' ')
        {
            p++;
        }
        if (p + 4 > length)
        {
            throw new IOException("bad status line");
        }
        final int status = (head.getByte(p + 1) - '0') * 100 + (head.getByte(p + 2) - '0') * 10 +
            (head.getByte(p + 3) - '0');
        if (status < 100 || status > 999)
        {
            throw new IOException("bad status " + status);
        }
        while (p < length && head.getByte(p) != '\n')
        {
            p++;
        }
        p++;
        // RFC 8441 §5: the node's 101 (checked by the session) is the client's 200, and the stream a tunnel.
        final boolean tunnel = status == 101 && s.webSocket;
        int b = encoder.startBlock(scratch, 0);
        b += encoder.status(scratch, b, tunnel ? 200 : status);
        long contentLength = -1;
        boolean chunked = false;
        while (p < length)
        {
            int lineEnd = p;
            while (lineEnd < length && head.getByte(lineEnd) != '\n')
            {
                lineEnd++;
            }
            int valueEnd = lineEnd;
            while (valueEnd > p && (head.getByte(valueEnd - 1) == '\r' || head.getByte(valueEnd - 1) == ' ' ||
                head.getByte(valueEnd - 1) == '\t'))
            {
                valueEnd--;
            }
            if (valueEnd == p)
            {
                break; // the empty line
            }
            int colon = p;
            while (colon < valueEnd && head.getByte(colon) != ':')
            {
                colon++;
            }
            int value = colon + 1;
            while (value < valueEnd && (head.getByte(value) == ' ' || head.getByte(value) == '\t'))
            {
                value++;
            }
            final int nameLength = colon - p;
            if (is(head, p, nameLength, "transfer-encoding"))
            {
                chunked = true; // a node's only transfer coding towards us is chunked (the session checked it)
            }
            else if (is(head, p, nameLength, "content-length"))
            {
                contentLength = 0;
                for (int i = value; i < valueEnd; i++)
                {
                    contentLength = contentLength * 10 + head.getByte(i) - '0';
                }
                b += encoder.field(scratch, b, head, p, nameLength, head, value, valueEnd - value, false);
            }
            else if (!is(head, p, nameLength, "connection") && !is(head, p, nameLength, "keep-alive") &&
                !is(head, p, nameLength, "proxy-connection") && !is(head, p, nameLength, "upgrade") &&
                !(tunnel && is(head, p, nameLength, "sec-websocket-accept")))
            {
                b += encoder.field(scratch, b, head, p, nameLength, head, value, valueEnd - value, false);
            }
            p = lineEnd + 1;
        }
        if (tunnel)
        {
            outEnd += writer.headers(out, outEnd, s.id, scratch, 0, b, false);
            return TUNNEL;
        }
        final boolean interim = status < 200;
        final boolean noBody = !interim && (s.headRequest || status == 204 || status == 304 ||
            !chunked && contentLength == 0);
        outEnd += writer.headers(out, outEnd, s.id, scratch, 0, b, noBody);
        if (interim)
        {
            return INTERIM;
        }
        if (noBody)
        {
            s.responseEnded();
            return NO_BODY;
        }
        return chunked ? CHUNKED : contentLength >= 0 ? contentLength : UNTIL_CLOSE;
    }

    /**
     * Response trailers (HTTP/1.1 field lines, each ending in LF) as a HEADERS frame with END_STREAM; false when it
     * must wait for output room.
     */
    boolean trailers(final H2Stream s, final UnsafeBuffer lines, final int length)
    {
        if (outRoom() < headRoom)
        {
            return false;
        }
        final int start = encoder.startBlock(scratch, 0);
        int b = start;
        int p = 0;
        while (p < length)
        {
            int lineEnd = p;
            while (lineEnd < length && lines.getByte(lineEnd) != '\n')
            {
                lineEnd++;
            }
            int valueEnd = lineEnd;
            while (valueEnd > p && (lines.getByte(valueEnd - 1) == '\r' || lines.getByte(valueEnd - 1) == ' ' ||
                lines.getByte(valueEnd - 1) == '\t'))
            {
                valueEnd--;
            }
            int colon = p;
            while (colon < valueEnd && lines.getByte(colon) != ':')
            {
                colon++;
            }
            int value = colon + 1;
            while (value < valueEnd && (lines.getByte(value) == ' ' || lines.getByte(value) == '\t'))
            {
                value++;
            }
            final int nameLength = colon - p;
            if (nameLength > 0 && colon < valueEnd && !is(lines, p, nameLength, "connection") &&
                !is(lines, p, nameLength, "transfer-encoding") && !is(lines, p, nameLength, "keep-alive"))
            {
                b += encoder.field(scratch, b, lines, p, nameLength, lines, value, Math.max(0, valueEnd - value),
                    false);
            }
            p = lineEnd + 1;
        }
        if (b == start)
        {
            return endData(s);
        }
        outEnd += writer.headers(out, outEnd, s.id, scratch, 0, b, true);
        s.responseEnded();
        return true;
    }

    /** One DATA frame of up to {@code max} bytes of {@code src}, cut to the windows and the room; bytes taken. */
    int data(final H2Stream s, final ByteBuffer src, final int max, final boolean end)
    {
        final int n = (int)Math.min(Math.min(max, writer.maxFrameSize()), Math.min(Math.min(s.sendWindow,
            connSendWindow), outRoom() - headRoom));
        if (n <= 0)
        {
            return 0;
        }
        outEnd += writer.dataHeader(out, outEnd, s.id, n, end);
        out.putBytes(outEnd, src, src.position(), n);
        src.position(src.position() + n);
        outEnd += n;
        s.sendWindow -= n;
        connSendWindow -= n;
        return n;
    }

    /** An empty DATA frame with END_STREAM: the answer's end. */
    boolean endData(final H2Stream s)
    {
        if (outRoom() < FrameHeader.LENGTH)
        {
            return false;
        }
        outEnd += writer.dataHeader(out, outEnd, s.id, 0, true);
        s.responseEnded();
        return true;
    }

    /** The session read {@code n} bytes of DATA: the windows are given back in steps of a quarter. */
    void consumed(final H2Stream s, final int n)
    {
        connectionWindowConsumed(n);
        if (!s.requestEnded)
        {
            s.unacked += n;
            if (s.unacked >= initialStreamWindow / 4 && outRoom() >= FrameHeader.LENGTH + 4)
            {
                outEnd += FrameWriter.windowUpdate(out, outEnd, s.id, s.unacked);
                s.recvWindow += s.unacked;
                s.unacked = 0;
            }
        }
        flushSoon();
    }

    private void connectionWindowConsumed(final int n)
    {
        connUnacked += n;
        if (connUnacked > 0 && connUnacked >= connectionWindow / 4 && outRoom() >= FrameHeader.LENGTH + 4)
        {
            outEnd += FrameWriter.windowUpdate(out, outEnd, 0, connUnacked);
            connRecvWindow += connUnacked;
            connUnacked = 0;
        }
    }

    void resetStream(final H2Stream s, final int code)
    {
        if (s.closed)
        {
            return;
        }
        rstStream(s.id, code);
        s.reset = true;
        remove(s);
        flushOut();
    }

    /** The session closed its stream; an unfinished stream is reset. */
    void streamClosed(final H2Stream s, final int code)
    {
        if (s.closed)
        {
            return;
        }
        if (!s.responseEnded)
        {
            rstStream(s.id, code == ErrorCode.NO_ERROR ? ErrorCode.CANCEL : code);
        }
        else if (!s.requestEnded)
        {
            rstStream(s.id, ErrorCode.NO_ERROR); // §8.1: the answer is complete, the rest of the request unwanted
        }
        remove(s);
        flushOut();
        if (!closed && (goAwaySent || peerGoneAway) && streams.isEmpty())
        {
            requestDispatch(); // closes the connection once its output is out
        }
    }

    private void remove(final H2Stream s)
    {
        closedStream(s.id);
        stopWaiting(s);
        s.closed = true;
        if (streams.remove(s.id) != null && streams.isEmpty())
        {
            becameIdle();
        }
        // DATA the session never read is given back to the connection's window, or it would shrink for good.
        connectionWindowConsumed(s.takeOutstanding());
        s.releaseBuffers();
    }

    private void rstStream(final int id, final int code)
    {
        closedStream(-id);
        if (outRoom() >= FrameHeader.LENGTH + 4)
        {
            outEnd += FrameWriter.rstStream(out, outEnd, id, code);
        }
    }

    private void closedStream(final int idOrNegated)
    {
        recentlyClosed[recentlyClosedNext] = idOrNegated;
        recentlyClosedNext = (recentlyClosedNext + 1) % recentlyClosed.length;
    }

    /** How a stream at or below {@link #lastStreamId} and not in the table came to be closed (cold path). */
    private int closedHow(final int id)
    {
        int how = NEVER_OPEN;
        for (final int entry : recentlyClosed)
        {
            if (entry == -id)
            {
                return RESET_BY_US;
            }
            if (entry == id)
            {
                how = ENDED;
            }
        }
        return how;
    }

    InetSocketAddress remoteAddress()
    {
        return socket.remoteAddress();
    }

    InetSocketAddress localAddress()
    {
        return socket.localAddress();
    }

    // ---------------------------------------------------------------- drain and close

    /**
     * Drain begins: no new streams (GOAWAY with the last one taken), the open ones finish; a WebSocket stream still
     * waiting for its admission slot is answered 503 now, as an HTTP/1.1 upgrade waiting there is.
     */
    void drainSoft()
    {
        if (!goAwaySent && !drainPingSent && !closed && outRoom() >= 2 * FrameHeader.LENGTH + 16)
        {
            // §6.8: a GOAWAY naming the largest stream id first (requests in flight are still taken), a PING
            // after it; its ACK proves the client has seen the first GOAWAY, and the final one names the last
            // stream we took.
            drainPingSent = true;
            outEnd += FrameWriter.goAway(out, outEnd, Integer.MAX_VALUE, ErrorCode.NO_ERROR, null, 0, 0);
            outEnd += FrameWriter.ping(out, outEnd, false, DRAIN_PING);
            flushOut();
        }
        else if (!goAwaySent && !closed)
        {
            finalDrainGoAway();
        }
        // Each WebSocket stream's session drains as an HTTP/1.1 connection's does (ClientSession.drainSoft): one
        // waiting for its admission slot, which may be seconds away while this process is going, gets its 503 and
        // Retry-After at once instead of a reset when the drain ends; the others run on. Only upgrades wait there.
        final int n = snapshotStreams();
        for (int i = 0; i < n; i++)
        {
            final H2Stream s = round[i];
            round[i] = null;
            if (!closed && !s.closed && s.webSocket && s.session != null)
            {
                s.session.drainSoft();
            }
        }
    }

    /**
     * Drain time is up: the final GOAWAY, then each WebSocket stream gets its close 1001 at a frame boundary from
     * its session (as an HTTP/1.1 tunnel does; one still waiting for its node's 101 right after it) and ends once
     * the close handshake is done; other streams end now (the connection-wide behaviour before RFC 8441).
     * The connection closes after its last stream.
     */
    /** The streams now, copied into {@link #round} (a visit may end one and change the table): how many. */
    private int snapshotStreams()
    {
        int n = 0;
        for (final H2Stream s : streams.values())
        {
            round[n++] = s;
        }
        return n;
    }

    void goingAway(final int code)
    {
        if (closed)
        {
            return;
        }
        if (!goAwaySent)
        {
            goAway(ErrorCode.NO_ERROR);
        }
        final int n = snapshotStreams();
        for (int i = 0; i < n; i++)
        {
            final H2Stream s = round[i];
            round[i] = null;
            if (s.closed || s.session == null)
            {
                continue;
            }
            if (s.webSocket)
            {
                // A tunnel gets its close frames; an upgrade still under way gets them right after its 200.
                s.session.goAway(code);
            }
            else
            {
                s.session.close();
            }
        }
        flushOut();
        if (!closed && streams.isEmpty())
        {
            requestDispatch(); // closes the connection once its output is out
        }
    }

    /** A node's tunnels are being moved (node drain, rebalancing): this connection's WebSocket streams take part. */
    void moveIfOffered(final long nowNs, final long minAgeNs)
    {
        final int n = snapshotStreams();
        for (int i = 0; i < n; i++)
        {
            final H2Stream s = round[i];
            round[i] = null;
            if (!s.closed && s.webSocket && s.session != null)
            {
                s.session.moveIfOffered(nowNs, minAgeNs);
            }
        }
    }

    private void finalDrainGoAway()
    {
        goAway(ErrorCode.NO_ERROR);
        flushOut();
        if (streams.isEmpty())
        {
            requestDispatch();
        }
    }

    private void goAway(final int code)
    {
        goAwaySent = true;
        if (outRoom() >= FrameHeader.LENGTH + 8)
        {
            outEnd += FrameWriter.goAway(out, outEnd, lastStreamId, code, null, 0, 0);
        }
    }

    /**
     * After a connection error: what is queued (the GOAWAY last) goes out, then the output is shut and what the
     * client still sends is read and dropped for a moment before the close, since closing with unread input
     * resets the connection and can destroy the GOAWAY before the client reads it (as Nginx's lingering close).
     */
    private void finalGoAway()
    {
        goAwaySentFinal = true;
        flushOut();
        if (closed || failed)
        {
            return;
        }
        endStreams();
        lingering = true;
        lingerStartNs = owner.loop().nowNs();
        armGuard(lingerStartNs + ProxyLoop.LINGER_TIMEOUT_NS);
        try
        {
            linger();
        }
        catch (final IOException e)
        {
            close();
        }
    }

    private void linger() throws IOException
    {
        flushOut();
        if (closed || failed)
        {
            close();
            return;
        }
        if (!hasOutput())
        {
            tls.shutdownOutput(); // close_notify, then FIN once written (once: later calls do nothing)
        }
        for (int i = 0; i < 16; i++)
        {
            inBuffer.clear();
            final int n = tls.read(inBuffer);
            if (n < 0)
            {
                close();
                return;
            }
            if (n == 0 && !tls.hasBufferedInput())
            {
                break;
            }
        }
        inBuffer.clear();
        updateInterest();
    }

    /** Ends every stream's session and the connection (through the session that holds it). */
    void close()
    {
        if (closed)
        {
            return;
        }
        closed = true;
        if (timerId != org.agrona.DeadlineTimerWheel.NULL_DEADLINE)
        {
            owner.loop().cancel(timerId);
            timerId = org.agrona.DeadlineTimerWheel.NULL_DEADLINE;
        }
        if (guardTimerId != org.agrona.DeadlineTimerWheel.NULL_DEADLINE)
        {
            owner.loop().cancel(guardTimerId);
            guardTimerId = org.agrona.DeadlineTimerWheel.NULL_DEADLINE;
        }
        endStreams();
        parent.close();
    }

    /** Every stream's session ends. */
    private void endStreams()
    {
        final int n = snapshotStreams();
        for (int i = 0; i < n; i++)
        {
            final H2Stream s = round[i];
            round[i] = null;
            stopWaiting(s);
            s.reset = true;
            s.closed = true;
            if (s.session != null)
            {
                s.session.close();
            }
            s.releaseBuffers();
        }
        streams.clear();
    }

    // ---------------------------------------------------------------- frames

    @Override
    public void onData(final int streamId, final boolean endStream, final DirectBuffer buffer, final int offset,
        final int length, final int flowControlled)
    {
        connRecvWindow -= flowControlled;
        if (connRecvWindow < 0)
        {
            onConnectionError(ErrorCode.FLOW_CONTROL_ERROR, "connection window exceeded");
            return;
        }
        final H2Stream s = streams.get(streamId);
        if (s == null || s.requestEnded)
        {
            if (streamId > lastStreamId)
            {
                onConnectionError(ErrorCode.PROTOCOL_ERROR, "DATA on an idle stream");
                return;
            }
            // §5.1: closed, or half-closed (remote) after END_STREAM: the stream is reset (unless we reset it and
            // this was in flight); its bytes still count against the connection's window, which is given back
            // here as no session will read them.
            connectionWindowConsumed(flowControlled);
            if (s != null || closedHow(streamId) != RESET_BY_US)
            {
                onStreamError(streamId, ErrorCode.STREAM_CLOSED, "DATA on a closed stream");
            }
            else if (length == 0)
            {
                flood(); // ignored, but an empty frame still costs a look
            }
            return;
        }
        if (length == 0 && !endStream && flood())
        {
            return;
        }
        s.recvWindow -= flowControlled;
        if (s.recvWindow < 0)
        {
            onStreamError(streamId, ErrorCode.FLOW_CONTROL_ERROR, "stream window exceeded");
            return;
        }
        s.receivedLength += length;
        if (s.expectedLength >= 0 && (s.receivedLength > s.expectedLength ||
            endStream && s.receivedLength != s.expectedLength))
        {
            onStreamError(streamId, ErrorCode.PROTOCOL_ERROR, "DATA against content-length");
            return;
        }
        // Padding is given back at once; the payload as the session reads it.
        connectionWindowConsumed(flowControlled - length);
        s.outstanding(length);
        boolean ok = true;
        if (length > 0)
        {
            if (s.chunkedRequest)
            {
                ok = appendChunkSize(s, length) && s.append(buffer, offset, length) && s.append(CRLF);
            }
            else
            {
                ok = s.append(buffer, offset, length);
            }
        }
        if (ok && endStream)
        {
            s.requestEnded = true;
            if (s.chunkedRequest)
            {
                ok = s.append(LAST_CHUNK);
            }
        }
        if (!ok)
        {
            owner.stats().bufferWaits++;
            onStreamError(streamId, ErrorCode.INTERNAL_ERROR, "no buffer");
        }
    }

    private final byte[] hex = new byte[10];
    private final UnsafeBuffer hexBuffer = new UnsafeBuffer(hex);

    private boolean appendChunkSize(final H2Stream s, final int length)
    {
        int p = hex.length;
        hex[--p] = '\n';
        hex[--p] = '\r';
        int v = length;
        do
        {
            hex[--p] = (byte)"0123456789abcdef".charAt(v & 0xf);
            v >>>= 4;
        }
        while (v != 0);
        return s.append(hexBuffer, p, hex.length - p);
    }

    @Override
    public void onHeaders(final int streamId, final boolean endStream, final boolean endHeaders,
        final DirectBuffer buffer, final int offset, final int length)
    {
        blockStream = streamId;
        blockEndStream = endStream;
        blockLength = 0;
        onContinuation(streamId, endHeaders, buffer, offset, length);
    }

    @Override
    public void onContinuation(final int streamId, final boolean endHeaders, final DirectBuffer buffer,
        final int offset, final int length)
    {
        if (length == 0 && !endHeaders && flood())
        {
            return; // empty fragments grow no block, so its size bound never stops them (CVE-2024-27316)
        }
        if (blockLength + length > block.capacity())
        {
            onConnectionError(ErrorCode.ENHANCE_YOUR_CALM, "field block too large");
            return;
        }
        block.putBytes(blockLength, buffer, offset, length);
        blockLength += length;
        if (endHeaders)
        {
            fieldBlock(blockStream, blockEndStream);
        }
    }

    private void fieldBlock(final int streamId, final boolean endStream)
    {
        final H2Stream existing = streams.get(streamId);
        final boolean trailers = existing != null;
        fields.reset(trailers || streamId <= lastStreamId);
        // Decoded even when the stream is gone: the HPACK table must stay in step with the client's.
        final int decoded = decoder.decode(block, 0, blockLength, fields);
        if (decoded == HpackDecoder.COMPRESSION_ERROR)
        {
            onConnectionError(ErrorCode.COMPRESSION_ERROR, "HPACK");
            return;
        }
        if (!trailers && streamId <= lastStreamId)
        {
            switch (closedHow(streamId))
            {
                case RESET_BY_US:
                    return; // §5.1 "closed": trailers in flight when we reset it are ignored
                case ENDED:
                    onStreamError(streamId, ErrorCode.STREAM_CLOSED, "HEADERS on a closed stream");
                    return;
                default:
                    // §5.1.1: a new stream's id must be above every id used before
                    onConnectionError(ErrorCode.PROTOCOL_ERROR, "stream id not above the last one");
                    return;
            }
        }
        if (trailers)
        {
            trailers(existing, endStream, decoded);
            return;
        }
        lastStreamId = streamId;
        if (decoded == HpackDecoder.HEADER_LIST_TOO_LARGE)
        {
            answer(streamId, 431);
            if (!endStream)
            {
                rstStream(streamId, ErrorCode.NO_ERROR); // §8.1: the answer is complete, the body unwanted
            }
            return;
        }
        if (goAwaySent || peerGoneAway)
        {
            owner.stats().http2[io.centrigate.metrics.LoopStats.HTTP2_STREAMS_REFUSED]++;
            rstStream(streamId, ErrorCode.REFUSED_STREAM);
            return;
        }
        if (fields.finish() != RequestFields.OK)
        {
            onStreamError(streamId, ErrorCode.PROTOCOL_ERROR, "malformed request");
            return;
        }
        if (streams.size() >= maxConcurrentStreams)
        {
            owner.stats().http2[io.centrigate.metrics.LoopStats.HTTP2_STREAMS_REFUSED]++;
            rstStream(streamId, ErrorCode.REFUSED_STREAM);
            return;
        }
        final boolean webSocketStream = fields.protocol() >= 0;
        if (fields.path() < 0 || webSocketStream && !H2WebSocket.isWebSocket(fields.buffer(),
            fields.valueOffset(fields.protocol()), fields.valueLength(fields.protocol())))
        {
            answer(streamId, 501); // plain CONNECT (no tunnels to arbitrary hosts), or a protocol we do not tunnel
            return;
        }
        if (webSocketStream && endStream)
        {
            answer(streamId, 400); // a tunnel whose client has nothing to send: no WebSocket could run on it
            return;
        }
        if (endStream && fields.contentLength() > 0)
        {
            onStreamError(streamId, ErrorCode.PROTOCOL_ERROR, "content-length without DATA");
            return;
        }
        final H2Stream s = new H2Stream(this, streamId, pool, initialStreamWindow, peerInitialWindow);
        s.webSocket = webSocketStream;
        s.expectedLength = webSocketStream ? -1 : fields.contentLength();
        s.requestEnded = endStream;
        s.chunkedRequest = !endStream && fields.contentLength() < 0 && !webSocketStream;
        s.headRequest = is(fields.buffer(), fields.valueOffset(fields.method()), fields.valueLength(fields.method()),
            "HEAD");
        if (!requestHead(s))
        {
            s.releaseBuffers();
            answer(streamId, 431);
            return;
        }
        streams.put(streamId, s);
        owner.stats().http2[io.centrigate.metrics.LoopStats.HTTP2_STREAMS]++;
        if (webSocketStream)
        {
            owner.stats().http2[io.centrigate.metrics.LoopStats.HTTP2_WEBSOCKET_STREAMS]++;
        }
        try
        {
            s.session = new ClientSession(owner, s, parent);
        }
        catch (final IOException e)
        {
            resetStream(s, ErrorCode.INTERNAL_ERROR);
        }
    }

    /** The request's head as HTTP/1.1 for its session; false when it does not fit a chunk. */
    private boolean requestHead(final H2Stream s)
    {
        final DirectBuffer f = fields.buffer();
        final int chunk = pool.chunkSize();
        int size = 0;
        for (int i = 0; i < fields.count(); i++)
        {
            size += fields.nameLength(i) + fields.valueLength(i) + 4;
        }
        if (size + 128 > Math.min(chunk, owner.context().maxHeadBytes()))
        {
            return false;
        }
        // An extended CONNECT goes to the node as the HTTP/1.1 upgrade it stands for (H2WebSocket).
        boolean ok = (s.webSocket ? s.append(H2WebSocket.GET) : value(s, fields.method())) && s.append(SPACE) &&
            value(s, fields.path()) && s.append(HTTP11);
        if (fields.authority() >= 0)
        {
            ok &= s.append(HOST) && value(s, fields.authority()) && s.append(CRLF);
        }
        boolean cookie = false;
        for (int i = 0; i < fields.count() && ok; i++)
        {
            final int nameOffset = fields.nameOffset(i);
            final int nameLength = fields.nameLength(i);
            if (f.getByte(nameOffset) == ':' || is(f, nameOffset, nameLength, "te") ||
                is(f, nameOffset, nameLength, "cookie") ||
                fields.authority() >= 0 && is(f, nameOffset, nameLength, "host") ||
                s.webSocket && (is(f, nameOffset, nameLength, "sec-websocket-key") ||
                is(f, nameOffset, nameLength, "content-length")))
            {
                cookie |= is(f, nameOffset, nameLength, "cookie");
                continue;
            }
            ok = s.append(f, nameOffset, nameLength) && s.append(COLON) && value(s, i) && s.append(CRLF);
        }
        if (cookie && ok)
        {
            // §8.2.3: split cookie fields are joined for HTTP/1.1 with "; ".
            ok = s.append(COOKIE);
            boolean first = true;
            for (int i = 0; i < fields.count() && ok; i++)
            {
                if (is(f, fields.nameOffset(i), fields.nameLength(i), "cookie"))
                {
                    ok = (first || s.append(COOKIE_SEPARATOR)) && value(s, i);
                    first = false;
                }
            }
            ok &= s.append(CRLF);
        }
        if (s.webSocket)
        {
            return ok && s.append(H2WebSocket.UPGRADE_FIELDS) && s.append(webSocket.freshKey()) &&
                s.append(H2WebSocket.END_OF_HEAD);
        }
        return ok && s.append(s.chunkedRequest ? CHUNKED_CLOSE : CLOSE);
    }

    private static final UnsafeBuffer SPACE = ascii(" ");

    private boolean value(final H2Stream s, final int i)
    {
        return s.append(fields.buffer(), fields.valueOffset(i), fields.valueLength(i));
    }

    private void trailers(final H2Stream s, final boolean endStream, final int decoded)
    {
        if (s.requestEnded)
        {
            onStreamError(s.id, ErrorCode.STREAM_CLOSED, "HEADERS after END_STREAM");
            return;
        }
        if (!endStream || decoded != HpackDecoder.OK || fields.finish() != RequestFields.OK)
        {
            onStreamError(s.id, ErrorCode.PROTOCOL_ERROR, "bad trailers");
            return;
        }
        if (s.expectedLength >= 0 && s.receivedLength != s.expectedLength)
        {
            onStreamError(s.id, ErrorCode.PROTOCOL_ERROR, "DATA against content-length");
            return;
        }
        s.requestEnded = true;
        if (s.chunkedRequest)
        {
            boolean ok = s.append(LAST_CHUNK_ONLY);
            final DirectBuffer f = fields.buffer();
            for (int i = 0; i < fields.count() && ok; i++)
            {
                ok = s.append(f, fields.nameOffset(i), fields.nameLength(i)) && s.append(COLON) &&
                    value(s, i) && s.append(CRLF);
            }
            if (!(ok && s.append(CRLF)))
            {
                onStreamError(s.id, ErrorCode.INTERNAL_ERROR, "no buffer");
            }
        }
        requestDispatch();
    }

    /** An answer made here, with no body: the stream ends with it. */
    private void answer(final int streamId, final int status)
    {
        if (outRoom() < 64)
        {
            return;
        }
        int b = encoder.startBlock(scratch, 0);
        b += encoder.status(scratch, b, status);
        outEnd += writer.headers(out, outEnd, streamId, scratch, 0, b, true);
    }

    /**
     * Counts a frame that costs us work without serving a request; past the limit within the window the
     * connection ends with ENHANCE_YOUR_CALM (the reader stops after this frame).
     */
    private boolean flood()
    {
        final long now = owner.loop().nowNs();
        if (now - floodWindowStartNs > FLOOD_WINDOW_NS)
        {
            floodWindowStartNs = now;
            floodCount = 0;
        }
        if (++floodCount > floodLimit)
        {
            onConnectionError(ErrorCode.ENHANCE_YOUR_CALM, "flood of control frames or resets");
            return true;
        }
        return false;
    }

    @Override
    public void onPriority(final int streamId)
    {
        flood();
    }

    @Override
    public void onUnknownFrame(final int type, final int streamId, final int length)
    {
        flood();
    }

    @Override
    public void onRstStream(final int streamId, final long errorCode)
    {
        if (flood())
        {
            return;
        }
        owner.stats().http2[io.centrigate.metrics.LoopStats.HTTP2_RESETS_RECEIVED]++;
        final H2Stream s = streams.get(streamId);
        if (s == null)
        {
            if (streamId > lastStreamId)
            {
                onConnectionError(ErrorCode.PROTOCOL_ERROR, "RST_STREAM on an idle stream");
            }
            return;
        }
        s.reset = true;
        remove(s);
        if (s.session != null)
        {
            s.session.close();
        }
    }

    @Override
    public void onSetting(final int id, final long value)
    {
        switch (id)
        {
            case Setting.INITIAL_WINDOW_SIZE:
            {
                // §6.9.2: the change applies to every open stream's send window, which may go negative.
                final long delta = value - peerInitialWindow;
                peerInitialWindow = value;
                for (final H2Stream s : streams.values())
                {
                    final long before = s.sendWindow;
                    s.sendWindow += delta;
                    if (s.sendWindow > Setting.MAX_WINDOW_SIZE)
                    {
                        onConnectionError(ErrorCode.FLOW_CONTROL_ERROR, "window above 2^31-1");
                        return;
                    }
                    windowOpened(s, before);
                }
                break;
            }
            case Setting.MAX_FRAME_SIZE:
                writer.maxFrameSize((int)value);
                break;
            default:
                break; // no dynamic table in our encoder, no push, no limit on our own streams
        }
    }

    @Override
    public void onSettingsEnd(final boolean ack)
    {
        if (!ack && flood())
        {
            return;
        }
        if (!ack && outRoom() >= FrameHeader.LENGTH)
        {
            outEnd += FrameWriter.settingsAck(out, outEnd);
        }
    }

    @Override
    public void onPing(final boolean ack, final long opaqueData)
    {
        if (flood())
        {
            return;
        }
        if (!ack && outRoom() >= FrameHeader.LENGTH + 8)
        {
            outEnd += FrameWriter.ping(out, outEnd, true, opaqueData);
        }
        else if (ack && opaqueData == DRAIN_PING && drainPingSent && !goAwaySent)
        {
            finalDrainGoAway();
        }
    }

    @Override
    public void onGoAway(final int lastStreamId, final long errorCode, final DirectBuffer buffer,
        final int debugOffset, final int debugLength)
    {
        peerGoneAway = true;
    }

    @Override
    public void onWindowUpdate(final int streamId, final int increment)
    {
        if (streamId == 0)
        {
            connSendWindow += increment;
            if (connSendWindow > Setting.MAX_WINDOW_SIZE)
            {
                onConnectionError(ErrorCode.FLOW_CONTROL_ERROR, "connection window above 2^31-1");
            }
            return;
        }
        final H2Stream s = streams.get(streamId);
        if (s == null)
        {
            if (streamId > lastStreamId)
            {
                onConnectionError(ErrorCode.PROTOCOL_ERROR, "WINDOW_UPDATE on an idle stream");
            }
            return;
        }
        final long before = s.sendWindow;
        s.sendWindow += increment;
        if (s.sendWindow > Setting.MAX_WINDOW_SIZE)
        {
            onStreamError(streamId, ErrorCode.FLOW_CONTROL_ERROR, "stream window above 2^31-1");
            return;
        }
        windowOpened(s, before);
    }

    @Override
    public void onConnectionError(final int errorCode, final String reason)
    {
        owner.errorLog().log("http2", reason);
        owner.stats().http2[io.centrigate.metrics.LoopStats.HTTP2_CONNECTION_ERRORS]++;
        if (!goAwaySentFinal)
        {
            goAway(errorCode);
            goAwaySentFinal = true;
        }
        reader.stop(errorCode);
    }

    @Override
    public void onStreamError(final int streamId, final int errorCode, final String reason)
    {
        // Resets the client provokes cost as much as those it sends (CVE-2025-8671, "MadeYouReset"); our own
        // failures (no buffer) are not the client's doing.
        if (errorCode != ErrorCode.INTERNAL_ERROR && flood())
        {
            return;
        }
        owner.stats().http2[io.centrigate.metrics.LoopStats.HTTP2_STREAM_ERRORS]++;
        final H2Stream s = streams.get(streamId);
        rstStream(streamId, errorCode);
        if (s != null)
        {
            s.reset = true;
            remove(s);
            if (s.session != null)
            {
                s.session.close();
            }
        }
    }

    // ---------------------------------------------------------------- helpers

    private static boolean is(final DirectBuffer b, final int offset, final int length, final String lowerName)
    {
        if (length != lowerName.length())
        {
            return false;
        }
        for (int i = 0; i < length; i++)
        {
            int c = b.getByte(offset + i);
            if (c >= 'A' && c <= 'Z')
            {
                c += 'a' - 'A';
            }
            if (c != Character.toLowerCase(lowerName.charAt(i)))
            {
                return false;
            }
        }
        return true;
    }

    private static UnsafeBuffer ascii(final String s)
    {
        return new UnsafeBuffer(s.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    }
}
