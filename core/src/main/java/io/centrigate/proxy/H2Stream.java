package io.centrigate.proxy;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;

import org.agrona.DirectBuffer;

import io.centrigate.buffer.Chunk;
import io.centrigate.buffer.ChunkPool;
import io.centrigate.h2.ErrorCode;
import io.centrigate.loop.Connection;

/**
 * One HTTP/2 request stream seen by its {@link ClientSession} as an HTTP/1.1 client connection, so routing, node
 * choice, retries, timeouts, logs and metrics work for it unchanged. Reads give the request as HTTP/1.1: a head
 * {@link H2Connection} synthesized from the HEADERS, then the DATA bytes (chunk-encoded when the request named no
 * content-length). Writes take the session's HTTP/1.1 answer and become HEADERS and DATA frames: its head is
 * re-encoded without the connection-specific fields (RFC 9113 §8.2.2), its body framing (Content-Length, chunked,
 * until close) is undone and its end becomes END_STREAM. A write takes only what the stream's and the connection's
 * send windows allow; the rest stays in the session's pipe, and its node is not read meanwhile (back-pressure).
 * <p>
 * One stream carries one request (the head asks for {@code Connection: close}); once the answer has ended, reads
 * report the end of input and the session closes.
 * <p>
 * A WebSocket stream (RFC 8441 extended CONNECT, see {@link H2WebSocket}) reads as an HTTP/1.1 upgrade; once the
 * node's 101 went out as our 200, the stream is a tunnel: DATA are its bytes each way, END_STREAM a half-close
 * each way (a read reports the end of input at the client's END_STREAM, {@link #shutdownOutput()} sends ours), and
 * the client's windows reopen only as the session takes more, that is once its last read reached the node. Readiness comes from {@link H2Connection#dispatch()}, level-like
 * as the transports' is. Loop thread only.
 */
final class H2Stream implements Connection
{
    private static final int RESP_HEAD = 0;
    private static final int RESP_FIXED = 1;
    private static final int RESP_CHUNK_SIZE = 2;
    private static final int RESP_CHUNK_DATA = 3;
    private static final int RESP_CHUNK_CRLF = 4;
    private static final int RESP_TRAILERS = 5;
    private static final int RESP_UNTIL_CLOSE = 6;
    private static final int RESP_DONE = 7;
    /** A WebSocket stream after its 200: the session's bytes are the tunnel's, DATA as they come (RFC 8441 §5). */
    private static final int RESP_TUNNEL = 8;

    final int id;
    private final H2Connection conn;
    private final ChunkPool pool;
    ClientSession session;
    private Handler handler;
    private int interest;

    // ---- request side (client to node)
    /** Request bytes not yet read by the session: a list of pooled chunks, each filled up to its position. */
    private Chunk inFirst;
    private Chunk inLast;
    private int inReadOffset;
    /** The request's END_STREAM (or its refusal) arrived: nothing more is appended. */
    boolean requestEnded;
    /** The request body is chunk-encoded for the node (no content-length was given). */
    boolean chunkedRequest;
    /** The request's content-length, -1 when none; and the DATA bytes received, checked against it (§8.1.1). */
    long expectedLength = -1;
    long receivedLength;
    /** Our receive window for the stream, and what the session consumed but we have not yet given back. */
    long recvWindow;
    private long outstanding;
    /**
     * WebSocket streams: the DATA the session took in its last read, credited back at its next read. A tunnel's
     * session reads again only once what it read last is written to the node, so the client's windows reopen as
     * its bytes reach the node, not as they wait in the session.
     */
    private int heldCredit;
    /** DATA the session read that our stream window has not been given back yet. */
    int unacked;
    boolean headRequest;
    /**
     * An extended CONNECT with {@code :protocol websocket} (RFC 8441): its session sees an HTTP/1.1 upgrade, and
     * once the node's 101 became our 200, END_STREAM each way is a half-close of the tunnel, not the exchange's end.
     */
    boolean webSocket;

    // ---- response side (node to client)
    long sendWindow;
    /** In the connection's queue of streams waiting for the shared output (H2Connection#await), and its links. */
    boolean waiting;
    H2Stream prevWaiting;
    H2Stream nextWaiting;
    private int respState = RESP_HEAD;
    /** The response head collected until its empty line, in a pooled chunk. */
    private Chunk respHead;
    private long respRemaining;
    private int chunkSizeDigits;
    private boolean skipToEol;
    /** The response's END_STREAM is written. */
    boolean responseEnded;
    /** The peer reset the stream (or the connection ended): the session's next read or write fails. */
    boolean reset;
    /** The stream is gone from the connection's table: closing the session sends nothing more. */
    boolean closed;

