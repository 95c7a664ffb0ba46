package io.centrigate.proxy;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;

import org.agrona.DeadlineTimerWheel;
import org.agrona.concurrent.UnsafeBuffer;

import io.centrigate.buffer.Chunk;
import io.centrigate.http.ChunkedBodyTracker;
import io.centrigate.http.HeadScanner;
import io.centrigate.http.HttpError;
import io.centrigate.http.RequestHead;
import io.centrigate.http.ResponseHead;
import io.centrigate.loop.EventLoop;
import io.centrigate.tunnel.Pipe;
import io.centrigate.websocket.FrameTracker;

/**
 * One client connection and, once chosen, its upstream connection: both live on the same loop, so this
 * state machine needs no locks. Its life:
 * <pre>
 * READING_HEAD ─▶ CONNECTING ─▶ AWAITING_RESPONSE ─┬─▶ TUNNEL (101 with a valid accept key)
 *      │               │                │            └─▶ RELAYING_RESPONSE (any other answer) ─▶ LINGERING
 *      └───────────────┴────────────────┴─▶ LINGERING (after an error response) ─▶ CLOSED
 * </pre>
 * The request head is parsed and rewritten here; bytes after it go on untouched. For a WebSocket upgrade,
 * bytes the client sends before the 101 are held back and forwarded only once the upstream has switched
 * protocols, so they can never be read by the upstream as a second, smuggled HTTP request.
 */
final class ClientSession implements EventLoop.Selectable, EventLoop.TimerTarget
{
    static final int READING_HEAD = 1;
    static final int CONNECTING = 2;
    static final int AWAITING_RESPONSE = 3;
    static final int RELAYING_RESPONSE = 4;
    static final int TUNNEL = 5;
    static final int LINGERING = 6;
    static final int CLOSED = 7;

    private static final int BODY_NONE = 0;
    private static final int BODY_LENGTH = 1;
    private static final int BODY_CHUNKED = 2;
    private static final int BODY_UNTIL_CLOSE = 3;

    private final ProxyLoop owner;
    private final EventLoop loop;
    private final SocketChannel client;
    private final SelectionKey clientKey;
    private final Pipe up;
    private final Pipe down;
    private final HeadScanner scanner;
    private SocketChannel upstream;
    private SelectionKey upstreamKey;
    private int clientInterest;
    private int upstreamInterest;

    private int state = READING_HEAD;
    private long timerId = DeadlineTimerWheel.NULL_DEADLINE;
    private long lastActivityNs;

    private Chunk headChunk;
    private Chunk deferred;
    private int node = -1;
    private long triedMask;
    private int attempts;
    private boolean upgrade;
    private boolean headRequest;
    private long requestBodyRemaining;
    private long key0;
    private long key1;
    private long key2;
    private int bodyKind;
    private long responseBodyRemaining;
    private ChunkedBodyTracker chunked;
    private boolean endAfterFlush;
    private boolean waitingForBuffer;
    private FrameTracker upFrames;
    private FrameTracker downFrames;

    ClientSession prev;
    ClientSession next;

    ClientSession(final ProxyLoop owner, final SocketChannel client) throws IOException
    {
        this.owner = owner;
        this.loop = owner.loop();
        this.client = client;
        this.up = new Pipe(owner.pool());
        this.down = new Pipe(owner.pool());
        this.scanner = owner.newScanner();
        this.lastActivityNs = loop.nowNs();
        this.clientKey = loop.register(client, SelectionKey.OP_READ, this);
        this.clientInterest = SelectionKey.OP_READ;
        schedule(owner.context().headerTimeoutNs());
    }

    int state()
    {
        return state;
    }

    /** Answers at once with an error and closes; used when the connection limit is reached. */
    void rejectNow(final HttpError error)
    {
        reject(error);
    }

