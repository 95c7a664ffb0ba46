package io.centrigate.proxy;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.agrona.concurrent.UnsafeBuffer;
import org.jctools.queues.MpscArrayQueue;

import io.centrigate.buffer.Chunk;
import io.centrigate.buffer.ChunkPool;
import io.centrigate.config.ProxyContext;
import io.centrigate.http.HeadScanner;
import io.centrigate.http.HttpError;
import io.centrigate.http.RequestHead;
import io.centrigate.http.ResponseHead;
import io.centrigate.http.UpstreamRequestWriter;
import io.centrigate.loop.Connection;
import io.centrigate.loop.EventLoop;
import io.centrigate.loop.Listener;
import io.centrigate.metrics.ErrorLog;
import io.centrigate.metrics.LoopSnapshot;
import io.centrigate.metrics.LoopStats;
import io.centrigate.upstream.UpstreamGroup;
import io.centrigate.websocket.HandshakeDigest;

/**
 * What one event loop owns beyond its selector: its chunk pool, its listeners, its sessions, and one instance
 * of each parser and writer (flyweights reused by every session of the loop, since only one runs at a time).
 */
final class ProxyLoop implements EventLoop.Duty
{
    /** How long a connection that got its last byte is read (and drained) before it is closed. */
    static final long LINGER_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(2);
    /** After EMFILE/ENFILE on accept: pause accepting on that listener instead of spinning on it. */
    static final long ACCEPT_BACKOFF_NS = TimeUnit.MILLISECONDS.toNanos(100);
    /** After close frames were sent on drain, how long peers get to answer them before the connection is cut. */
    static final long GOING_AWAY_GRACE_NS = TimeUnit.SECONDS.toNanos(2);
    private static final int ACCEPTS_PER_EVENT = 64;
    private static final int HANDOFF_CAPACITY = 4096;

    private final int index;
    private ProxyContext ctx;
    private final EventLoop loop;
    private final ChunkPool pool;
    private UpstreamGroup[] groups;
    private io.centrigate.route.Router router;
    private final AtomicInteger openConnections;
    private final ErrorLog errorLog;
    private final LoopStats stats = new LoopStats();
    private InetSocketAddress[] listenerAddresses = new InetSocketAddress[0];
    /** By listener index: its connections must begin with a PROXY protocol header. */
    private boolean[] listenerProxyProtocol = new boolean[1];
    private final ProxyHeaderStage proxyHeaders;
    private final io.centrigate.http.ForwardedFor forwardedFor = new io.centrigate.http.ForwardedFor();
    private final RequestHead requestHead;
    private final RequestHeadStage requestHeads;
    private final ResponseHead responseHead;
    private final UpstreamRequestWriter requestWriter = new UpstreamRequestWriter();
    private final HandshakeDigest handshakeDigest = new HandshakeDigest();
    private final UnsafeBuffer keyScratch = new UnsafeBuffer(new byte[24]);
    private final MpscArrayQueue<Object> handoff = new MpscArrayQueue<>(HANDOFF_CAPACITY);
    private final ArrayDeque<ClientSession> bufferWaiters = new ArrayDeque<>();
    /** HTTP/2 connections with a stream that became ready outside of their socket's readiness. */
    private final ArrayDeque<H2Connection> h2Ready = new ArrayDeque<>();
    private final ArrayDeque<H2Connection> h2Flush = new ArrayDeque<>();
    private final List<Acceptor> listeners = new ArrayList<>();
    private UpstreamPool[] upstreamPools;
    private io.centrigate.metrics.NodeStats[] nodeStats;
    private final ErrorAnswers errorAnswers;
    private final HealthChecks healthChecks;
    /** This loop's turn over --upstream-source; replaced on a reload. */
    private UpstreamSources upstreamSources;
    /** Loop 0 coordinates rebalancing and node drains for the process; every loop closes its own tunnels. */
    private final Moves moves = new Moves();
    /** Made once: what the coordinator posts to each loop when it offered closes. */
    private final Runnable takeOfferedCloses = this::takeOfferedCloses;
    private ProxyLoop[] peers;
    private int nextPeer;
    private ClientSession sessions;
    private boolean acceptingStopped;
    private boolean draining;
    private boolean goingAway;
    private int httpsPort;
    private final io.centrigate.tls.ReloadableTlsContext tlsContext;
    private final io.centrigate.tls.TlsBufferPool tlsBuffers = new io.centrigate.tls.TlsBufferPool();
    private final Limits limits;
    /** Null when the access log is off: sessions then do nothing for it. */
    private io.centrigate.metrics.AccessLog accessLog;