    H2Stream(final H2Connection conn, final int id, final ChunkPool pool, final long recvWindow,
        final long sendWindow)
    {
        this.conn = conn;
        this.id = id;
        this.pool = pool;
        this.recvWindow = recvWindow;
        this.sendWindow = sendWindow;
    }

    // ---------------------------------------------------------------- request input, from H2Connection

    /** Appends request bytes; false when the chunk pool is at its limit. */
    boolean append(final DirectBuffer src, final int offset, final int length)
    {
        int done = 0;
        while (done < length)
        {
            if (inLast == null || !inLast.byteBuffer().hasRemaining())
            {
                final Chunk c = pool.acquire();
                if (c == null)
                {
                    return false;
                }
                if (inLast == null)
                {
                    inFirst = c;
                    inReadOffset = 0;
                }
                else
                {
                    inLast.next(c);
                }
                inLast = c;
            }
            final ByteBuffer bb = inLast.byteBuffer();
            final int n = Math.min(bb.remaining(), length - done);
            inLast.buffer().putBytes(bb.position(), src, offset + done, n);
            bb.position(bb.position() + n);
            done += n;
        }
        return true;
    }

    boolean append(final DirectBuffer bytes)
    {
        return append(bytes, 0, bytes.capacity());
    }

    /** Whether the answer's head is still being collected (it needs output room, not window). */
    boolean inHead()
    {
        return respState == RESP_HEAD;
    }

    /** DATA payload counted against the window: given back as the session reads it. */
    void outstanding(final int length)
    {
        outstanding += length;
    }

    /** DATA never read by the session (the stream ends early): what the connection's window must get back. */
    int takeOutstanding()
    {
        final int n = (int)outstanding + heldCredit;
        outstanding = 0;
        heldCredit = 0;
        return n;
    }

    /**
     * What the stream is ready for now: {@link #OP_READ} while request bytes wait, once the answer has ended
     * (the end of input), or after a reset (so the session learns of it); {@link #OP_WRITE} while the answer can
     * move.
     */
    int ready()
    {
        int ops = 0;
        if (inFirst != null || heldCredit > 0 || (tunnel() ? requestEnded : responseEnded) || reset)
        {
            ops |= OP_READ;
        }
        if (reset || !responseEnded && conn.writable(this))
        {
            ops |= OP_WRITE;
        }
        return ops;
    }

    Handler handler()
    {
        return handler;
    }

    // ---------------------------------------------------------------- Connection

    @Override
    public void handler(final Handler handler)
    {
        this.handler = handler;
    }

    @Override
    public void interest(final int ops)
    {
        final int added = ops & ~interest;
        interest = ops;
        if ((added & ready()) != 0)
        {
            conn.requestDispatch(); // level-like readiness: the loop would report it, so the connection does
        }
    }

    @Override
    public int interest()
    {
        return interest;
    }

    @Override
    public boolean isConnectionPending()
    {
        return false;
    }

    @Override
    public boolean finishConnect()
    {
        return true;
    }

    @Override
    public int read(final ByteBuffer dst) throws IOException
    {
        if (reset || conn.failed())
        {
            throw new IOException("stream " + id + " reset");
        }
        if (heldCredit > 0)
        {
            final int credit = heldCredit;
            heldCredit = 0;
            conn.consumed(this, credit);
        }
        int n = 0;
        while (inFirst != null && dst.hasRemaining())
        {
            final int filled = inFirst.byteBuffer().position();
            final int take = Math.min(dst.remaining(), filled - inReadOffset);
            inFirst.buffer().getBytes(inReadOffset, dst, dst.position(), take);
            dst.position(dst.position() + take);
            inReadOffset += take;
            n += take;
            if (inReadOffset == filled)
            {
                final Chunk next = inFirst.next();
                inFirst.next(null);
                pool.release(inFirst);
                inFirst = next;
                inReadOffset = 0;
                if (next == null)
                {
                    inLast = null;
                }
            }
        }
        if (n > 0)
        {
            final long give = Math.min(n, outstanding);
            if (give > 0)
            {
                outstanding -= give;
                if (webSocket)
                {
                    heldCredit = (int)give;
                }
                else
                {
                    conn.consumed(this, (int)give);
                }
            }
            return n;
        }
        // A tunnel's input ends with the client's END_STREAM (a half-close for the node); any other stream carries
        // one request: after the answer the input ends, and the session closes.
        return (tunnel() ? requestEnded : responseEnded) ? -1 : 0;
    }

