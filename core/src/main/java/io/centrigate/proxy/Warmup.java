package io.centrigate.proxy;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import io.centrigate.config.ProxyContext;

/**
 * {@code --warmup}: a freshly started JVM interprets the proxy's hot paths until C2 has compiled them, and a burst
 * of clients right after a (re)start pays for it in latency. So, before the real listeners bind, a temporary proxy
 * with the same loops and buffer settings runs on {@code 127.0.0.1:0} in front of an in-process node (a WebSocket
 * echo node and HTTP responder), and clients drive it for the given time: WebSocket upgrades, echoed frames both
 * ways, tunnels held open, closes, and keep-alive HTTP requests with Content-Length and chunked bodies (node and
 * plain clients: {@link WarmupTraffic}, one non-blocking thread). Then it is all closed: the JIT's work stays, the
 * temporary proxy's counters go with it. Any error ends the warm-up early; it never fails the start. With TLS
 * listeners the temporary proxy has one too, with the real certificate, and blocking TLS clients (this class) drive
 * it as well: a cold TLS engine (handshake, record layer) is far slower than a cold plain path.
 */
public final class Warmup
{
    /** A socket read that waits longer than this is an error (the warm-up stops, the start goes on). */
    private static final int IO_TIMEOUT_MS = 2_000;
    /** How long past the duration client threads may take to finish what they started. */
    private static final long FINISH_GRACE_NS = TimeUnit.SECONDS.toNanos(3);
    private static final int REQUESTS_PER_CONNECTION = 6;
    private static final int FRAMES_PER_TUNNEL = 8;

    /** What a warm-up did; {@code error} is null when it ran its full time. */
    public record Result(long elapsedNs, int upgrades, int requests, int tlsUpgrades, String error,
        InetSocketAddress listener, String transport)
    {
        /** The one line for the operator. */
        public String line()
        {
            final String counts = String.format(Locale.ROOT, " %.1f s (%d upgrades, %d requests)",
                elapsedNs / 1e9, upgrades, requests);
            return error == null ? "centrigate: warmed up in" + counts :
                "centrigate: warm-up stopped early after" + counts + ": " + error;
        }
    }

    private final long deadline;
    /** The temporary TLS listener. */
    private final InetSocketAddress tlsProxy;
    private final javax.net.ssl.SSLSocketFactory tls;
    private final AtomicInteger upgrades;
    private final AtomicInteger requests;
    private final AtomicReference<String> error;
    private final AtomicInteger tlsUpgrades = new AtomicInteger();

    /** The TLS clients: blocking, a thread each, over {@link SSLSocket}s; the plain traffic is {@link WarmupTraffic}. */
    private Warmup(final InetSocketAddress tlsProxy, final long deadline, final AtomicInteger upgrades,
        final AtomicInteger requests, final AtomicReference<String> error)
    {
        this.tlsProxy = tlsProxy;
        this.tls = trustingClient();
        this.deadline = deadline;
        this.upgrades = upgrades;
        this.requests = requests;
        this.error = error;
    }

    /**
     * The warm-up's TLS client trusts what it is given: it talks to its own temporary listener on loopback, with
     * the certificate the operator configured, which need not name 127.0.0.1 or chain to a CA this JVM knows.
     */
    private static javax.net.ssl.SSLSocketFactory trustingClient()
    {
        try
        {
            final javax.net.ssl.SSLContext context = javax.net.ssl.SSLContext.getInstance("TLS");
            context.init(null, new javax.net.ssl.TrustManager[] {new javax.net.ssl.X509TrustManager()
            {
                @Override
                public void checkClientTrusted(final java.security.cert.X509Certificate[] chain, final String type)
                {
                }

                @Override
                public void checkServerTrusted(final java.security.cert.X509Certificate[] chain, final String type)
                {
                }

                @Override
                public java.security.cert.X509Certificate[] getAcceptedIssuers()
                {
                    return new java.security.cert.X509Certificate[0];
                }
            }}, null);
            return context.getSocketFactory();
        }
        catch (final java.security.GeneralSecurityException e)
        {
            throw new IllegalStateException("no TLS client for the warm-up: " + e.getMessage(), e);
        }
    }

    /**
     * Warms up for {@code durationNs} with the settings of {@code ctx} (concluded); {@code upstream} null runs the
     * in-process node, an address replaces it (tests: a broken one). Never throws.
     */
    /**
     * What the command line loads once the proxy has started (its wait for the end, its startup line). Loading a
     * class is not free for compiled code: see {@link #loadLateClasses}.
     */
    private static final String[] LATE_CLASSES = {
        "java.util.concurrent.CountDownLatch", "java.util.concurrent.CompletableFuture",
        "java.util.concurrent.ForkJoinWorkerThread", "java.util.Formatter",
    };