    @Override
    public void onSelected(final SelectionKey key)
    {
        try
        {
            final int ready = key.readyOps();
            if (key == clientKey)
            {
                onClientReady(ready);
            }
            else if (key == upstreamKey)
            {
                onUpstreamReady(ready);
            }
            if (state != CLOSED)
            {
                updateInterest();
            }
        }
        catch (final IOException | CancelledKeyException e)
        {
            // A reset or broken pipe on either side ends both: the peer of a dead connection must reconnect.
            close();
        }
        catch (final RuntimeException e)
        {
            // A bug must cost one connection, never the loop (a stuck key would spin it).
            owner.errorLog().log("internal", e.toString());
            close();
        }
    }

    private void onClientReady(final int ready) throws IOException
    {
        if ((ready & SelectionKey.OP_WRITE) != 0)
        {
            flushDown();
        }
        if ((ready & SelectionKey.OP_READ) != 0 && state != CLOSED)
        {
            switch (state)
            {
                case READING_HEAD: readRequestHead(); break;
                case LINGERING: discardClientInput(); break;
                case TUNNEL:
                case AWAITING_RESPONSE:
                case RELAYING_RESPONSE:
                case CONNECTING:
                    forwardUp();
                    break;
                default: break;
            }
        }
    }

    private void onUpstreamReady(final int ready) throws IOException
    {
        if ((ready & SelectionKey.OP_CONNECT) != 0)
        {
            finishConnect();
            return;
        }
        if ((ready & SelectionKey.OP_WRITE) != 0)
        {
            flushUp();
        }
        if ((ready & SelectionKey.OP_READ) != 0 && state != CLOSED)
        {
            switch (state)
            {
                case AWAITING_RESPONSE: readResponseHead(); break;
                case RELAYING_RESPONSE: relayResponseBody(); break;
                case TUNNEL: forwardDown(); break;
                default: break;
            }
        }
    }

    // ---------------------------------------------------------------- request head

    private void readRequestHead() throws IOException
    {
        if (headChunk == null && (headChunk = acquire()) == null)
        {
            return;
        }
        final ByteBuffer bb = headChunk.byteBuffer();
        final int n = client.read(bb);
        if (n < 0)
        {
            close();
            return;
        }
        if (n == 0)
        {
            return;
        }
        lastActivityNs = loop.nowNs();
        final int filled = bb.position();
        final UnsafeBuffer buf = headChunk.buffer();
        final int headLength = scanner.scan(buf, filled);
        if (headLength == 0)
        {
            return;
        }
        if (headLength < 0)
        {
            reject(scanner.error());
            return;
        }
        final RequestHead head = owner.requestHead();
        if (!head.parse(buf, headLength))
        {
            reject(head.error());
            return;
        }
        upgrade = head.isWebSocketUpgrade();
        headRequest = head.isHead();
        if (upgrade)
        {
            final int keyField = head.webSocketKeyField();
            final int keyOffset = head.valueOffset(keyField);
            key0 = buf.getLong(keyOffset);
            key1 = buf.getLong(keyOffset + 8);
            key2 = buf.getLong(keyOffset + 16);
        }
        else if (head.isChunked())
        {
            reject(HttpError.NOT_IMPLEMENTED);
            return;
        }
        else
        {
            requestBodyRemaining = Math.max(0, head.contentLength());
        }

        final Chunk out = owner.pool().acquire();
        if (out == null)
        {
            reject(HttpError.OVERLOADED);
            return;
        }
        final int written = owner.writeUpstreamHead(head, buf, out, client);
        if (written < 0)
        {
            owner.pool().release(out);
            reject(HttpError.HEAD_TOO_LARGE);
            return;
        }
        out.byteBuffer().clear().limit(written);
        up.offer(out);

        final Chunk rest = headChunk;
        headChunk = null;
        final int leftover = filled - headLength;
        if (upgrade)
        {
            if (leftover > 0)
            {
                rest.byteBuffer().limit(filled).position(headLength);
                deferred = rest;
            }
            else
            {
                owner.pool().release(rest);
            }
        }
        else
        {
            final int body = (int)Math.min(leftover, requestBodyRemaining);
            requestBodyRemaining -= body;
            // Anything after the body (a pipelined request) is dropped: one request per connection for now,
            // and the client learns it from Connection: close.
            rest.byteBuffer().limit(headLength + body).position(headLength);
            up.offer(rest);
        }
        cancelTimer();
        connectUpstream();
    }