    ProxyLoop(final int index, final ProxyContext ctx, final UpstreamGroup[] groups,
        final io.centrigate.route.Router router, final AtomicInteger openConnections, final ErrorLog errorLog,
        final io.centrigate.tls.ReloadableTlsContext tlsContext, final Limits limits)
    {
        this.tlsContext = tlsContext;
        this.limits = limits;
        this.index = index;
        this.ctx = ctx;
        this.groups = groups;
        this.router = router;
        this.openConnections = openConnections;
        this.errorLog = errorLog;
        this.loop = new EventLoop("centrigate-loop-" + index, ctx.idleMode(),
            io.centrigate.loop.Transports.factory(ctx.transportInUse()));
        this.spliceThreshold = loop.poller().canSplice() ? ctx.spliceThreshold() : 0;
        this.splicePipes = spliceThreshold > 0 ?
            new io.centrigate.tunnel.KernelPipePool(loop.poller(), ctx.splicePipes()) : null;
        this.pool = new ChunkPool(ctx.chunkSize(), Math.min(ProxyContext.DEFAULT_CHUNKS_PER_SLAB, ctx.maxChunksPerLoop()),
            ctx.maxChunksPerLoop());
        this.requestHead = new RequestHead(ctx.maxFields());
        this.proxyHeaders = new ProxyHeaderStage(this, ctx.proxyProtocolMaxSize());
        this.requestHeads = new RequestHeadStage(this);
        this.responseHead = new ResponseHead(ctx.maxFields());
        this.upstreamPools = newPools(ctx, groups);
        this.nodeStats = newNodeStats(ctx, groups, null);
        this.errorAnswers = new ErrorAnswers(ctx.errorPages(), ctx.chunkSize());
        this.healthChecks = new HealthChecks(loop, errorLog);
        this.upstreamSources = new UpstreamSources(loop, stats, errorLog, ctx.upstreamSources(), index);
        loop.duty(this);
    }

    /** Removed nodes whose tunnels are drained (shared by the proxy; only loop 0's coordinator reads it). */
    private java.util.Collection<io.centrigate.upstream.NodeTunnels> retiredNodes = java.util.List.of();

    void retiredNodes(final java.util.Collection<io.centrigate.upstream.NodeTunnels> retired)
    {
        retiredNodes = retired;
    }

    void peers(final ProxyLoop[] peers)
    {
        this.peers = peers;
    }

    /** This loop's share of the active health checks; before the loop thread starts (after {@link #peers}). */
    void startHealthChecks()
    {
        healthChecks.start(ctx, groups, index, peers.length);
        if (index == 0)
        {
            moves.start(ctx);
        }
    }

    /** Set before the loop thread starts. */
    void accessLog(final io.centrigate.metrics.AccessLog log) { accessLog = log; }
    io.centrigate.metrics.AccessLog accessLog() { return accessLog; }
    EventLoop loop() { return loop; }
    Limits limits() { return limits; }
    ChunkPool pool() { return pool; }

    /** Splicing settings as the loop started (a reload does not change them): 0 and null when off. */
    private final long spliceThreshold;
    /** Null when splicing is off; its pipes are opened on first use, on the loop thread. */
    private final io.centrigate.tunnel.KernelPipePool splicePipes;

    /** Frames whose payload still to come is at least this long are spliced; 0: never (off, or NIO). */
    long spliceThreshold() { return spliceThreshold; }

    /** This loop's kernel pipes; only when {@link #spliceThreshold()} > 0. */
    io.centrigate.tunnel.KernelPipePool splicePipes() { return splicePipes; }
    ProxyContext context() { return ctx; }
    UpstreamGroup group(final int g) { return groups[g]; }
    io.centrigate.route.Router router() { return router; }

    /** Spare scanners kept for new connections: at most this many (~50 bytes each), the rest go to the GC. */
    private static final int MAX_SPARE_SCANNERS = 4096;
    private HeadScanner[] spareScanners = new HeadScanner[64];
    private int spareScannerCount;