    /**
     * C2 compiles against the class hierarchy it has seen: a method with one implementation is inlined as the
     * only one. A class loaded for the first time after the warm-up that adds an implementation (CountDownLatch's
     * AbstractQueuedSynchronizer, which the selector's and the socket channels' locks use; ForkJoinWorkerThread, a
     * Thread, which CompletableFuture's waits bring in) throws away every compiled method that relied on it: the
     * loop, the selector, the socket reads and writes, just as the first clients arrive (measured with
     * -Xlog:jit+compilation,class+load: they are "made not entrant" at once). So the start and the
     * stop of a proxy, and what the command line loads after the start, are gone through before the hot paths
     * are compiled.
     */
    private static void loadLateClasses(final ProxyContext warmupContext) throws IOException
    {
        final Proxy rehearsal = Proxy.startCold(warmupContext, new PrintStream(OutputStream.nullOutputStream()));
        try
        {
            rehearsal.snapshot(5, TimeUnit.SECONDS);
        }
        catch (final Exception e)
        {
            // only classes were wanted
        }
        finally
        {
            rehearsal.close();
        }
        for (final String name : LATE_CLASSES)
        {
            try
            {
                Class.forName(name, true, Warmup.class.getClassLoader());
            }
            catch (final ClassNotFoundException e)
            {
                // a JDK without it cannot load it later either
            }
        }
        new java.util.concurrent.CountDownLatch(1).countDown();
        String.format(Locale.ROOT, "%.1f %s", 1.0, "");
    }

    static Result run(final ProxyContext ctx, final long durationNs, final InetSocketAddress upstream)
    {
        final long start = System.nanoTime();
        final AtomicInteger upgrades = new AtomicInteger();
        final AtomicInteger requests = new AtomicInteger();
        final AtomicReference<String> error = new AtomicReference<>();
        WarmupTraffic traffic = null;
        Thread trafficThread = null;
        Proxy temporary = null;
        InetSocketAddress listener = null;
        String transport = null;
        Warmup tlsClients = null;
        try
        {
            traffic = new WarmupTraffic(upgrades, requests, error);
            final ProxyContext warmupContext = context(ctx, upstream == null ? traffic.nodeAddress() : upstream);
            transport = warmupContext.transportInUse();
            // The node serves the rehearsal as well.
            final WarmupTraffic node = traffic;
            trafficThread = new Thread(() -> node.run(start + durationNs), "centrigate-warmup");
            trafficThread.setDaemon(true);
            trafficThread.start();
            loadLateClasses(warmupContext);
            temporary = Proxy.startCold(warmupContext, new PrintStream(OutputStream.nullOutputStream()));
            listener = temporary.boundAddresses().get(0);
            traffic.target(listener);
            final List<InetSocketAddress> tlsListeners = temporary.boundTlsAddresses();
            if (!tlsListeners.isEmpty())
            {
                tlsClients = new Warmup(tlsListeners.get(0), start + durationNs, upgrades, requests, error);
                tlsClients.drive(Math.min(2, ctx.loops()));
            }
            if (!traffic.awaitClients(Math.max(1, start + durationNs + FINISH_GRACE_NS - System.nanoTime())))
            {
                error.compareAndSet(null, "warm-up clients did not finish in time (" + traffic.describe() + ")");
            }
        }
        catch (final IOException | RuntimeException | InterruptedException e)
        {
            error.compareAndSet(null, String.valueOf(e.getMessage()));
            if (e instanceof InterruptedException)
            {
                Thread.currentThread().interrupt();
            }
        }
        finally
        {
            if (temporary != null)
            {
                temporary.close();
            }
            if (traffic != null)
            {
                traffic.close();
                joinQuietly(trafficThread);
                traffic.release();
            }
        }
        // The warm-up's garbage (its clients, its node, the temporary proxy) fills most of the young generation,
        // so the first real collection would otherwise fall in the first seconds of traffic, when a handover's or
        // a restart's clients all arrive, and copy every tunnel opened by then: a 68 ms pause at the end of a
        // 9,000-client ramp in bench/run.sh cold. Collected now, with no client connected yet, it costs a few ms
        // and the traffic starts on an empty young generation.
        System.gc();
        return new Result(System.nanoTime() - start, upgrades.get(), requests.get(),
            tlsClients == null ? 0 : tlsClients.tlsUpgrades.get(), error.get(), listener, transport);
    }