    // ---------------------------------------------------------------- upstream connect

    private void connectUpstream()
    {
        final var group = owner.upstreams();
        while (true)
        {
            node = group.acquire(loop.nowNs(), triedMask);
            if (node < 0)
            {
                reject(HttpError.UPSTREAM_UNAVAILABLE);
                return;
            }
            attempts++;
            if (node < 64)
            {
                triedMask |= 1L << node;
            }
            final SocketChannel channel;
            try
            {
                channel = SocketChannel.open();
                channel.configureBlocking(false);
                channel.setOption(StandardSocketOptions.TCP_NODELAY, Boolean.TRUE);
            }
            catch (final IOException e)
            {
                // Our own descriptors ran out: not the node's fault, so no retry on another one.
                owner.errorLog().log("upstream-socket", "cannot open a socket: " + e.getMessage());
                releaseNode();
                reject(HttpError.OVERLOADED);
                return;
            }
            upstream = channel;
            try
            {
                final InetSocketAddress address = group.address(node);
                final boolean connected = channel.connect(address);
                upstreamKey = loop.register(channel, connected ? 0 : SelectionKey.OP_CONNECT, this);
                upstreamInterest = connected ? 0 : SelectionKey.OP_CONNECT;
                if (connected)
                {
                    onConnected();
                }
                else
                {
                    state = CONNECTING;
                    schedule(owner.context().connectTimeoutNs());
                }
                return;
            }
            catch (final IOException e)
            {
                if (!connectFailed(e))
                {
                    return;
                }
            }
        }
    }

    private void finishConnect()
    {
        try
        {
            if (upstream.finishConnect())
            {
                onConnected();
                updateInterest();
            }
        }
        catch (final IOException e)
        {
            if (connectFailed(e))
            {
                connectUpstream();
            }
            if (state != CLOSED)
            {
                updateInterest();
            }
        }
    }

    /** Nginx {@code proxy_next_upstream error}: returns true when another node should be tried. */
    private boolean connectFailed(final IOException e)
    {
        final var group = owner.upstreams();
        owner.stats().upstreamConnectFailures++;
        owner.errorLog().log("upstream-connect", group.name(node) + ": " + e.getMessage());
        group.connectFailed(node, loop.nowNs());
        closeUpstream();
        cancelTimer();
        if (attempts >= group.size())
        {
            reject(HttpError.UPSTREAM_UNAVAILABLE);
            return false;
        }
        return true;
    }

    private void onConnected() throws IOException
    {
        owner.upstreams().connected(node);
        state = AWAITING_RESPONSE;
        lastActivityNs = loop.nowNs();
        cancelTimer();
        schedule(owner.context().readTimeoutNs());
        flushUp();
    }

    // ---------------------------------------------------------------- response head

    private void readResponseHead() throws IOException
    {
        if (headChunk == null)
        {
            if ((headChunk = acquire()) == null)
            {
                return;
            }
            scanner.reset();
        }
        final ByteBuffer bb = headChunk.byteBuffer();
        final int n = upstream.read(bb);
        if (n < 0)
        {
            failResponse(HttpError.BAD_UPSTREAM_RESPONSE);
            return;
        }
        if (n == 0)
        {
            return;
        }
        lastActivityNs = loop.nowNs();
        parseResponseHead();
    }