    boolean isInternalClient(final InetSocketAddress remote)
    {
        return remote != null && router.isInternal(remote.getAddress());
    }

    /** A client address the session learnt itself (a PROXY header's source, an X-Forwarded-For entry). */
    boolean isInternalClient(final byte[] address, final int length)
    {
        return router.isInternal(address, length);
    }

    /** Whether the peer may send a PROXY protocol header ({@code --proxy-protocol-from}; none given: any). */
    boolean maySendProxyHeader(final Connection client)
    {
        final io.centrigate.config.AddressRanges from = ctx.proxyProtocolFromRanges();
        if (from.isEmpty())
        {
            return true;
        }
        final InetSocketAddress remote = client.remoteAddress();
        return remote != null && from.contains(remote.getAddress());
    }

    /** Whether the connection's peer is a trusted forwarder ({@code --trusted-proxies}); once per connection. */
    boolean isTrustedForwarder(final InetSocketAddress remote)
    {
        final io.centrigate.config.AddressRanges trusted = ctx.trustedProxyRanges();
        return !trusted.isEmpty() && remote != null && trusted.contains(remote.getAddress());
    }

    boolean isTrustedForwarder(final byte[] address, final int length)
    {
        return ctx.trustedProxyRanges().contains(address, length);
    }

    ProxyHeaderStage proxyHeaders() { return proxyHeaders; }
    io.centrigate.http.ForwardedFor forwardedFor() { return forwardedFor; }
    ErrorLog errorLog() { return errorLog; }
    LoopStats stats() { return stats; }
    RequestHead requestHead() { return requestHead; }
    RequestHeadStage requestHeads() { return requestHeads; }
    ResponseHead responseHead() { return responseHead; }
    HandshakeDigest handshakeDigest() { return handshakeDigest; }
    UnsafeBuffer keyScratch() { return keyScratch; }

    /** Room for one peeked WebSocket frame header (at most 14 bytes), off-heap for MSG_PEEK; loop thread only. */
    private final java.nio.ByteBuffer peekScratch = java.nio.ByteBuffer.allocateDirect(16);
    private final UnsafeBuffer peekView = new UnsafeBuffer(peekScratch);
    java.nio.ByteBuffer peekScratch() { return peekScratch; }
    UnsafeBuffer peekView() { return peekView; }
    UpstreamPool upstreamPool(final int g) { return upstreamPools[g]; }
    UpstreamSources upstreamSources() { return upstreamSources; }
    io.centrigate.metrics.NodeStats nodeStats(final int g) { return nodeStats[g]; }

    org.agrona.DirectBuffer errorAnswer(final HttpError error)
    {
        return errorAnswers.answer(error);
    }

    /** {@link ErrorAnswers#write}: the answer with its {@code Retry-After} set. */
    int writeErrorAnswer(final HttpError error, final long retryAfterSeconds, final org.agrona.MutableDirectBuffer dst)
    {
        return errorAnswers.write(error, retryAfterSeconds, dst);
    }

    /**
     * A head scanner for a new connection. Scanners of tunnels that opened and of connections that closed come
     * back here ({@link #giveBackScanner}): a tunnel needs one only until its upgrade, and allocating one per
     * connection was ~50 bytes per handshake of young-generation churn.
     */
    HeadScanner takeScanner()
    {
        if (spareScannerCount > 0)
        {
            final HeadScanner scanner = spareScanners[--spareScannerCount];
            spareScanners[spareScannerCount] = null;
            scanner.reset();
            return scanner;
        }
        return new HeadScanner(ctx.maxRequestLine(), ctx.maxHeadBytes(), ctx.maxFields(), true);
    }

    void giveBackScanner(final HeadScanner scanner)
    {
        if (spareScannerCount == spareScanners.length)
        {
            if (spareScanners.length >= MAX_SPARE_SCANNERS)
            {
                return;
            }
            spareScanners = java.util.Arrays.copyOf(spareScanners, spareScanners.length * 2);
        }
        spareScanners[spareScannerCount++] = scanner;
    }

    /** What a listener's connections get. */
    static final int PLAIN = 0;
    static final int TLS = 1;
    static final int REDIRECT = 2;