    private static void joinQuietly(final Thread thread)
    {
        if (thread == null)
        {
            return;
        }
        try
        {
            thread.join(TimeUnit.SECONDS.toMillis(5));
        }
        catch (final InterruptedException e)
        {
            Thread.currentThread().interrupt();
        }
    }

    private static final String UNREACHED_RATE = "10000000/s:1000000";
    /** The warm-up's health-check interval: some fifty probes in a 5 s warm-up. */
    private static final long HEALTH_CHECK_INTERVAL_NS = TimeUnit.MILLISECONDS.toNanos(100);

    /** The real settings that shape the hot paths, on a loopback listener, with one node. */
    private static ProxyContext context(final ProxyContext real, final InetSocketAddress upstream)
    {
        final ProxyContext warm = new ProxyContext();
        if (!real.tlsListen().isEmpty())
        {
            warm.tlsListen(new InetSocketAddress("127.0.0.1", 0)).tlsCert(real.tlsCert()).tlsKey(real.tlsKey());
        }
        return warm
            .listen(new InetSocketAddress("127.0.0.1", 0))
            .upstream(upstream)
            .loops(real.loops())
            // The transport that will serve: a warm-up on another one compiles code the clients never run.
            .transport(real.transportInUse() != null ? real.transportInUse() : real.transport())
            .idleMode(real.idleMode())
            .acceptMode(real.acceptMode())
            .balance(real.balance())
            .upstreamKeepAlive(real.upstreamKeepAlive())
            .maxRequestLine(real.maxRequestLine())
            .maxHeadBytes(real.maxHeadBytes())
            .maxFields(real.maxFields())
            .chunkSize(real.chunkSize())
            .bufferMemory(real.bufferMemory())
            // The real timeouts, so the timer code takes the branches it will take for real clients; only the
            // waits for the node are short, so that a node that does not answer ends the warm-up soon.
            .headerTimeoutNs(real.headerTimeoutNs())
            .firstByteTimeoutNs(real.firstByteTimeoutNs())
            .keepAliveTimeoutNs(real.keepAliveTimeoutNs())
            .sendTimeoutNs(real.sendTimeoutNs())
            .tunnelIdleTimeoutNs(real.tunnelIdleTimeoutNs())
            .upstreamIdleTimeoutNs(real.upstreamIdleTimeoutNs())
            .readTimeoutNs(real.readTimeoutNs())
            .connectTimeoutNs(TimeUnit.MILLISECONDS.toNanos(IO_TIMEOUT_MS))
            .nextUpstreamTimeoutNs(real.nextUpstreamTimeoutNs() > 0 ? TimeUnit.MILLISECONDS.toNanos(IO_TIMEOUT_MS) : 0)
            // The limits' code runs as for real clients, at limits the warm-up (one address) never reaches.
            // The health probes too, and often: a probe is a second kind of connection handler and buffer user on
            // the loop, and compiled code that never saw one went back to the interpreter at the real process's
            // first probe (JFR of the cold bench, 2026-12-08). The warm-up's node answers them 200.
            .healthCheckPath(real.healthCheckPath())
            .healthCheckIntervalNs(Math.min(real.healthCheckIntervalNs(), HEALTH_CHECK_INTERVAL_NS))
            .healthCheckTimeoutNs(real.healthCheckTimeoutNs())
            .healthCheckRise(real.healthCheckRise())
            .healthCheckFall(real.healthCheckFall())
            .maxConnectionsPerClient(real.maxConnectionsPerClient() > 0 ? 1_000_000 : 0)
            .handshakeRatePerClient(real.handshakeRatePerClientParsed().on() ? UNREACHED_RATE : "off")
            .maxHandshakeRate(real.maxHandshakeRateParsed().on() ? UNREACHED_RATE : "off")
            .clientTableSize(io.centrigate.limit.ClientTable.MIN_SLOTS)
            .conclude();
    }