    private void parseResponseHead() throws IOException
    {
        final ByteBuffer bb = headChunk.byteBuffer();
        final UnsafeBuffer buf = headChunk.buffer();
        final int filled = bb.position();
        final int headLength = scanner.scan(buf, filled);
        if (headLength == 0)
        {
            return;
        }
        final ResponseHead head = owner.responseHead();
        if (headLength < 0 || !head.parse(buf, headLength))
        {
            failResponse(HttpError.BAD_UPSTREAM_RESPONSE);
            return;
        }
        final int status = head.status();
        if (status == 101)
        {
            if (!upgrade)
            {
                failResponse(HttpError.BAD_UPSTREAM_RESPONSE);
            }
            else if (!head.upgradeWebSocket() || !head.connectionUpgrade() || !acceptMatches(head, buf))
            {
                failResponse(HttpError.INVALID_UPGRADE_RESPONSE);
            }
            else
            {
                openTunnel(headLength, filled);
            }
            return;
        }
        if (status < 200)
        {
            // 100 Continue, 103 Early Hints: pass on and keep waiting for the final answer.
            final Chunk interim = owner.pool().acquire();
            if (interim == null)
            {
                reject(HttpError.OVERLOADED);
                return;
            }
            interim.buffer().putBytes(0, buf, 0, headLength);
            interim.byteBuffer().clear().limit(headLength);
            down.offer(interim);
            buf.putBytes(0, buf, headLength, filled - headLength);
            bb.clear().position(filled - headLength);
            scanner.reset();
            if (filled > headLength)
            {
                parseResponseHead();
            }
            return;
        }
        relayResponse(head, buf, headLength, filled);
    }

    private boolean acceptMatches(final ResponseHead head, final UnsafeBuffer buf)
    {
        final int field = head.webSocketAcceptField();
        if (field < 0)
        {
            return false;
        }
        final UnsafeBuffer key = owner.keyScratch();
        key.putLong(0, key0);
        key.putLong(8, key1);
        key.putLong(16, key2);
        return owner.handshakeDigest().acceptMatches(key, 0, 24, buf, head.valueOffset(field), head.valueLength(field));
    }

    private void openTunnel(final int headLength, final int filled) throws IOException
    {
        state = TUNNEL;
        owner.stats().tunnelsOpened++;
        upFrames = new FrameTracker();
        downFrames = new FrameTracker();
        final Chunk response = headChunk;
        headChunk = null;
        // The 101 goes to the client byte for byte; frames the upstream sent right behind it go too.
        downFrames.onBytes(response.buffer(), headLength, filled - headLength);
        response.byteBuffer().flip();
        down.offer(response);
        if (deferred != null)
        {
            upFrames.onBytes(deferred.buffer(), deferred.byteBuffer().position(), deferred.byteBuffer().remaining());
            up.offer(deferred);
            deferred = null;
        }
        cancelTimer();
        schedule(owner.context().tunnelIdleTimeoutNs());
        flushDown();
        if (state == TUNNEL)
        {
            flushUp();
        }
    }

    private void relayResponse(final ResponseHead head, final UnsafeBuffer buf, final int headLength, final int filled)
        throws IOException
    {
        final Chunk out = owner.pool().acquire();
        if (out == null)
        {
            reject(HttpError.OVERLOADED);
            return;
        }
        final int written = head.writeForClient(buf, out.buffer(), 0, out.capacity());
        if (written < 0)
        {
            owner.pool().release(out);
            failResponse(HttpError.BAD_UPSTREAM_RESPONSE);
            return;
        }
        out.byteBuffer().clear().limit(written);
        down.offer(out);
        if (deferred != null)
        {
            owner.pool().release(deferred);
            deferred = null;
        }
        switch (head.bodyKind(headRequest))
        {
            case NONE: bodyKind = BODY_NONE; break;
            case CONTENT_LENGTH: bodyKind = BODY_LENGTH; responseBodyRemaining = head.contentLength(); break;
            case CHUNKED:
                bodyKind = BODY_CHUNKED;
                if (chunked == null)
                {
                    chunked = new ChunkedBodyTracker();
                }
                chunked.reset();
                break;
            default: bodyKind = BODY_UNTIL_CLOSE; break;
        }
        state = RELAYING_RESPONSE;
        final Chunk rest = headChunk;
        headChunk = null;
        final int taken = takeBody(rest, headLength, filled - headLength);
        if (taken >= 0)
        {
            rest.byteBuffer().limit(headLength + taken).position(headLength);
            down.offer(rest);
        }
        else
        {
            owner.pool().release(rest);
        }
        flushDown();
    }