    /**
     * Opens a listener on this loop's transport; called before the loop thread starts.
     *
     * @return the address bound (port 0 resolved).
     */
    InetSocketAddress listen(final InetSocketAddress address, final boolean reusePort, final boolean handOff,
        final int kind, final int index) throws IOException
    {
        final Acceptor acceptor = new Acceptor(handOff && kind == PLAIN, kind, index);
        try
        {
            acceptor.listener = loop.poller().listen(address, ctx.backlog(), reusePort, acceptor);
        }
        catch (final IOException e)
        {
            throw new IOException("cannot listen on " + address.getHostString() + ":" + address.getPort() + ": " +
                e.getMessage(), e);
        }
        listeners.add(acceptor);
        return acceptor.listener.localAddress();
    }

    /** Every listener of the proxy by index (set once, before the loop starts): counts are kept per listener. */
    void listenerAddresses(final InetSocketAddress[] addresses, final boolean[] proxyProtocol)
    {
        listenerAddresses = addresses;
        listenerProxyProtocol = proxyProtocol;
        stats.listeners(addresses.length);
    }

    /**
     * The listener a connection handed over by the acceptor came in on: it arrives without its listener, so the
     * accepted socket's local address (kept by the channel since accept, no system call) tells.
     */
    private int listenerOf(final Connection connection)
    {
        final InetSocketAddress local = connection.localAddress();
        if (local != null)
        {
            for (int i = 0; i < listenerAddresses.length; i++)
            {
                final InetSocketAddress l = listenerAddresses[i];
                if (l.getPort() == local.getPort() &&
                    (l.getAddress().isAnyLocalAddress() || l.getAddress().equals(local.getAddress())))
                {
                    return i;
                }
            }
        }
        // Closed already: counted under the first listener.
        return 0;
    }

    @Override
    public int doDuty()
    {
        int work = 0;
        Object accepted;
        while ((accepted = handoff.poll()) != null)
        {
            adopt(accepted, PLAIN, -1);
            work++;
        }
        while (!bufferWaiters.isEmpty() && pool.canAcquire())
        {
            bufferWaiters.poll().bufferAvailable();
            work++;
        }
        for (int i = h2Flush.size(); i > 0; i--)
        {
            h2Flush.poll().queuedFlush();
            work++;
        }
        for (int i = h2Ready.size(); i > 0; i--)
        {
            h2Ready.poll().queuedDispatch();
            work++;
        }
        return work;
    }

    void h2Flush(final H2Connection connection)
    {
        h2Flush.add(connection);
    }

    void h2Dispatch(final H2Connection connection)
    {
        h2Ready.add(connection);
    }

    void waitForBuffer(final ClientSession session)
    {
        stats.bufferWaits++;
        bufferWaiters.add(session);
    }

    /** @param listenerGiven -1: a connection handed over by the acceptor, whose listener its address tells. */
    private void adopt(final Object accepted, final int kind, final int listenerGiven)
    {
        if (acceptingStopped)
        {
            loop.poller().discard(accepted);
            return;
        }
        final boolean overLimit = openConnections.getAndIncrement() >= ctx.maxConnections();
        Connection connection = null;
        try
        {
            // Registered with no handler yet: the session takes it over before the loop can report anything.
            connection = loop.poller().adopt(accepted, null);
            final io.centrigate.tls.TlsChannel tls = kind == TLS ?
                new io.centrigate.tls.TlsChannel(connection, tlsContext.newServerEngine(ctx.http2()), tlsBuffers) : null;
            final int listenerIndex = listenerGiven >= 0 ? listenerGiven : listenerOf(connection);
            final boolean proxyProtocol = listenerIndex < listenerProxyProtocol.length &&
                listenerProxyProtocol[listenerIndex];
            final ClientSession session = new ClientSession(this, connection, tls, kind == REDIRECT, proxyProtocol);
            session.listener = listenerIndex;
            link(session);
            stats.accepted++;
            stats.acceptedByListener[listenerIndex]++;
            stats.openByListener[listenerIndex]++;
            if (overLimit)
            {
                session.rejectNow(HttpError.OVERLOADED);
            }
            else if (proxyProtocol && !maySendProxyHeader(connection))
            {
                session.refuseProxyHeader(io.centrigate.metrics.LoopStats.PROXY_HEADER_DISALLOWED);
            }
            else if (!proxyProtocol)
            {
                session.countPeer();
            }
        }
        catch (final IOException | RuntimeException e)
        {
            if (e instanceof RuntimeException)
            {
                errorLog.log("internal", "adopting a connection: " + e);
            }
            openConnections.decrementAndGet();
            if (connection != null)
            {
                connection.close();
            }
        }
    }