    private void drive(final int clients) throws InterruptedException
    {
        final List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < clients; i++)
        {
            final Thread t = new Thread(this::client, "centrigate-warmup-tls-" + i);
            t.setDaemon(true);
            t.start();
            threads.add(t);
        }
        final long giveUp = deadline + FINISH_GRACE_NS;
        for (final Thread t : threads)
        {
            TimeUnit.NANOSECONDS.timedJoin(t, Math.max(1, giveUp - System.nanoTime()));
            if (t.isAlive())
            {
                // Left behind, it ends when the temporary proxy closes its socket.
                error.compareAndSet(null, "a warm-up client did not finish in time");
            }
        }
    }

    private void client()
    {
        try
        {
            // At least one round each, even when setting up took the whole duration (a loaded box, a short
            // --warmup): a warm-up that drove nothing would compile nothing.
            do
            {
                tunnel();
                exchanges();
            }
            while (error.get() == null && System.nanoTime() - deadline < 0);
        }
        catch (final IOException | RuntimeException e)
        {
            error.compareAndSet(null, "over TLS: " + e.getClass().getSimpleName() + ": " + e.getMessage());
        }
    }

    /** Fewer than the plain clients hold: a cold handshake costs both ends tens of ms, and the engine compiles as well on fewer. */
    private static final int TLS_TUNNELS_AT_ONCE = 8;

    /** A batch of WebSockets open at once: upgrade each, frames of several sizes echoed back, close handshakes. */
    private void tunnel() throws IOException
    {
        final List<Socket> sockets = new ArrayList<>(TLS_TUNNELS_AT_ONCE);
        try
        {
            for (int t = 0; t < TLS_TUNNELS_AT_ONCE; t++)
            {
                final Socket socket = connect();
                sockets.add(socket);
                socket.getOutputStream().write(WarmupTraffic.upgradeRequest(t));
            }
            final List<InputStream> ins = new ArrayList<>(sockets.size());
            for (final Socket socket : sockets)
            {
                final InputStream in = new BufferedInputStream(socket.getInputStream());
                expectStatus(readHead(in), "101");
                ins.add(in);
                upgrades.incrementAndGet();
                tlsUpgrades.incrementAndGet();
            }
            for (int i = 0; i < FRAMES_PER_TUNNEL; i++)
            {
                final byte[] payload = new byte[WarmupTraffic.payloadSize(0, i)];
                final int opcode = i % 2 == 0 ? 1 : 2;
                for (int t = 0; t < sockets.size(); t++)
                {
                    sockets.get(t).getOutputStream().write(WarmupTraffic.Frame.encode(opcode, payload, true));
                }
                for (int t = 0; t < sockets.size(); t++)
                {
                    final WarmupTraffic.Frame echo = readFrame(ins.get(t));
                    if (echo.opcode() != opcode || echo.payload().length != payload.length)
                    {
                        throw new IOException("frame not echoed");
                    }
                }
            }
            for (int t = 0; t < sockets.size(); t++)
            {
                sockets.get(t).getOutputStream().write(WarmupTraffic.Frame.encode(8, new byte[] {0x03, (byte)0xe8},
                    true)); // 1000
                if (readFrame(ins.get(t)).opcode() != 8)
                {
                    throw new IOException("no close frame back");
                }
            }
        }
        finally
        {
            for (final Socket socket : sockets)
            {
                socket.close();
            }
        }
    }

    /** One keep-alive connection: GETs, Content-Length and chunked POSTs; answers with either framing. */
    private void exchanges() throws IOException
    {
        try (Socket socket = connect())
        {
            final InputStream in = new BufferedInputStream(socket.getInputStream());
            final OutputStream out = socket.getOutputStream();
            for (int i = 0; i < REQUESTS_PER_CONNECTION; i++)
            {
                final String body = "{\"warmup\":" + i + "}";
                switch (i % 3)
                {
                    case 0:
                        out.write(("GET /connection/http_stream?i=1 HTTP/1.1\r\nHost: " +
                            WarmupTraffic.HOSTS[i % WarmupTraffic.HOSTS.length] + "\r\n\r\n")
                            .getBytes(StandardCharsets.US_ASCII));
                        break;
                    case 1:
                        out.write(("POST /api HTTP/1.1\r\nHost: " +
                            WarmupTraffic.HOSTS[(i + 1) % WarmupTraffic.HOSTS.length] +
                            "\r\nContent-Type: application/json\r\nContent-Length: " + body.length() + "\r\n\r\n" +
                            body).getBytes(StandardCharsets.US_ASCII));
                        break;
                    default:
                        out.write(("POST /chunked HTTP/1.1\r\nHost: warmup\r\nTransfer-Encoding: chunked\r\n\r\n" +
                            Integer.toHexString(body.length()) + "\r\n" + body + "\r\n0\r\n\r\n")
                            .getBytes(StandardCharsets.US_ASCII));
                        break;
                }
                final String head = readHead(in);
                expectStatus(head, "200");
                readBody(in, head);
                requests.incrementAndGet();
            }
        }
    }

    private Socket connect() throws IOException
    {
        final Socket socket = new Socket();
        try
        {
            socket.setTcpNoDelay(true);
            socket.setSoTimeout(IO_TIMEOUT_MS);
            socket.connect(tlsProxy, IO_TIMEOUT_MS);
            final javax.net.ssl.SSLSocket secured = (javax.net.ssl.SSLSocket)tls.createSocket(socket,
                tlsProxy.getHostString(), tlsProxy.getPort(), true);
            secured.startHandshake();
            return secured;
        }
        catch (final IOException e)
        {
            socket.close();
            throw e;
        }
    }

    private static void expectStatus(final String head, final String status) throws IOException
    {
        if (!head.startsWith("HTTP/1.1 " + status + " "))
        {
            throw new IOException("answer " + head.lines().findFirst().orElse(""));
        }
    }

    // ---- HTTP/1.1 and RFC 6455 framing, just enough for both ends ----

    /** A head up to and including its blank line, or null at end of stream before any byte. */
    private static String readHead(final InputStream in) throws IOException
    {
        final ByteArrayOutputStream head = new ByteArrayOutputStream(256);
        int matched = 0;
        while (matched < 4)
        {
            final int b = in.read();
            if (b < 0)
            {
                if (head.size() == 0)
                {
                    return null;
                }
                throw new EOFException("connection closed inside a head");
            }
            head.write(b);
            matched = b == (matched % 2 == 0 ? '\r' : '\n') ? matched + 1 : b == '\r' ? 1 : 0;
            if (head.size() > 16 * 1024)
            {
                throw new IOException("head too large");
            }
        }
        return head.toString(StandardCharsets.ISO_8859_1);
    }

    /** Reads the body the head announces (Content-Length or chunked); returns its length. */
    private static int readBody(final InputStream in, final String head) throws IOException
    {
        final String length = WarmupTraffic.Http.header(head, "Content-Length");
        if (length != null)
        {
            return in.readNBytes(need(in, Integer.parseInt(length))).length;
        }
        if (!"chunked".equalsIgnoreCase(WarmupTraffic.Http.header(head, "Transfer-Encoding")))
        {
            return 0;
        }
        int total = 0;
        while (true)
        {
            final String size = readLine(in);
            final int n = Integer.parseInt(size.split(";")[0].trim(), 16);
            if (n == 0)
            {
                while (!readLine(in).isEmpty())
                {
                    // trailer fields
                }
                return total;
            }
            total += in.readNBytes(need(in, n)).length;
            readLine(in);
        }
    }

    private static int need(final InputStream in, final int n) throws IOException
    {
        if (n < 0 || n > 1 << 20)
        {
            throw new IOException("bad body length " + n);
        }
        return n;
    }

    private static String readLine(final InputStream in) throws IOException
    {
        final StringBuilder line = new StringBuilder();
        int b;
        while ((b = in.read()) != '\n')
        {
            if (b < 0 || line.length() > 1024)
            {
                throw new EOFException("connection closed inside a chunked body");
            }
            if (b != '\r')
            {
                line.append((char)b);
            }
        }
        return line.toString();
    }

    private static WarmupTraffic.Frame readFrame(final InputStream in) throws IOException
    {
        final int b0 = in.read();
        final int b1 = in.read();
        if (b0 < 0 || b1 < 0)
        {
            throw new EOFException("connection closed before a frame");
        }
        long length = b1 & 0x7f;
        if (length >= 126)
        {
            final byte[] ext = readExactly(in, length == 126 ? 2 : 8);
            length = 0;
            for (final byte b : ext)
            {
                length = length << 8 | (b & 0xff);
            }
        }
        final byte[] mask = (b1 & 0x80) != 0 ? readExactly(in, 4) : null;
        final byte[] payload = readExactly(in, need(in, (int)Math.min(Integer.MAX_VALUE, length)));
        for (int i = 0; mask != null && i < payload.length; i++)
        {
            payload[i] ^= mask[i & 3];
        }
        return new WarmupTraffic.Frame(b0 & 0x0f, payload, 0);
    }

    private static byte[] readExactly(final InputStream in, final int n) throws IOException
    {
        final byte[] bytes = in.readNBytes(n);
        if (bytes.length < n)
        {
            throw new EOFException("connection closed inside a frame");
        }
        return bytes;
    }
}
