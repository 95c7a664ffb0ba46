package io.centrigate.config;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Every setting of the engine, with its default, in one place (after Aeron's {@code MediaDriver.Context}).
 * Setters are fluent; {@link #conclude()} validates, derives what can be derived and fails with a message
 * naming the setting. Engine code reads only a concluded context.
 */
public final class ProxyContext
{
    public static final String DEFAULT_LISTEN = "0.0.0.0:8080";
    /** Centrifugo's default port. */
    public static final String DEFAULT_UPSTREAM = "127.0.0.1:8000";
    public static final long DEFAULT_HEADER_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(5);
    /**
     * A new connection's wait for its first byte. It holds no buffer meanwhile (a descriptor only), so it can be
     * longer than the header timeout without giving a slow sender of a partial head (which holds a chunk) any
     * more room; long enough that a client on a saturated box, late to write its head, is served late, not cut.
     */
    public static final long DEFAULT_FIRST_BYTE_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(15);
    /** One upstream connect attempt: covers the SYN and its retransmissions at 1 s and 3 s. */
    public static final long DEFAULT_CONNECT_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(5);
    /**
     * How long a request keeps making new connect attempts after attempts timed out (Nginx
     * {@code proxy_next_upstream_timeout}). Half of Nginx's effective wait for one node ({@code proxy_connect_timeout
     * 60s}): past any SDK's handshake patience, so the proxy does not give up on a saturated node before the client.
     */
    public static final long DEFAULT_NEXT_UPSTREAM_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(30);
    /** Nginx {@code proxy_read_timeout 60s} of the reference config. */
    public static final long DEFAULT_READ_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(60);
    /** Above Centrifugo's 25 s server ping, so a healthy client is never cut. */
    public static final long DEFAULT_TUNNEL_IDLE_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(90);
    /** Nginx {@code fail_timeout} default: how long a node that refused a connect is skipped. */
    public static final long DEFAULT_FAIL_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(10);
    /** Centrifugo's health endpoint; the CLI checks it by default, an engine built in code only when asked. */
    public static final String DEFAULT_HEALTH_CHECK_PATH = "/health";
    public static final long DEFAULT_HEALTH_CHECK_INTERVAL_NS = TimeUnit.SECONDS.toNanos(1);
    public static final long DEFAULT_HEALTH_CHECK_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(1);
    public static final int DEFAULT_HEALTH_CHECK_RISE = 2;
    public static final int DEFAULT_HEALTH_CHECK_FALL = 2;
    /**
     * How long a node that became usable again takes to reach its full share of new connections (HAProxy
     * {@code slowstart}, Envoy {@code slow_start_window}); the CLI's default, an engine built in code has it off.
     */
    public static final long DEFAULT_SLOW_START_NS = TimeUnit.SECONDS.toNanos(30);
    /** How often upstream names are resolved again (DNS discovery); 0 = once at start. */
    public static final long DEFAULT_RESOLVE_INTERVAL_NS = TimeUnit.SECONDS.toNanos(5);
    public static final long DEFAULT_UPGRADE_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(1);
    public static final int DEFAULT_MAX_EJECTED_PERCENT = 50;
    public static final int MAX_WEIGHT = 1000;
    public static final boolean DEFAULT_REBALANCE = true;
    /**
     * SockJS fallbacks of one session must reach the node that holds it (Centrifugo keeps SockJS sessions in the
     * node's memory), so they are routed by session id unless this is turned off.
     */
    public static final boolean DEFAULT_SOCKJS_STICKY = true;
    /** Drift from a node's weighted share that starts a rebalance, in percent of that share. */
    public static final int DEFAULT_REBALANCE_THRESHOLD_PERCENT = 20;
    /** How long the drift must last: a reconnect storm settles first, and a short blip moves nobody. */
    public static final long DEFAULT_REBALANCE_SETTLE_NS = TimeUnit.SECONDS.toNanos(10);
    /** Closes per second per process, as a share of the process's tunnels (at least one a second). */
    public static final String DEFAULT_REBALANCE_RATE = "1%";
    /**
     * A tunnel younger than this is never closed to rebalance: as long as the settle time, so a client is not
     * moved again right after it reconnected, and short enough that a restarted node fills within 90 s.
     */
    public static final long DEFAULT_REBALANCE_MIN_AGE_NS = TimeUnit.SECONDS.toNanos(10);
    /** Nginx {@code keepalive_timeout 65} of the reference config: an idle client connection between requests. */
    public static final long DEFAULT_KEEPALIVE_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(65);
    /** Nginx {@code send_timeout}: a client that takes no bytes of a pending response for this long is dropped. */
    public static final long DEFAULT_SEND_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(60);
    /** Below Centrifugo's 30 s server-side read timeout, so the proxy retires idle connections first. */
    public static final long DEFAULT_UPSTREAM_IDLE_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(20);
    /**
     * Idle upstream connections kept per node and per loop (Nginx {@code keepalive} in an upstream block). Below
     * the number of concurrently active clients the pool churns (connections closed on return, opened on demand),
     * which cost a third of the throughput in a measurement with 64 clients and a limit of 32; idle connections
     * cost only a descriptor each, and each was opened for some client, so the limit is generous.
     */
    public static final int DEFAULT_UPSTREAM_KEEPALIVE = 256;
    public static final long DEFAULT_MAX_BODY_SIZE = 16L * 1024 * 1024;
    /** The group of {@code --upstream}: the Centrifugo nodes. */
    public static final String DEFAULT_GROUP = "default";
    /**
     * Centrifugo's operator endpoints (server API, metrics, pprof, swagger, admin UI API): reachable only from
     * {@link #DEFAULT_INTERNAL_ALLOW} unless configured otherwise. {@code /x} matches the path exactly,
     * {@code /x/*} it and everything below it, {@code /x*} every path starting with {@code /x}.
     */
    public static final List<String> DEFAULT_INTERNAL_PATHS =
        List.of("/api", "/api/*", "/metrics", "/metrics/*", "/debug/pprof/*", "/swagger*", "/admin/*");
    /** Loopback and private ranges (RFC 1918, RFC 4193). */
    public static final List<String> DEFAULT_INTERNAL_ALLOW =
        List.of("127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7");
    /** {@code --access-log stdout}: lines go to the standard output. */
    public static final String ACCESS_LOG_STDOUT = "stdout";
    /** The access log's ring between the loops and its writer thread, bytes. */
    public static final int DEFAULT_ACCESS_LOG_BUFFER = 1024 * 1024;

    /** Who may use the admin listener unless configured otherwise: loopback only. */
    public static final List<String> DEFAULT_ADMIN_ALLOW = List.of("127.0.0.0/8", "::1/128");
    public static final int DEFAULT_MAX_REQUEST_LINE = 8 * 1024;
    public static final int DEFAULT_MAX_HEAD_BYTES = 16 * 1024;
    public static final int DEFAULT_MAX_FIELDS = 100;
    /** Room the rewritten head may need beyond the received one (X-Real-IP, X-Forwarded-*, Connection). */
    public static final int HEAD_REWRITE_RESERVE = 1024;
    public static final int DEFAULT_CHUNK_SIZE = 32 * 1024;
    public static final int DEFAULT_CHUNKS_PER_SLAB = 64;
    public static final long DEFAULT_BUFFER_MEMORY = 256L * 1024 * 1024;
    /** Descriptors kept for listeners, logs, the JVM's own files. */
    public static final int DESCRIPTOR_MARGIN = 64;
    /** {@link #fdTable(int)}: size the descriptor table for max-connections. */
    public static final int FD_TABLE_AUTO = -1;
    /** Linux's default per-process ceiling (fs.nr_open): auto never reserves more. */
    public static final int FD_TABLE_AUTO_MAX = 1 << 20;
    public static final int DEFAULT_BACKLOG = 4096;
    /**
     * The largest PROXY protocol v2 header accepted (16 bytes and its length field). The addresses take at most 216
     * bytes; the rest is TLVs, which real senders keep small (AWS's VPC endpoint id, GCP's and Azure's link ids, an
     * SNI of up to 255 bytes, HAProxy's unique id of up to 128 and its TLS details), so 1.5 KiB leaves room for all
     * of them at once while a peer cannot make a connection hold more before it is known to speak the protocol.
     */
    public static final int DEFAULT_PROXY_PROTOCOL_MAX_SIZE = 1536;
    /** HTTP/2 on TLS listeners (ALPN h2): off until issue 16 is complete. */
    public static final boolean DEFAULT_HTTP2 = false;
    /** SETTINGS_MAX_CONCURRENT_STREAMS we advertise; more streams at once are refused (REFUSED_STREAM). */
    public static final int DEFAULT_HTTP2_MAX_CONCURRENT_STREAMS = 100;
    /** SETTINGS_MAX_HEADER_LIST_SIZE, enforced while decoding (a larger request head is answered 431). */
    public static final int DEFAULT_HTTP2_MAX_HEADER_LIST_SIZE = 16 * 1024;
    /** SETTINGS_INITIAL_WINDOW_SIZE: request body bytes one stream may have in flight to us. */
    public static final int DEFAULT_HTTP2_STREAM_WINDOW = 256 * 1024;
    /** The connection's receive window: request body bytes all streams of one connection may have in flight. */
    public static final int DEFAULT_HTTP2_CONNECTION_WINDOW = 1024 * 1024;
    /**
     * Frames that make us work without serving a request (PING, SETTINGS, PRIORITY, RST_STREAM, unknown types,
     * empty DATA without END_STREAM, streams the client resets before their answer ended) one HTTP/2 connection may
     * send per 10 s; beyond it, GOAWAY(ENHANCE_YOUR_CALM). CVE-2023-44487 (rapid reset) and CVE-2019-9512/9515.
     */
    public static final int DEFAULT_HTTP2_FLOOD_LIMIT = 1000;
    /**
     * WebSocket frames whose payload still to come is at least this long move socket to pipe to socket with splice(2)
     * on a native transport; below it one copy through a chunk costs less than the extra system calls.
     */
    /**
     * Off by default: on loopback (a sidecar next to its node, the bench) splicing cost more CPU per GiB than the
     * copy path (bench/results/2026-12-07-bulk: 0.91 against 0.80 s, HAProxy's splice-auto 1.07 against its 0.97).
     */
    public static final long DEFAULT_SPLICE_THRESHOLD = 0;
    /** Kernel pipes per loop for splicing: two descriptors each, and up to 1 MiB of kernel memory while in use. */
    public static final int DEFAULT_SPLICE_PIPES = 8;
    /** Above any real v2 header; also what one TLS input buffer holds of what follows it on a TLS listener. */
    public static final int MAX_PROXY_PROTOCOL_MAX_SIZE = 16 * 1024;

    /**
     * How long an upgrade may wait for its slot under {@code max-handshake-rate}: a few seconds of smoothing beat
     * the SDKs' backoff after an error (up to 20 s), and past about 10 s a client's own handshake patience ends.
     */
    public static final long DEFAULT_ADMISSION_WAIT_NS = TimeUnit.SECONDS.toNanos(10);

    private final List<InetSocketAddress> listen = new ArrayList<>();
    private final List<Upstream> upstreams = new ArrayList<>();
    private Balance balance = Balance.LEAST_CONN;
    private AcceptMode acceptMode = AcceptMode.REUSEPORT;
    private IdleMode idleMode = IdleMode.BLOCK;
    /** What was asked for: nio, epoll, io_uring or auto. {@code -Dcentrigate.transport} sets the default (tests run on each). */
    private String transport = System.getProperty("centrigate.transport", io.centrigate.loop.Transports.NIO);
    /** What runs, decided by {@link #conclude()}: nio or epoll. */
    private String transportInUse;
    private int loops = Runtime.getRuntime().availableProcessors();
    private int maxConnections = 0;
    private long headerTimeoutNs = DEFAULT_HEADER_TIMEOUT_NS;
    private long firstByteTimeoutNs = DEFAULT_FIRST_BYTE_TIMEOUT_NS;
    private long connectTimeoutNs = DEFAULT_CONNECT_TIMEOUT_NS;
    private long nextUpstreamTimeoutNs = DEFAULT_NEXT_UPSTREAM_TIMEOUT_NS;
    private long readTimeoutNs = DEFAULT_READ_TIMEOUT_NS;
    private long tunnelIdleTimeoutNs = DEFAULT_TUNNEL_IDLE_TIMEOUT_NS;
    private long failTimeoutNs = DEFAULT_FAIL_TIMEOUT_NS;
    /** Null: no active health checks. */
    private String healthCheckPath;
    private long healthCheckIntervalNs = DEFAULT_HEALTH_CHECK_INTERVAL_NS;
    private long healthCheckTimeoutNs = DEFAULT_HEALTH_CHECK_TIMEOUT_NS;
    private int healthCheckRise = DEFAULT_HEALTH_CHECK_RISE;
    private int healthCheckFall = DEFAULT_HEALTH_CHECK_FALL;
    private long upgradeTimeoutNs = DEFAULT_UPGRADE_TIMEOUT_NS;
    private long slowStartNs = 0;
    private long resolveIntervalNs = DEFAULT_RESOLVE_INTERVAL_NS;
    private int maxEjectedPercent = DEFAULT_MAX_EJECTED_PERCENT;
    private boolean rebalance = DEFAULT_REBALANCE;
    private int rebalanceThresholdPercent = DEFAULT_REBALANCE_THRESHOLD_PERCENT;
    private long rebalanceSettleNs = DEFAULT_REBALANCE_SETTLE_NS;
    private String rebalanceRate = DEFAULT_REBALANCE_RATE;
    private double rebalanceRatePerSecond;
    private double rebalanceRatePercent;
    private long rebalanceMinAgeNs = DEFAULT_REBALANCE_MIN_AGE_NS;
    private long keepAliveTimeoutNs = DEFAULT_KEEPALIVE_TIMEOUT_NS;
    private long drainTimeoutNs = 0;
    private long warmupNs = 0;
    /** auto, background or normal: the JIT compiler threads' scheduling once the listeners are open. */
    private String jitPriority = "auto";
    /** Descriptor-table slots to reserve at start: {@link #FD_TABLE_AUTO}, 0 (off) or a count. */
    private int fdTable = FD_TABLE_AUTO;
    /** {@link #fdTable}'s count, decided by {@link #conclude()}. */
    private int fdTableSlots;
    private long sendTimeoutNs = DEFAULT_SEND_TIMEOUT_NS;
    private long upstreamIdleTimeoutNs = DEFAULT_UPSTREAM_IDLE_TIMEOUT_NS;
    private int upstreamKeepAlive = DEFAULT_UPSTREAM_KEEPALIVE;
    /** As given ({@code ADDR[-ADDR][,...]} each); parsed into {@link #upstreamSources} by {@link #conclude}. */
    private final List<String> upstreamSourceSpecs = new ArrayList<>();
    private List<java.net.InetAddress> upstreamSources = List.of();
    private boolean sockJsSticky = DEFAULT_SOCKJS_STICKY;
    private long maxBodySize = DEFAULT_MAX_BODY_SIZE;
    private final java.util.Map<Integer, java.nio.file.Path> errorPages = new java.util.TreeMap<>();
    private final java.util.Map<String, List<Upstream>> groups = new java.util.LinkedHashMap<>();
    private final List<VirtualHost> virtualHosts = new ArrayList<>();
    private String prefix;
    private final List<InetSocketAddress> tlsListen = new ArrayList<>();
    private final List<InetSocketAddress> redirectListen = new ArrayList<>();
    private java.nio.file.Path tlsCert;
    private java.nio.file.Path tlsKey;
    private String serverName;
    private String outsidePrefixGroup;
    private List<String> internalPaths = DEFAULT_INTERNAL_PATHS;
    private List<String> internalAllow = DEFAULT_INTERNAL_ALLOW;
    private final List<InetSocketAddress> adminListen = new ArrayList<>();
    private List<String> adminAllow = DEFAULT_ADMIN_ALLOW;
    private java.nio.file.Path adminTokenFile;
    private String adminToken;
    /** Access log destination: a file path, {@link #ACCESS_LOG_STDOUT}, or null (off). */
    private String accessLog;
    private boolean accessLogQuery;
    private int accessLogBuffer = DEFAULT_ACCESS_LOG_BUFFER;
    private final java.util.Set<String> protectedGroups = new java.util.LinkedHashSet<>(List.of(DEFAULT_GROUP));
    private int maxRequestLine = DEFAULT_MAX_REQUEST_LINE;
    private int maxHeadBytes = DEFAULT_MAX_HEAD_BYTES;
    private int maxFields = DEFAULT_MAX_FIELDS;
    private int chunkSize = DEFAULT_CHUNK_SIZE;
    private long bufferMemory = DEFAULT_BUFFER_MEMORY;
    private int backlog = DEFAULT_BACKLOG;
    private long openFileLimit = -1;
    /** Which listeners require a PROXY protocol header: plain, tls, all, or listen addresses; empty: none. */
    private List<String> proxyProtocol = List.of();
    private List<String> proxyProtocolFrom = List.of();
    private int proxyProtocolMaxSize = DEFAULT_PROXY_PROTOCOL_MAX_SIZE;
    private boolean http2 = DEFAULT_HTTP2;
    private int http2MaxConcurrentStreams = DEFAULT_HTTP2_MAX_CONCURRENT_STREAMS;
    private int http2MaxHeaderListSize = DEFAULT_HTTP2_MAX_HEADER_LIST_SIZE;
    private int http2StreamWindow = DEFAULT_HTTP2_STREAM_WINDOW;
    private int http2ConnectionWindow = DEFAULT_HTTP2_CONNECTION_WINDOW;
    private int http2FloodLimit = DEFAULT_HTTP2_FLOOD_LIMIT;
    private long spliceThreshold = DEFAULT_SPLICE_THRESHOLD;
    private int splicePipes = DEFAULT_SPLICE_PIPES;
    private List<String> trustedProxies = List.of();
    /** Derived from {@link #proxyProtocol} by {@link #conclude()}. */
    private boolean proxyProtocolPlain;
    private boolean proxyProtocolTls;
    private boolean proxyProtocolAll;
    private final List<InetSocketAddress> proxyProtocolListeners = new ArrayList<>();
    private AddressRanges proxyProtocolFromRanges = AddressRanges.NONE;
    private AddressRanges trustedProxyRanges = AddressRanges.NONE;
    /** Per client address (IPv4, IPv6 /64); 0: no limit. */
    private int maxConnectionsPerClient;
    /** {@code R[/s|/m][:BURST]} or off; parsed by {@link #conclude()}. */
    private String handshakeRatePerClient = "off";
    private Rate handshakeRatePerClientParsed = Rate.OFF;
    private String maxHandshakeRate = "off";
    private Rate maxHandshakeRateParsed = Rate.OFF;
    private long admissionWaitNs = DEFAULT_ADMISSION_WAIT_NS;
    private int clientTableSize = io.centrigate.limit.ClientTable.DEFAULT_SLOTS;
    private boolean concluded;
    private final List<String> warnings = new ArrayList<>();

    /** A rate with its burst: {@code perSecond} 0 is off. */
    public record Rate(double perSecond, int burst)
    {
        public static final Rate OFF = new Rate(0, 0);

        public boolean on()
        {
            return perSecond > 0;
        }

        /** Nanoseconds per token. */
        public long intervalNs()
        {
            return Math.max(1, Math.round(1e9 / perSecond));
        }
    }

    public enum Balance
    {
        LEAST_CONN, ROUND_ROBIN;

        public static Balance parse(final String s)
        {
            switch (s)
            {
                case "least-conn": return LEAST_CONN;
                case "round-robin": return ROUND_ROBIN;
                default: throw new IllegalArgumentException("balance: expected least-conn or round-robin, got '" + s + "'");
            }
        }

        public String flag()
        {
            return this == LEAST_CONN ? "least-conn" : "round-robin";
        }
    }

    /** How accepted sockets reach a loop: a listener per loop with SO_REUSEPORT, or one acceptor that hands off. */
    public enum AcceptMode
    {
        REUSEPORT, ACCEPTOR;

        public static AcceptMode parse(final String s)
        {
            switch (s)
            {
                case "reuseport": return REUSEPORT;
                case "acceptor": return ACCEPTOR;
                default: throw new IllegalArgumentException("accept: expected reuseport or acceptor, got '" + s + "'");
            }
        }

        public String flag()
        {
            return name().toLowerCase();
        }
    }

    public enum IdleMode
    {
        BLOCK, BACKOFF, YIELD, SPIN;

        public static IdleMode parse(final String s)
        {
            for (final IdleMode m : values())
            {
                if (m.flag().equals(s))
                {
                    return m;
                }
            }
            throw new IllegalArgumentException("idle-strategy: expected block, backoff, yield or spin, got '" + s + "'");
        }

        public String flag()
        {
            return name().toLowerCase();
        }
    }

    /** One upstream node; weight scales its share (least-conn compares active/weight). */
    public record Upstream(InetSocketAddress address, int weight)
    {
        public Upstream
        {
            if (weight < 1 || weight > MAX_WEIGHT)
            {
                throw new IllegalArgumentException("upstream weight must be 1.." + MAX_WEIGHT + ", got " + weight);
            }
        }

        /**
         * Given as a DNS name rather than an IP literal: expanded to every address it resolves to, and resolved
         * again every {@code resolve-interval}. Literal addresses never are, nor {@code localhost}: it names this
         * host's loopback (RFC 6761), not a set of nodes, and expanding it would add {@code ::1} next to
         * {@code 127.0.0.1} where most servers listen on one of them only.
         */
        public boolean named()
        {
            final String host = address.getHostString();
            return !isIpLiteral(host) && !host.equalsIgnoreCase("localhost");
        }

        @Override
        public String toString()
        {
            final String hostPort = address.getHostString() + ":" + address.getPort();
            return weight == 1 ? hostPort : hostPort + "@" + weight;
        }
    }

    public ProxyContext listen(final InetSocketAddress address)
    {
        listen.add(address);
        return this;
    }

    public ProxyContext upstream(final InetSocketAddress address, final int weight)
    {
        upstreams.add(new Upstream(address, weight));
        return this;
    }

    /** Adds a node to a named upstream group (for virtual hosts and the outside-prefix backend). */
    public ProxyContext groupUpstream(final String group, final InetSocketAddress address, final int weight)
    {
        if (DEFAULT_GROUP.equals(group))
        {
            return upstream(address, weight);
        }
        groups.computeIfAbsent(group, g -> new ArrayList<>()).add(new Upstream(address, weight));
        return this;
    }

    /** Requests whose Host is {@code host} (exact, or {@code *.example.com}) go to {@code group}. */
    public ProxyContext virtualHost(final String host, final String group)
    {
        virtualHosts.add(new VirtualHost(host.toLowerCase(java.util.Locale.ROOT), group));
        return this;
    }

    /** A TLS listener (HTTPS and WSS), served with {@link #tlsCert}/{@link #tlsKey} on the same loops. */
    public ProxyContext tlsListen(final InetSocketAddress address)
    {
        tlsListen.add(address);
        return this;
    }

    /** A plain HTTP listener that answers every request with 301 to the same host and path over https. */
    public ProxyContext redirectListen(final InetSocketAddress address)
    {
        redirectListen.add(address);
        return this;
    }

    public ProxyContext tlsCert(final java.nio.file.Path pem)
    {
        tlsCert = pem;
        return this;
    }

    public ProxyContext tlsKey(final java.nio.file.Path pem)
    {
        tlsKey = pem;
        return this;
    }

    /** The host redirects point to (Nginx {@code $server_name}); unset, the request's own Host is used. */
    public ProxyContext serverName(final String name)
    {
        serverName = name;
        return this;
    }

    /** Embedded mode: only paths under the prefix are proxied to the nodes, with the prefix stripped. */
    public ProxyContext prefix(final String prefix)
    {
        this.prefix = prefix;
        return this;
    }

    /** Where requests outside the prefix go (a group name); null answers them 404. */
    public ProxyContext outsidePrefixGroup(final String group)
    {
        this.outsidePrefixGroup = group;
        return this;
    }

    public ProxyContext internalPaths(final List<String> patterns)
    {
        this.internalPaths = List.copyOf(patterns);
        return this;
    }

    public ProxyContext internalAllow(final List<String> cidrs)
    {
        this.internalAllow = List.copyOf(cidrs);
        return this;
    }

    /** An admin listener (operator endpoints: /live, /ready, /status, /metrics); none by default. */
    public ProxyContext adminListen(final InetSocketAddress address)
    {
        adminListen.add(address);
        return this;
    }

    /** Address ranges that may use the admin listener (403 otherwise); default {@link #DEFAULT_ADMIN_ALLOW}. */
    public ProxyContext adminAllow(final List<String> cidrs)
    {
        this.adminAllow = List.copyOf(cidrs);
        return this;
    }

    /** A file holding the bearer token the admin listener requires for endpoints that change state. */
    public ProxyContext adminTokenFile(final java.nio.file.Path file)
    {
        this.adminTokenFile = file;
        return this;
    }

    /**
     * Listeners that require a PROXY protocol header (v1 or v2) before anything else: {@code plain} (every
     * {@code listen}), {@code tls} (every {@code tls-listen}), {@code all} (those and every {@code redirect-http}),
     * or a listener's own {@code HOST:PORT} as configured; {@code off} or an empty list: none (the default).
     */
    public ProxyContext proxyProtocol(final List<String> listeners)
    {
        this.proxyProtocol = List.copyOf(listeners);
        return this;
    }

    /** Peers that may send a PROXY protocol header (others are closed); empty: any peer (the default). */
    public ProxyContext proxyProtocolFrom(final List<String> cidrs)
    {
        this.proxyProtocolFrom = List.copyOf(cidrs);
        return this;
    }

    /** The largest PROXY protocol v2 header accepted, bytes; v1 lines are at most 107 bytes by the specification. */
    public ProxyContext proxyProtocolMaxSize(final int v) { proxyProtocolMaxSize = v; return this; }
    public ProxyContext http2(final boolean v) { http2 = v; return this; }
    public ProxyContext http2MaxConcurrentStreams(final int v) { http2MaxConcurrentStreams = v; return this; }
    public ProxyContext http2MaxHeaderListSize(final int v) { http2MaxHeaderListSize = v; return this; }
    public ProxyContext http2InitialStreamWindow(final int v) { http2StreamWindow = v; return this; }
    public ProxyContext http2ConnectionWindow(final int v) { http2ConnectionWindow = v; return this; }
    public ProxyContext http2FloodLimit(final int v) { http2FloodLimit = v; return this; }
    /** 0 turns splicing off. */
    public ProxyContext spliceThreshold(final long v) { spliceThreshold = v; return this; }
    public ProxyContext splicePipes(final int v) { splicePipes = v; return this; }

    /**
     * Forwarders (a CDN, an HTTP load balancer) whose X-Forwarded-For and X-Forwarded-Proto are believed: from a
     * connection whose address is in these ranges, the client is the rightmost untrusted X-Forwarded-For entry.
     */
    public ProxyContext trustedProxies(final List<String> cidrs)
    {
        this.trustedProxies = List.copyOf(cidrs);
        return this;
    }

    /** Access log: a file, {@code stdout}, or {@code off}/null (the default: nothing of it exists). */
    public ProxyContext accessLog(final String destination)
    {
        this.accessLog = destination == null || destination.isBlank() || destination.trim().equals("off") ? null :
            destination.trim();
        return this;
    }

    /** Keep the query string in logged paths (off by default: the path alone, tokens stay out of logs). */
    public ProxyContext accessLogQuery(final boolean v) { accessLogQuery = v; return this; }

    /** Bytes of the ring between the loops and the access log's writer (rounded up to a power of two). */
    public ProxyContext accessLogBuffer(final long v)
    {
        accessLogBuffer = (int)Math.max(0, Math.min(Integer.MAX_VALUE, v));
        return this;
    }

    /** Groups whose internal endpoints are guarded (default: the Centrifugo nodes of {@code --upstream}). */
    public ProxyContext protectGroup(final String group)
    {
        protectedGroups.add(group);
        return this;
    }

    /** Host-based routing rule. */
    public record VirtualHost(String host, String group)
    {
    }

    public ProxyContext upstream(final InetSocketAddress address)
    {
        return upstream(address, 1);
    }

    public ProxyContext balance(final Balance v) { balance = v; return this; }
    public ProxyContext acceptMode(final AcceptMode v) { acceptMode = v; return this; }
    public ProxyContext idleMode(final IdleMode v) { idleMode = v; return this; }
    public ProxyContext transport(final String v) { transport = v; return this; }
    public ProxyContext loops(final int v) { loops = v; return this; }
    /** 0 derives the limit from RLIMIT_NOFILE. */
    public ProxyContext maxConnections(final int v) { maxConnections = v; return this; }
    /** 0 turns the timeout off, as for every timeout here. */
    public ProxyContext headerTimeoutNs(final long v) { headerTimeoutNs = v; return this; }
    public ProxyContext firstByteTimeoutNs(final long v) { firstByteTimeoutNs = v; return this; }
    public ProxyContext connectTimeoutNs(final long v) { connectTimeoutNs = v; return this; }
    public ProxyContext nextUpstreamTimeoutNs(final long v) { nextUpstreamTimeoutNs = v; return this; }
    public ProxyContext readTimeoutNs(final long v) { readTimeoutNs = v; return this; }
    public ProxyContext tunnelIdleTimeoutNs(final long v) { tunnelIdleTimeoutNs = v; return this; }
    public ProxyContext failTimeoutNs(final long v) { failTimeoutNs = v; return this; }
    /** The path of active health checks ({@code GET}); null or {@code off}: no checks. */
    public ProxyContext healthCheckPath(final String v) { healthCheckPath = v == null || v.equals("off") ? null : v; return this; }
    public ProxyContext healthCheckIntervalNs(final long v) { healthCheckIntervalNs = v; return this; }
    public ProxyContext healthCheckTimeoutNs(final long v) { healthCheckTimeoutNs = v; return this; }
    public ProxyContext healthCheckRise(final int v) { healthCheckRise = v; return this; }
    public ProxyContext healthCheckFall(final int v) { healthCheckFall = v; return this; }
    /** A node usable again ramps its share of new connections up over this; 0 = at once. */
    public ProxyContext slowStartNs(final long v) { slowStartNs = v; return this; }
    /** Upstream names are resolved again this often, off the loops; 0 = only at start. */
    public ProxyContext resolveIntervalNs(final long v) { resolveIntervalNs = v; return this; }
    /** An upgrade (or idempotent request) with no answer byte within this goes to another node; 0 = never. */
    public ProxyContext upgradeTimeoutNs(final long v) { upgradeTimeoutNs = v; return this; }
    public ProxyContext maxEjectedPercent(final int v) { maxEjectedPercent = v; return this; }
    /** Off: tunnels stay where they are however uneven (an admin drain still closes its node's tunnels). */
    public ProxyContext rebalance(final boolean v) { rebalance = v; return this; }
    public ProxyContext rebalanceThresholdPercent(final int v) { rebalanceThresholdPercent = v; return this; }
    public ProxyContext rebalanceSettleNs(final long v) { rebalanceSettleNs = v; return this; }
    /** Closes per second per process for rebalancing and drains: a number ({@code 50}) or a share of tunnels ({@code 1%}). */
    public ProxyContext rebalanceRate(final String v) { rebalanceRate = v; return this; }
    /** 0: any tunnel may be moved. */
    public ProxyContext rebalanceMinAgeNs(final long v) { rebalanceMinAgeNs = v; return this; }
    public ProxyContext keepAliveTimeoutNs(final long v) { keepAliveTimeoutNs = v; return this; }
    /** On stop, how long tunnels and exchanges may run on before tunnels get close 1001; 0 = at once. */
    public ProxyContext drainTimeoutNs(final long v) { drainTimeoutNs = v; return this; }
    /** Concurrent connections per client address (IPv4 address, IPv6 /64); beyond it 429. 0: no limit. */
    public ProxyContext maxConnectionsPerClient(final int v) { maxConnectionsPerClient = v; return this; }
    /** WebSocket handshakes per client address: {@code R[/s|/m][:BURST]} (a token bucket), or {@code off}. */
    public ProxyContext handshakeRatePerClient(final String v) { handshakeRatePerClient = v; return this; }
    /** WebSocket upgrades admitted per second by the process: {@code R[/s|/m][:BURST]}, or {@code off}. */
    public ProxyContext maxHandshakeRate(final String v) { maxHandshakeRate = v; return this; }
    /** The longest an upgrade waits for admission under {@link #maxHandshakeRate}; beyond it 503. */
    public ProxyContext admissionWaitNs(final long v) { admissionWaitNs = v; return this; }
    /** Slots of the per-client table (rounded up to a power of two); fixed at start. */
    public ProxyContext clientTableSize(final int v) { clientTableSize = v; return this; }
    /** Before the listeners bind, drive loopback traffic through the proxy this long so the JIT compiles it; 0 = off. */
    public ProxyContext warmupNs(final long v) { warmupNs = v; return this; }
    public ProxyContext jitPriority(final String v) { jitPriority = v; return this; }
    /** {@link #FD_TABLE_AUTO}, 0 (off) or the descriptor-table slots to reserve before the listeners open. */
    public ProxyContext fdTable(final int v) { fdTable = v; return this; }
    public ProxyContext sendTimeoutNs(final long v) { sendTimeoutNs = v; return this; }
    public ProxyContext upstreamIdleTimeoutNs(final long v) { upstreamIdleTimeoutNs = v; return this; }
    /** 0 turns the upstream pool off: one upstream connection per request. */
    public ProxyContext upstreamKeepAlive(final int v) { upstreamKeepAlive = v; return this; }
    /**
     * Source addresses for upstream connects, {@code ADDR[-ADDR][,...]} ({@link SourceAddresses}); repeatable,
     * the lists add up. Each connect binds to the next one, in turn per loop.
     */
    public ProxyContext upstreamSource(final String spec) { upstreamSourceSpecs.add(spec); return this; }
    /** Route SockJS fallback requests by session id (rendezvous hashing) instead of least-conn. */
    public ProxyContext sockJsSticky(final boolean v) { sockJsSticky = v; return this; }
    /** 0 means no limit. */
    public ProxyContext maxBodySize(final long v) { maxBodySize = v; return this; }
    /** Replaces the body of a generated error answer with this status by the file's content (HTML). */
    public ProxyContext errorPage(final int status, final java.nio.file.Path file) { errorPages.put(status, file); return this; }
    public ProxyContext maxRequestLine(final int v) { maxRequestLine = v; return this; }
    public ProxyContext maxHeadBytes(final int v) { maxHeadBytes = v; return this; }
    public ProxyContext maxFields(final int v) { maxFields = v; return this; }
    public ProxyContext chunkSize(final int v) { chunkSize = v; return this; }
    public ProxyContext bufferMemory(final long v) { bufferMemory = v; return this; }
    public ProxyContext backlog(final int v) { backlog = v; return this; }
    /** For tests and {@code check}: pretend the descriptor limit is this; -1 reads the real one. */
    public ProxyContext openFileLimit(final long v) { openFileLimit = v; return this; }

    public List<InetSocketAddress> listen() { return List.copyOf(listen); }
    public List<Upstream> upstreams() { return List.copyOf(upstreams); }
    public Balance balance() { return balance; }
    public AcceptMode acceptMode() { return acceptMode; }
    public IdleMode idleMode() { return idleMode; }
    public String transport() { return transport; }
    /** The transport that runs (auto resolved), after {@link #conclude()}. */
    public String transportInUse() { return transportInUse; }
    public int loops() { return loops; }
    public int maxConnections() { return maxConnections; }
    public long headerTimeoutNs() { return headerTimeoutNs; }
    public long firstByteTimeoutNs() { return firstByteTimeoutNs; }
    public long connectTimeoutNs() { return connectTimeoutNs; }
    public long nextUpstreamTimeoutNs() { return nextUpstreamTimeoutNs; }
    public long readTimeoutNs() { return readTimeoutNs; }
    public long tunnelIdleTimeoutNs() { return tunnelIdleTimeoutNs; }
    public long failTimeoutNs() { return failTimeoutNs; }
    public String healthCheckPath() { return healthCheckPath; }
    public long healthCheckIntervalNs() { return healthCheckIntervalNs; }
    public long healthCheckTimeoutNs() { return healthCheckTimeoutNs; }
    public int healthCheckRise() { return healthCheckRise; }
    public int healthCheckFall() { return healthCheckFall; }
    public long upgradeTimeoutNs() { return upgradeTimeoutNs; }
    public long slowStartNs() { return slowStartNs; }
    public long resolveIntervalNs() { return resolveIntervalNs; }
    public int maxEjectedPercent() { return maxEjectedPercent; }
    public boolean rebalance() { return rebalance; }
    public int rebalanceThresholdPercent() { return rebalanceThresholdPercent; }
    public long rebalanceSettleNs() { return rebalanceSettleNs; }
    public String rebalanceRate() { return rebalanceRate; }
    /** From {@link #rebalanceRate()} by {@link #conclude()}: a fixed rate, or 0 when it is a share. */
    public double rebalanceRatePerSecond() { return rebalanceRatePerSecond; }
    /** From {@link #rebalanceRate()} by {@link #conclude()}: percent of open tunnels per second, or 0. */
    public double rebalanceRatePercent() { return rebalanceRatePercent; }
    public long rebalanceMinAgeNs() { return rebalanceMinAgeNs; }
    public long keepAliveTimeoutNs() { return keepAliveTimeoutNs; }
    public long drainTimeoutNs() { return drainTimeoutNs; }
    public int maxConnectionsPerClient() { return maxConnectionsPerClient; }
    public String handshakeRatePerClient() { return handshakeRatePerClient; }
    public Rate handshakeRatePerClientParsed() { return handshakeRatePerClientParsed; }
    public String maxHandshakeRate() { return maxHandshakeRate; }
    public Rate maxHandshakeRateParsed() { return maxHandshakeRateParsed; }
    public long admissionWaitNs() { return admissionWaitNs; }
    public int clientTableSize() { return clientTableSize; }

    /** Whether any per-client limit is on: only then are client addresses counted. */
    public boolean perClientLimits()
    {
        return maxConnectionsPerClient > 0 || handshakeRatePerClientParsed.on();
    }
    public long warmupNs() { return warmupNs; }
    public String jitPriority() { return jitPriority; }
    public int fdTable() { return fdTable; }
    /**
     * The descriptor-table slots {@code run} reserves before its listeners open ({@link
     * io.centrigate.loop.DescriptorTable}); 0: none. {@code auto}: what max-connections needs (two descriptors a
     * tunnel plus the margin), within the open-files limit.
     */
    public int fdTableSlots() { return fdTableSlots; }

    /**
     * Whether the JIT compiler threads go to the background class once the listeners are open ({@code
     * io.centrigate.loop.JitPriority}): asked for, or {@code auto} after a warm-up (which compiled the hot paths at
     * normal priority). Without a warm-up, {@code auto} leaves them alone: a cold process in a storm that saturates
     * its loops needs the compiler's CPU to ever catch up.
     */
    public boolean jitInBackground()
    {
        return "background".equals(jitPriority) || ("auto".equals(jitPriority) && warmupNs > 0);
    }
    public long sendTimeoutNs() { return sendTimeoutNs; }
    public long upstreamIdleTimeoutNs() { return upstreamIdleTimeoutNs; }
    public int upstreamKeepAlive() { return upstreamKeepAlive; }
    /** The source addresses upstream connects bind to in turn; empty: the kernel's choice (no bind). */
    public List<java.net.InetAddress> upstreamSources() { return upstreamSources; }
    public boolean sockJsSticky() { return sockJsSticky; }
    public long maxBodySize() { return maxBodySize; }
    public java.util.Map<Integer, java.nio.file.Path> errorPages() { return java.util.Map.copyOf(errorPages); }
    public int maxRequestLine() { return maxRequestLine; }
    public int maxHeadBytes() { return maxHeadBytes; }
    public int maxFields() { return maxFields; }
    public int chunkSize() { return chunkSize; }
    public long bufferMemory() { return bufferMemory; }
    public int backlog() { return backlog; }
    public long openFileLimit() { return openFileLimit; }
    public List<String> warnings() { return List.copyOf(warnings); }
    public List<String> proxyProtocol() { return proxyProtocol; }
    public List<String> proxyProtocolFrom() { return proxyProtocolFrom; }
    public int proxyProtocolMaxSize() { return proxyProtocolMaxSize; }
    public boolean http2() { return http2; }
    public int http2MaxConcurrentStreams() { return http2MaxConcurrentStreams; }
    public int http2MaxHeaderListSize() { return http2MaxHeaderListSize; }

    /** The header list size HTTP/2 enforces: a request head must also fit max-head-size once it is HTTP/1.1. */
    public int http2EffectiveHeaderListSize() { return Math.min(http2MaxHeaderListSize, maxHeadBytes); }
    public int http2InitialStreamWindow() { return http2StreamWindow; }
    public int http2ConnectionWindow() { return http2ConnectionWindow; }
    public int http2FloodLimit() { return http2FloodLimit; }
    public long spliceThreshold() { return spliceThreshold; }
    public int splicePipes() { return splicePipes; }
    public List<String> trustedProxies() { return trustedProxies; }
    /** From {@link #proxyProtocolFrom()} by {@link #conclude()}; empty: any peer. */
    public AddressRanges proxyProtocolFromRanges() { return proxyProtocolFromRanges; }
    /** From {@link #trustedProxies()} by {@link #conclude()}. */
    public AddressRanges trustedProxyRanges() { return trustedProxyRanges; }

    /**
     * Whether the listener configured as {@code listener} requires a PROXY protocol header (after {@link #conclude()}).
     *
     * @param tls      a {@code tls-listen} listener.
     * @param redirect a {@code redirect-http} listener.
     */
    public boolean proxyProtocolOn(final InetSocketAddress listener, final boolean tls, final boolean redirect)
    {
        return proxyProtocolAll || (tls ? proxyProtocolTls : !redirect && proxyProtocolPlain) ||
            proxyProtocolListeners.contains(listener);
    }

    /** Whether any listener requires a PROXY protocol header (after {@link #conclude()}). */
    public boolean proxyProtocolAny()
    {
        return proxyProtocolAll || proxyProtocolPlain || proxyProtocolTls || !proxyProtocolListeners.isEmpty();
    }
    public String prefix() { return prefix; }
    public List<InetSocketAddress> tlsListen() { return List.copyOf(tlsListen); }
    public List<InetSocketAddress> redirectListen() { return List.copyOf(redirectListen); }
    public java.nio.file.Path tlsCert() { return tlsCert; }
    public java.nio.file.Path tlsKey() { return tlsKey; }
    public String serverName() { return serverName; }
    public String outsidePrefixGroup() { return outsidePrefixGroup; }
    public List<VirtualHost> virtualHosts() { return List.copyOf(virtualHosts); }
    public List<String> internalPaths() { return internalPaths; }
    public List<String> internalAllow() { return internalAllow; }
    public List<InetSocketAddress> adminListen() { return List.copyOf(adminListen); }
    public List<String> adminAllow() { return adminAllow; }
    public java.nio.file.Path adminTokenFile() { return adminTokenFile; }
    /** The token of {@link #adminTokenFile()}, read by {@link #conclude()} (trimmed); null without a file. */
    public String adminToken() { return adminToken; }
    public String accessLog() { return accessLog; }
    public boolean accessLogQuery() { return accessLogQuery; }
    public int accessLogBuffer() { return accessLogBuffer; }
    public java.util.Set<String> protectedGroups() { return java.util.Set.copyOf(protectedGroups); }

    /** Every upstream group by name, the default one (the {@code --upstream} nodes) first. */
    public java.util.Map<String, List<Upstream>> groups()
    {
        final java.util.Map<String, List<Upstream>> all = new java.util.LinkedHashMap<>();
        all.put(DEFAULT_GROUP, List.copyOf(upstreams));
        for (final var e : groups.entrySet())
        {
            all.put(e.getKey(), List.copyOf(e.getValue()));
        }
        return all;
    }

    /** Chunks one loop may hold at most: its share of {@link #bufferMemory()}. */
    public int maxChunksPerLoop()
    {
        return (int)Math.max(DEFAULT_CHUNKS_PER_SLAB, bufferMemory / loops / chunkSize);
    }

    public ProxyContext conclude()
    {
        if (concluded)
        {
            return this;
        }
        if (listen.isEmpty() && tlsListen.isEmpty() && redirectListen.isEmpty())
        {
            listen.add(parseHostPort(DEFAULT_LISTEN, "listen"));
        }
        // One message per missing piece: the operator learns which key to add, and the cli can trace the
        // message back to the one setting that causes it.
        require(java.util.Arrays.asList(io.centrigate.loop.Transports.NAMES).contains(transport),
            "transport: expected nio, epoll, io_uring or auto, got '" + transport + "'");
        final String transportProblem = io.centrigate.loop.Transports.refusal(transport);
        require(transportProblem == null, "transport " + transport + " is not available here: " + transportProblem);
        transportInUse = io.centrigate.loop.Transports.resolve(transport);
        final String transportNotice = io.centrigate.loop.Transports.fallbackNotice(transport, transportInUse);
        if (transportNotice != null)
        {
            warnings.add(transportNotice);
        }
        if (!tlsListen.isEmpty())
        {
            require(tlsCert != null || tlsKey != null,
                "tls-listen needs tls-cert and tls-key (certificate chain and private key, PEM)");
            require(tlsCert != null, "tls-listen needs tls-cert (certificate chain, PEM) to go with tls-key");
            require(tlsKey != null, "tls-listen needs tls-key (private key, PEM) to go with tls-cert");
        }
        else
        {
            require(tlsCert == null, "tls-cert is set but no tls-listen would serve it");
            require(tlsKey == null, "tls-key is set but no tls-listen would serve it");
        }
        require(tlsCert == null || java.nio.file.Files.isReadable(tlsCert), "tls-cert: cannot read " + tlsCert);
        require(tlsKey == null || java.nio.file.Files.isReadable(tlsKey), "tls-key: cannot read " + tlsKey);
        require(serverName == null || serverName.matches("[A-Za-z0-9.-]+"),
            "server-name must be a host name, got '" + serverName + "'");
        if (upstreams.isEmpty())
        {
            upstreams.add(new Upstream(parseHostPort(DEFAULT_UPSTREAM, "upstream"), 1));
        }
        if (prefix != null)
        {
            require(prefix.startsWith("/") && prefix.length() > 1 && !prefix.contains("?") && !prefix.contains(" "),
                "prefix must be a path like /centrifugo, got '" + prefix + "'");
            // Trailing slash optional: /centrifugo and /centrifugo/ mean the same.
            prefix = prefix.endsWith("/") ? prefix.substring(0, prefix.length() - 1) : prefix;
        }
        require(outsidePrefixGroup == null || prefix != null, "default-upstream needs a prefix");
        require(outsidePrefixGroup == null || groups.containsKey(outsidePrefixGroup),
            "default-upstream: unknown group '" + outsidePrefixGroup + "'");
        for (final VirtualHost vh : virtualHosts)
        {
            require(DEFAULT_GROUP.equals(vh.group()) || groups.containsKey(vh.group()),
                "virtual host " + vh.host() + ": unknown upstream group '" + vh.group() + "'");
        }
        for (final String pattern : internalPaths)
        {
            require(pattern.startsWith("/"), "internal path pattern must start with /: '" + pattern + "'");
        }
        for (final String cidr : internalAllow)
        {
            io.centrigate.config.Cidr.parse(cidr);
        }
        for (final String cidr : adminAllow)
        {
            io.centrigate.config.Cidr.parse(cidr);
        }
        concludeProxyProtocol();
        if (adminTokenFile != null)
        {
            require(!adminListen.isEmpty(), "admin-token-file is set but no admin-listen would use it");
            require(java.nio.file.Files.isReadable(adminTokenFile), "admin-token-file: cannot read " + adminTokenFile);
            try
            {
                adminToken = java.nio.file.Files.readString(adminTokenFile).trim();
            }
            catch (final java.io.IOException | java.io.UncheckedIOException e)
            {
                throw new IllegalArgumentException("admin-token-file: cannot read " + adminTokenFile + ": " + e.getMessage());
            }
            require(!adminToken.isEmpty(), "admin-token-file: " + adminTokenFile + " is empty");
            require(adminToken.chars().allMatch(c -> c > 0x20 && c < 0x7F),
                "admin-token-file: the token must be one line of visible ASCII characters");
        }
        require(accessLogBuffer >= 8 * 1024 && accessLogBuffer <= 1024 * 1024 * 1024,
            "access-log-buffer must be 8k..1g");
        require(accessLog != null || !accessLogQuery, "access-log-query is set but access-log is off");
        require(loops >= 1 && loops <= 1024, "loops must be 1..1024, got " + loops);
        require(headerTimeoutNs >= 0, "header-timeout must not be negative");
        require(firstByteTimeoutNs >= 0, "first-byte-timeout must not be negative");
        require(connectTimeoutNs >= 0, "connect-timeout must not be negative");
        require(nextUpstreamTimeoutNs >= 0, "next-upstream-timeout must not be negative");
        require(readTimeoutNs >= 0, "read-timeout must not be negative");
        require(tunnelIdleTimeoutNs >= 0, "tunnel-idle-timeout must not be negative");
        require(failTimeoutNs >= 0, "fail-timeout must not be negative");
        require(healthCheckPath == null || healthCheckPath.startsWith("/") &&
            healthCheckPath.chars().allMatch(c -> c > 0x20 && c < 0x7F),
            "health-check-path must be off or a path starting with / (visible ASCII), got " + healthCheckPath);
        require(healthCheckIntervalNs >= TimeUnit.MILLISECONDS.toNanos(10), "health-check-interval must be at least 10ms");
        require(healthCheckTimeoutNs > 0, "health-check-timeout must be positive");
        require(healthCheckRise >= 1 && healthCheckRise <= 1000, "health-check-rise must be 1..1000");
        require(healthCheckFall >= 1 && healthCheckFall <= 1000, "health-check-fall must be 1..1000");
        require(upgradeTimeoutNs >= 0, "upgrade-timeout must not be negative");
        require(slowStartNs >= 0, "slow-start must not be negative");
        require(resolveIntervalNs == 0 || resolveIntervalNs >= TimeUnit.MILLISECONDS.toNanos(100),
            "resolve-interval must be 0 (resolve only at start) or at least 100ms");
        require(maxEjectedPercent >= 0 && maxEjectedPercent <= 100, "max-ejected-percent must be 0..100");
        concludeRebalance();
        concludeLimits();
        require(keepAliveTimeoutNs >= 0, "keepalive-timeout must not be negative");
        require(sendTimeoutNs >= 0, "send-timeout must not be negative");
        require(drainTimeoutNs >= 0, "drain-timeout must not be negative");
        require(warmupNs >= 0, "warmup must not be negative");
        require("auto".equals(jitPriority) || "background".equals(jitPriority) || "normal".equals(jitPriority),
            "jit-priority: expected auto, background or normal, got '" + jitPriority + "'");
        require(upstreamIdleTimeoutNs >= 0, "upstream-idle-timeout must not be negative");
        require(upstreamKeepAlive >= 0 && upstreamKeepAlive <= 100_000, "upstream-keepalive must be 0..100000");
        upstreamSources = SourceAddresses.parse(upstreamSourceSpecs, "upstream-source");
        require(maxBodySize >= 0, "max-body-size must not be negative");
        for (final var page : errorPages.entrySet())
        {
            require(page.getKey() >= 400 && page.getKey() <= 599, "error-page: status must be 400..599, got " + page.getKey());
            require(java.nio.file.Files.isReadable(page.getValue()), "error-page: cannot read " + page.getValue());
        }
        require(maxRequestLine >= 64, "max-request-line must be at least 64 bytes");
        require(maxHeadBytes >= maxRequestLine, "max-head-size must be at least max-request-line");
        require(maxFields >= 1 && maxFields <= 10_000, "max-fields must be 1..10000");
        require(chunkSize >= maxHeadBytes + HEAD_REWRITE_RESERVE,
            "chunk-size (" + chunkSize + ") must hold max-head-size (" + maxHeadBytes + ") plus " +
            HEAD_REWRITE_RESERVE + " bytes for the rewritten head");
        require(chunkSize <= 16 * 1024 * 1024, "chunk-size must be at most 16 MiB");
        require(bufferMemory >= (long)chunkSize * loops * 2, "buffer-memory must hold at least two chunks per loop");
        require(backlog >= 1, "backlog must be positive");
        require(maxConnections >= 0, "max-connections must not be negative");

        final long nofile = openFileLimit >= 0 ? openFileLimit : OpenFileLimit.current();
        // Each tunnel holds two descriptors (client and upstream side).
        final long allowed = nofile > 0 ? Math.max(1, (nofile - DESCRIPTOR_MARGIN - listen.size() * (long)loops) / 2) : 0;
        if (maxConnections == 0)
        {
            maxConnections = allowed > 0 ? (int)Math.min(Integer.MAX_VALUE, allowed) : 10_000;
        }
        else if (allowed > 0 && maxConnections > allowed)
        {
            warnings.add("max-connections " + maxConnections + " needs about " + (2L * maxConnections + DESCRIPTOR_MARGIN) +
                " open files but the limit (RLIMIT_NOFILE) is " + nofile +
                ": raise it (ulimit -n, LimitNOFILE=) or expect accept to fail with EMFILE");
        }
        require(fdTable >= FD_TABLE_AUTO, "fd-table: expected auto, 0 or a count of descriptors, got " + fdTable);
        final long wanted = fdTable == FD_TABLE_AUTO ?
            Math.min(FD_TABLE_AUTO_MAX, 2L * maxConnections + DESCRIPTOR_MARGIN + listen.size() * (long)loops) : fdTable;
        fdTableSlots = (int)(nofile > 0 ? Math.min(wanted, nofile) : wanted);
        concluded = true;
        return this;
    }

    private static void require(final boolean condition, final String message)
    {
        if (!condition)
        {
            throw new IllegalArgumentException(message);
        }
    }

    /** An IPv4 dotted quad or an IPv6 address (any text with a colon), not a name to resolve. */
    public static boolean isIpLiteral(final String host)
    {
        if (host.indexOf(':') >= 0)
        {
            return true;
        }
        int dots = 0;
        for (int i = 0; i < host.length(); i++)
        {
            final char c = host.charAt(i);
            if (c == '.')
            {
                dots++;
            }
            else if (c < '0' || c > '9')
            {
                return false;
            }
        }
        return dots == 3;
    }

    /** Parses {@code HOST:PORT}, {@code [v6]:PORT} or {@code :PORT} (all addresses). */
    public static InetSocketAddress parseHostPort(final String value, final String what)
    {
        final String s = value.trim();
        final int colon = s.lastIndexOf(':');
        if (colon < 0)
        {
            throw new IllegalArgumentException(what + ": expected HOST:PORT, got '" + value + "'");
        }
        String host = s.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]"))
        {
            host = host.substring(1, host.length() - 1);
        }
        if (host.isEmpty())
        {
            host = "0.0.0.0";
        }
        final int port;
        try
        {
            port = Integer.parseInt(s.substring(colon + 1));
        }
        catch (final NumberFormatException e)
        {
            throw new IllegalArgumentException(what + ": bad port in '" + value + "'");
        }
        if (port < 0 || port > 65535)
        {
            throw new IllegalArgumentException(what + ": port out of range in '" + value + "'");
        }
        // Resolved once at start: a name that does not resolve is a configuration error, not a runtime one.
        final InetSocketAddress address = new InetSocketAddress(host, port);
        if (address.isUnresolved())
        {
            throw new IllegalArgumentException(what + ": cannot resolve host '" + host + "'");
        }
        return address;
    }

    /**
     * Parses {@code 500ms}, {@code 5s}, {@code 2m}, {@code 1h}; a bare number is seconds; {@code 0} is off.
     */
    /** {@code on}/{@code off} (also {@code true}/{@code false}), as the flags and the file spell a switch. */
    public static boolean parseOnOff(final String value, final String what)
    {
        switch (value.trim().toLowerCase(java.util.Locale.ROOT))
        {
            case "on": case "true": return true;
            case "off": case "false": return false;
            default: throw new IllegalArgumentException(what + ": expected on or off, got '" + value + "'");
        }
    }

    public static long parseDurationNs(final String value, final String what)
    {
        final String s = value.trim().toLowerCase();
        int end = 0;
        while (end < s.length() && Character.isDigit(s.charAt(end)))
        {
            end++;
        }
        if (end == 0)
        {
            throw new IllegalArgumentException(what + ": expected a duration like 500ms, 5s, 2m or 0, got '" + value + "'");
        }
        final long n;
        try
        {
            n = Long.parseLong(s.substring(0, end));
        }
        catch (final NumberFormatException e)
        {
            throw new IllegalArgumentException(what + ": duration out of range: '" + value + "'");
        }
        final String unit = s.substring(end);
        final TimeUnit tu;
        switch (unit)
        {
            case "ms": tu = TimeUnit.MILLISECONDS; break;
            case "":
            case "s": tu = TimeUnit.SECONDS; break;
            case "m": tu = TimeUnit.MINUTES; break;
            case "h": tu = TimeUnit.HOURS; break;
            default:
                throw new IllegalArgumentException(what + ": unknown unit '" + unit + "' in '" + value + "' (use ms, s, m, h)");
        }
        return tu.toNanos(n);
    }

    /** Parses a size like {@code 32k}, {@code 256m}, {@code 1g} or bytes. */
    public static long parseSize(final String value, final String what)
    {
        final String s = value.trim().toLowerCase();
        long mult = 1;
        String digits = s;
        if (s.endsWith("k") || s.endsWith("kib"))
        {
            mult = 1024;
        }
        else if (s.endsWith("m") || s.endsWith("mib"))
        {
            mult = 1024 * 1024;
        }
        else if (s.endsWith("g") || s.endsWith("gib"))
        {
            mult = 1024L * 1024 * 1024;
        }
        if (mult != 1)
        {
            digits = s.replaceAll("[a-z]+$", "");
        }
        try
        {
            return Math.multiplyExact(Long.parseLong(digits), mult);
        }
        catch (final NumberFormatException | ArithmeticException e)
        {
            throw new IllegalArgumentException(what + ": expected a size like 32k or 256m, got '" + value + "'");
        }
    }

    /** {@code auto}, {@code 0} (off) or a count of descriptors, for {@link #fdTable(int)}. */
    public static int parseFdTable(final String value, final String what)
    {
        final String v = value.trim();
        if (v.equals("auto"))
        {
            return FD_TABLE_AUTO;
        }
        try
        {
            final int n = Integer.parseInt(v);
            if (n >= 0)
            {
                return n;
            }
        }
        catch (final NumberFormatException ignore)
        {
            // the message below
        }
        throw new IllegalArgumentException(what + ": expected auto, 0 or a count of descriptors, got '" + value + "'");
    }

    public static String formatDuration(final long ns)
    {
        if (ns == 0)
        {
            return "off";
        }
        if (ns % TimeUnit.SECONDS.toNanos(1) == 0)
        {
            return TimeUnit.NANOSECONDS.toSeconds(ns) + "s";
        }
        return TimeUnit.NANOSECONDS.toMillis(ns) + "ms";
    }

    private void concludeProxyProtocol()
    {
        proxyProtocolPlain = false;
        proxyProtocolTls = false;
        proxyProtocolAll = false;
        proxyProtocolListeners.clear();
        final boolean off = proxyProtocol.size() == 1 &&
            (proxyProtocol.get(0).trim().equals("off") || proxyProtocol.get(0).trim().equals("none"));
        for (final String entry : off ? List.<String>of() : proxyProtocol)
        {
            final String e = entry.trim();
            switch (e)
            {
                case "plain":
                    require(!listen.isEmpty(), "proxy-protocol plain: there is no listen address");
                    proxyProtocolPlain = true;
                    break;
                case "tls":
                    require(!tlsListen.isEmpty(), "proxy-protocol tls: there is no tls-listen address");
                    proxyProtocolTls = true;
                    break;
                case "all":
                    proxyProtocolAll = true;
                    break;
                default:
                    require(e.contains(":"), "proxy-protocol: expected plain, tls, all, off or a listener's HOST:PORT, got '" +
                        entry + "'");
                    final InetSocketAddress address = parseHostPort(e, "proxy-protocol");
                    require(listen.contains(address) || tlsListen.contains(address) || redirectListen.contains(address),
                        "proxy-protocol: " + e + " is not a listen, tls-listen or redirect-http address");
                    proxyProtocolListeners.add(address);
                    break;
            }
        }
        require(http2MaxConcurrentStreams >= 1 && http2MaxConcurrentStreams <= 10_000,
            "http2-max-concurrent-streams must be within [1, 10000]");
        require(http2MaxHeaderListSize >= 1024 && http2MaxHeaderListSize <= 1 << 20,
            "http2-max-header-list-size must be within [1 KiB, 1 MiB]");
        require(http2StreamWindow >= 65_535 && http2StreamWindow <= 1 << 30,
            "http2-stream-window must be within [65535, 1 GiB]");
        require(http2ConnectionWindow >= 65_535 && http2ConnectionWindow <= 1 << 30,
            "http2-connection-window must be within [65535, 1 GiB]");
        require(http2FloodLimit >= 10, "http2-flood-limit must be at least 10");
        require(spliceThreshold == 0 || spliceThreshold >= 1024 && spliceThreshold <= 1L << 30,
            "splice-threshold must be 0 (off) or within [1 KiB, 1 GiB]");
        require(splicePipes >= 1 && splicePipes <= 4096, "splice-pipes must be within [1, 4096]");
        require(proxyProtocolMaxSize >= io.centrigate.http.ProxyProtocolHeader.MIN_MAX_LENGTH &&
            proxyProtocolMaxSize <= MAX_PROXY_PROTOCOL_MAX_SIZE, "proxy-protocol-max-size must be " +
            io.centrigate.http.ProxyProtocolHeader.MIN_MAX_LENGTH + ".." + MAX_PROXY_PROTOCOL_MAX_SIZE + " bytes");
        proxyProtocolFromRanges = new AddressRanges(proxyProtocolFrom);
        trustedProxyRanges = new AddressRanges(trustedProxies);
        require(proxyProtocolFrom.isEmpty() || proxyProtocolAny(),
            "proxy-protocol-from is set but no listener requires proxy-protocol");
        if (proxyProtocolAny() && proxyProtocolFrom.isEmpty())
        {
            warnings.add("proxy-protocol: any peer may send a PROXY header and choose its client address; keep those " +
                "listeners reachable only from the load balancer, or name it in proxy-protocol-from");
        }
    }

    private void concludeLimits()
    {
        require(maxConnectionsPerClient >= 0 && maxConnectionsPerClient <= 1_000_000,
            "max-connections-per-client must be 0 (no limit)..1000000");
        handshakeRatePerClientParsed = parseRate(handshakeRatePerClient, "handshake-rate-per-client");
        maxHandshakeRateParsed = parseRate(maxHandshakeRate, "max-handshake-rate");
        require(admissionWaitNs >= 0 && admissionWaitNs <= TimeUnit.MINUTES.toNanos(10),
            "admission-wait must be 0..10m");
        require(clientTableSize >= io.centrigate.limit.ClientTable.MIN_SLOTS &&
            clientTableSize <= io.centrigate.limit.ClientTable.MAX_SLOTS, "client-table-size must be " +
            io.centrigate.limit.ClientTable.MIN_SLOTS + ".." + io.centrigate.limit.ClientTable.MAX_SLOTS);
    }

    /**
     * {@code R[/s|/m][:BURST]}: R events a second (or a minute; decimals allowed) with a bucket of BURST (default 1);
     * {@code 0} or {@code off}: off.
     */
    public static Rate parseRate(final String value, final String what)
    {
        final String s = value == null ? "off" : value.trim().toLowerCase(java.util.Locale.ROOT);
        if (s.equals("off") || s.equals("0") || s.isEmpty())
        {
            return Rate.OFF;
        }
        final String usage = what + " must be R/s[:BURST] (e.g. 100/s:200), R/m[:BURST] or off, got '" + value + "'";
        final int colon = s.indexOf(':');
        final String ratePart = colon < 0 ? s : s.substring(0, colon);
        int burst = 1;
        if (colon >= 0)
        {
            try
            {
                burst = Integer.parseInt(s.substring(colon + 1).trim());
            }
            catch (final NumberFormatException e)
            {
                throw new IllegalArgumentException(usage);
            }
            require(burst >= 1 && burst <= 1_000_000, what + " BURST must be 1..1000000, got " + burst);
        }
        double divisor = 1;
        String number = ratePart.trim();
        if (number.endsWith("/s"))
        {
            number = number.substring(0, number.length() - 2);
        }
        else if (number.endsWith("/m"))
        {
            number = number.substring(0, number.length() - 2);
            divisor = 60;
        }
        final double perUnit;
        try
        {
            perUnit = Double.parseDouble(number.trim());
        }
        catch (final NumberFormatException e)
        {
            throw new IllegalArgumentException(usage);
        }
        require(perUnit > 0 && perUnit <= 10_000_000 && !Double.isNaN(perUnit), usage);
        return new Rate(perUnit / divisor, burst);
    }

    private void concludeRebalance()
    {
        require(rebalanceThresholdPercent >= 1 && rebalanceThresholdPercent <= 1000,
            "rebalance-threshold must be 1..1000 (percent of a node's share)");
        require(rebalanceSettleNs >= 0, "rebalance-settle must not be negative");
        require(rebalanceMinAgeNs >= 0, "rebalance-min-age must not be negative");
        final String rate = rebalanceRate == null ? "" : rebalanceRate.trim();
        final boolean percent = rate.endsWith("%");
        double value;
        try
        {
            value = Double.parseDouble(percent ? rate.substring(0, rate.length() - 1) : rate);
        }
        catch (final NumberFormatException e)
        {
            value = Double.NaN;
        }
        require(value > 0 && value <= 1_000_000,
            "rebalance-rate must be closes per second (e.g. 50) or a share of tunnels per second (e.g. 1%), got '" +
            rebalanceRate + "'");
        require(!percent || value <= 100, "rebalance-rate: a share must be at most 100%");
        rebalanceRatePerSecond = percent ? 0 : value;
        rebalanceRatePercent = percent ? value : 0;
    }
}