    private void link(final ClientSession session)
    {
        session.next = sessions;
        if (sessions != null)
        {
            sessions.prev = session;
        }
        sessions = session;
        stats.sessions++;
    }

    void onClosed(final ClientSession session)
    {
        if (session.prev != null)
        {
            session.prev.next = session.next;
        }
        else if (sessions == session)
        {
            sessions = session.next;
        }
        if (session.next != null)
        {
            session.next.prev = session.prev;
        }
        session.prev = null;
        session.next = null;
        stats.sessions--;
        stats.openByListener[session.listener]--;
        openConnections.decrementAndGet();
    }

    int writeUpstreamHead(
        final RequestHead head, final UnsafeBuffer src, final Chunk out, final byte[] clientAddress, final int clientLength,
        final byte[] peerAddress, final boolean trustedPeer, final boolean https, final boolean keepAlive,
        final int stripTarget)
    {
        return requestWriter.write(head, src, out.buffer(), 0, out.capacity(), clientAddress, clientLength, peerAddress,
            peerAddress.length, https, keepAlive, stripTarget, trustedPeer);
    }

    private static final byte[] REDIRECT_HEAD = "HTTP/1.1 301 Moved Permanently\r\nLocation: https://".getBytes(
        java.nio.charset.StandardCharsets.US_ASCII);
    private static final byte[] REDIRECT_TAIL =
        "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    /** Writes the 301 to https for the redirect listener; -1 when there is no usable host. Cold enough. */
    int writeRedirect(final RequestHead head, final UnsafeBuffer src, final UnsafeBuffer dst, final int capacity)
    {
        final String host;
        if (ctx.serverName() != null)
        {
            host = ctx.serverName();
        }
        else
        {
            // An absolute-form target's authority stands in for Host (RFC 9112 §3.2.2).
            if (head.routingHostOffset() < 0)
            {
                return -1;
            }
            String value = src.getStringWithoutLengthAscii(head.routingHostOffset(), head.routingHostLength());
            final int colon = value.lastIndexOf(':');
            if (colon > 0 && !value.endsWith("]"))
            {
                value = value.substring(0, colon);
            }
            if (!value.matches("[A-Za-z0-9.-]+|\\[[0-9A-Fa-f:.]+\\]"))
            {
                return -1;
            }
            host = value;
        }
        final int httpsPort = ctx.tlsListen().isEmpty() ? 443 : httpsPort();
        final String authority = httpsPort == 443 ? host : host + ":" + httpsPort;
        final byte[] hostBytes = authority.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        final boolean slash = head.pathLength() == 0 || src.getByte(head.pathOffset()) != '/';
        final int need = REDIRECT_HEAD.length + hostBytes.length + 1 + head.pathLength() + REDIRECT_TAIL.length;
        if (need > capacity)
        {
            return -1;
        }
        int p = 0;
        dst.putBytes(p, REDIRECT_HEAD);
        p += REDIRECT_HEAD.length;
        dst.putBytes(p, hostBytes);
        p += hostBytes.length;
        if (slash)
        {
            dst.putByte(p++, (byte)'/');
        }
        dst.putBytes(p, src, head.pathOffset(), head.pathLength());
        p += head.pathLength();
        dst.putBytes(p, REDIRECT_TAIL);
        return p + REDIRECT_TAIL.length;
    }

    private int httpsPort()
    {
        return httpsPort != 0 ? httpsPort : ctx.tlsListen().get(0).getPort();
    }

    /** The TLS listener's actual port (for port 0 in tests), set by the proxy after binding. */
    void httpsPort(final int port)
    {
        httpsPort = port;
    }

    /** The client's address as ASCII for X-Real-IP, made once per connection. */
    static byte[] addressText(final InetSocketAddress remote)
    {
        if (remote == null)
        {
            return "unknown".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        }
        final java.net.InetAddress address = remote.getAddress();
        if (address instanceof java.net.Inet4Address)
        {
            // Every connection comes here: digits written straight, not through getHostAddress's builder and string.
            final byte[] ip = address.getAddress();
            final byte[] text = new byte[ipv4TextLength(ip)];
            int at = 0;
            for (int i = 0; i < 4; i++)
            {
                if (i > 0)
                {
                    text[at++] = '.';
                }
                final int octet = ip[i] & 0xFF;
                if (octet >= 100)
                {
                    text[at++] = (byte)('0' + octet / 100);
                }
                if (octet >= 10)
                {
                    text[at++] = (byte)('0' + octet / 10 % 10);
                }
                text[at++] = (byte)('0' + octet % 10);
            }
            return text;
        }
        final String ip = address.getHostAddress();
        final int scope = ip.indexOf('%');
        return ip.substring(0, scope < 0 ? ip.length() : scope).getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    }