    /**
     * Counts {@code length} response body bytes at {@code offset}; returns how many belong to the body, or -1
     * if the body is malformed (the connection is then ended).
     */
    private int takeBody(final Chunk chunk, final int offset, final int length)
    {
        int taken;
        switch (bodyKind)
        {
            case BODY_NONE: taken = 0; endAfterFlush = true; break;
            case BODY_LENGTH:
                taken = (int)Math.min(length, responseBodyRemaining);
                responseBodyRemaining -= taken;
                endAfterFlush = responseBodyRemaining == 0;
                break;
            case BODY_CHUNKED:
                taken = length == 0 ? 0 : chunked.consume(chunk.buffer(), offset, length);
                if (taken < 0)
                {
                    abort();
                    return -1;
                }
                endAfterFlush = chunked.isComplete();
                break;
            default: taken = length; break;
        }
        return taken;
    }

    private void relayResponseBody() throws IOException
    {
        if (!down.isEmpty() || endAfterFlush)
        {
            return;
        }
        final long max = bodyKind == BODY_LENGTH ? responseBodyRemaining : Long.MAX_VALUE;
        final int n = fill(down, upstream, max);
        if (n == Pipe.EOF)
        {
            if (bodyKind == BODY_UNTIL_CLOSE)
            {
                endAfterFlush = true;
                closeUpstream();
                flushDown();
            }
            else
            {
                // Truncated body: the client must see the connection end, never a silently short answer.
                abort();
            }
            return;
        }
        if (n > 0)
        {
            final Chunk chunk = down.last();
            final int taken = takeBody(chunk, 0, n);
            if (taken < 0)
            {
                return;
            }
            chunk.byteBuffer().limit(taken);
            flushDown();
        }
    }

    private void failResponse(final HttpError error)
    {
        owner.errorLog().log("upstream-response", error.detail());
        reject(error);
    }

    // ---------------------------------------------------------------- tunnel and body forwarding

    private void forwardUp() throws IOException
    {
        if (!up.isEmpty() || up.sourceEnded())
        {
            return;
        }
        final long max = upgrade ? Long.MAX_VALUE : requestBodyRemaining;
        if (max == 0)
        {
            return;
        }
        final int n = fill(up, client, max);
        if (n == Pipe.EOF)
        {
            up.sourceEnded(true);
            if (state != TUNNEL)
            {
                // The client left before its answer: end the upstream request too (no orphan work upstream).
                close();
                return;
            }
            flushUp();
            return;
        }
        if (n > 0)
        {
            if (upgrade)
            {
                upFrames.onBytes(up.last().buffer(), 0, n);
            }
            else
            {
                requestBodyRemaining -= n;
            }
            if (upstream != null && state != CONNECTING)
            {
                flushUp();
            }
        }
    }

    private void forwardDown() throws IOException
    {
        if (!down.isEmpty() || down.sourceEnded())
        {
            return;
        }
        final int n = fill(down, upstream, Long.MAX_VALUE);
        if (n == Pipe.EOF)
        {
            down.sourceEnded(true);
            flushDown();
            return;
        }
        if (n > 0)
        {
            downFrames.onBytes(down.last().buffer(), 0, n);
            flushDown();
        }
    }

    private int fill(final Pipe pipe, final SocketChannel src, final long max) throws IOException
    {
        final int n = pipe.fill(src, max);
        if (n == Pipe.NO_BUFFER)
        {
            waitForBuffer();
            return 0;
        }
        if (n > 0)
        {
            lastActivityNs = loop.nowNs();
        }
        return n;
    }

    private void flushUp() throws IOException
    {
        if (upstream == null || state == CONNECTING)
        {
            return;
        }
        if (up.flush(upstream) && up.sourceEnded() && !up.sinkShut() && state == TUNNEL)
        {
            // RFC 9293 half-close: pass the client's FIN on, keep the other direction flowing.
            up.sinkShut(true);
            upstream.shutdownOutput();
            closeIfBothShut();
        }
    }

    private void flushDown() throws IOException
    {
        if (!down.flush(client))
        {
            return;
        }
        if (endAfterFlush)
        {
            startLingering();
        }
        else if (down.sourceEnded() && !down.sinkShut() && state == TUNNEL)
        {
            down.sinkShut(true);
            client.shutdownOutput();
            closeIfBothShut();
        }
    }

