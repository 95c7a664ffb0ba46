package io.centrigate.proxy;

import org.agrona.concurrent.UnsafeBuffer;

import io.centrigate.buffer.Chunk;
import io.centrigate.http.BodyFraming;
import io.centrigate.http.HeadScanner;
import io.centrigate.http.HttpError;
import io.centrigate.http.RequestHead;
import io.centrigate.route.Router;

/**
 * The request-head stage of a client connection, as HAProxy's request analysers are of a stream: from the bytes of
 * a head to the head the node gets. It checks the head against the limits while it arrives, parses it, routes it,
 * tells an upgrade from a plain exchange, settles what the exchange may do later (replay, keep-alive, body framing,
 * body size) and writes the rewritten head into a chunk of its own.
 * <p>
 * It touches no socket and owns no connection state: the session reads the bytes, keeps the chunks, and acts on the
 * verdicts (answers with {@link #error()}, waits for a chunk, connects). That is the seam a second transport fits
 * under without this class knowing.
 * <p>
 * One per loop, like the {@link RequestHead} it parses with, so a connection carries nothing for it: what it says
 * about a head holds until the loop examines the next one, and the session reads it before acting.
 */
final class RequestHeadStage
{
    /** The head has not ended yet: the session reads on. */
    static final int INCOMPLETE = 0;
    /** Refused: the session answers with {@link #error()} and closes. */
    static final int REJECT = 1;
    /** A whole head, but no free chunk to write the node's head into: the session waits for one. */
    static final int NO_CHUNK = 2;
    /** A whole, valid head: {@link #head()} and {@link #headLength()} describe it. */
    static final int PARSED = 3;
    /** Routed, and a WebSocket upgrade. */
    static final int UPGRADE = 4;
    /** Routed, and a plain request, or settled for an exchange. */
    static final int EXCHANGE = 5;

    private final ProxyLoop owner;
    private final RequestHead head;

    private HttpError error;
    private int headLength;
    private boolean upgrade;
    private boolean headRequest;
    private int group;
    /** Bytes of the target the route drops (an embedded mode's prefix) when the head is written for the node. */
    private int stripTarget;
    /** The SockJS session's affinity key ({@code Router.sockJsKey}), 0 when the request has none. */
    private long affinityKey;
    private boolean idempotent;
    private int methodClass;
    private boolean neverReplay;
    private boolean clientKeepAlive;
    private boolean upstreamKeepAlive;

    RequestHeadStage(final ProxyLoop owner)
    {
        this.owner = owner;
        this.head = owner.requestHead();
    }

    /**
     * Scans {@code buf[0, filled)} on from where {@code scanner} stopped, and parses the head once it is whole.
     *
     * @return {@link #INCOMPLETE}, {@link #REJECT}, {@link #NO_CHUNK} or {@link #PARSED}
     */
    int parse(final HeadScanner scanner, final UnsafeBuffer buf, final int filled)
    {
        headLength = scanner.scan(buf, filled);
        if (headLength == 0)
        {
            return INCOMPLETE;
        }
        if (headLength < 0)
        {
            return reject(scanner.error());
        }
        if (!owner.pool().canAcquire())
        {
            // Forwarding the head takes a second chunk: with none free, the request waits for one (served late)
            // instead of being refused with a 503 while the chunks it waits for are about to be released.
            return NO_CHUNK;
        }
        if (!head.parse(buf, headLength))
        {
            return reject(head.error());
        }
        return PARSED;
    }

    /**
     * Counts the parsed request and picks its group ({@link #group()}); {@link #upgrade()} and {@link #headRequest()}
     * are set even when the route refuses it.
     *
     * @return {@link #UPGRADE}, {@link #EXCHANGE} or {@link #REJECT} (403 for an operator endpoint, 404 for no route)
     */
    int route(final UnsafeBuffer buf, final boolean internalClient)
    {
        upgrade = head.isWebSocketUpgrade();
        headRequest = head.isHead();
        owner.stats().requests++;
        final Router router = owner.router();
        // RFC 9112 §3.2.2: an absolute-form target's authority replaces Host, and its path is what the upstream
        // serves, so both the route and the internal-endpoint guard look at those.
        final int routed = router.route(buf, head.pathOffset(), head.pathLength(), head.routingHostOffset(),
            head.routingHostLength(), internalClient);
        if (routed < 0)
        {
            return reject(routed == Router.FORBIDDEN ? HttpError.FORBIDDEN : HttpError.NOT_FOUND);
        }
        group = routed;
        stripTarget = router.stripLength(buf, head.pathOffset(), head.pathLength(), routed);
        affinityKey = upgrade ? 0 :
            router.sockJsKey(buf, head.pathOffset() + stripTarget, head.pathLength() - stripTarget);
        return upgrade ? UPGRADE : EXCHANGE;
    }