    private static int ipv4TextLength(final byte[] ip)
    {
        int length = 3;
        for (final byte b : ip)
        {
            final int octet = b & 0xFF;
            length += octet >= 100 ? 3 : octet >= 10 ? 2 : 1;
        }
        return length;
    }

    boolean draining()
    {
        return draining;
    }

    /**
     * Stops accepting: what already waits in the backlog is taken first, then the listeners close, so clients
     * that connected a moment ago are served here rather than reset (a process that took over the port with
     * SO_REUSEPORT gets every new connection from now on). On the loop thread.
     */
    void stopAccepting()
    {
        for (final Acceptor acceptor : listeners)
        {
            if (acceptor.listener.isOpen() && !acceptingStopped)
            {
                acceptor.acceptPending();
            }
        }
        acceptingStopped = true;
        for (final Acceptor acceptor : listeners)
        {
            acceptor.listener.close();
        }
        Object accepted;
        while ((accepted = handoff.poll()) != null)
        {
            loop.poller().discard(accepted);
        }
    }

    /** Drain begins: idle keep-alive connections close, exchanges finish without keep-alive. On the loop thread. */
    void drainSoft()
    {
        draining = true;
        ClientSession s = sessions;
        while (s != null)
        {
            final ClientSession next = s.next;
            s.drainSoft();
            s = next;
        }
    }

    boolean goingAway()
    {
        return goingAway;
    }

    /**
     * Drain time is up: close 1001 to every tunnel, idle connections closed, requests under way finish (and a
     * tunnel they open is sent 1001 at once). On the loop thread.
     */
    void goAway()
    {
        draining = true;
        goingAway = true;
        ClientSession s = sessions;
        while (s != null)
        {
            final ClientSession next = s.next;
            s.goAway(GoAway.GOING_AWAY);
            s = next;
        }
    }

    /** A reloaded configuration: new routes and groups for new requests; running exchanges keep theirs. */
    void reload(final ProxyContext newCtx, final UpstreamGroup[] newGroups, final io.centrigate.route.Router newRouter)
    {
        ctx = newCtx;
        groups = newGroups;
        if (!newCtx.upstreamSources().isEmpty() || upstreamSources.size() != 0)
        {
            upstreamSources = new UpstreamSources(loop, stats, errorLog, newCtx.upstreamSources(), index);
        }
        router = newRouter;
        final UpstreamPool[] old = upstreamPools;
        upstreamPools = newPools(newCtx, newGroups);
        nodeStats = newNodeStats(newCtx, newGroups, nodeStats);
        healthChecks.stop();
        healthChecks.start(newCtx, newGroups, index, peers.length);
        if (index == 0)
        {
            moves.stop();
            moves.start(newCtx);
        }
        for (final UpstreamPool pool : old)
        {
            pool.closeAll();
        }
    }

    /**
     * Per-node counters for each group, on the loop thread (cold). A group whose name and nodes a reload left as
     * they were keeps its counters (and running tunnels stay counted on it); a changed one starts at 0.
     */
    private static io.centrigate.metrics.NodeStats[] newNodeStats(final ProxyContext c, final UpstreamGroup[] g,
        final io.centrigate.metrics.NodeStats[] old)
    {
        final io.centrigate.metrics.NodeStats[] stats = new io.centrigate.metrics.NodeStats[g.length];
        final java.util.Iterator<String> names = c.groups().keySet().iterator();
        for (int i = 0; i < g.length; i++)
        {
            final String name = names.hasNext() ? names.next() : "group-" + i;
            final String[] nodes = new String[g[i].size()];
            for (int n = 0; n < nodes.length; n++)
            {
                nodes[n] = io.centrigate.metrics.NodeStats.hostPort(g[i].address(n));
            }
            if (old != null)
            {
                for (final io.centrigate.metrics.NodeStats o : old)
                {
                    if (o.sameNodes(name, nodes))
                    {
                        stats[i] = o;
                        break;
                    }
                }
            }
            if (stats[i] == null)
            {
                stats[i] = new io.centrigate.metrics.NodeStats(name, nodes);
            }
        }
        return stats;
    }

