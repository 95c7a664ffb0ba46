package io.centrigate.proxy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.ReadableByteChannel;

import org.agrona.DeadlineTimerWheel;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import io.centrigate.buffer.Chunk;
import io.centrigate.http.BodyFraming;
import io.centrigate.http.HeadScanner;
import io.centrigate.http.HttpError;
import io.centrigate.http.RequestHead;
import io.centrigate.http.ResponseHead;
import io.centrigate.loop.Connection;
import io.centrigate.loop.EventLoop;
import io.centrigate.loop.NoSocketException;
import io.centrigate.tls.TlsChannel;
import io.centrigate.tunnel.Pipe;
import io.centrigate.upstream.NodeTunnels;
import io.centrigate.websocket.FrameTracker;

/**
 * One client connection and, while it has one, its upstream connection: both live on the same loop, so this
 * state machine needs no locks. Its life:
 * <pre>
 *   ┌──────────────────────────────────────────────────────────────────────┐ keep-alive: next request
 *   ▼                                                                      │
 * READING_HEAD ─▶ CONNECTING ─▶ AWAITING_RESPONSE ─┬─▶ RELAYING_RESPONSE ──┴─▶ LINGERING ─▶ CLOSED
 *   │   (or a pooled connection) ──▶│              └─▶ TUNNEL (101 with a valid accept key) ─▶ CLOSED
 *   └── error answer ──▶ RELAYING_RESPONSE (endAfterFlush) ─▶ LINGERING
 * </pre>
 * A request head is judged and rewritten for the node by the loop's {@link RequestHeadStage}; the session acts on its
 * verdicts and owns the chunks. Response heads are parsed here; bodies go on as they arrive, one request at a time
 * (pipelined requests wait their turn in {@link #pendingInput}). For a WebSocket upgrade, bytes the client sends before the 101 are
 * held back and forwarded only once the upstream has switched protocols, so they can never be read by the
 * upstream as a second, smuggled HTTP request.
 * <p>
 * Timeouts use one timer whose deadline is derived from the state ({@link #deadline()}); activity only stores a
 * timestamp, and the timer re-arms itself lazily when it fires early.
 */
final class ClientSession implements Connection.Handler, EventLoop.TimerTarget
{
    static final int READING_HEAD = 1;
    static final int CONNECTING = 2;
    static final int AWAITING_RESPONSE = 3;
    static final int RELAYING_RESPONSE = 4;
    static final int TUNNEL = 5;
    static final int LINGERING = 6;
    static final int CLOSED = 7;
    /**
     * An upgrade whose head for the node is ready waits for its admission slot ({@code --max-handshake-rate}): no node
     * chosen, no upstream connection; the timer fires at the slot.
     */
    static final int ADMISSION_WAIT = 8;

    private final ProxyLoop owner;
    private final EventLoop loop;
    private final Connection client;
    /** What the session reads and writes client bytes through: the socket, or TLS over it. */
    private final ByteChannel clientIo;
    private final TlsChannel tls;
    /** A connection of the HTTP listener that only redirects to https. */
    private final boolean redirect;
    private final Pipe up;
    private final Pipe down;
    /** Given back to the loop when a tunnel opens (a tunnel never reads a head again) or the connection closes. */
    private HeadScanner scanner;
    private Connection upstream;
    /** What the session itself wants from the client (before TLS adds its own needs). */
    private int appClientInterest;

    private int state = READING_HEAD;
    private long timerId = DeadlineTimerWheel.NULL_DEADLINE;
    private long timerDeadlineNs;
    /**
     * First byte of the current head (accept, for TLS: the handshake holds buffers from the start); 0 while
     * nothing of it has arrived.
     */
    private long headStartNs;
    /** Accept, or the end of the previous answer: the start of a wait for a head's first byte. */
    private long idleSinceNs;
    /** No request has begun on this connection yet: its wait for a first byte is {@code first-byte-timeout}. */
    private boolean firstRequest = true;
    private long connectStartNs;
    /** Start of this request's first connect attempt: retries after timeouts stop at {@code next-upstream-timeout}. */
    private long connectFirstNs;
    /** The current round over the group (each node once) had a connect that timed out, not only refusals. */
    private boolean roundTimedOut;
    private long lastUpstreamNs;
    private long lastClientWriteNs;
    private long lastActivityNs;
    private long lingerStartNs;

    private Chunk headChunk;
    private Chunk deferred;
    private Chunk pendingInput;
    private Chunk replay;
    private int node = -1;
    private io.centrigate.upstream.UpstreamGroup group;
    private UpstreamPool pool;
    /**
     * The connection's client address is in the internal ranges (may reach operator endpoints): decided at accept, or
     * for the address a PROXY protocol header names.
     */
    private boolean internalClient;
    /** The connection's client address as text: the peer's, or the source a PROXY protocol header names. */
    private byte[] clientAddress;
    /** The listener requires a PROXY protocol header and it is not whole yet: nothing else is read until it is. */
    private boolean awaitingProxyHeader;
    /**
     * The client table slot this connection is counted on ({@code --max-connections-per-client},
     * {@code --handshake-rate-per-client}); -1 when it is not (limits off, a forwarder's connection, untracked).
     */
    private int clientSlot = -1;
    /** Behind a trusted forwarder ({@code --trusted-proxies}) the current request's client; null otherwise. */
    private ForwardedClient forwarded;
    private long triedMask;
    /** Non-zero: this request's node follows its SockJS session ({@code UpstreamGroup.acquire} with a key). */
    private long affinityKey;
    private int attempts;
    private int retries;
    /** The node of this request stayed silent past {@code upgrade-timeout} and no other node was usable. */
    private boolean stallWaitedOut;
    private boolean upgrade;
    private boolean headRequest;
    private boolean idempotent;
    private boolean neverReplay;
    private boolean clientKeepAlive;
    private boolean upstreamKeepAlive;
    private boolean upstreamReused;
    /** Where the request body ends; made at the first exchange (a connection that only upgrades never needs it). */
    private BodyFraming requestBody;
    private boolean requestComplete;
    private long key0;
    private long key1;
    private long key2;
    /** Where the answer's body ends; made at the first answer that is not a 101. */
    private BodyFraming responseBody;
    private boolean responseStarted;
    private boolean responseComplete;
    private boolean upstreamReusable;
    private boolean endAfterFlush;
    private boolean waitingForBuffer;
    /** The close the proxy began on this tunnel (a drain, a move to another node); null until then. */
    private GoAway goAway;
    /** The node's tunnel count this tunnel is in, until it closes or its move begins. */
    private NodeTunnels counted;
    private FrameTracker upFrames;
    private FrameTracker downFrames;
    /** Per-node counters matching {@link #group}; the node a tunnel or an exchange was counted on. */
    private io.centrigate.metrics.NodeStats nodeStats;
    private int metricNode = -1;
    /** The listener index the connection came in on, for per-listener counts (set by the loop on adopt). */
    int listener;
    private int methodClass;
    private boolean requestActive;
    /** When the request head (or the upgrade request) went to the node; when the tunnel opened. */
    private long exchangeStartNs;
    private long tunnelOpenedNs;
    /** The access log's per-exchange data; null (and nothing done for it) while {@code --access-log} is off. */
    private final ExchangeLog log;

    ClientSession prev;
    ClientSession next;
    /** ALPN chose h2: the connection is HTTP/2's, and this session only holds its place in the loop. */
    private H2Connection h2;
    /** This session serves one stream of an HTTP/2 connection (no connection of its own, not in the loop's list). */
    private boolean h2Stream;

    ClientSession(final ProxyLoop owner, final Connection client, final TlsChannel tls, final boolean redirect,
        final boolean proxyProtocol) throws IOException
    {
        this.owner = owner;
        this.loop = owner.loop();
        this.client = client;
        this.tls = tls;
        this.clientIo = tls != null ? tls : client;
        this.redirect = redirect;
        this.up = new Pipe(owner.pool());
        this.down = new Pipe(owner.pool());
        this.scanner = owner.takeScanner();
        this.idleSinceNs = loop.nowNs();
        this.headStartNs = tls != null ? idleSinceNs : 0;
        final java.net.InetSocketAddress peer = client.remoteAddress();
        this.internalClient = owner.isInternalClient(peer);
        this.clientAddress = ProxyLoop.addressText(peer);
        this.awaitingProxyHeader = proxyProtocol;
        if (!proxyProtocol && owner.isTrustedForwarder(peer))
        {
            forwarded = new ForwardedClient(owner.context().perClientLimits() ? peerKey(peer) : 0);
        }
        this.log = owner.accessLog() == null ? null : new ExchangeLog(owner.accessLog());
        this.group = owner.group(0);
        this.pool = owner.upstreamPool(0);
        this.nodeStats = owner.nodeStats(0);
        client.handler(this);
        client.interest(Connection.OP_READ);
        rearm();
    }