    private void closeIfBothShut()
    {
        if (up.sinkShut() && down.sinkShut())
        {
            close();
        }
    }

    // ---------------------------------------------------------------- errors, lingering, close

    /** Sends a generated error response (it says Connection: close), then lingers and closes. */
    private void reject(final HttpError error)
    {
        owner.stats().errors[error.ordinal()]++;
        closeUpstream();
        releaseRequestChunks();
        up.discard();
        down.discard();
        cancelTimer();
        final Chunk chunk = owner.pool().acquire();
        if (chunk == null)
        {
            close();
            return;
        }
        final byte[] response = error.response();
        chunk.buffer().putBytes(0, response);
        chunk.byteBuffer().clear().limit(response.length);
        down.offer(chunk);
        endAfterFlush = true;
        state = RELAYING_RESPONSE;
        try
        {
            flushDown();
            if (state != CLOSED)
            {
                updateInterest();
            }
        }
        catch (final IOException | CancelledKeyException e)
        {
            close();
        }
    }

    /**
     * After the last byte of an answer, half-close and read (and drop) what the client still sends for a
     * moment before closing: closing with unread input would reset the connection and could destroy the answer
     * before the client read it (the reason for Nginx's {@code lingering_close}).
     */
    private void startLingering() throws IOException
    {
        closeUpstream();
        releaseRequestChunks();
        up.discard();
        state = LINGERING;
        cancelTimer();
        schedule(ProxyLoop.LINGER_TIMEOUT_NS);
        client.shutdownOutput();
    }

    private void discardClientInput() throws IOException
    {
        final Chunk chunk = acquire();
        if (chunk == null)
        {
            return;
        }
        try
        {
            final int n = client.read(chunk.byteBuffer());
            if (n < 0)
            {
                close();
            }
        }
        finally
        {
            owner.pool().release(chunk);
        }
    }

    /** Ends both connections at once, e.g. after a malformed or truncated upstream body. */
    private void abort()
    {
        close();
    }

    void close()
    {
        if (state == CLOSED)
        {
            return;
        }
        state = CLOSED;
        if (upFrames != null)
        {
            final var stats = owner.stats();
            stats.framesUp += upFrames.frames();
            stats.bytesUp += upFrames.bytes();
            stats.framesDown += downFrames.frames();
            stats.bytesDown += downFrames.bytes();
        }
        cancelTimer();
        closeUpstream();
        releaseRequestChunks();
        up.discard();
        down.discard();
        try
        {
            client.close();
        }
        catch (final IOException ignore)
        {
            // Already gone.
        }
        owner.onClosed(this);
    }

    private void releaseRequestChunks()
    {
        if (headChunk != null)
        {
            owner.pool().release(headChunk);
            headChunk = null;
        }
        if (deferred != null)
        {
            owner.pool().release(deferred);
            deferred = null;
        }
    }

    private void closeUpstream()
    {
        if (upstream != null)
        {
            try
            {
                upstream.close();
            }
            catch (final IOException ignore)
            {
                // Already gone.
            }
            upstream = null;
            upstreamKey = null;
            upstreamInterest = 0;
        }
        releaseNode();
    }

    private void releaseNode()
    {
        if (node >= 0)
        {
            owner.upstreams().release(node);
            node = -1;
        }
    }

    // ---------------------------------------------------------------- buffers and interest

    private Chunk acquire()
    {
        final Chunk chunk = owner.pool().acquire();
        if (chunk == null)
        {
            waitForBuffer();
        }
        return chunk;
    }

    private void waitForBuffer()
    {
        if (!waitingForBuffer)
        {
            waitingForBuffer = true;
            owner.waitForBuffer(this);
        }
    }

    /** Called by the loop when chunks are free again: reading resumes through the interest set. */
    void bufferAvailable()
    {
        waitingForBuffer = false;
        if (state != CLOSED)
        {
            try
            {
                updateInterest();
            }
            catch (final CancelledKeyException e)
            {
                close();
            }
        }
    }