    private UpstreamPool[] newPools(final ProxyContext c, final UpstreamGroup[] g)
    {
        final UpstreamPool[] pools = new UpstreamPool[g.length];
        for (int i = 0; i < g.length; i++)
        {
            pools[i] = new UpstreamPool(loop, g[i].size(), c.upstreamKeepAlive(), c.upstreamIdleTimeoutNs());
        }
        return pools;
    }

    /** Closes every session of this loop. On the loop thread. */
    void closeAll()
    {
        healthChecks.stop();
        moves.stop();
        while (sessions != null)
        {
            sessions.close();
        }
        for (final UpstreamPool pool : upstreamPools)
        {
            pool.closeAll();
        }
        if (splicePipes != null)
        {
            splicePipes.close();
        }
    }

    CompletableFuture<LoopSnapshot> snapshot()
    {
        final CompletableFuture<LoopSnapshot> result = new CompletableFuture<>();
        loop.execute(() -> result.complete(snapshotNow()));
        return result;
    }

    private LoopSnapshot snapshotNow()
    {
        final Map<String, Long> errors = new LinkedHashMap<>();
        final HttpError[] kinds = HttpError.values();
        for (int i = 0; i < kinds.length; i++)
        {
            if (stats.errors[i] != 0)
            {
                errors.put(kinds[i].name(), stats.errors[i]);
            }
        }
        return new LoopSnapshot(loop.roleName(), stats.sessions, stats.accepted, stats.tunnelsOpened,
            stats.upstreamConnectFailures, stats.acceptErrors, pool.allocated(), pool.available(), pool.highWater(),
            stats.bufferWaits, loop.timerCount(), stats.requests, stats.upstreamConnects, stats.retries,
            stats.keepAliveReuses, pooledReuses(), pooledIdle(), stats.tunnelTraffic[LoopStats.FRAMES_UP],
            stats.tunnelTraffic[LoopStats.FRAMES_DOWN], stats.tunnelTraffic[LoopStats.BYTES_UP],
            stats.tunnelTraffic[LoopStats.BYTES_DOWN],
            Map.copyOf(errors), stats.tunnelsClosed, stats.goingAwayFrames, stats.accessLogDropped,
            loop.iterations(), loop.wakeups(),
            loop.busyNs(), loop.commandQueueDepth(), nodeStatsCopy(), LoopStats.seenCodes(stats.closeCodesUp),
            LoopStats.seenCodes(stats.closeCodesDown), stats.connectTime, stats.upgradeTime,
            stats.httpResponseTime, stats.tunnelLifetime, stats.acceptedByListener.clone(), stats.openByListener.clone(),
            stats.upstreamSourceBindFailures, stats.proxyHeaderRefused.clone(), stats.limits.clone(), stats.admissionWait,
            stats.http2.clone(), stats.spliced[LoopStats.SPLICED_UP], stats.spliced[LoopStats.SPLICED_DOWN],
            splicePipes == null ? 0 : splicePipes.exhausted(), splicePipes == null ? 0 : splicePipes.open());
    }

    private List<io.centrigate.metrics.NodeStats> nodeStatsCopy()
    {
        final List<io.centrigate.metrics.NodeStats> copies = new ArrayList<>(nodeStats.length);
        for (final io.centrigate.metrics.NodeStats n : nodeStats)
        {
            copies.add(n.copy());
        }
        return copies;
    }

    private long pooledReuses()
    {
        long n = 0;
        for (final UpstreamPool pool : upstreamPools)
        {
            n += pool.reused();
        }
        return n;
    }

    private int pooledIdle()
    {
        int n = 0;
        for (final UpstreamPool pool : upstreamPools)
        {
            n += pool.idleCount();
        }
        return n;
    }

    private final class Acceptor implements Listener.Handler, EventLoop.TimerTarget
    {
        private final boolean handOff;
        private final int kind;
        private final int index;
        private Listener listener;

        Acceptor(final boolean handOff, final int kind, final int index)
        {
            this.handOff = handOff;
            this.kind = kind;
            this.index = index;
        }