    /** Where the 24 bytes of the upgrade's Sec-WebSocket-Key value start (the parser checked their length). */
    int webSocketKeyOffset()
    {
        return head.valueOffset(head.webSocketKeyField());
    }

    /**
     * Settles what a plain exchange may do once it runs (replay, keep-alive on either side) and where its body ends,
     * into {@code body}.
     *
     * @return {@link #EXCHANGE}, or {@link #REJECT} for a body over {@code max-body-size}
     */
    int exchange(final UnsafeBuffer buf, final BodyFraming body)
    {
        idempotent = HttpMethods.isIdempotent(buf, head.methodOffset(), head.methodLength());
        methodClass = HttpMethods.methodClass(buf, head.methodOffset(), head.methodLength());
        // The path the node sees: under --prefix, /centrifugo/emulation is the node's /emulation, never replayed either.
        neverReplay = HttpMethods.neverReplay(buf, head.pathOffset() + stripTarget, head.pathLength() - stripTarget);
        // HTTP/1.0 clients are served one request per connection: no chunked answers can reach them.
        clientKeepAlive = head.version() == 11 && !head.connectionClose() && !owner.draining();
        upstreamKeepAlive = head.version() == 11 && owner.context().upstreamKeepAlive() > 0;
        if (head.isChunked())
        {
            body.chunked();
        }
        else if (head.contentLength() > 0)
        {
            final long max = owner.context().maxBodySize();
            if (max > 0 && head.contentLength() > max)
            {
                return reject(HttpError.PAYLOAD_TOO_LARGE);
            }
            body.length(head.contentLength());
        }
        else
        {
            body.none();
        }
        return EXCHANGE;
    }

    /**
     * Writes the head the node gets into a fresh chunk, left with position 0 and limit at the head's end; or returns
     * null with {@link #error()} set (no chunk free, or the rewritten head does not fit one).
     */
    Chunk headForNode(final UnsafeBuffer buf, final byte[] clientAddress, final boolean https)
    {
        return headForNode(buf, clientAddress, clientAddress.length, clientAddress, false, https);
    }

    /**
     * As above, for a client known through other proxies: X-Real-IP is {@code clientAddress[0, clientLength)},
     * X-Forwarded-For gets {@code peerAddress} appended, and a {@code trustedPeer}'s X-Forwarded-Proto is kept
     * ({@link io.centrigate.http.UpstreamRequestWriter}).
     */
    Chunk headForNode(final UnsafeBuffer buf, final byte[] clientAddress, final int clientLength,
        final byte[] peerAddress, final boolean trustedPeer, final boolean https)
    {
        final Chunk out = owner.pool().acquire();
        if (out == null)
        {
            error = HttpError.OVERLOADED;
            return null;
        }
        // An upgrade's connection becomes the tunnel: it never goes back to the pool.
        final int written = owner.writeUpstreamHead(head, buf, out, clientAddress, clientLength, peerAddress, trustedPeer,
            https, !upgrade && upstreamKeepAlive, stripTarget);
        if (written < 0)
        {
            owner.pool().release(out);
            error = HttpError.HEAD_TOO_LARGE;
            return null;
        }
        out.byteBuffer().clear().limit(written);
        return out;
    }

    private int reject(final HttpError why)
    {
        error = why;
        return REJECT;
    }

    /** Why the last head was refused. */
    HttpError error()
    {
        return error;
    }

    RequestHead head()
    {
        return head;
    }

    /** The head's length with its final CRLFCRLF: body or pipelined bytes follow it in the same chunk. */
    int headLength()
    {
        return headLength;
    }

    boolean upgrade()
    {
        return upgrade;
    }

    /** A HEAD request: its answer has no body whatever its framing says. */
    boolean headRequest()
    {
        return headRequest;
    }

    /** Non-zero: the node is chosen by this key (a SockJS session), not by load. */
    long affinityKey()
    {
        return affinityKey;
    }

    /** The group index the route chose. */
    int group()
    {
        return group;
    }

    boolean idempotent()
    {
        return idempotent;
    }

    int methodClass()
    {
        return methodClass;
    }

    /** A request to Centrifugo's bidirectional emulation: sent twice, it would duplicate a session or a command. */
    boolean neverReplay()
    {
        return neverReplay;
    }

    boolean clientKeepAlive()
    {
        return clientKeepAlive;
    }

    boolean upstreamKeepAlive()
    {
        return upstreamKeepAlive;
    }
}