    /** A session for one HTTP/2 stream, which reaches it as HTTP/1.1 over TLS. */
    ClientSession(final ProxyLoop owner, final H2Stream stream, final ClientSession connection) throws IOException
    {
        this(owner, stream, null, false, false);
        this.h2Stream = true;
        this.listener = connection.listener;
        this.clientAddress = connection.clientAddress;
        this.internalClient = connection.internalClient;
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

    // ---------------------------------------------------------------- client limits (io.centrigate.limit)

    /** 0 (not counted) when the peer is unknown (closed before it was read). */
    private static long peerKey(final java.net.InetSocketAddress peer)
    {
        return peer == null || peer.getAddress() == null ? 0 : io.centrigate.limit.ClientTable.key(peer.getAddress());
    }

    /**
     * At accept, on a listener without a PROXY header: the peer is the client, unless it is a trusted forwarder
     * (its connection carries other clients' requests, which are counted at their upgrade instead).
     */
    void countPeer()
    {
        if (forwarded == null && owner.context().perClientLimits())
        {
            countClient(peerKey(client.remoteAddress())); // the key's address array only with a limit on
        }
    }

    /**
     * Counts this connection on {@code key}'s entry of the client table, once; answers 429 (and returns false)
     * when the address holds its limit. Not tracked (limits off, the table's window for the address full): counted
     * and let through.
     */
    private boolean countClient(final long key)
    {
        if (takeClientPlace(key))
        {
            return true;
        }
        reject(HttpError.CLIENT_CONNECTIONS, 1);
        return false;
    }

    /** {@link #countClient} without the answer: false when the address holds its limit (counted as refused). */
    private boolean takeClientPlace(final long key)
    {
        final io.centrigate.limit.ClientTable table = owner.limits().table();
        final io.centrigate.config.ProxyContext ctx = owner.context();
        if (table == null || clientSlot >= 0 || key == 0 || !ctx.perClientLimits())
        {
            return true;
        }
        final int slot = table.acquire(key, ctx.maxConnectionsPerClient(), loop.nowNs());
        if (slot == io.centrigate.limit.ClientTable.REFUSED)
        {
            owner.stats().limits[io.centrigate.metrics.LoopStats.REFUSED_CONNECTIONS]++;
            return false;
        }
        if (slot == io.centrigate.limit.ClientTable.UNTRACKED)
        {
            owner.stats().limits[io.centrigate.metrics.LoopStats.CLIENT_UNTRACKED]++;
        }
        clientSlot = slot;
        return true;
    }

    /** The connection ends: its count in the client table goes (every way a session ends passes {@link #close}). */
    private void releaseClient()
    {
        if (clientSlot >= 0)
        {
            owner.limits().table().release(clientSlot);
            clientSlot = -1;
        }
    }

    /**
     * An upgrade of a client the table tracks takes a token of its address's handshake bucket; without one it is
     * answered 429 with the bucket's wait as {@code Retry-After}.
     */
    private boolean handshakeAllowed()
    {
        final io.centrigate.config.ProxyContext.Rate rate = owner.context().handshakeRatePerClientParsed();
        if (clientSlot < 0 || !rate.on())
        {
            return true;
        }
        final long early = owner.limits().table().takeHandshake(clientSlot, rate.intervalNs(), rate.burst(),
            loop.nowNs());
        if (early == 0)
        {
            return true;
        }
        owner.stats().limits[io.centrigate.metrics.LoopStats.REFUSED_HANDSHAKE_RATE]++;
        reject(HttpError.CLIENT_HANDSHAKE_RATE, retryAfterSeconds(early));
        return false;
    }

    private static long retryAfterSeconds(final long ns)
    {
        return Math.max(1, (ns + 999_999_999L) / 1_000_000_000L);
    }

    /**
     * The upgrade's slot in the process's admission schedule ({@code --max-handshake-rate}): go now, wait for the
     * slot ({@link #ADMISSION_WAIT}, the head for the node kept, no node chosen yet), or 503 with how long until a
     * slot within {@code --admission-wait} frees.
     */
    private void admitUpgrade() throws IOException
    {
        final io.centrigate.limit.HandshakeAdmission admission = owner.limits().admission();
        if (!admission.enabled())
        {
            connectUpstream();
            return;
        }
        final var stats = owner.stats();
        final long taken = admission.take(loop.nowNs());
        // A slot for now still passes the gate (slots given back can make two come due at once).
        final long wait = taken == 0 ? admission.admit(loop.nowNs()) : taken;
        if (wait < 0 || wait > 0 && owner.draining())
        {
            // Draining: this process's listeners are closed; the client does better at the one taking over.
            stats.limits[io.centrigate.metrics.LoopStats.ADMISSION_REFUSED]++;
            reject(HttpError.HANDSHAKE_ADMISSION, wait < 0 ? retryAfterSeconds(-wait) : 1);
            return;
        }
        stats.admissionWait.recordNs(wait);
        if (wait == 0)
        {
            stats.limits[io.centrigate.metrics.LoopStats.ADMITTED_AT_ONCE]++;
            connectUpstream();
            return;
        }
        stats.limits[io.centrigate.metrics.LoopStats.ADMITTED_AFTER_WAIT]++;
        stats.limits[io.centrigate.metrics.LoopStats.ADMISSION_WAITING]++;
        state = ADMISSION_WAIT;
        exchangeStartNs = loop.nowNs() + wait; // the slot; the exchange itself starts when the node is connected
        rearm();
    }

    /**
     * Leaves {@link #ADMISSION_WAIT}: its slot came ({@code slotUsed}), or it ends before (the client left, a drain),
     * and then the slot goes back to the schedule: a storm of clients that give up while they wait must not leave the
     * schedule full of slots nobody will use (all the newcomers would then wait past the limit and be refused).
     */
    private void leaveAdmissionWait(final boolean slotUsed)
    {
        if (!slotUsed)
        {
            owner.limits().admission().giveBack(loop.nowNs());
        }
        owner.stats().limits[io.centrigate.metrics.LoopStats.ADMISSION_WAITING]--;
        state = READING_HEAD; // as during startUpgrade: connectUpstream moves it on
    }

    @Override
    public void onReady(final Connection connection, final int ready)
    {
        if (h2 != null)
        {
            h2.onSocketReady(ready);
            return;
        }
        try
        {
            if (connection == client)
            {
                if (tls != null && !awaitingProxyHeader)
                {
                    tls.flushPending(); // handshake progress and encrypted bytes the socket did not take
                }
                onClientReady(ready);
            }
            else if (connection == upstream)
            {
                onUpstreamReady(ready);
            }
            if (state != CLOSED && h2 == null) // an HTTP/2 connection keeps its own interest
            {
                updateInterest();
                drainTlsInput();
            }
        }
        catch (final IOException | CancelledKeyException e)
        {
            // The client side failed (reset, broken pipe): nothing can reach it any more, so end both sides;
            // the upstream's work for it stops too (no orphan streams on the node). Upstream-side failures
            // are handled where they happen (onUpstreamFailure), since they may be retried or answered 502.
            abort();
        }
        catch (final RuntimeException e)
        {
            // A bug must cost one connection, never the loop (a stuck key would spin it).
            owner.errorLog().log("internal", e.toString());
            close();
        }
    }

    /**
     * TLS can hold input the selector will never report (a record decrypted ahead, or the client's first request
     * that came with its Finished): whenever the session wants to read, such bytes are processed at once.
     */
    private void drainTlsInput() throws IOException
    {
        for (int i = 0; i < 64 && tls != null && state != CLOSED && (appClientInterest & Connection.OP_READ) != 0 &&
            tls.hasBufferedInput(); i++)
        {
            onClientReady(Connection.OP_READ);
            if (h2 != null)
            {
                return;
            }
            if (state != CLOSED)
            {
                updateInterest();
            }
        }
    }

    private void onClientReady(final int ready) throws IOException
    {
        if ((ready & Connection.OP_WRITE) != 0)
        {
            flushDown();
        }
        if ((ready & Connection.OP_READ) != 0 && state != CLOSED)
        {
            switch (state)
            {
                case READING_HEAD: readRequestHead(); break;
                case LINGERING: discardClientInput(); break;
                case TUNNEL: forwardTunnelUp(); break;
                case ADMISSION_WAIT:
                case CONNECTING:
                case AWAITING_RESPONSE:
                case RELAYING_RESPONSE:
                    readRequestBody();
                    break;
                default: break;
            }
        }
    }

    private void onUpstreamReady(final int ready) throws IOException
    {
        if ((ready & Connection.OP_CONNECT) != 0)
        {
            finishConnect();
            return;
        }
        if ((ready & Connection.OP_WRITE) != 0)
        {
            flushUp();
        }
        if ((ready & Connection.OP_READ) != 0 && upstream != null && state != CLOSED)
        {
            switch (state)
            {
                case AWAITING_RESPONSE: readResponseHead(); break;
                case RELAYING_RESPONSE: relayResponseBody(); break;
                case TUNNEL: forwardTunnelDown(); break;
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
        if (awaitingProxyHeader)
        {
            readProxyHeader();
            return;
        }
        final int n = clientIo.read(headChunk.byteBuffer());
        if (n < 0)
        {
            close();
            return;
        }
        if (firstRequest && tls != null && tls.isHandshakeComplete() &&
            "h2".equals(tls.engine().getApplicationProtocol()))
        {
            startHttp2();
            return;
        }
        if (n > 0)
        {
            processRequestHead();
        }
        else if (headChunk.byteBuffer().position() == 0)
        {
            // Readiness without bytes (an edge-triggered transport can report data already read): an idle
            // connection goes on holding no buffer.
            owner.pool().release(headChunk);
            headChunk = null;
        }
    }

    /**
     * Looks at what {@link #headChunk} holds from offset 0 up to its position. What the head says and whether it may
     * go on is {@link RequestHeadStage}'s to decide; the session acts on its verdicts and keeps the chunks.
     */
    private void processRequestHead() throws IOException
    {
        final ByteBuffer bb = headChunk.byteBuffer();
        final int filled = bb.position();
        if (headStartNs == 0)
        {
            // First byte of a keep-alive request: the header timeout replaces the idle timeout.
            headStartNs = loop.nowNs();
            rearm();
        }
        final UnsafeBuffer buf = headChunk.buffer();
        final RequestHeadStage heads = owner.requestHeads();
        if (forwarded != null)
        {
            // The previous request's client is not this one's (a 400 is logged for the peer).
            forwarded.length = 0;
        }
        switch (heads.parse(scanner, buf, filled))
        {
            case RequestHeadStage.INCOMPLETE:
                return;
            case RequestHeadStage.REJECT:
                reject(heads.error());
                return;
            case RequestHeadStage.NO_CHUNK:
                waitForBuffer();
                return;
            default:
                break;
        }
        final int headLength = heads.headLength();
        if (log != null)
        {
            log.begin(buf, heads.head(), headStartNs, headLength, up.bytesIn(), down.bytesOut());
        }
        if (redirect)
        {
            redirectToHttps(heads.head(), buf);
            return;
        }
        if (forwarded != null)
        {
            forwardedClient(heads.head(), buf);
        }
        final int routed = heads.route(buf, forwarded != null ? forwarded.internal : internalClient);
        upgrade = heads.upgrade();
        headRequest = heads.headRequest();
        if (routed == RequestHeadStage.REJECT)
        {
            reject(heads.error());
            return;
        }
        group = owner.group(heads.group());
        affinityKey = heads.affinityKey();
        pool = owner.upstreamPool(heads.group());
        nodeStats = owner.nodeStats(heads.group());
        if (upgrade)
        {
            startUpgrade(heads, buf, headLength, filled);
        }
        else
        {
            startExchange(heads, buf, headLength, filled);
        }
    }

    /** From the handshake on, the connection speaks HTTP/2: what came with the handshake is its first bytes. */
    private void startHttp2() throws IOException
    {
        cancelTimer();
        final ByteBuffer early = headChunk.byteBuffer().flip();
        h2 = new H2Connection(owner, this, tls, early);
        owner.pool().release(headChunk);
        headChunk = null;
        h2.onSocketReady(0);
    }

    /** The head the node gets, with the client address as far as it is known. */
    private Chunk headForNode(final RequestHeadStage heads, final UnsafeBuffer buf)
    {
        return forwarded == null ? heads.headForNode(buf, clientAddress, clientAddress.length, clientAddress, false,
            tls != null || h2Stream) : heads.headForNode(buf, forwarded.text, forwarded.length, clientAddress, true,
            tls != null || h2Stream);
    }

    /**
     * Behind a trusted forwarder: this request's client is the rightmost X-Forwarded-For entry that is not a trusted
     * forwarder itself, else the connection's address. Per request (a forwarder's keep-alive connection carries many
     * clients' requests), over the head's bytes, into the session's own array.
     */
    private void forwardedClient(final RequestHead head, final UnsafeBuffer buf)
    {
        final io.centrigate.http.ForwardedFor ff = owner.forwardedFor();
        final int n = ff.resolve(head, buf, owner.context().trustedProxyRanges(), forwarded.text);
        if (n > 0)
        {
            forwarded.length = n;
            forwarded.internal = owner.isInternalClient(ff.address(), ff.addressLength());
            forwarded.key = io.centrigate.limit.ClientTable.key(ff.address(), ff.addressLength());
        }
        else
        {
            System.arraycopy(clientAddress, 0, forwarded.text, 0, clientAddress.length);
            forwarded.length = clientAddress.length;
            forwarded.internal = internalClient;
            forwarded.key = forwarded.connectionKey;
        }
    }

    // ---------------------------------------------------------------- PROXY protocol

    /**
     * The PROXY protocol header a {@code --proxy-protocol} listener requires before anything else: before the
     * request head, and on a TLS listener before the handshake ({@link ProxyHeaderStage}). It may arrive in pieces;
     * {@code header-timeout} bounds it from its first byte (on a TLS listener from accept, as the handshake). What
     * came behind it in the same read is the start of the head, or of the TLS stream, and is kept.
     */
    private void readProxyHeader() throws IOException
    {
        final ByteBuffer bb = headChunk.byteBuffer();
        final ProxyHeaderStage stage = owner.proxyHeaders();
        switch (stage.read(client, bb, headChunk.buffer(), tls != null))
        {
            case ProxyHeaderStage.NOTHING:
                if (bb.position() == 0)
                {
                    owner.pool().release(headChunk);
                    headChunk = null;
                }
                return;
            case ProxyHeaderStage.ENDED:
                close();
                return;
            case ProxyHeaderStage.REFUSED:
                refuseProxyHeader(stage.reason());
                return;
            case ProxyHeaderStage.INCOMPLETE:
                if (headStartNs == 0)
                {
                    headStartNs = loop.nowNs();
                    rearm();
                }
                return;
            default:
                break;
        }
        awaitingProxyHeader = false;
        final byte[] source = stage.sourceText();
        final long key = !owner.context().perClientLimits() ? 0 :
            source != null ? stage.sourceKey() : peerKey(client.remoteAddress());
        if (source != null)
        {
            clientAddress = source;
            internalClient = stage.sourceInternal();
        }
        if (source != null ? stage.sourceTrusted() : owner.isTrustedForwarder(client.remoteAddress()))
        {
            forwarded = new ForwardedClient(key);
        }
        final boolean placed = forwarded != null || takeClientPlace(key);
        bb.limit(bb.position()).position(stage.headerLength());
        if (tls != null)
        {
            if (bb.hasRemaining())
            {
                tls.unread(bb);
            }
            bb.clear();
            if (!placed)
            {
                // The client the header names holds its limit: 429, once the handshake (in what came) is done.
                reject(HttpError.CLIENT_CONNECTIONS, 1);
                return;
            }
            readRequestHead(); // the handshake goes on over what came with the header
        }
        else if (!placed)
        {
            reject(HttpError.CLIENT_CONNECTIONS, 1);
        }
        else if (bb.hasRemaining())
        {
            bb.compact();
            processRequestHead();
        }
        else
        {
            // Only the header so far: no buffer is held, and the head's first byte is waited for as on any listener.
            owner.pool().release(headChunk);
            headChunk = null;
            headStartNs = 0;
            idleSinceNs = loop.nowNs();
            rearm();
        }
    }

    /** Closes a connection whose PROXY protocol header was refused; counted by reason, logged once per interval. */
    void refuseProxyHeader(final int reason)
    {
        owner.stats().proxyHeaderRefused[reason]++;
        owner.errorLog().log("proxy-protocol", new String(clientAddress, java.nio.charset.StandardCharsets.US_ASCII) +
            ": " + io.centrigate.metrics.LoopStats.PROXY_HEADER_REASONS.get(reason) + " PROXY protocol header; closed");
        close();
    }

    private void startUpgrade(final RequestHeadStage heads, final UnsafeBuffer buf, final int headLength,
        final int filled) throws IOException
    {
        // Behind a trusted forwarder the upgrade's client is known only now: the connection becomes its.
        if (forwarded != null && !countClient(forwarded.key) || !handshakeAllowed())
        {
            return;
        }
        final int keyOffset = heads.webSocketKeyOffset();
        key0 = buf.getLong(keyOffset);
        key1 = buf.getLong(keyOffset + 8);
        key2 = buf.getLong(keyOffset + 16);
        requestComplete = true;
        final Chunk out = headForNode(heads, buf);
        if (out == null)
        {
            reject(heads.error());
            return;
        }
        if (owner.context().upgradeTimeoutNs() > 0)
        {
            // Kept until the node's first answer byte: a node that stays silent gets it sent elsewhere.
            replay = out;
            up.offerRetained(out);
        }
        else
        {
            up.offer(out);
        }
        final Chunk rest = headChunk;
        headChunk = null;
        if (filled > headLength)
        {
            rest.byteBuffer().limit(filled).position(headLength);
            deferred = rest;
        }
        else
        {
            owner.pool().release(rest);
        }
        admitUpgrade();
    }

    private void startExchange(final RequestHeadStage heads, final UnsafeBuffer buf, final int headLength,
        final int filled) throws IOException
    {
        final int framed = heads.exchange(buf, requestBody());
        idempotent = heads.idempotent();
        methodClass = heads.methodClass();
        neverReplay = heads.neverReplay();
        clientKeepAlive = heads.clientKeepAlive();
        upstreamKeepAlive = heads.upstreamKeepAlive();
        if (framed == RequestHeadStage.REJECT)
        {
            reject(heads.error());
            return;
        }
        final Chunk out = headForNode(heads, buf);
        if (out == null)
        {
            reject(heads.error());
            return;
        }
        final int written = out.byteBuffer().limit();

        final int leftover = filled - headLength;
        final int body = takeRequestBody(buf, headLength, leftover);
        if (log != null)
        {
            log.requestBody(Math.max(body, 0));
        }
        if (body < 0)
        {
            owner.pool().release(out);
            reject(HttpError.INVALID_CHUNKED_BODY);
            return;
        }
        if (leftover > body && !keepPipelined(buf, headLength + body, leftover - body))
        {
            owner.pool().release(out);
            return;
        }

        final Chunk rest = headChunk;
        headChunk = null;
        if (requestComplete && written + body <= out.capacity())
        {
            // The whole request fits one chunk: keep it until the answer starts, so a stale pooled
            // connection (or, for idempotent methods, a failed node) can be retried with it once.
            out.buffer().putBytes(written, buf, headLength, body);
            owner.pool().release(rest);
            out.byteBuffer().clear().limit(written + body);
            replay = out;
            up.offerRetained(out);
        }
        else
        {
            up.offer(out);
            rest.byteBuffer().limit(headLength + body).position(headLength);
            up.offer(rest);
        }
        connectUpstream();
    }

    /**
     * Counts request body bytes at {@code offset} and returns how many belong to this request's body (the rest,
     * if any, is the next pipelined request), or -1 for a malformed chunked body.
     */
    private int takeRequestBody(final DirectBuffer buf, final int offset, final int length)
    {
        final BodyFraming body = requestBody();
        final int taken = body.take(buf, offset, length);
        if (taken >= 0)
        {
            requestComplete = body.isComplete();
        }
        return taken;
    }

    private BodyFraming requestBody()
    {
        if (requestBody == null)
        {
            requestBody = new BodyFraming();
        }
        return requestBody;
    }

    /** Copies bytes of a following (pipelined) request aside until this exchange is done. */
    private boolean keepPipelined(final DirectBuffer buf, final int offset, final int length)
    {
        final Chunk chunk = owner.pool().acquire();
        if (chunk == null)
        {
            reject(HttpError.OVERLOADED);
            return false;
        }
        chunk.buffer().putBytes(0, buf, offset, length);
        chunk.byteBuffer().clear().position(length);
        pendingInput = chunk;
        return true;
    }

    // ---------------------------------------------------------------- upstream connect

    private void connectUpstream() throws IOException
    {
        if (connectFirstNs == 0)
        {
            connectFirstNs = loop.nowNs();
        }
        if (log != null)
        {
            log.upstreamStart(loop.nowNs());
        }
        while (true)
        {
            node = group.acquire(loop.nowNs(), triedMask, affinityKey);
            if (node < 0)
            {
                reject(HttpError.UPSTREAM_UNAVAILABLE);
                return;
            }
            attempts++;
            metricNode = node;
            if (node < 64)
            {
                triedMask |= 1L << node;
            }
            if (!upgrade && upstreamKeepAlive && retries == 0)
            {
                final UpstreamPool.Idle idle = pool.take(node);
                if (idle != null)
                {
                    upstream = idle.connection;
                    pool.recycle(idle);
                    upstream.handler(this);
                    upstreamReused = true;
                    onConnected();
                    return;
                }
            }
            upstreamReused = false;
            connectStartNs = loop.nowNs();
            try
            {
                upstream = owner.upstreamSources().connect(group.address(node), this);
                owner.stats().upstreamConnects++;
                if (!upstream.isConnectionPending())
                {
                    onConnected();
                }
                else
                {
                    state = CONNECTING;
                    connectStartNs = loop.nowNs();
                    rearm();
                }
                return;
            }
            catch (final NoSocketException e)
            {
                // Our own descriptors ran out: not the node's fault, so no retry on another one.
                owner.errorLog().log("upstream-socket", "cannot open a socket: " + e.getMessage());
                releaseNode();
                reject(HttpError.OVERLOADED);
                return;
            }
            catch (final IOException e)
            {
                owner.stats().upstreamConnects++; // a socket was made; its connect failed at once
                if (!connectFailed(e))
                {
                    return;
                }
            }
        }
    }

    private void finishConnect() throws IOException
    {
        try
        {
            if (!upstream.finishConnect())
            {
                return;
            }
        }
        catch (final IOException e)
        {
            if (connectFailed(e))
            {
                connectUpstream();
            }
            return;
        }
        onConnected();
    }

    /** Nginx {@code proxy_next_upstream error}: returns true when another node should be tried. */
    private boolean connectFailed(final IOException e)
    {
        return connectFailed(e.getMessage(), false);
    }

    /**
     * Nothing of the request has reached a node whose connect failed, so any request, POSTs included, may go to
     * another (Nginx {@code proxy_next_upstream error timeout}). Each node is tried once per round; when every node
     * refused, the answer is a fast 502 (the nodes are down; SDKs back off). When a connect timed out (a node
     * whose SYN queue is full drops SYNs: a saturated node, not a dead one), new rounds follow until
     * {@code next-upstream-timeout}, each a fresh connect whose SYN leaves at once instead of the kernel's
     * exponentially spaced retransmissions: a saturated box is served late, not failed.
     *
     * @return true when another attempt should be made
     */
    private boolean connectFailed(final String why, final boolean timedOut)
    {
        owner.stats().upstreamConnectFailures++;
        nodeStats.errors[nodeStats.slot(node)]++;
        if (upgrade)
        {
            nodeStats.handshake(node, timedOut ? io.centrigate.metrics.NodeStats.OUTCOME_CONNECT_TIMEOUT :
                io.centrigate.metrics.NodeStats.OUTCOME_CONNECT_REFUSED);
        }
        owner.errorLog().log("upstream-connect", group.name(node) + ": " + why);
        if (timedOut)
        {
            group.connectTimedOut(node, loop.nowNs());
        }
        else
        {
            group.connectFailed(node, loop.nowNs());
        }
        closeUpstream();
        roundTimedOut |= timedOut;
        if (attempts < group.size())
        {
            return true;
        }
        final long budgetNs = owner.context().nextUpstreamTimeoutNs();
        if (roundTimedOut && budgetNs > 0 && loop.nowNs() - connectFirstNs < budgetNs)
        {
            owner.stats().retries++;
            triedMask = 0;
            attempts = 0;
            roundTimedOut = false;
            return true;
        }
        reject(HttpError.UPSTREAM_UNAVAILABLE);
        return false;
    }

    private void connectTimedOut()
    {
        if (connectFailed("connect timed out", true))
        {
            runClientStep(this::connectUpstream);
        }
    }

    private void onConnected() throws IOException
    {
        connectFirstNs = 0;
        roundTimedOut = false;
        group.connected(node);
        state = AWAITING_RESPONSE;
        lastUpstreamNs = loop.nowNs();
        if (!upstreamReused)
        {
            owner.stats().connectTime.recordNs(lastUpstreamNs - connectStartNs);
        }
        exchangeStartNs = lastUpstreamNs;
        if (!upgrade && !requestActive)
        {
            requestActive = true;
            nodeStats.requestsActive[nodeStats.slot(node)]++;
        }
        rearm();
        flushUp();
    }

    /**
     * An upgrade, or an idempotent request kept whole in {@link #replay}, whose node has sent nothing yet: within
     * {@code upgrade-timeout} it may go to another node (POSTs never do: {@code idempotent} is false for them).
     */
    private boolean mayRetryStalled()
    {
        return owner.context().upgradeTimeoutNs() > 0 && !responseStarted && !stallWaitedOut && replay != null &&
            requestComplete && node >= 0 && (upgrade || idempotent);
    }

    /**
     * The node took the request and sent not one byte within {@code upgrade-timeout} (hung: stuck GC, SIGSTOP, a
     * full accept queue the kernel still completes handshakes for). When another usable node exists, the first
     * connection is closed, the stall counts against the node (passive ejection), and the same request goes to the
     * other node: the client sees a slower handshake, not a failure. Without another node it waits on as before.
     */
    private void retryStalled(final long nowNs)
    {
        final int stalled = node;
        if (!anotherNodeUsable(nowNs))
        {
            stallWaitedOut = true;
            rearm();
            return;
        }
        owner.errorLog().log("upstream-stalled", "no answer byte within the upgrade timeout from " +
            group.name(stalled) + "; trying another node");
        if (upgrade)
        {
            nodeStats.handshake(stalled, io.centrigate.metrics.NodeStats.OUTCOME_UPSTREAM_TIMEOUT);
        }
        nodeStats.errors[nodeStats.slot(stalled)]++;
        group.failed(stalled, nowNs);
        group.upgradeRetried(stalled);
        sendToAnotherNode();
    }

    /** Some usable node this request has not tried yet. */
    private boolean anotherNodeUsable(final long nowNs)
    {
        return node >= 0 && group.anyUsableBesides(nowNs, triedMask | (node < 64 ? 1L << node : 0));
    }

    /** Drops the current upstream connection and queues the kept request ({@link #replay}) to be written again. */
    private void rewindRequest()
    {
        closeUpstream();
        up.discard();
        replay.byteBuffer().position(0);
        up.offerRetained(replay);
    }

    /** The kept request to a node not tried yet, as a new round of connects (its own connect deadline). */
    private void sendToAnotherNode()
    {
        rewindRequest();
        attempts = Long.bitCount(triedMask);
        connectFirstNs = 0;
        runClientStep(this::connectUpstream);
    }

    /**
     * The upstream connection failed (reset, EOF or write error). Before any answer byte arrived, a request kept
     * whole in {@link #replay} may be sent once more on a fresh connection: always after a pooled connection the
     * node had closed (it never read the request), and for idempotent methods after any failure. POSTs to the
     * streaming and emulation endpoints are never replayed (RFC 9110 §9.2.2).
     */
    private void onUpstreamFailure() throws IOException
    {
        if (state == AWAITING_RESPONSE && upgrade && !responseStarted && replay != null && requestComplete &&
            retries == 0 && anotherNodeUsable(loop.nowNs()))
        {
            retryClosedUpgrade();
            return;
        }
        if (state == AWAITING_RESPONSE && !responseStarted && replay != null && retries == 0 && !upgrade &&
            (idempotent || (upstreamReused && !neverReplay)))
        {
            retries++;
            owner.stats().retries++;
            rewindRequest();
            if (upstreamReused)
            {
                // The node closed an idle pooled connection: any node will do, on a fresh connection.
                triedMask = 0;
            }
            // Otherwise an idempotent request on a fresh connection: the next node, not the one that failed.
            attempts = Long.bitCount(triedMask);
            connectUpstream();
            return;
        }
        switch (state)
        {
            case AWAITING_RESPONSE:
                failResponse(responseStarted ? HttpError.BAD_UPSTREAM_RESPONSE : HttpError.UPSTREAM_CLOSED);
                break;
            default:
                // Mid-stream: the client must see its connection end so the SDK reconnects.
                close();
                break;
        }
    }

    /**
     * The node closed or reset the connection of an upgrade before one byte of its answer (a node going down, whose
     * kernel still completed the handshake): no WebSocket was opened there, so the same GET goes to another node
     * once, as Nginx's {@code proxy_next_upstream error} does, and the client sees a slower handshake instead of a
     * 502. The failure counts against the node (passive ejection).
     */
    private void retryClosedUpgrade()
    {
        final int failed = node;
        owner.errorLog().log("upstream-closed", group.name(failed) +
            " closed the connection before answering an upgrade; trying another node");
        nodeStats.errors[nodeStats.slot(failed)]++;
        group.failed(failed, loop.nowNs());
        retries++;
        owner.stats().retries++;
        sendToAnotherNode();
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
            scanner.resetForResponse();
        }
        final int n;
        try
        {
            n = upstream.read(headChunk.byteBuffer());
        }
        catch (final IOException e)
        {
            onUpstreamFailure();
            return;
        }
        if (n < 0)
        {
            onUpstreamFailure();
            return;
        }
        if (n == 0)
        {
            return;
        }
        lastUpstreamNs = loop.nowNs();
        if (!responseStarted)
        {
            responseStarted = true;
            releaseReplay();
        }
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
                nodeStats.handshake(node, io.centrigate.metrics.NodeStats.OUTCOME_INVALID_101);
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
            if (upgrade)
            {
                nodeStats.handshake(node, io.centrigate.metrics.NodeStats.OUTCOME_UPSTREAM_CLASS + 1);
            }
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
            scanner.resetForResponse();
            flushDown();
            if (state == AWAITING_RESPONSE && filled > headLength)
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
        owner.giveBackScanner(scanner);
        scanner = null;
        final var stats = owner.stats();
        stats.tunnelsOpened++;
        if (log != null)
        {
            log.tunnelOpened(node >= 0 ? group.hostPort(node) : null, loop.nowNs());
        }
        final int trafficSlot = nodeStats.slot(node);
        upFrames = new FrameTracker(stats.closeCodesUp)
            .countInto(stats.tunnelTraffic, io.centrigate.metrics.LoopStats.BYTES_UP, nodeStats.bytesUp, trafficSlot);
        downFrames = new FrameTracker(stats.closeCodesDown)
            .countInto(stats.tunnelTraffic, io.centrigate.metrics.LoopStats.BYTES_DOWN, nodeStats.bytesDown, trafficSlot);
        lastActivityNs = loop.nowNs();
        tunnelOpenedNs = lastActivityNs;
        stats.upgradeTime.recordNs(lastActivityNs - exchangeStartNs);
        nodeStats.handshake(node, io.centrigate.metrics.NodeStats.OUTCOME_101);
        nodeStats.tunnels[nodeStats.slot(node)]++;
        counted = group.tunnels(node);
        counted.opened();
        group.answered(node);
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
        rearm();
        flushDown();
        if (state == TUNNEL)
        {
            flushUp();
        }
        if (state == TUNNEL && owner.goingAway())
        {
            goAway(GoAway.GOING_AWAY);
        }
    }

    private void relayResponse(final ResponseHead head, final UnsafeBuffer buf, final int headLength, final int filled)
        throws IOException
    {
        if (upgrade)
        {
            nodeStats.handshake(node, io.centrigate.metrics.NodeStats.OUTCOME_UPSTREAM_CLASS + 1 +
                io.centrigate.metrics.NodeStats.codeClass(head.status()));
        }
        else
        {
            nodeStats.request(node, methodClass, head.status());
            owner.stats().httpResponseTime.recordNs(loop.nowNs() - exchangeStartNs);
        }
        final int status = head.status();
        if (status == 502 || status == 503 || status == 504)
        {
            group.failed(node, loop.nowNs()); // passive: the node (or what is behind it) fails
        }
        else
        {
            group.answered(node);
        }
        final BodyFraming body = responseBody();
        switch (head.bodyKind(headRequest))
        {
            case NONE: body.none(); break;
            case CONTENT_LENGTH: body.length(head.contentLength()); break;
            case CHUNKED: body.chunked(); break;
            default: body.untilClose(); break;
        }
        final boolean untilClose = body.kind() == BodyFraming.UNTIL_CLOSE;
        upstreamReusable = upstreamKeepAlive && head.version() == 11 && !head.connectionClose() && !untilClose;
        if (log != null)
        {
            log.response(head.status(), node >= 0 ? group.hostPort(node) : null, loop.nowNs());
        }
        if (untilClose || upgrade || !requestComplete)
        {
            // A close-delimited body ends only by closing; a refused upgrade or an answer that came before the
            // whole request body leaves the client's byte stream at an unknown place: end the connection after.
            clientKeepAlive = false;
            upstreamReusable = false;
        }
        // Body bytes that came with the head are checked first: a body broken from its first bytes gets the
        // client a clean 502 instead of a relayed head followed by a cut.
        final int taken = takeResponseBody(buf, headLength, filled - headLength);
        if (taken < 0)
        {
            failResponse(HttpError.BAD_UPSTREAM_RESPONSE);
            return;
        }
        final Chunk out = owner.pool().acquire();
        if (out == null)
        {
            reject(HttpError.OVERLOADED);
            return;
        }
        final int written = head.writeForClient(buf, out.buffer(), 0, out.capacity(), !clientKeepAlive);
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
        state = RELAYING_RESPONSE;
        lastClientWriteNs = loop.nowNs();
        rearm();
        final Chunk rest = headChunk;
        headChunk = null;
        rest.byteBuffer().limit(headLength + taken).position(headLength);
        down.offer(rest);
        if (responseComplete)
        {
            onResponseComplete();
        }
        flushDown();
    }

    /**
     * Counts {@code length} response body bytes at {@code offset}; returns how many belong to the body (bytes
     * beyond it are the upstream's error and are dropped), or -1 if the body is malformed.
     */
    private int takeResponseBody(final DirectBuffer buf, final int offset, final int length)
    {
        final BodyFraming body = responseBody();
        final int taken = body.take(buf, offset, length);
        if (taken < 0)
        {
            owner.errorLog().log("upstream-response", "malformed chunked body from " + group.name(node));
            return -1;
        }
        // Called only while the answer is incomplete, so this never takes a completion back.
        responseComplete = body.isComplete();
        if (taken < length && body.kind() != BodyFraming.NONE)
        {
            upstreamReusable = false;
        }
        return taken;
    }

    private BodyFraming responseBody()
    {
        if (responseBody == null)
        {
            responseBody = new BodyFraming();
        }
        return responseBody;
    }

    private void relayResponseBody() throws IOException
    {
        if (!down.isEmpty() || responseComplete)
        {
            return;
        }
        final BodyFraming body = responseBody();
        final long max = body.readLimit();
        final int n;
        try
        {
            n = fill(down, upstream, max);
        }
        catch (final IOException e)
        {
            onUpstreamFailure();
            return;
        }
        if (n == Pipe.EOF)
        {
            if (body.kind() == BodyFraming.UNTIL_CLOSE)
            {
                responseComplete = true;
                closeUpstream();
                flushDown();
            }
            else
            {
                // Truncated body: the client must see the connection end, never a silently short answer.
                close();
            }
            return;
        }
        if (n > 0)
        {
            lastUpstreamNs = loop.nowNs();
            final Chunk chunk = down.last();
            final int taken = takeResponseBody(chunk.buffer(), 0, n);
            if (taken < 0)
            {
                close();
                return;
            }
            chunk.byteBuffer().limit(taken);
            if (responseComplete)
            {
                onResponseComplete();
            }
            flushDown();
        }
    }

    /** The whole answer was read from the upstream: its connection goes back to the pool or is closed. */
    private void onResponseComplete()
    {
        if (upstream == null)
        {
            return;
        }
        if (upstreamReusable && requestComplete && up.isEmpty() &&
            pool.offer(node, upstream))
        {
            upstream = null;
            releaseNode();
        }
        else
        {
            closeUpstream();
        }
    }

    private void failResponse(final HttpError error)
    {
        owner.errorLog().log("upstream-response", error.detail() + " (" + group.name(node) + ")");
        reject(error);
    }

    // ---------------------------------------------------------------- request bodies and the tunnel

    /** Client readable during an exchange: more request body, or (body done) a pipelined request or an abort. */
    private void readRequestBody() throws IOException
    {
        if (upgrade)
        {
            holdBackEarlyFrames();
            return;
        }
        if (!requestComplete)
        {
            if (!up.isEmpty() || state == CONNECTING)
            {
                return;
            }
            final int n = fill(up, clientIo, requestBody().readLimit());
            if (n == Pipe.EOF)
            {
                close(); // the client gave up mid-body
                return;
            }
            if (n > 0)
            {
                final Chunk chunk = up.last();
                final int body = takeRequestBody(chunk.buffer(), 0, n);
                if (body < 0)
                {
                    // Part of the body already went upstream: the exchange cannot be answered cleanly.
                    owner.stats().errors[HttpError.INVALID_CHUNKED_BODY.ordinal()]++;
                    close();
                    return;
                }
                if (body < n)
                {
                    if (!keepPipelined(chunk.buffer(), body, n - body))
                    {
                        return;
                    }
                    chunk.byteBuffer().limit(body);
                }
                flushUp();
            }
            return;
        }
        // The request is complete: read ahead once, to notice a client that leaves (and end the upstream
        // request with it) or to hold its next pipelined request.
        if (pendingInput == null)
        {
            pendingInput = readAhead();
        }
    }

    /**
     * One read of client bytes into a fresh chunk (left in fill mode: the bytes are [0, position)), or null when
     * nothing came; a client that closed ends the session.
     */
    private Chunk readAhead() throws IOException
    {
        final Chunk chunk = acquire();
        if (chunk == null)
        {
            return null;
        }
        final int n;
        try
        {
            n = clientIo.read(chunk.byteBuffer());
        }
        catch (final IOException e)
        {
            owner.pool().release(chunk);
            throw e;
        }
        if (n <= 0)
        {
            owner.pool().release(chunk);
            if (n < 0)
            {
                close();
            }
            return null;
        }
        return chunk;
    }

    /**
     * A client may send frames before the 101 arrives; one chunk of them is kept (and forwarded only after a valid
     * 101). Reading them, instead of taking the client's read interest away while the upstream answers, saves two
     * epoll_ctl calls per handshake and notices a client that gives up.
     */
    private void holdBackEarlyFrames() throws IOException
    {
        if (deferred == null && (deferred = readAhead()) != null)
        {
            deferred.byteBuffer().flip();
        }
    }

    private void forwardTunnelUp() throws IOException
    {
        if (!up.isEmpty() || up.sourceEnded())
        {
            return;
        }
        final GoAway closing = goAway;
        if (closing != null && closing.sentUp())
        {
            discardTunnelInput(up, clientIo);
            return;
        }
        if (up.splicing())
        {
            spliceUp();
            return;
        }
        final long max = closing != null ? upFrames.bytesToBoundary() : Long.MAX_VALUE;
        if (max <= 0)
        {
            injectCloseFrames();
            return;
        }
        if (upstream != null && startSplice(up, upFrames, upstream))
        {
            spliceUp(); // a payload whose start was copied while the node was slow to take it
            return;
        }
        final int n = fill(up, clientIo, headerOnlyIfLarge(up, client, max));
        if (n == Pipe.EOF)
        {
            if (log != null)
            {
                log.endIfUnknown(io.centrigate.metrics.AccessLog.END_CLIENT_CLOSE);
            }
            up.sourceEnded(true);
            flushUp();
            return;
        }
        if (n > 0)
        {
            lastActivityNs = loop.nowNs();
            upFrames.onBytes(up.last().buffer(), 0, n);
            if (log != null && log.end() == 0 && upFrames.closeFrames() != 0)
            {
                log.end(io.centrigate.metrics.AccessLog.END_CLIENT_CLOSE); // the client began the closing handshake
            }
            flushUp();
            if (state == TUNNEL && upstream != null && startSplice(up, upFrames, upstream))
            {
                spliceUp();
                return;
            }
            if (closing != null)
            {
                injectCloseFrames();
            }
        }
    }

    /** The rest of a large payload from the client, through the kernel pipe (see {@link #startSplice}). */
    private void spliceUp() throws IOException
    {
        final long n = up.spliceIn();
        if (n == Pipe.EOF)
        {
            if (log != null)
            {
                log.endIfUnknown(io.centrigate.metrics.AccessLog.END_CLIENT_CLOSE);
            }
            up.sourceEnded(true);
            flushUp();
            return;
        }
        if (n > 0)
        {
            lastActivityNs = loop.nowNs();
            upFrames.skipPayload(n);
            owner.stats().spliced[io.centrigate.metrics.LoopStats.SPLICED_UP] += n;
            flushUp();
            if (goAway != null && state == TUNNEL)
            {
                injectCloseFrames();
            }
        }
    }

    /** The rest of a large payload from the node, through the kernel pipe. */
    private void spliceDown() throws IOException
    {
        final long n;
        try
        {
            n = down.spliceIn();
        }
        catch (final IOException e)
        {
            onUpstreamFailure();
            return;
        }
        if (n == Pipe.EOF)
        {
            if (log != null)
            {
                log.endIfUnknown(io.centrigate.metrics.AccessLog.END_NODE_CLOSE);
            }
            down.sourceEnded(true);
            flushDown();
            return;
        }
        if (n > 0)
        {
            lastActivityNs = loop.nowNs();
            downFrames.skipPayload(n);
            owner.stats().spliced[io.centrigate.metrics.LoopStats.SPLICED_DOWN] += n;
            flushDown();
            if (goAway != null && state == TUNNEL)
            {
                injectCloseFrames();
            }
        }
    }

    /**
     * Where large frames come (the last one was spliced), a read at a frame boundary first peeks at the next header:
     * for another large frame only the header is read, so its whole payload is spliced rather than the chunk's worth
     * that would otherwise come with the header. A small frame ends the peeking until the next splice, so a stream
     * of small messages pays no extra system call.
     *
     * @return how many bytes to read now.
     */
    private long headerOnlyIfLarge(final Pipe pipe, final Connection source, final long max)
    {
        final FrameTracker frames = pipe == up ? upFrames : downFrames;
        if (!pipe.spliceHint() || !frames.atFrameBoundary())
        {
            return max;
        }
        final java.nio.ByteBuffer scratch = owner.peekScratch();
        scratch.clear();
        final int n;
        try
        {
            n = source.peek(scratch);
        }
        catch (final IOException e)
        {
            return max; // the read that follows meets the error and handles it
        }
        if (n < 2)
        {
            return max;
        }
        final UnsafeBuffer peeked = owner.peekView();
        final long payload = FrameTracker.dataPayloadLength(peeked, 0, n);
        final int header = FrameTracker.headerLength(peeked, 0);
        if (payload < 0 || header > n)
        {
            return max;
        }
        if (payload < owner.spliceThreshold())
        {
            pipe.spliceHint(false);
            return max;
        }
        return Math.min(max, header);
    }

    /**
     * Once a read left a direction inside a data frame's payload with at least --splice-threshold bytes to come and
     * everything read so far is written, the rest of that payload goes socket to pipe to socket in the kernel. The
     * frame header went through a chunk and the tracker, so boundaries, counters and close injection stay exact;
     * the proxy never unmasks payload, so masked client frames splice as they are. Not over TLS (the bytes must be
     * decrypted) nor HTTP/2 streams; with no pipe free the payload is copied as before.
     *
     * @return true when the splice began.
     */
    private boolean startSplice(final Pipe pipe, final FrameTracker frames, final Connection sink)
    {
        final long threshold = owner.spliceThreshold();
        if (threshold == 0 || tls != null || h2Stream || !pipe.isEmpty() || pipe.sourceEnded())
        {
            return false;
        }
        final long payload = frames.dataPayloadRemaining();
        if (payload < threshold)
        {
            return false;
        }
        final io.centrigate.tunnel.KernelPipePool pipes = owner.splicePipes();
        final io.centrigate.loop.KernelPipe kernel = pipes.acquire();
        if (kernel == null)
        {
            return false;
        }
        pipe.startSplice(kernel, pipes, sink == upstream ? client : upstream, sink, payload);
        return true;
    }

    private void forwardTunnelDown() throws IOException
    {
        if (!down.isEmpty() || down.sourceEnded())
        {
            return;
        }
        final GoAway closing = goAway;
        if (closing != null && closing.sentDown())
        {
            discardTunnelInput(down, upstream);
            return;
        }
        if (down.splicing())
        {
            spliceDown();
            return;
        }
        final long max = closing != null ? downFrames.bytesToBoundary() : Long.MAX_VALUE;
        if (max <= 0)
        {
            injectCloseFrames();
            return;
        }
        if (startSplice(down, downFrames, client))
        {
            spliceDown();
            return;
        }
        final int n;
        try
        {
            n = fill(down, upstream, headerOnlyIfLarge(down, upstream, max));
        }
        catch (final IOException e)
        {
            onUpstreamFailure();
            return;
        }
        if (n == Pipe.EOF)
        {
            if (log != null)
            {
                log.endIfUnknown(io.centrigate.metrics.AccessLog.END_NODE_CLOSE);
            }
            down.sourceEnded(true);
            flushDown();
            return;
        }
        if (n > 0)
        {
            lastActivityNs = loop.nowNs();
            downFrames.onBytes(down.last().buffer(), 0, n);
            if (log != null && log.end() == 0 && downFrames.closeFrames() != 0)
            {
                log.end(io.centrigate.metrics.AccessLog.END_NODE_CLOSE); // the node began the closing handshake
            }
            flushDown();
            if (state == TUNNEL && startSplice(down, downFrames, client))
            {
                spliceDown();
                return;
            }
            if (closing != null && state == TUNNEL)
            {
                injectCloseFrames();
            }
        }
    }

    // ---------------------------------------------------------------- draining

    /** Drain begins: idle keep-alive connections end now; everything else finishes what it is doing. */
    void drainSoft()
    {
        if (h2 != null)
        {
            h2.drainSoft();
            return;
        }
        if (idleBetweenRequests())
        {
            close();
        }
        else if (state == ADMISSION_WAIT)
        {
            // Its slot may be seconds away and this process is going: the process taking over admits it sooner.
            leaveAdmissionWait(false);
            owner.stats().limits[io.centrigate.metrics.LoopStats.ADMISSION_REFUSED]++;
            reject(HttpError.HANDSHAKE_ADMISSION, 1);
        }
        else if (state == AWAITING_RESPONSE || state == RELAYING_RESPONSE)
        {
            if (!upgrade && !responseStarted)
            {
                clientKeepAlive = false;
            }
        }
    }

    /**
     * Drain time is up. A tunnel gets a WebSocket close 1001 (going away) in both directions, each injected at a
     * frame boundary, so SDKs reconnect at once (to the process that took over); anything else is closed.
     */
    void goAway(final int code)
    {
        goAway(code, NodeTunnels.NONE);
    }

    private void goAway(final int code, final int moved)
    {
        if (h2 != null)
        {
            h2.goingAway(code); // its WebSocket streams get their close 1001 as HTTP/1.1 tunnels do
            return;
        }
        if (goAway != null)
        {
            return; // its close frames are on their way already
        }
        if (idleBetweenRequests() || state == LINGERING)
        {
            close(); // idle between requests, or already answered
            return;
        }
        if (state != TUNNEL)
        {
            // A request under way (a client that connected a moment before the listeners closed) is served:
            // an HTTP answer ends the connection (draining turns keep-alive off), and a tunnel it opens gets its
            // close 1001 right after the 101 (openTunnel), so the client reconnects to the new process.
            return;
        }
        goAway = new GoAway(code, moved, loop.nowNs());
        rearm();
        runClientStep(this::injectCloseFrames);
    }

    /**
     * Takes a close the rebalancer offered for this tunnel's node, if there is one and the tunnel is old enough,
     * and begins it: close 1012 at a frame boundary both ways. The tunnel leaves its node's count at once, so the
     * next offer does not count it again while its closing handshake runs. On the loop thread (cold: a few times
     * a second, and only while closes are offered).
     */
    void moveIfOffered(final long nowNs, final long minAgeNs)
    {
        if (h2 != null)
        {
            h2.moveIfOffered(nowNs, minAgeNs);
            return;
        }
        if (state != TUNNEL || goAway != null || counted == null || !counted.wanted())
        {
            return;
        }
        final int why = counted.claim(nowNs - tunnelOpenedNs, minAgeNs);
        if (why == NodeTunnels.NONE)
        {
            return;
        }
        counted.closed();
        counted = null;
        goAway(GoAway.SERVICE_RESTART, why);
    }

    /**
     * A keep-alive connection waiting for its next request. A new connection that has sent nothing yet is not
     * idle: its request may be on the wire (it connected a moment before the listeners closed) and is served.
     */
    private boolean idleBetweenRequests()
    {
        return state == READING_HEAD && headStartNs == 0 && !firstRequest;
    }

    /** Sends our close each way as soon as that direction reaches a frame boundary; called after every read then. */
    private void injectCloseFrames() throws IOException
    {
        final GoAway closing = goAway;
        int queued = closing.closeTowardsClient(down, downFrames, owner.pool());
        if (queued == GoAway.NO_CHUNK)
        {
            close();
            return;
        }
        if (queued == GoAway.QUEUED)
        {
            if (closing.code() == GoAway.GOING_AWAY)
            {
                owner.stats().goingAwayFrames++;
            }
            flushDown();
        }
        if (state == TUNNEL && upstream != null)
        {
            queued = closing.closeTowardsNode(up, upFrames, owner.pool());
            if (queued == GoAway.NO_CHUNK)
            {
                close();
                return;
            }
            if (queued == GoAway.QUEUED)
            {
                flushUp();
            }
        }
        if (GoAway.noBoundary(upFrames, downFrames))
        {
            close(); // not a WebSocket stream we can find a boundary in: just end it
        }
    }

    /** After our close frame went out in this direction, what the peer still sends is dropped until its FIN. */
    private void discardTunnelInput(final Pipe pipe, final ReadableByteChannel src) throws IOException
    {
        final int n;
        try
        {
            n = fill(pipe, src, Long.MAX_VALUE);
        }
        catch (final IOException e)
        {
            close();
            return;
        }
        pipe.discard();
        if (n == Pipe.EOF)
        {
            pipe.sourceEnded(true);
            if (up.sourceEnded() && down.sourceEnded())
            {
                close();
            }
        }
    }

    private int fill(final Pipe pipe, final ReadableByteChannel src, final long max) throws IOException
    {
        final int n = pipe.fill(src, max);
        if (n == Pipe.NO_BUFFER)
        {
            waitForBuffer();
            return 0;
        }
        return n;
    }

    private void flushUp() throws IOException
    {
        if (upstream == null || state == CONNECTING)
        {
            return;
        }
        final boolean drained;
        try
        {
            final long before = up.bytesOut();
            drained = up.flush(upstream);
            if (up.bytesOut() != before)
            {
                lastUpstreamNs = loop.nowNs();
            }
            if (drained && up.sourceEnded() && !up.sinkShut() && state == TUNNEL)
            {
                // RFC 9293 half-close: pass the client's FIN on, keep the other direction flowing.
                up.sinkShut(true);
                upstream.shutdownOutput();
            }
        }
        catch (final IOException e)
        {
            onUpstreamFailure();
            return;
        }
        closeIfBothShut();
    }

    private void flushDown() throws IOException
    {
        final long before = down.bytesOut();
        final boolean drained = down.flush(clientIo);
        if (down.bytesOut() != before)
        {
            lastClientWriteNs = loop.nowNs();
        }
        if (!drained)
        {
            return;
        }
        if (endAfterFlush)
        {
            writeHttpLog();
            startLingering();
        }
        else if (state == RELAYING_RESPONSE && responseComplete)
        {
            writeHttpLog();
            if (clientKeepAlive)
            {
                startNextRequest();
            }
            else
            {
                startLingering();
            }
        }
        else if (down.sourceEnded() && !down.sinkShut() && state == TUNNEL)
        {
            down.sinkShut(true);
            shutdownClientOutput();
            closeIfBothShut();
        }
    }

    private void shutdownClientOutput() throws IOException
    {
        if (tls != null)
        {
            tls.shutdownOutput(); // close_notify first, then FIN once it is written
        }
        else
        {
            client.shutdownOutput();
        }
    }

    private void closeIfBothShut()
    {
        if (state == TUNNEL && up.sinkShut() && down.sinkShut())
        {
            close();
        }
    }

    /** Keep-alive: the answer is out, the connection waits for (or already holds) the next request. */
    private void startNextRequest() throws IOException
    {
        owner.stats().keepAliveReuses++;
        state = READING_HEAD;
        scanner.reset();
        upgrade = false;
        if (requestBody != null)
        {
            requestBody.none();
        }
        requestComplete = false;
        responseStarted = false;
        responseComplete = false;
        upstreamReusable = false;
        upstreamReused = false;
        if (responseBody != null)
        {
            responseBody.none();
        }
        triedMask = 0;
        attempts = 0;
        retries = 0;
        stallWaitedOut = false;
        connectFirstNs = 0;
        roundTimedOut = false;
        firstRequest = false;
        releaseReplay();
        headStartNs = 0;
        idleSinceNs = loop.nowNs();
        if (pendingInput != null)
        {
            headChunk = pendingInput;
            pendingInput = null;
            headStartNs = loop.nowNs();
            rearm();
            processRequestHead();
        }
        else
        {
            rearm();
        }
    }

    // ---------------------------------------------------------------- errors, lingering, close

    /**
     * The HTTP listener's only answer (the reference's {@code rewrite ^(.*) https://$server_name$1 permanent}):
     * 301 to the same host and target over https. The host is {@code --server-name} when set, else the request's
     * Host without its port, refused (400) unless it is a plain host name or address, so a forged Host cannot
     * turn the redirect into a redirect to anywhere with odd characters.
     */
    private void redirectToHttps(final RequestHead head, final UnsafeBuffer buf)
    {
        final Chunk chunk = owner.pool().acquire();
        if (chunk == null)
        {
            close();
            return;
        }
        final int written = owner.writeRedirect(head, buf, chunk.buffer(), chunk.capacity());
        if (written < 0)
        {
            owner.pool().release(chunk);
            reject(HttpError.MISSING_HOST);
            return;
        }
        owner.stats().requests++;
        if (log != null)
        {
            log.answered(301, loop.nowNs(), 0, up.bytesIn(), down.bytesOut());
        }
        releaseRequestChunks();
        chunk.byteBuffer().clear().limit(written);
        sendFinalAnswer(chunk);
    }

    /** Sends a generated error answer (it says Connection: close), then lingers and closes. */
    private void reject(final HttpError error)
    {
        reject(error, 1);
    }

    /** @param retryAfterSeconds written into the answer's {@code Retry-After} field, if it has one. */
    private void reject(final HttpError error, final long retryAfterSeconds)
    {
        owner.stats().errors[error.ordinal()]++;
        countRejectOnNode(error);
        if (log != null)
        {
            log.answered(error.status(), headStartNs != 0 ? headStartNs : loop.nowNs(),
                headChunk != null && state == READING_HEAD ? headChunk.byteBuffer().position() : 0, up.bytesIn(),
                down.bytesOut());
            log.node(node >= 0 ? group.hostPort(node) : null);
        }
        closeUpstream();
        releaseRequestChunks();
        up.discard();
        down.discard();
        final Chunk chunk = owner.pool().acquire();
        if (chunk == null)
        {
            close();
            return;
        }
        final int length = owner.writeErrorAnswer(error, retryAfterSeconds, chunk.buffer());
        chunk.byteBuffer().clear().limit(length);
        sendFinalAnswer(chunk);
    }

    /** A generated answer on the node it concerns ("none" when no node was chosen, e.g. every node refused). */
    private void countRejectOnNode(final HttpError error)
    {
        switch (error)
        {
            case UPSTREAM_TIMEOUT:
            case BAD_UPSTREAM_RESPONSE:
            case INVALID_UPGRADE_RESPONSE:
            case UPSTREAM_CLOSED:
                nodeStats.errors[nodeStats.slot(node)]++;
                if (node >= 0)
                {
                    group.failed(node, loop.nowNs());
                }
                break;
            default:
                break;
        }
        if (upgrade && state != TUNNEL)
        {
            switch (error.status())
            {
                case 502: nodeStats.handshake(node, io.centrigate.metrics.NodeStats.OUTCOME_ANSWERED_502); break;
                case 503: nodeStats.handshake(node, io.centrigate.metrics.NodeStats.OUTCOME_ANSWERED_503); break;
                case 504: nodeStats.handshake(node, io.centrigate.metrics.NodeStats.OUTCOME_ANSWERED_504); break;
                default: break;
            }
        }
    }

    /** Queues the connection's last answer; once it is written the connection lingers and closes. */
    private void sendFinalAnswer(final Chunk chunk)
    {
        down.offer(chunk);
        endAfterFlush = true;
        state = RELAYING_RESPONSE;
        lastClientWriteNs = loop.nowNs();
        rearm();
        runClientStep(this::flushDown);
    }

    /** A step of work that may fail on the client's socket. */
    private interface ClientStep
    {
        void run() throws IOException;
    }

    /**
     * Runs a step that writes to the client (a drain's close frames, a final answer) and ends a failure on the
     * client's side as {@link #onReady} does: the connection is aborted. Cold paths only: the method reference
     * allocates.
     */
    private void runClientStep(final ClientStep step)
    {
        try
        {
            step.run();
            if (state != CLOSED)
            {
                updateInterest();
            }
        }
        catch (final IOException | CancelledKeyException e)
        {
            abort();
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
        lingerStartNs = loop.nowNs();
        rearm();
        shutdownClientOutput();
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
            if (clientIo.read(chunk.byteBuffer()) < 0)
            {
                close();
            }
        }
        finally
        {
            owner.pool().release(chunk);
        }
    }

    /**
     * The client side failed: the abort is passed on to the node as a reset, as HAProxy does, rather than as a FIN.
     * The node learns at once that nobody will read its answer, and no TIME_WAIT is left behind on our side of the
     * upstream connection. In a reconnect storm those TIME_WAIT entries would make every later upstream
     * {@code connect} search past them for a free port (a quarter of the proxy's CPU, measured).
     */
    private void abort()
    {
        if (upstream != null && state != CLOSED)
        {
            upstream.reset();
        }
        close();
    }

    void close()
    {
        if (state == CLOSED)
        {
            return;
        }
        final boolean wasTunnel = state == TUNNEL;
        if (state == ADMISSION_WAIT)
        {
            leaveAdmissionWait(false);
        }
        state = CLOSED;
        releaseClient();
        if (scanner != null)
        {
            owner.giveBackScanner(scanner);
            scanner = null;
        }
        if (counted != null)
        {
            counted.closed();
            counted = null;
        }
        if (log != null)
        {
            writeCloseLog(wasTunnel);
        }
        if (upFrames != null)
        {
            final var stats = owner.stats();
            stats.tunnelsClosed++;
            stats.tunnelLifetime.recordNs(loop.nowNs() - tunnelOpenedNs);
            final int slot = nodeStats.slot(metricNode);
            nodeStats.tunnels[slot]--;
            if (upFrames.lastCloseCode() >= 0)
            {
                nodeStats.closeCode(metricNode, upFrames.lastCloseCode());
            }
            if (downFrames.lastCloseCode() >= 0)
            {
                nodeStats.closeCode(metricNode, downFrames.lastCloseCode());
            }
        }
        cancelTimer();
        closeUpstream();
        releaseRequestChunks();
        up.discard();
        down.discard();
        if (h2 != null)
        {
            h2.close(); // its streams' sessions end too
        }
        try
        {
            clientIo.close();
        }
        catch (final IOException ignore)
        {
            // Already gone.
        }
        if (!h2Stream)
        {
            owner.onClosed(this);
        }
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
        if (pendingInput != null)
        {
            owner.pool().release(pendingInput);
            pendingInput = null;
        }
        releaseReplay();
    }

    private void releaseReplay()
    {
        if (replay != null)
        {
            // The pipe may still hold it (retained, never released by the pipe itself).
            up.dropRetained(replay);
            owner.pool().release(replay);
            replay = null;
        }
    }

    private void closeUpstream()
    {
        if (upstream != null)
        {
            upstream.close();
            upstream = null;
        }
        releaseNode();
    }

    private void releaseNode()
    {
        if (requestActive)
        {
            requestActive = false;
            nodeStats.requestsActive[nodeStats.slot(metricNode)]--;
        }
        if (node >= 0)
        {
            group.release(node);
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

    /**
     * Called by the loop when chunks are free again: reading resumes through the interest set, and a whole head
     * that was waiting for a chunk to be forwarded in goes on at once (its client has nothing more to send).
     */
    void bufferAvailable()
    {
        waitingForBuffer = false;
        if (state != CLOSED)
        {
            try
            {
                if (state == READING_HEAD && !awaitingProxyHeader && headChunk != null &&
                    headChunk.byteBuffer().position() > 0)
                {
                    processRequestHead();
                }
                if (state != CLOSED)
                {
                    updateInterest();
                }
            }
            catch (final IOException e)
            {
                abort();
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
            wantClient |= Connection.OP_WRITE;
        }
        if (!waitingForBuffer)
        {
            switch (state)
            {
                case READING_HEAD:
                case LINGERING:
                    wantClient |= Connection.OP_READ;
                    break;
                case TUNNEL:
                    if (up.isEmpty() && !up.sourceEnded())
                    {
                        wantClient |= Connection.OP_READ;
                    }
                    if (down.isEmpty() && !down.sourceEnded())
                    {
                        wantUpstream |= Connection.OP_READ;
                    }
                    break;
                case ADMISSION_WAIT:
                case CONNECTING:
                case AWAITING_RESPONSE:
                case RELAYING_RESPONSE:
                    if (wantsClientInput())
                    {
                        wantClient |= Connection.OP_READ;
                    }
                    if (upstream != null && down.isEmpty() && !responseComplete && !endAfterFlush)
                    {
                        wantUpstream |= Connection.OP_READ;
                    }
                    break;
                default:
                    break;
            }
        }
        if (state == CONNECTING)
        {
            wantUpstream = Connection.OP_CONNECT;
        }
        else if (upstream != null && !up.isEmpty())
        {
            wantUpstream |= Connection.OP_WRITE;
        }
        appClientInterest = wantClient;
        if (tls != null)
        {
            wantClient = tls.interestOps(wantClient);
        }
        client.interest(wantClient);
        if (upstream != null)
        {
            upstream.interest(wantUpstream);
        }
    }

    /** While an exchange runs: more request body, early frames to hold back, or read-ahead for aborts/pipelining. */
    private boolean wantsClientInput()
    {
        if (endAfterFlush)
        {
            return false;
        }
        if (upgrade)
        {
            return deferred == null && state != RELAYING_RESPONSE;
        }
        if (!requestComplete)
        {
            return up.isEmpty() && state != CONNECTING;
        }
        return pendingInput == null;
    }

    // ---------------------------------------------------------------- timers

    /** When the current state's timeout falls due, or {@link Long#MAX_VALUE} for none. */
    private long deadline()
    {
        final var ctx = owner.context();
        switch (state)
        {
            case READING_HEAD:
                if (headStartNs != 0)
                {
                    return after(headStartNs, ctx.headerTimeoutNs());
                }
                return after(idleSinceNs, firstRequest ? ctx.firstByteTimeoutNs() : ctx.keepAliveTimeoutNs());
            case CONNECTING:
                // The last attempt ends with the retry budget, so no answer comes later than it promises.
                final long attemptEnd = after(connectStartNs, ctx.connectTimeoutNs());
                return ctx.nextUpstreamTimeoutNs() > 0 && connectFirstNs != 0 ?
                    Math.min(attemptEnd, connectFirstNs + ctx.nextUpstreamTimeoutNs()) : attemptEnd;
            case AWAITING_RESPONSE:
                final long readEnd = after(lastUpstreamNs, ctx.readTimeoutNs());
                return mayRetryStalled() ? Math.min(readEnd, exchangeStartNs + ctx.upgradeTimeoutNs()) : readEnd;
            case RELAYING_RESPONSE:
                if (!down.isEmpty())
                {
                    return after(lastClientWriteNs, ctx.sendTimeoutNs());
                }
                return endAfterFlush || responseComplete ? Long.MAX_VALUE : after(lastUpstreamNs, ctx.readTimeoutNs());
            case TUNNEL:
                return goAway != null ? goAway.deadlineNs() : after(lastActivityNs, ctx.tunnelIdleTimeoutNs());
            case LINGERING:
                return lingerStartNs + ProxyLoop.LINGER_TIMEOUT_NS;
            case ADMISSION_WAIT:
                return exchangeStartNs;
            default:
                return Long.MAX_VALUE;
        }
    }

    private static long after(final long startNs, final long timeoutNs)
    {
        return timeoutNs > 0 ? startNs + timeoutNs : Long.MAX_VALUE;
    }

    /** Points the timer at the current state's deadline; called on state changes, never per read. */
    private void rearm()
    {
        final long deadline = deadline();
        if (timerId != DeadlineTimerWheel.NULL_DEADLINE)
        {
            if (deadline == timerDeadlineNs)
            {
                return;
            }
            // A later deadline needs no new timer: the current one fires early and re-arms lazily.
            if (deadline > timerDeadlineNs)
            {
                return;
            }
            cancelTimer();
        }
        if (deadline != Long.MAX_VALUE)
        {
            timerDeadlineNs = deadline;
            timerId = loop.schedule(this, deadline);
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
            final long deadline = deadline();
            if (deadline - nowNs > 0)
            {
                rearm();
                return;
            }
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

    /**
     * A loop that ran late (a saturated box) must look at the socket before it blames the client: the head may
     * be waiting there, or the wait may have been the proxy's own, for a free chunk to read into. Returns true
     * when the session moved on or its deadline moved, false when the client really is late.
     */
    private boolean headArrivedMeanwhile(final long nowNs)
    {
        try
        {
            readRequestHead();
        }
        catch (final IOException e)
        {
            abort();
            return true;
        }
        if (state != READING_HEAD)
        {
            return true;
        }
        if (waitingForBuffer)
        {
            if (headStartNs != 0)
            {
                headStartNs = nowNs;
            }
            else
            {
                idleSinceNs = nowNs;
            }
        }
        if (deadline() - nowNs > 0)
        {
            rearm();
            return true;
        }
        return false;
    }

    private void onTimeout(final long nowNs)
    {
        switch (state)
        {
            case READING_HEAD:
                if (headArrivedMeanwhile(nowNs))
                {
                    break;
                }
                if (awaitingProxyHeader)
                {
                    if (headChunk != null && headChunk.byteBuffer().position() > 0)
                    {
                        refuseProxyHeader(io.centrigate.metrics.LoopStats.PROXY_HEADER_TIMEOUT);
                    }
                    else
                    {
                        close(); // nothing was sent: ends silently, as any connection that sends nothing
                    }
                }
                else if (headStartNs != 0)
                {
                    owner.errorLog().log("header-timeout", new String(clientAddress, java.nio.charset.StandardCharsets.US_ASCII) + ": " +
                        (headChunk == null ? 0 : headChunk.byteBuffer().position()) + " bytes of a head");
                    reject(HttpError.HEADER_TIMEOUT);
                }
                else
                {
                    close(); // nothing was sent (a new or an idle keep-alive connection): ends silently, as in Nginx
                }
                break;
            case CONNECTING:
                connectTimedOut();
                break;
            case ADMISSION_WAIT:
            {
                final long more = owner.limits().admission().admit(nowNs);
                if (more > 0)
                {
                    exchangeStartNs = nowNs + more; // another upgrade went in this slot's time: the next one
                    rearm();
                    break;
                }
                leaveAdmissionWait(true);
                runClientStep(this::connectUpstream);
                break;
            }
            case AWAITING_RESPONSE:
                if (responseStarted)
                {
                    close();
                }
                else if (mayRetryStalled() && nowNs - (exchangeStartNs + owner.context().upgradeTimeoutNs()) >= 0 &&
                    nowNs - after(lastUpstreamNs, owner.context().readTimeoutNs()) < 0)
                {
                    retryStalled(nowNs);
                }
                else
                {
                    owner.errorLog().log("upstream-response", "no answer within the read timeout (" +
                        group.name(node) + ")");
                    if (upgrade)
                    {
                        nodeStats.handshake(node, io.centrigate.metrics.NodeStats.OUTCOME_UPSTREAM_TIMEOUT);
                    }
                    reject(HttpError.UPSTREAM_TIMEOUT);
                }
                break;
            default:
                if (log != null && state == TUNNEL)
                {
                    log.end(goAway != null ? io.centrigate.metrics.AccessLog.END_DRAIN :
                        io.centrigate.metrics.AccessLog.END_IDLE_TIMEOUT);
                }
                close();
                break;
        }
    }

    // ---------------------------------------------------------------- access log (only with --access-log)

    private void writeHttpLog()
    {
        if (log != null)
        {
            log.writeHttp(owner.stats(), logClient(), logClientLength(), loop.nowNs(), up.bytesIn(), down.bytesOut());
        }
    }

    /** The connection closes: a tunnel's line, or the line of an exchange it cut short. */
    private void writeCloseLog(final boolean wasTunnel)
    {
        if (wasTunnel && upFrames != null)
        {
            final GoAway closing = goAway;
            if (closing != null)
            {
                log.end(closing.accessLogEnd());
            }
            log.writeWs(owner.stats(), logClient(), logClientLength(), loop.nowNs(), upFrames, downFrames,
                closing != null && closing.sentUp(), closing != null && closing.sentDown(),
                closing != null ? closing.code() : GoAway.GOING_AWAY);
        }
        else
        {
            writeHttpLog();
        }
    }

    /** The client of the logged exchange: behind a trusted forwarder the request's, else the connection's. */
    private byte[] logClient()
    {
        return forwarded != null && forwarded.length > 0 ? forwarded.text : clientAddress;
    }

    private int logClientLength()
    {
        return forwarded != null && forwarded.length > 0 ? forwarded.length : clientAddress.length;
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
