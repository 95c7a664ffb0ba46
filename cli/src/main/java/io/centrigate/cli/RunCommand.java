package io.centrigate.cli;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Collectors;

import io.centrigate.admin.AdminServer;
import io.centrigate.cli.config.ConfigException;
import io.centrigate.cli.config.ConfigKeys;
import io.centrigate.cli.config.EffectiveConfig;
import io.centrigate.config.ProxyContext;
import io.centrigate.proxy.Proxy;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * Maps flags onto a {@link ProxyContext}, starts the engine and waits for SIGTERM/SIGINT. Every option is also a
 * key of the configuration file ({@code --config}) and a {@code CENTRIGATE_*} variable ({@link EffectiveConfig}:
 * flags over environment over file over defaults); this class stays the one place that maps values onto the
 * context.
 */
@Command(name = "run", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Run the proxy (defaults: listen 0.0.0.0:8080, forward to 127.0.0.1:8000).")
public final class RunCommand implements Callable<Integer>
{
    /** The configuration keys: every option of this command but --config, --help and --version. */
    static final ConfigKeys KEYS = ConfigKeys.of(new CommandLine(new RunCommand()).getCommandSpec());

    @Spec
    CommandSpec spec;

    @Option(names = ConfigKeys.CONFIG_OPTION, paramLabel = "FILE",
        description = "Read settings from FILE: 'key = value' lines, keys are these options without '--'. "
            + "CENTRIGATE_* environment variables override it, flags override both. Default: $CENTRIGATE_CONFIG, else none.")
    Path configFile;

    @Option(names = "--listen", paramLabel = "HOST:PORT", description = "Address to listen on; repeatable. Default: 0.0.0.0:8080.")
    List<String> listen = new ArrayList<>();

    @Option(names = "--upstream", paramLabel = "HOST:PORT[@WEIGHT][,...]", split = ",",
        description = "Centrifugo node(s); repeatable or comma-separated. Optional weight after '@'. Default: 127.0.0.1:8000.")
    List<String> upstreams = new ArrayList<>();

    @Option(names = "--tls-listen", paramLabel = "HOST:PORT",
        description = "Address to accept TLS (HTTPS/WSS) clients on; repeatable. Needs --tls-cert and --tls-key.")
    List<String> tlsListen = new ArrayList<>();

    @Option(names = "--tls-cert", paramLabel = "FILE", description = "Certificate chain (PEM) for --tls-listen; re-read on SIGHUP.")
    Path tlsCert;

    @Option(names = "--tls-key", paramLabel = "FILE",
        description = "Private key (PEM: PKCS#8, or PKCS#1/SEC1 unencrypted) for --tls-cert; re-read on SIGHUP.")
    Path tlsKey;

    @Option(names = "--redirect-http", paramLabel = "HOST:PORT",
        description = "A plain HTTP listener that answers every request 301 to the same host and path over https; repeatable.")
    List<String> redirectHttp = new ArrayList<>();

    @Option(names = "--server-name", paramLabel = "HOST",
        description = "Host name for https redirects (Nginx $server_name). Default: the request's Host.")
    String serverName;

    @Option(names = "--prefix", paramLabel = "/PATH",
        description = "Embedded mode: proxy only paths under this prefix, stripped (trailing slash optional), e.g. /centrifugo.")
    String prefix;

    @Option(names = "--default-upstream", paramLabel = "HOST:PORT[@WEIGHT][,...]", split = ",",
        description = "With --prefix: where requests outside the prefix go (your site's backend). Default: answer 404.")
    List<String> defaultUpstreams = new ArrayList<>();

    @Option(names = "--vhost", paramLabel = "HOST=HOST:PORT[@WEIGHT][,...]",
        description = "Route requests whose Host is HOST (or *.domain) to these nodes instead; repeatable.")
    List<String> vhosts = new ArrayList<>();

    @Option(names = "--internal-allow", paramLabel = "CIDR[,...]", split = ",",
        description = "Addresses that may reach Centrifugo's operator endpoints. Default: loopback and private ranges.")
    List<String> internalAllow;

    @Option(names = "--internal-paths", paramLabel = "PATTERN[,...]", split = ",",
        description = "Operator endpoints guarded by --internal-allow (403 otherwise); /x exact, /x/* below, /x* prefix; 'none' disables. Default: /api, /api/*, /metrics, /metrics/*, /debug/pprof/*, /swagger*, /admin/*.")
    List<String> internalPaths;

    @Option(names = "--proxy-protocol", paramLabel = "plain|tls|all|HOST:PORT[,...]", split = ",",
        description = "Listeners whose connections must begin with a PROXY protocol header (v1 or v2) from a load "
            + "balancer, whose source address becomes the client address: plain (every --listen), tls (every "
            + "--tls-listen; the header comes before the handshake), all (those and --redirect-http), or a listener's "
            + "HOST:PORT as configured; off. Changes with a restart. Default: none.")
    List<String> proxyProtocol;

    @Option(names = "--proxy-protocol-from", paramLabel = "CIDR[,...]", split = ",",
        description = "Peers that may send the PROXY protocol header; connections from others are closed. "
            + "Default: any peer (the listener requires the header, so keep it reachable only from the balancer).")
    List<String> proxyProtocolFrom;

    @Option(names = "--proxy-protocol-max-size", paramLabel = "SIZE", defaultValue = "1536",
        description = "Largest PROXY protocol v2 header (16 bytes + addresses + TLVs), else the connection is closed; "
            + "v1 lines are at most 107 bytes. Default: ${DEFAULT-VALUE}.")
    String proxyProtocolMaxSize;

    @Option(names = "--http2", paramLabel = "on|off", defaultValue = "off",
        description = "HTTP/2 on the TLS listeners when a client offers h2 by ALPN (preview: each stream goes to a node "
            + "as an HTTP/1.1 request; no WebSocket over HTTP/2 yet). Default: ${DEFAULT-VALUE}.")
    String http2;

    @Option(names = "--http2-max-concurrent-streams", paramLabel = "N", defaultValue = "100",
        description = "HTTP/2 streams one connection may have open (SETTINGS_MAX_CONCURRENT_STREAMS); more are "
            + "refused with REFUSED_STREAM. Default: ${DEFAULT-VALUE}.")
    int http2MaxConcurrentStreams;

    @Option(names = "--http2-max-header-list-size", paramLabel = "SIZE", defaultValue = "16k",
        description = "Largest HTTP/2 request head, decoded (SETTINGS_MAX_HEADER_LIST_SIZE); a larger one is answered "
            + "431; the smaller of this and --max-head-size applies. Default: ${DEFAULT-VALUE}.")
    String http2MaxHeaderListSize;

    @Option(names = "--http2-stream-window", paramLabel = "SIZE", defaultValue = "256k",
        description = "Request body bytes one HTTP/2 stream may have in flight to centrigate "
            + "(SETTINGS_INITIAL_WINDOW_SIZE). Default: ${DEFAULT-VALUE}.")
    String http2StreamWindow;

    @Option(names = "--http2-connection-window", paramLabel = "SIZE", defaultValue = "1m",
        description = "Request body bytes all streams of one HTTP/2 connection may have in flight to centrigate. "
            + "Default: ${DEFAULT-VALUE}.")
    String http2ConnectionWindow;

    @Option(names = "--http2-flood-limit", paramLabel = "N", defaultValue = "1000",
        description = "Frames one HTTP/2 connection may send per 10 s that make centrigate work without serving a "
            + "request (PING, SETTINGS, PRIORITY, RST_STREAM, unknown, empty DATA); beyond it, GOAWAY "
            + "ENHANCE_YOUR_CALM (rapid reset, ping and settings floods). Default: ${DEFAULT-VALUE}.")
    int http2FloodLimit;

    @Option(names = "--trusted-proxies", paramLabel = "CIDR[,...]", split = ",",
        description = "Forwarders (a CDN, an HTTP load balancer) whose X-Forwarded-For and X-Forwarded-Proto are "
            + "believed: from them the client is the rightmost X-Forwarded-For entry not in this list. Default: none.")
    List<String> trustedProxies;

    @Option(names = "--admin-listen", paramLabel = "HOST:PORT", split = ",",
        description = "Admin listener (GET /live, /ready, /status, /metrics), on a thread of its own, never proxying; "
            + "repeatable or comma-separated. Default: none.")
    List<String> adminListen = new ArrayList<>();

    @Option(names = "--admin-allow", paramLabel = "CIDR[,...]", split = ",",
        description = "Addresses that may use the admin listener (403 otherwise). Default: 127.0.0.0/8, ::1/128.")
    List<String> adminAllow;

    @Option(names = "--admin-token-file", paramLabel = "FILE",
        description = "Bearer token (read at start) the admin listener requires for endpoints that change state.")
    Path adminTokenFile;

    @Option(names = "--access-log", paramLabel = "FILE|stdout|off", defaultValue = "off",
        description = "One JSON line per HTTP request and per WebSocket tunnel when it ends, written off the loops "
            + "(a full buffer drops lines and counts them); SIGUSR1 reopens FILE (logrotate). Default: ${DEFAULT-VALUE}.")
    String accessLog;

    @Option(names = "--access-log-query",
        description = "Keep the query string in logged paths (default: the path alone; tokens stay out of the log).")
    boolean accessLogQuery;

    @Option(names = "--access-log-buffer", paramLabel = "SIZE", defaultValue = "1m",
        description = "Memory between the loops and the access log writer; when it is full lines are dropped. Default: ${DEFAULT-VALUE}.")
    String accessLogBuffer;

    @Option(names = "--balance", paramLabel = "least-conn|round-robin", defaultValue = "least-conn",
        description = "Upstream choice. Default: ${DEFAULT-VALUE}.")
    String balance;

    @Option(names = "--loops", paramLabel = "N", description = "Event-loop threads. Default: available processors.")
    Integer loops;

    @Option(names = "--idle-strategy", paramLabel = "block|backoff|yield|spin", defaultValue = "block",
        description = "What an idle loop does: block in select, or back off/yield/busy-spin for latency. Default: ${DEFAULT-VALUE}.")
    String idleStrategy;

    @Option(names = "--transport", paramLabel = "nio|epoll|io_uring|auto", defaultValue = "${sys:centrigate.transport:-nio}",
        description = "The socket layer under the loops: JDK NIO (any JDK), epoll (Linux, JDK 22+, through java.lang.foreign), io_uring (Linux 5.19+ with io_uring allowed, JDK 22+), or auto (epoll where it works). Default: ${DEFAULT-VALUE}.")
    String transport;

    @Option(names = "--splice-threshold", paramLabel = "SIZE", defaultValue = "0",
        description = "On the epoll and io_uring transports, the payload of a WebSocket frame with at least this many "
            + "bytes still to come moves socket to pipe to socket with splice(2), never through user space; 0 turns "
            + "it off. NIO cannot splice: there it has no effect. Default: ${DEFAULT-VALUE}.")
    String spliceThreshold;

    @Option(names = "--splice-pipes", paramLabel = "N", defaultValue = "8",
        description = "Kernel pipes per loop for splicing (two descriptors each, up to 1 MiB of kernel memory while "
            + "in use); a frame that finds none free is copied. Default: ${DEFAULT-VALUE}.")
    int splicePipes;

    @Option(names = "--accept", paramLabel = "reuseport|acceptor", defaultValue = "reuseport",
        description = "A SO_REUSEPORT listener per loop, or one listener handing sockets to loops. Default: ${DEFAULT-VALUE}.")
    String accept;

    @Option(names = "--max-connections", paramLabel = "N",
        description = "Client connections at most; beyond it clients get 503. Default: (open-files limit - margin) / 2.")
    int maxConnections;

    @Option(names = "--max-connections-per-client", paramLabel = "N", defaultValue = "0",
        description = "Concurrent connections per client address (IPv4 address, IPv6 /64; behind --proxy-protocol the "
            + "header's source, behind --trusted-proxies the X-Forwarded-For client of each upgrade); beyond it 429 with "
            + "Retry-After: 1, before anything reaches a node; 0 = no limit. Default: ${DEFAULT-VALUE}.")
    int maxConnectionsPerClient;

    @Option(names = "--handshake-rate-per-client", paramLabel = "R[/s|/m][:BURST]", defaultValue = "off",
        description = "WebSocket handshakes per client address: a token bucket of BURST (default 1) refilled at R per "
            + "second (or minute); beyond it 429 with Retry-After from the bucket; off = no limit. Default: ${DEFAULT-VALUE}.")
    String handshakeRatePerClient;

    @Option(names = "--client-table-size", paramLabel = "N", defaultValue = "65536",
        description = "Client addresses the per-client limits track at once (24 bytes each, allocated once a per-client "
            + "limit is on; rounded up to a power of two); addresses beyond it are not limited. Changes with a restart. "
            + "Default: ${DEFAULT-VALUE}.")
    int clientTableSize;

    @Option(names = "--max-handshake-rate", paramLabel = "R[/s|/m][:BURST]", defaultValue = "off",
        description = "WebSocket upgrades the process admits per second (set it to what your Centrifugo nodes can "
            + "connect): in a reconnect storm the rest wait for their slot in arrival order, up to --admission-wait, "
            + "then 503 with Retry-After; BURST (default 1) go at once after a quiet time; off = no limit. "
            + "Default: ${DEFAULT-VALUE}.")
    String maxHandshakeRate;

    @Option(names = "--admission-wait", paramLabel = "DURATION", defaultValue = "10s",
        description = "The longest an upgrade waits for its slot under --max-handshake-rate; 0 = never wait (refuse "
            + "beyond the burst). Default: ${DEFAULT-VALUE}.")
    String admissionWait;

    @Option(names = "--header-timeout", paramLabel = "DURATION", defaultValue = "5s",
        description = "Complete request head within this, else 408. Default: ${DEFAULT-VALUE}.")
    String headerTimeout;

    @Option(names = "--first-byte-timeout", paramLabel = "DURATION", defaultValue = "15s",
        description = "A new connection that sends nothing for this long is closed (it holds no buffer meanwhile). Default: ${DEFAULT-VALUE}.")
    String firstByteTimeout;

    @Option(names = "--connect-timeout", paramLabel = "DURATION", defaultValue = "5s",
        description = "One upstream TCP connect attempt; then the next node is tried. Default: ${DEFAULT-VALUE}.")
    String connectTimeout;

    @Option(names = "--next-upstream-timeout", paramLabel = "DURATION", defaultValue = "30s",
        description = "After connects timed out, new attempts (every node in turn) go on this long, then 502 (Nginx proxy_next_upstream_timeout); 0 = each node once. Default: ${DEFAULT-VALUE}.")
    String nextUpstreamTimeout;

    @Option(names = "--read-timeout", paramLabel = "DURATION", defaultValue = "60s",
        description = "Between two reads of an upstream response (Nginx proxy_read_timeout); 504 if nothing came. Default: ${DEFAULT-VALUE}.")
    String readTimeout;

    @Option(names = "--tunnel-idle-timeout", paramLabel = "DURATION", defaultValue = "90s",
        description = "Close a WebSocket tunnel with no bytes in either direction for this long. Default: ${DEFAULT-VALUE}.")
    String tunnelIdleTimeout;

    @Option(names = "--fail-timeout", paramLabel = "DURATION", defaultValue = "10s",
        description = "Skip a node that refused a connect for this long (Nginx fail_timeout). Default: ${DEFAULT-VALUE}.")
    String failTimeout;

    @Option(names = "--max-ejected-percent", paramLabel = "N", defaultValue = "50",
        description = "Passive ejection (timeouts, stalled upgrades, invalid 101s, 502-class answers) never takes out more than this share of a group's nodes, nor the last usable one. Default: ${DEFAULT-VALUE}.")
    int maxEjectedPercent;

    @Option(names = "--health-check-path", paramLabel = "PATH", defaultValue = "/health",
        description = "Active checks: GET this path on every node from the event loops; a 2xx is good; off = no checks. Default: ${DEFAULT-VALUE}.")
    String healthCheckPath;

    @Option(names = "--health-check-interval", paramLabel = "DURATION", defaultValue = "1s",
        description = "Time between two checks of a node. Default: ${DEFAULT-VALUE}.")
    String healthCheckInterval;

    @Option(names = "--health-check-timeout", paramLabel = "DURATION", defaultValue = "1s",
        description = "A check with no 2xx status line within this failed. Default: ${DEFAULT-VALUE}.")
    String healthCheckTimeout;

    @Option(names = "--health-check-rise", paramLabel = "N", defaultValue = "2",
        description = "Good checks in a row that bring a down node up. Default: ${DEFAULT-VALUE}.")
    int healthCheckRise;

    @Option(names = "--health-check-fall", paramLabel = "N", defaultValue = "2",
        description = "Failed checks in a row that take a node down (no new connection goes to it). Default: ${DEFAULT-VALUE}.")
    int healthCheckFall;

    @Option(names = "--upgrade-timeout", paramLabel = "DURATION", defaultValue = "1s",
        description = "An upgrade (or GET/HEAD/OPTIONS) with not one answer byte from the node within this is sent to another usable node; 0 = off. Default: ${DEFAULT-VALUE}.")
    String upgradeTimeout;

    @Option(names = "--slow-start", paramLabel = "DURATION", defaultValue = "30s",
        description = "A node usable again (up after checks, an ejection over, added by DNS or a reload) ramps its share of new connections from 5 % to 100 % over this; 0 = at once. Default: ${DEFAULT-VALUE}.")
    String slowStart;

    @Option(names = "--resolve-interval", paramLabel = "DURATION", defaultValue = "5s",
        description = "Upstreams given by name are resolved again this often (every address a node); 0 = only at start. Default: ${DEFAULT-VALUE}.")
    String resolveInterval;
    @Option(names = "--rebalance", paramLabel = "on|off", defaultValue = "on",
        description = "Move tunnels off nodes over their weighted share (e.g. after a node restart) with close 1012, at --rebalance-rate. Default: ${DEFAULT-VALUE}.")
    String rebalance;

    @Option(names = "--rebalance-threshold", paramLabel = "PERCENT", defaultValue = "20",
        description = "A node's tunnel count must differ from its weighted share by more than this percent of the share to start a rebalance. Default: ${DEFAULT-VALUE}.")
    int rebalanceThreshold;

    @Option(names = "--rebalance-settle", paramLabel = "DURATION", defaultValue = "10s",
        description = "How long the drift must last before tunnels move. Default: ${DEFAULT-VALUE}.")
    String rebalanceSettle;

    @Option(names = "--rebalance-rate", paramLabel = "N|P%", defaultValue = "1%",
        description = "Closes per second per process for rebalancing and admin node drains: a number, or a percentage of open tunnels (at least 1/s). Default: ${DEFAULT-VALUE}.")
    String rebalanceRate;

    @Option(names = "--rebalance-min-age", paramLabel = "DURATION", defaultValue = "10s",
        description = "A tunnel younger than this is never closed to rebalance (a drain closes any); 0 = any age. Default: ${DEFAULT-VALUE}.")
    String rebalanceMinAge;

    @Option(names = "--keepalive-timeout", paramLabel = "DURATION", defaultValue = "65s",
        description = "Idle client connection between requests (Nginx keepalive_timeout). Default: ${DEFAULT-VALUE}.")
    String keepAliveTimeout;

    @Option(names = "--send-timeout", paramLabel = "DURATION", defaultValue = "60s",
        description = "A client that takes no bytes of a pending answer for this long is dropped (Nginx send_timeout). Default: ${DEFAULT-VALUE}.")
    String sendTimeout;

    @Option(names = "--drain-timeout", paramLabel = "DURATION", defaultValue = "0s",
        description = "On SIGTERM/SIGINT: stop accepting, let tunnels and requests run on this long, then close each tunnel with WebSocket close 1001 (going away) so SDKs reconnect at once; 0 = close 1001 at once. Default: ${DEFAULT-VALUE}.")
    String drainTimeout;

    @Option(names = "--warmup", paramLabel = "DURATION", defaultValue = "0s",
        description = "Before the listeners bind, drive WebSocket and HTTP traffic through the proxy on loopback this long, so the JIT has compiled it when the first clients come (a handover: the old process serves meanwhile); 0 = off. Default: ${DEFAULT-VALUE}.")
    String warmup;

    @Option(names = "--fd-table", paramLabel = "auto|0|N", defaultValue = "auto",
        description = "Grow the process's descriptor table to N slots before the listeners open (Linux doubles it on demand, and each doubling stalls a multi-threaded process for an RCU grace period, 5-20 ms, in the middle of a connection storm); auto = what --max-connections needs, within the open-files limit; 0 = off. Default: ${DEFAULT-VALUE}.")
    String fdTable;

    @Option(names = "--jit-priority", paramLabel = "auto|background|normal", defaultValue = "auto",
        description = "Once the listeners are open, run the JIT compiler threads in the kernel's background class (SCHED_IDLE) so a compile never delays a loop; auto = background after a --warmup, normal without one (a cold process needs the compiler to catch up). Default: ${DEFAULT-VALUE}.")
    String jitPriority;

    @Option(names = "--upstream-keepalive", paramLabel = "N", defaultValue = "256",
        description = "Idle upstream connections kept per node and loop for reuse (Nginx upstream keepalive); 0 = off. Default: ${DEFAULT-VALUE}.")
    int upstreamKeepAlive;

    @Option(names = "--upstream-source", paramLabel = "ADDR[-ADDR][,...]",
        description = "Bind upstream connects to these local addresses in turn (e.g. 127.0.0.2-127.0.0.17 towards a "
            + "node on 127.0.0.1), so one box holds more tunnels to a node than one address's ephemeral ports allow; "
            + "IPv4 ranges, IPv6 one by one, one family, at most " + io.centrigate.config.SourceAddresses.MAX_ADDRESSES
            + " addresses; repeatable. An address that cannot bind is skipped for 10s. Default: none (the kernel's choice).")
    List<String> upstreamSources = new ArrayList<>();

    @Option(names = "--sockjs-sticky", paramLabel = "on|off", defaultValue = "on",
        description = "Send SockJS fallback requests of one session (/connection/sockjs/<server>/<session>/xhr...) to "
            + "one node by rendezvous hashing of the session id; off = least-conn like everything else. Default: ${DEFAULT-VALUE}.")
    String sockJsSticky;

    @Option(names = "--upstream-idle-timeout", paramLabel = "DURATION", defaultValue = "20s",
        description = "Close pooled upstream connections idle this long (below Centrifugo's 30 s). Default: ${DEFAULT-VALUE}.")
    String upstreamIdleTimeout;

    @Option(names = "--max-body-size", paramLabel = "SIZE", defaultValue = "16m",
        description = "Largest request body (Content-Length), else 413; 0 = no limit. Default: ${DEFAULT-VALUE}.")
    String maxBodySize;

    @Option(names = "--error-page", paramLabel = "STATUS=FILE",
        description = "Serve FILE (HTML) as the body of generated answers with STATUS; repeatable, e.g. 502=/etc/centrigate/50x.html.")
    List<String> errorPages = new ArrayList<>();

    @Option(names = "--max-request-line", paramLabel = "SIZE", defaultValue = "8k",
        description = "Longest request line, else 414. Default: ${DEFAULT-VALUE}.")
    String maxRequestLine;

    @Option(names = "--max-head-size", paramLabel = "SIZE", defaultValue = "16k",
        description = "Largest request head, else 431. Default: ${DEFAULT-VALUE}.")
    String maxHeadSize;

    @Option(names = "--max-fields", paramLabel = "N", defaultValue = "100",
        description = "Most header fields in a request, else 431. Default: ${DEFAULT-VALUE}.")
    int maxFields;

    @Option(names = "--chunk-size", paramLabel = "SIZE", defaultValue = "32k",
        description = "Size of a pooled off-heap buffer chunk (must hold max-head-size + 1k). Default: ${DEFAULT-VALUE}.")
    String chunkSize;

    @Option(names = "--buffer-memory", paramLabel = "SIZE", defaultValue = "256m",
        description = "Off-heap chunk memory for all loops together; at the limit reads wait. Default: ${DEFAULT-VALUE}.")
    String bufferMemory;

    @Option(names = "--backlog", paramLabel = "N", defaultValue = "4096",
        description = "Listen backlog (capped by net.core.somaxconn). Default: ${DEFAULT-VALUE}.")
    int backlog;

    @Override
    public Integer call() throws Exception
    {
        final ProxyContext ctx;
        try
        {
            ctx = effectiveConfig(System.getenv()).context();
        }
        catch (final ConfigException e)
        {
            e.problems().forEach(problem -> System.err.println("centrigate: " + problem));
            return CommandLine.ExitCode.USAGE;
        }
        final Proxy proxy;
        try
        {
            proxy = Proxy.start(ctx);
        }
        catch (final java.io.IOException e)
        {
            System.err.println("centrigate: " + e.getMessage());
            return 1;
        }
        catch (final IllegalArgumentException e)
        {
            // The PEM pair is first parsed here (conclude only checks the files are readable): a message, not a trace.
            System.err.println("centrigate: " + e.getMessage());
            return 1;
        }
        // After the warm-up (inside Proxy.start), which compiled the hot paths at normal priority. auto lowers the
        // compilers only where they can be given the normal class back when starved (JitPriority).
        if ("auto".equals(ctx.jitPriority()) && ctx.jitInBackground() &&
            !io.centrigate.loop.BackgroundPriority.canRestore())
        {
            ctx.jitPriority("normal");
            System.err.println("centrigate: jit-priority auto: the compilers stay in the normal class (the way back " +
                "from the background class needs CAP_SYS_NICE or RLIMIT_NICE; --jit-priority background forces it)");
        }
        final io.centrigate.loop.JitPriority jit = ctx.jitInBackground() ?
            io.centrigate.loop.JitPriority.start(System.err) : null;
        final AdminServer admin;
        try
        {
            admin = ctx.adminListen().isEmpty() ? null : AdminServer.start(proxy, Main.version());
        }
        catch (final java.io.IOException e)
        {
            proxy.close();
            System.err.println("centrigate: " + e.getMessage());
            return 1;
        }
        final CountDownLatch stop = new CountDownLatch(1);
        Signals.onTerminate(stop::countDown);
        Signals.onHangup(() -> reload(proxy));
        if (proxy.accessLog() != null)
        {
            Signals.onUser1(proxy.accessLog()::reopen);
        }
        if (proxy.warmup() != null)
        {
            (proxy.warmup().error() == null ? System.out : System.err).println(proxy.warmup().line());
        }
        System.out.println(startupLine(proxy, admin));
        for (final String warning : ctx.warnings())
        {
            System.err.println("centrigate: warning: " + warning);
        }
        startupChecks(ctx);
        System.out.flush();
        stop.await();
        // /ready answers 503 from the first step of the shutdown; /live 200 until the admin listener closes last.
        proxy.shutdown(proxy.context().drainTimeoutNs());
        if (jit != null)
        {
            jit.close();
        }
        if (admin != null)
        {
            admin.close();
        }
        System.out.println("centrigate: stopped");
        return 0;
    }

    /** SIGHUP: the file and environment are read again; new settings apply to new connections and requests. */
    private void reload(final Proxy proxy)
    {
        boolean applying = false;
        try
        {
            final ProxyContext next = effectiveConfig(System.getenv()).context();
            final ProxyContext running = proxy.context();
            if (!next.listen().equals(running.listen()) || !next.tlsListen().equals(running.tlsListen()) ||
                !next.redirectListen().equals(running.redirectListen()) || next.loops() != running.loops() ||
                !next.adminListen().equals(running.adminListen()) || !next.adminAllow().equals(running.adminAllow()) ||
                !java.util.Objects.equals(next.accessLog(), running.accessLog()) ||
                next.accessLogQuery() != running.accessLogQuery() || next.accessLogBuffer() != running.accessLogBuffer() ||
                !next.proxyProtocol().equals(running.proxyProtocol()) ||
                next.proxyProtocolMaxSize() != running.proxyProtocolMaxSize() ||
                next.clientTableSize() != running.clientTableSize() ||
                next.spliceThreshold() != running.spliceThreshold() || next.splicePipes() != running.splicePipes())
            {
                System.err.println("centrigate: reload: listen, tls-listen, redirect-http, admin-listen, admin-allow, " +
                    "access-log*, proxy-protocol, proxy-protocol-max-size, client-table-size, splice-* and loops change " +
                    "only with a restart; the rest is applied");
            }
            applying = true; // from here on a failure is recorded by the proxy itself
            proxy.reload(next);
            System.out.println("centrigate: reloaded: upstreams " + next.groups().values().stream()
                .flatMap(List::stream).map(Object::toString).collect(Collectors.joining(",")));
        }
        catch (final ConfigException e)
        {
            e.problems().forEach(problem -> System.err.println("centrigate: reload refused: " + problem));
            if (!applying)
            {
                proxy.reloadFailed(e.problems());
            }
        }
        catch (final RuntimeException e)
        {
            System.err.println("centrigate: reload refused: " + e.getMessage());
            if (!applying)
            {
                proxy.reloadFailed(List.of(String.valueOf(e.getMessage())));
            }
        }
    }

    /** The same rules as {@code centrigate check}, for the configured limit; only what is not PASS is printed. */
    private static void startupChecks(final ProxyContext ctx)
    {
        final int upstreamCount = ctx.groups().values().stream().mapToInt(List::size).sum();
        final var target = new io.centrigate.cli.check.Target(ctx.maxConnections(), ctx.backlog(),
            Math.max(1, upstreamCount), ctx.bufferMemory(), ctx.upstreamSources().size(),
            !io.centrigate.loop.Transports.NIO.equals(ctx.transportInUse()));
        for (final var finding : io.centrigate.cli.check.Checks.evaluate(
            io.centrigate.cli.check.MachineLimits.read(), target))
        {
            if (finding.status() != io.centrigate.cli.check.Status.PASS)
            {
                System.err.println("centrigate: check: " + io.centrigate.cli.check.Report.line(finding));
            }
        }
    }

    /**
     * This command line's flags over {@code env}'s {@code CENTRIGATE_*} variables over the file of
     * {@code --config} (or {@code CENTRIGATE_CONFIG}); {@code System.getenv()} in production, a map in tests.
     */
    EffectiveConfig effectiveConfig(final Map<String, String> env)
    {
        return EffectiveConfig.resolve(KEYS, configFile, env,
            EffectiveConfig.flagsOf(KEYS, spec.commandLine().getParseResult()), RunCommand::map);
    }

    /** Maps {@code run} arguments onto a context, not concluded ({@link EffectiveConfig.Mapper}). */
    static ProxyContext map(final List<String> args)
    {
        final RunCommand run = new RunCommand();
        new CommandLine(run).setCaseInsensitiveEnumValuesAllowed(true).parseArgs(args.toArray(String[]::new));
        return run.mapOnto();
    }

    /** How {@code config --print} shows keys no layer set whose default is not a picocli default value. */
    static EffectiveConfig.Default printedDefault(final String key, final ProxyContext concluded)
    {
        switch (key)
        {
            case "listen": return EffectiveConfig.Default.fixed(ProxyContext.DEFAULT_LISTEN);
            case "upstream": return EffectiveConfig.Default.fixed(ProxyContext.DEFAULT_UPSTREAM);
            case "internal-allow": return EffectiveConfig.Default.fixed(String.join(",", ProxyContext.DEFAULT_INTERNAL_ALLOW));
            case "admin-allow": return EffectiveConfig.Default.fixed(String.join(",", ProxyContext.DEFAULT_ADMIN_ALLOW));
            case "internal-paths": return EffectiveConfig.Default.fixed(String.join(",", ProxyContext.DEFAULT_INTERNAL_PATHS));
            case "default-upstream": return EffectiveConfig.Default.derived(null, "not set (404 outside the prefix)");
            case "proxy-protocol": return EffectiveConfig.Default.derived(null, "not set (no listener requires it)");
            case "proxy-protocol-from": return EffectiveConfig.Default.derived(null, "not set (any peer)");
            case "trusted-proxies": return EffectiveConfig.Default.derived(null, "not set (no forwarder is trusted)");
            case "loops":
                return EffectiveConfig.Default.derived(concluded == null ? null : String.valueOf(concluded.loops()),
                    "available processors");
            case "max-connections":
                return EffectiveConfig.Default.derived(concluded == null ? null : String.valueOf(concluded.maxConnections()),
                    "(open-files limit - " + ProxyContext.DESCRIPTOR_MARGIN + ") / 2");
            default: return null;
        }
    }

    /** The flags of this command line alone, concluded; flag errors as picocli reports them. */
    ProxyContext toContext()
    {
        try
        {
            return mapOnto().conclude();
        }
        catch (final IllegalArgumentException e)
        {
            throw new ParameterException(spec.commandLine(), e.getMessage(), e);
        }
    }

    /** This instance's option values onto a new context, not concluded. */
    private ProxyContext mapOnto()
    {
        final ProxyContext ctx = new ProxyContext();
        for (final String l : listen)
        {
            ctx.listen(ProxyContext.parseHostPort(l, "--listen"));
        }
        addNodes(ctx, ProxyContext.DEFAULT_GROUP, upstreams, "--upstream");
        for (final String l : tlsListen)
        {
            ctx.tlsListen(ProxyContext.parseHostPort(l, "--tls-listen"));
        }
        ctx.tlsCert(tlsCert).tlsKey(tlsKey);
        for (final String l : redirectHttp)
        {
            ctx.redirectListen(ProxyContext.parseHostPort(l, "--redirect-http"));
        }
        ctx.serverName(serverName);
        if (prefix != null)
        {
            ctx.prefix(prefix);
        }
        if (!defaultUpstreams.isEmpty())
        {
            addNodes(ctx, "default-upstream", defaultUpstreams, "--default-upstream");
            ctx.outsidePrefixGroup("default-upstream");
        }
        for (final String vhost : vhosts)
        {
            final int eq = vhost.indexOf('=');
            if (eq <= 0)
            {
                throw new IllegalArgumentException("--vhost: expected HOST=HOST:PORT[,...], got '" + vhost + "'");
            }
            final String host = vhost.substring(0, eq).trim();
            addNodes(ctx, "vhost " + host, List.of(vhost.substring(eq + 1).split(",")), "--vhost");
            ctx.virtualHost(host, "vhost " + host).protectGroup("vhost " + host);
        }
        if (internalAllow != null)
        {
            ctx.internalAllow(internalAllow);
        }
        if (proxyProtocol != null)
        {
            ctx.proxyProtocol(proxyProtocol);
        }
        if (proxyProtocolFrom != null)
        {
            ctx.proxyProtocolFrom(proxyProtocolFrom);
        }
        ctx.proxyProtocolMaxSize((int)Math.min(Integer.MAX_VALUE,
            ProxyContext.parseSize(proxyProtocolMaxSize, "--proxy-protocol-max-size")));
        if (trustedProxies != null)
        {
            ctx.trustedProxies(trustedProxies);
        }
        for (final String l : adminListen)
        {
            ctx.adminListen(ProxyContext.parseHostPort(l, "--admin-listen"));
        }
        if (adminAllow != null)
        {
            ctx.adminAllow(adminAllow);
        }
        ctx.adminTokenFile(adminTokenFile);
        ctx.accessLog(accessLog).accessLogQuery(accessLogQuery)
            .accessLogBuffer(ProxyContext.parseSize(accessLogBuffer, "--access-log-buffer"));
        if (internalPaths != null)
        {
            ctx.internalPaths(internalPaths.size() == 1 && internalPaths.get(0).equals("none") ? List.of() : internalPaths);
        }
        ctx.balance(ProxyContext.Balance.parse(balance))
            .idleMode(ProxyContext.IdleMode.parse(idleStrategy))
            .transport(transport)
            .spliceThreshold(ProxyContext.parseSize(spliceThreshold, "--splice-threshold"))
            .splicePipes(splicePipes)
            .acceptMode(ProxyContext.AcceptMode.parse(accept))
            .maxConnections(maxConnections)
            .maxConnectionsPerClient(maxConnectionsPerClient)
            .handshakeRatePerClient(handshakeRatePerClient)
            .clientTableSize(clientTableSize)
            .maxHandshakeRate(maxHandshakeRate)
            .admissionWaitNs(ProxyContext.parseDurationNs(admissionWait, "--admission-wait"))
            .headerTimeoutNs(ProxyContext.parseDurationNs(headerTimeout, "--header-timeout"))
            .firstByteTimeoutNs(ProxyContext.parseDurationNs(firstByteTimeout, "--first-byte-timeout"))
            .connectTimeoutNs(ProxyContext.parseDurationNs(connectTimeout, "--connect-timeout"))
            .nextUpstreamTimeoutNs(ProxyContext.parseDurationNs(nextUpstreamTimeout, "--next-upstream-timeout"))
            .readTimeoutNs(ProxyContext.parseDurationNs(readTimeout, "--read-timeout"))
            .tunnelIdleTimeoutNs(ProxyContext.parseDurationNs(tunnelIdleTimeout, "--tunnel-idle-timeout"))
            .failTimeoutNs(ProxyContext.parseDurationNs(failTimeout, "--fail-timeout"))
            .maxEjectedPercent(maxEjectedPercent)
            .healthCheckPath(healthCheckPath)
            .healthCheckIntervalNs(ProxyContext.parseDurationNs(healthCheckInterval, "--health-check-interval"))
            .healthCheckTimeoutNs(ProxyContext.parseDurationNs(healthCheckTimeout, "--health-check-timeout"))
            .healthCheckRise(healthCheckRise)
            .healthCheckFall(healthCheckFall)
            .upgradeTimeoutNs(ProxyContext.parseDurationNs(upgradeTimeout, "--upgrade-timeout"))
            .slowStartNs(ProxyContext.parseDurationNs(slowStart, "--slow-start"))
            .resolveIntervalNs(ProxyContext.parseDurationNs(resolveInterval, "--resolve-interval"))
            .rebalance(ProxyContext.parseOnOff(rebalance, "--rebalance"))
            .rebalanceThresholdPercent(rebalanceThreshold)
            .rebalanceSettleNs(ProxyContext.parseDurationNs(rebalanceSettle, "--rebalance-settle"))
            .rebalanceRate(rebalanceRate)
            .rebalanceMinAgeNs(ProxyContext.parseDurationNs(rebalanceMinAge, "--rebalance-min-age"))
            .keepAliveTimeoutNs(ProxyContext.parseDurationNs(keepAliveTimeout, "--keepalive-timeout"))
            .sendTimeoutNs(ProxyContext.parseDurationNs(sendTimeout, "--send-timeout"))
            .drainTimeoutNs(ProxyContext.parseDurationNs(drainTimeout, "--drain-timeout"))
            .warmupNs(ProxyContext.parseDurationNs(warmup, "--warmup"))
            .jitPriority(jitPriority)
            .fdTable(ProxyContext.parseFdTable(fdTable, "--fd-table"))
            .upstreamKeepAlive(upstreamKeepAlive)
            .sockJsSticky(ProxyContext.parseOnOff(sockJsSticky, "--sockjs-sticky"))
            .http2(ProxyContext.parseOnOff(http2, "--http2"))
            .http2MaxConcurrentStreams(http2MaxConcurrentStreams)
            .http2MaxHeaderListSize((int)Math.min(Integer.MAX_VALUE,
                ProxyContext.parseSize(http2MaxHeaderListSize, "--http2-max-header-list-size")))
            .http2InitialStreamWindow((int)Math.min(Integer.MAX_VALUE,
                ProxyContext.parseSize(http2StreamWindow, "--http2-stream-window")))
            .http2ConnectionWindow((int)Math.min(Integer.MAX_VALUE,
                ProxyContext.parseSize(http2ConnectionWindow, "--http2-connection-window")))
            .http2FloodLimit(http2FloodLimit)
            .upstreamIdleTimeoutNs(ProxyContext.parseDurationNs(upstreamIdleTimeout, "--upstream-idle-timeout"))
            .maxBodySize(ProxyContext.parseSize(maxBodySize, "--max-body-size"))
            .maxRequestLine((int)ProxyContext.parseSize(maxRequestLine, "--max-request-line"))
            .maxHeadBytes((int)ProxyContext.parseSize(maxHeadSize, "--max-head-size"))
            .maxFields(maxFields)
            .chunkSize((int)ProxyContext.parseSize(chunkSize, "--chunk-size"))
            .bufferMemory(ProxyContext.parseSize(bufferMemory, "--buffer-memory"))
            .backlog(backlog);
        if (loops != null)
        {
            ctx.loops(loops);
        }
        for (final String source : upstreamSources)
        {
            ctx.upstreamSource(source);
        }
        for (final String page : errorPages)
        {
            final int eq = page.indexOf('=');
            if (eq < 0)
            {
                throw new IllegalArgumentException("--error-page: expected STATUS=FILE, got '" + page + "'");
            }
            for (final String status : page.substring(0, eq).split(","))
            {
                ctx.errorPage(parseInt(status, "--error-page status"), Path.of(page.substring(eq + 1)));
            }
        }
        return ctx;
    }

    private static void addNodes(final ProxyContext ctx, final String group, final List<String> specs, final String what)
    {
        for (final String u : specs)
        {
            final String spec = u.trim();
            if (spec.isEmpty())
            {
                continue;
            }
            final int at = spec.lastIndexOf('@');
            final int weight = at < 0 ? 1 : parseInt(spec.substring(at + 1), what + " weight");
            ctx.groupUpstream(group, ProxyContext.parseHostPort(at < 0 ? spec : spec.substring(0, at), what), weight);
        }
    }

    private static int parseInt(final String s, final String what)
    {
        try
        {
            return Integer.parseInt(s.trim());
        }
        catch (final NumberFormatException e)
        {
            throw new IllegalArgumentException(what + ": expected a number, got '" + s + "'");
        }
    }

    static String startupLine(final Proxy proxy, final AdminServer admin)
    {
        final ProxyContext ctx = proxy.context();
        return "centrigate " + Main.version() +
            " listening on" + (proxy.boundAddresses().isEmpty() ? "" : " " +
                proxy.boundAddresses().stream().map(RunCommand::hostPort).collect(Collectors.joining(","))) +
            (proxy.boundTlsAddresses().isEmpty() ? "" : " tls " +
                proxy.boundTlsAddresses().stream().map(RunCommand::hostPort).collect(Collectors.joining(","))) +
            (proxy.boundRedirectAddresses().isEmpty() ? "" : " redirect-http " +
                proxy.boundRedirectAddresses().stream().map(RunCommand::hostPort).collect(Collectors.joining(","))) +
            (admin == null ? "" : " admin " +
                admin.boundAddresses().stream().map(RunCommand::hostPort).collect(Collectors.joining(","))) +
            " upstreams " + ctx.upstreams().stream().map(Object::toString).collect(Collectors.joining(",")) +
            " balance " + ctx.balance().flag() +
            " loops " + ctx.loops() +
            " idle-strategy " + ctx.idleMode().flag() +
            " transport " + ctx.transportInUse() +
            // NIO cannot splice: there the threshold has no effect, and the line says so.
            (ctx.spliceThreshold() > 0 && !io.centrigate.loop.Transports.NIO.equals(ctx.transportInUse()) ?
                " splice " + ctx.spliceThreshold() : " splice off") +
            (ctx.jitInBackground() ? " jit background" : "") +
            " accept " + ctx.acceptMode().flag() +
            " max-connections " + ctx.maxConnections() +
            (ctx.upstreamSources().isEmpty() ? "" : " upstream-sources " + ctx.upstreamSources().size());
    }

    private static String hostPort(final InetSocketAddress a)
    {
        return a.getAddress().getHostAddress() + ":" + a.getPort();
    }
}