    @Override
    public int write(final ByteBuffer src) throws IOException
    {
        if (reset || conn.failed())
        {
            throw new IOException("stream " + id + " reset");
        }
        if (responseEnded && src.hasRemaining() && respState != RESP_DONE)
        {
            throw new ClosedChannelException();
        }
        final int start = src.position();
        if (src.hasRemaining() && conn.mustWait(this))
        {
            conn.await(this); // its turn comes from the connection's dispatch, after those waiting before it
            return 0;
        }
        boolean flushed = false;
        while (src.hasRemaining())
        {
            if (src.position() - start >= conn.turn() && conn.othersWaiting(this))
            {
                // Its turn is over: one frame's worth, then behind the others (round robin, as a transport that
                // reads a node until it has nothing more hands this stream many chunks at once).
                conn.stopWaiting(this);
                conn.await(this);
                conn.flushSoon();
                return src.position() - start;
            }
            if (!step(src))
            {
                // No room in the connection's output (or no window): what is queued goes now, then one more try.
                if (!flushed && conn.hasQueuedOutput())
                {
                    flushed = true;
                    conn.flushOut();
                    continue;
                }
                break;
            }
        }
        if (!src.hasRemaining() || reset || !inHead() && sendWindow <= 0)
        {
            conn.stopWaiting(this); // done for now, or held back by its own window only
        }
        else
        {
            conn.await(this);
        }
        conn.flushSoon();
        return src.position() - start;
    }

    /** One piece of the answer; false when nothing more can be taken now. */
    private boolean step(final ByteBuffer src) throws IOException
    {
        switch (respState)
        {
            case RESP_HEAD: return collectHead(src);
            case RESP_FIXED:
            {
                final int n = conn.data(this, src, (int)Math.min(src.remaining(), respRemaining), false);
                if (n <= 0)
                {
                    return false;
                }
                respRemaining -= n;
                if (respRemaining == 0)
                {
                    conn.endData(this);
                    respState = RESP_DONE;
                }
                return true;
            }
            case RESP_UNTIL_CLOSE:
            case RESP_TUNNEL:
                return conn.data(this, src, src.remaining(), false) > 0;
            case RESP_CHUNK_SIZE:
            {
                // RFC 9112 §7.1: hex digits, then extensions (skipped) to the line's end.
                final byte b = src.get();
                if (b == '\n')
                {
                    if (chunkSizeDigits == 0)
                    {
                        throw new IOException("chunk size missing");
                    }
                    chunkSizeDigits = 0;
                    skipToEol = false;
                    respState = respRemaining == 0 ? RESP_TRAILERS : RESP_CHUNK_DATA;
                    return true;
                }
                if (!skipToEol)
                {
                    final int digit = Character.digit(b, 16);
                    if (digit >= 0)
                    {
                        if (++chunkSizeDigits > 15)
                        {
                            throw new IOException("chunk size too large");
                        }
                        respRemaining = respRemaining * 16 + digit;
                    }
                    else
                    {
                        skipToEol = true;
                    }
                }
                return true;
            }
            case RESP_CHUNK_DATA:
            {
                final int n = conn.data(this, src, (int)Math.min(src.remaining(), respRemaining), false);
                if (n <= 0)
                {
                    return false;
                }
                respRemaining -= n;
                if (respRemaining == 0)
                {
                    respState = RESP_CHUNK_CRLF;
                }
                return true;
            }
            case RESP_CHUNK_CRLF:
                if (src.get() == '\n')
                {
                    respState = RESP_CHUNK_SIZE;
                    chunkSizeDigits = 0;
                }
                return true;
            case RESP_TRAILERS:
            {
                // Trailer lines are collected up to the empty line: a HEADERS frame with END_STREAM when there
                // are any (RFC 9113 §8.1), else an empty DATA frame ends the stream.
                if (respHead == null && (respHead = pool.acquire()) == null)
                {
                    return false;
                }
                final ByteBuffer trailers = respHead.byteBuffer();
                final byte b = src.get();
                if (b == '\n' && chunkSizeDigits == 0)
                {
                    if (!(trailers.position() == 0 ? conn.endData(this) :
                        conn.trailers(this, respHead.buffer(), trailers.position())))
                    {
                        src.position(src.position() - 1);
                        return false;
                    }
                    pool.release(respHead);
                    respHead = null;
                    respState = RESP_DONE;
                    return true;
                }
                if (b == '\n')
                {
                    chunkSizeDigits = 0;
                }
                else if (b != '\r')
                {
                    chunkSizeDigits = 1; // within a trailer line
                }
                if (!trailers.hasRemaining())
                {
                    throw new IOException("trailers larger than a chunk");
                }
                trailers.put(b);
                return true;
            }
            default:
                src.position(src.limit()); // nothing may follow the answer
                return false;
        }
    }