    private void updateInterest()
    {
        int wantClient = 0;
        int wantUpstream = 0;
        if (!down.isEmpty())
        {
            wantClient |= SelectionKey.OP_WRITE;
        }
        if (!waitingForBuffer)
        {
            switch (state)
            {
                case READING_HEAD:
                case LINGERING:
                    wantClient |= SelectionKey.OP_READ;
                    break;
                case TUNNEL:
                    if (up.isEmpty() && !up.sourceEnded())
                    {
                        wantClient |= SelectionKey.OP_READ;
                    }
                    if (down.isEmpty() && !down.sourceEnded())
                    {
                        wantUpstream |= SelectionKey.OP_READ;
                    }
                    break;
                case AWAITING_RESPONSE:
                case RELAYING_RESPONSE:
                    if (!upgrade && requestBodyRemaining > 0 && up.isEmpty() && upstream != null)
                    {
                        wantClient |= SelectionKey.OP_READ;
                    }
                    if (upstream != null && down.isEmpty() && !endAfterFlush)
                    {
                        wantUpstream |= SelectionKey.OP_READ;
                    }
                    break;
                default:
                    break;
            }
        }
        if (state == CONNECTING)
        {
            wantUpstream = SelectionKey.OP_CONNECT;
        }
        else if (upstream != null && !up.isEmpty())
        {
            wantUpstream |= SelectionKey.OP_WRITE;
        }
        if (wantClient != clientInterest)
        {
            clientInterest = wantClient;
            clientKey.interestOps(wantClient);
        }
        if (upstreamKey != null && wantUpstream != upstreamInterest)
        {
            upstreamInterest = wantUpstream;
            upstreamKey.interestOps(wantUpstream);
        }
    }

    // ---------------------------------------------------------------- timers

    private void schedule(final long timeoutNs)
    {
        cancelTimer();
        if (timeoutNs > 0)
        {
            timerId = loop.schedule(this, lastActivityNs + timeoutNs);
        }
    }

    private void cancelTimer()
    {
        if (timerId != DeadlineTimerWheel.NULL_DEADLINE)
        {
            loop.cancel(timerId);
            timerId = DeadlineTimerWheel.NULL_DEADLINE;
        }
    }

    @Override
    public void onTimer(final long nowNs)
    {
        timerId = DeadlineTimerWheel.NULL_DEADLINE;
        try
        {
            onTimeout(nowNs);
            if (state != CLOSED)
            {
                updateInterest();
            }
        }
        catch (final RuntimeException e)
        {
            owner.errorLog().log("internal", e.toString());
            close();
        }
    }

    private void onTimeout(final long nowNs)
    {
        final var ctx = owner.context();
        switch (state)
        {
            case READING_HEAD:
                reject(HttpError.HEADER_TIMEOUT);
                break;
            case CONNECTING:
                owner.errorLog().log("upstream-connect", owner.upstreams().name(node) + ": connect timed out");
                reject(HttpError.UPSTREAM_UNAVAILABLE);
                break;
            case AWAITING_RESPONSE:
                if (!rescheduleIfActive(nowNs, ctx.readTimeoutNs()))
                {
                    reject(HttpError.UPSTREAM_TIMEOUT);
                }
                break;
            case RELAYING_RESPONSE:
                if (!rescheduleIfActive(nowNs, ctx.readTimeoutNs()))
                {
                    close();
                }
                break;
            case TUNNEL:
                if (!rescheduleIfActive(nowNs, ctx.tunnelIdleTimeoutNs()))
                {
                    close();
                }
                break;
            default:
                close();
                break;
        }
    }

    /**
     * Activity does not touch the timer (no cancel/schedule per read); the deadline is checked lazily when the
     * timer fires and pushed out if bytes moved in the meantime.
     */
    private boolean rescheduleIfActive(final long nowNs, final long timeoutNs)
    {
        final long deadline = lastActivityNs + timeoutNs;
        if (deadline - nowNs > 0)
        {
            timerId = loop.schedule(this, deadline);
            return true;
        }
        return false;
    }

    // ---------------------------------------------------------------- for stats and tests

    FrameTracker upFrames()
    {
        return upFrames;
    }

    FrameTracker downFrames()
    {
        return downFrames;
    }
}