        @Override
        public void onAcceptable(final Listener ready)
        {
            acceptSome(ACCEPTS_PER_EVENT);
        }

        void acceptPending()
        {
            acceptSome(ctx.backlog());
        }

        private void acceptSome(final int max)
        {
            for (int i = 0; i < max; i++)
            {
                final Object accepted;
                try
                {
                    accepted = listener.accept();
                }
                catch (final IOException e)
                {
                    // EMFILE/ENFILE: the pending connection stays in the backlog; retrying at once would spin.
                    stats.acceptErrors++;
                    errorLog.log("accept", e.getMessage() + "; pausing accept for " +
                        TimeUnit.NANOSECONDS.toMillis(ACCEPT_BACKOFF_NS) + " ms (raise the open-files limit)");
                    if (listener.isOpen())
                    {
                        listener.accepting(false);
                        loop.schedule(this, loop.nowNs() + ACCEPT_BACKOFF_NS);
                    }
                    return;
                }
                if (accepted == null)
                {
                    return;
                }
                if (handOff && peers.length > 1)
                {
                    final ProxyLoop target = peers[nextPeer++ % peers.length];
                    if (target != ProxyLoop.this && target.handoff.offer(accepted))
                    {
                        target.loop.wakeup();
                        continue;
                    }
                }
                adopt(accepted, kind, index);
            }
        }

        @Override
        public void onTimer(final long nowNs)
        {
            if (listener.isOpen() && !acceptingStopped)
            {
                listener.accepting(true);
            }
        }
    }

    /** Closes the tunnels of this loop the rebalancer offered closes for (loop thread). */
    private void takeOfferedCloses()
    {
        final long now = loop.nowNs();
        final long minAge = peers[0].moves.minAgeNs;
        ClientSession s = sessions;
        while (s != null)
        {
            final ClientSession next = s.next;
            s.moveIfOffered(now, minAge);
            s = next;
        }
    }

    /**
     * The rebalancing coordinator's timer on loop 0: each tick offers closes ({@link io.centrigate.upstream.Rebalancer})
     * and, when it offered any, posts {@link #takeOfferedCloses} to every loop (lock-free command queues).
     */
    private final class Moves implements EventLoop.TimerTarget
    {
        private io.centrigate.upstream.Rebalancer rebalancer;
        private boolean[] wasMoving = new boolean[0];
        private long timerId = org.agrona.DeadlineTimerWheel.NULL_DEADLINE;
        private volatile long minAgeNs;

        void start(final ProxyContext c)
        {
            rebalancer = new io.centrigate.upstream.Rebalancer(c);
            minAgeNs = rebalancer.minAgeNs();
            timerId = loop.schedule(this, System.nanoTime() + io.centrigate.upstream.Rebalancer.TICK_NS);
        }

        void stop()
        {
            loop.cancel(timerId);
            timerId = org.agrona.DeadlineTimerWheel.NULL_DEADLINE;
        }

        /** An operator sees when a rebalance starts and ends, with the counts it started from. Cold. */
        private void logChanges()
        {
            if (wasMoving.length != groups.length)
            {
                wasMoving = new boolean[groups.length];
            }
            for (int g = 0; g < groups.length; g++)
            {
                final boolean now = rebalancer.moving(g);
                if (now != wasMoving[g])
                {
                    wasMoving[g] = now;
                    final StringBuilder counts = new StringBuilder();
                    for (int i = 0; i < groups[g].size(); i++)
                    {
                        counts.append(i == 0 ? "" : ", ").append(groups[g].name(i)).append(' ')
                            .append(groups[g].tunnels(i).open());
                    }
                    errorLog.log(now ? "rebalance-start" : "rebalance-end", "tunnels per node: " + counts);
                }
            }
        }

        @Override
        public void onTimer(final long nowNs)
        {
            timerId = loop.schedule(this, nowNs + io.centrigate.upstream.Rebalancer.TICK_NS);
            final int offered = rebalancer.tick(groups, retiredNodes, nowNs);
            logChanges();
            if (offered > 0)
            {
                for (final ProxyLoop peer : peers)
                {
                    peer.loop.execute(peer.takeOfferedCloses);
                }
            }
        }
    }

    @Override
    public String toString()
    {
        return "loop-" + index;
    }
}