    private boolean collectHead(final ByteBuffer src) throws IOException
    {
        if (respHead == null)
        {
            if ((respHead = pool.acquire()) == null)
            {
                return false;
            }
        }
        final ByteBuffer head = respHead.byteBuffer();
        while (src.hasRemaining())
        {
            if (!head.hasRemaining())
            {
                throw new IOException("response head larger than a chunk");
            }
            final byte b = src.get();
            head.put(b);
            final int p = head.position();
            if (b == '\n' && p >= 4 && head.get(p - 2) == '\r' && head.get(p - 3) == '\n')
            {
                final long framing = conn.headers(this, respHead.buffer(), p);
                if (framing == H2Connection.NO_ROOM)
                {
                    head.position(p - 1);
                    src.position(src.position() - 1);
                    return false;
                }
                head.clear();
                if (framing == H2Connection.INTERIM)
                {
                    return true;
                }
                pool.release(respHead);
                respHead = null;
                if (framing == H2Connection.NO_BODY)
                {
                    respState = RESP_DONE;
                }
                else if (framing == H2Connection.CHUNKED)
                {
                    respState = RESP_CHUNK_SIZE;
                    respRemaining = 0;
                    chunkSizeDigits = 0;
                }
                else if (framing == H2Connection.UNTIL_CLOSE)
                {
                    respState = RESP_UNTIL_CLOSE;
                }
                else if (framing == H2Connection.TUNNEL)
                {
                    respState = RESP_TUNNEL;
                    tunnel = true;
                }
                else
                {
                    respState = RESP_FIXED;
                    respRemaining = framing;
                }
                return true;
            }
        }
        return true;
    }

    /** The node's 101 became our 200: the stream is a WebSocket tunnel (it stays one after either END_STREAM). */
    private boolean tunnel;

    boolean tunnel()
    {
        return tunnel;
    }

    /** HEADERS or DATA with END_STREAM is written: the stream is half-closed (local). */
    void responseEnded()
    {
        responseEnded = true;
    }

    @Override
    public long write(final ByteBuffer[] srcs, final int offset, final int length) throws IOException
    {
        long n = 0;
        for (int i = offset; i < offset + length; i++)
        {
            final int r = srcs[i].remaining();
            final int w = write(srcs[i]);
            n += w;
            if (w < r)
            {
                break;
            }
        }
        return n;
    }

    @Override
    public long write(final ByteBuffer[] srcs) throws IOException
    {
        return write(srcs, 0, srcs.length);
    }

    @Override
    public void shutdownOutput() throws IOException
    {
        if (reset || responseEnded)
        {
            return;
        }
        if (respState == RESP_UNTIL_CLOSE || respState == RESP_TUNNEL)
        {
            // A body delimited by the node's close ends here; a tunnel's node sent its FIN: half-closed (local).
            if (conn.endData(this))
            {
                respState = RESP_DONE;
            }
            return;
        }
        conn.resetStream(this, ErrorCode.INTERNAL_ERROR); // the answer was cut short
    }

    @Override
    public void reset()
    {
        if (!closed)
        {
            conn.resetStream(this, ErrorCode.CANCEL);
        }
        close();
    }

    @Override
    public void close()
    {
        if (!closed)
        {
            if (tunnel && requestEnded && !responseEnded && !reset)
            {
                // The client ended its side and the session is done with the node (a finished closing handshake,
                // as on drain): the end of a tunnel's TCP connection, a FIN, is END_STREAM (RFC 8441 §6).
                conn.endData(this);
            }
            // Otherwise a tunnel cut short is a TCP reset for the client: RST_STREAM (RFC 8441 §6, RFC 9113 §8.5).
            conn.streamClosed(this, responseEnded ? ErrorCode.NO_ERROR : tunnel ? ErrorCode.CONNECT_ERROR :
                ErrorCode.INTERNAL_ERROR);
        }
        releaseBuffers();
    }

    void releaseBuffers()
    {
        while (inFirst != null)
        {
            final Chunk next = inFirst.next();
            inFirst.next(null);
            pool.release(inFirst);
            inFirst = next;
        }
        inLast = null;
        if (respHead != null)
        {
            pool.release(respHead);
            respHead = null;
        }
    }

    @Override
    public boolean isOpen()
    {
        return !closed;
    }

    @Override
    public InetSocketAddress remoteAddress()
    {
        return conn.remoteAddress();
    }

    @Override
    public InetSocketAddress localAddress()
    {
        return conn.localAddress();
    }
}
