package io.centrigate.proxy;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import io.centrigate.config.ProxyContext;

/**
 * {@code --warmup}: a freshly started JVM interprets the proxy's hot paths until C2 has compiled them, and a burst
 * of clients right after a (re)start pays for it in latency. So, before the real listeners bind, a temporary proxy
 * with the same loops and buffer settings runs on {@code 127.0.0.1:0} in front of an in-process {@link Node} (a
 * WebSocket echo node and HTTP responder), and client threads drive it for the given time: WebSocket upgrades,
 * echoed frames both ways, closes, and keep-alive HTTP requests with Content-Length and chunked bodies. Then it is
 * all closed: the JIT's work stays, the temporary proxy's counters go with it. Any error ends the warm-up early;
 * it never fails the start. With TLS listeners the temporary proxy has one too, with the real certificate, and
 * every other round of each client goes over it: a cold TLS engine (handshake, record layer) is far slower than a
 * cold plain path.
 */
public final class Warmup
{
    /** A socket read that waits longer than this is an error (the warm-up stops, the start goes on). */
    private static final int IO_TIMEOUT_MS = 2_000;
    /** How long past the duration client threads may take to finish what they started. */
    private static final long FINISH_GRACE_NS = TimeUnit.SECONDS.toNanos(3);
    private static final String WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
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
    private final InetSocketAddress proxy;
    /** The temporary TLS listener, or null when the real proxy has none. */
    private final InetSocketAddress tlsProxy;
    private final javax.net.ssl.SSLSocketFactory tls;
    private final AtomicInteger upgrades = new AtomicInteger();
    private final AtomicInteger requests = new AtomicInteger();
    private final AtomicReference<String> error = new AtomicReference<>();

    private final AtomicInteger tlsUpgrades = new AtomicInteger();

    private Warmup(final InetSocketAddress proxy, final InetSocketAddress tlsProxy, final long deadline)
    {
        this.proxy = proxy;
        this.tlsProxy = tlsProxy;
        this.tls = tlsProxy == null ? null : trustingClient();
        this.deadline = deadline;
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
        Node node = null;
        Proxy temporary = null;
        InetSocketAddress listener = null;
        String transport = null;
        Warmup warmup = null;
        String failure = null;
        try
        {
            node = upstream == null ? new Node() : null;
            final ProxyContext warmupContext = context(ctx, upstream == null ? node.address() : upstream);
            transport = warmupContext.transportInUse();
            loadLateClasses(warmupContext);
            temporary = Proxy.startCold(warmupContext, new PrintStream(OutputStream.nullOutputStream()));
            listener = temporary.boundAddresses().get(0);
            final List<InetSocketAddress> tlsListeners = temporary.boundTlsAddresses();
            warmup = new Warmup(listener, tlsListeners.isEmpty() ? null : tlsListeners.get(0), start + durationNs);
            warmup.drive(Math.min(8, 2 * ctx.loops()));
        }
        catch (final IOException | RuntimeException | InterruptedException e)
        {
            failure = String.valueOf(e.getMessage());
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
            if (node != null)
            {
                node.close();
            }
        }
        if (failure == null && warmup != null)
        {
            failure = warmup.error.get();
        }
        // The warm-up's garbage (its clients, its node, the temporary proxy) fills most of the young generation,
        // so the first real collection would otherwise fall in the first seconds of traffic, when a handover's or
        // a restart's clients all arrive, and copy every tunnel opened by then: a 68 ms pause at the end of a
        // 9,000-client ramp in bench/run.sh cold. Collected now, with no client connected yet, it costs a few ms
        // and the traffic starts on an empty young generation.
        System.gc();
        return new Result(System.nanoTime() - start, warmup == null ? 0 : warmup.upgrades.get(),
            warmup == null ? 0 : warmup.requests.get(), warmup == null ? 0 : warmup.tlsUpgrades.get(), failure,
            listener, transport);
    }

    private static final String UNREACHED_RATE = "10000000/s:1000000";

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
            final boolean startOverTls = tlsProxy != null && i % 2 == 1;
            final Thread t = new Thread(() -> client(startOverTls), "centrigate-warmup-" + i);
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

    private void client(final boolean startOverTls)
    {
        boolean overTls = startOverTls;
        try
        {
            // At least one round each, even when setting up took the whole duration (a loaded box, a short
            // --warmup): a warm-up that drove nothing would compile nothing.
            do
            {
                tunnel(overTls);
                exchanges(overTls);
                overTls = tlsProxy != null && !overTls;
            }
            while (error.get() == null && System.nanoTime() - deadline < 0);
        }
        catch (final IOException | RuntimeException e)
        {
            error.compareAndSet(null, (overTls ? "over TLS: " : "") + e.getClass().getSimpleName() + ": " +
                e.getMessage());
        }
    }

    /**
     * Heads as clients send them: a compiled method that never saw a branch taken (a digit or a colon in Host, a
     * header it does not know) is thrown away when the first real client takes it, so the warm-up varies them.
     */
    private static final String[] HOSTS = {"warmup", "127.0.0.1:8080", "Centrifugo-1.example.com:8443", "[::1]:8000"};
    private static final String[] EXTRA_FIELDS = {
        "",
        "Origin: https://app.example.com\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0\r\n" +
            "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n" +
            "Accept-Encoding: gzip, deflate, br\r\nAccept-Language: en-US,en;q=0.9\r\n" +
            "Cache-Control: no-cache\r\nPragma: no-cache\r\nCookie: session=0123456789abcdef\r\n",
        "Origin: http://127.0.0.1:3000\r\nSec-WebSocket-Protocol: centrifuge-protobuf\r\n" +
            "X-Request-Id: 5f0c1e2d-3b4a-4c5d-8e9f-a0b1c2d3e4f5\r\n",
    };
    /** Tunnels a client holds open at once: the proxy's tables and timers grow as under a real ramp. */
    private static final int TUNNELS_AT_ONCE = 32;
    /** Fewer over TLS: a cold handshake costs both ends tens of ms, and the engine compiles as well on fewer. */
    private static final int TLS_TUNNELS_AT_ONCE = 8;

    /** A batch of WebSockets open at once: upgrade each, frames of several sizes echoed back, close handshakes. */
    private void tunnel(final boolean overTls) throws IOException
    {
        final int count = overTls ? TLS_TUNNELS_AT_ONCE : TUNNELS_AT_ONCE;
        final List<Socket> sockets = new ArrayList<>(count);
        try
        {
            for (int t = 0; t < count; t++)
            {
                final Socket socket = connect(overTls);
                sockets.add(socket);
                final byte[] nonce = new byte[16];
                ThreadLocalRandom.current().nextBytes(nonce);
                socket.getOutputStream().write(("GET /connection/websocket" + (t % 4 == 3 ? "?format=protobuf" : "") +
                    " HTTP/1.1\r\nHost: " + HOSTS[t % HOSTS.length] + "\r\nUpgrade: websocket\r\n" +
                    "Connection: Upgrade\r\nSec-WebSocket-Key: " + Base64.getEncoder().encodeToString(nonce) +
                    "\r\nSec-WebSocket-Version: 13\r\n" + EXTRA_FIELDS[t % EXTRA_FIELDS.length] + "\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            }
            final List<InputStream> ins = new ArrayList<>(sockets.size());
            for (final Socket socket : sockets)
            {
                final InputStream in = new BufferedInputStream(socket.getInputStream());
                expectStatus(readHead(in), "101");
                ins.add(in);
                upgrades.incrementAndGet();
                if (overTls)
                {
                    tlsUpgrades.incrementAndGet();
                }
            }
            for (int i = 0; i < FRAMES_PER_TUNNEL; i++)
            {
                final byte[] payload = new byte[i % 2 == 0 ? 24 + i : 512 << (i % 5)];
                final int opcode = i % 2 == 0 ? 1 : 2;
                for (int t = 0; t < sockets.size(); t++)
                {
                    writeFrame(sockets.get(t).getOutputStream(), opcode, payload, true);
                }
                for (int t = 0; t < sockets.size(); t++)
                {
                    final Frame echo = readFrame(ins.get(t));
                    if (echo.opcode != opcode || echo.payload.length != payload.length)
                    {
                        throw new IOException("frame not echoed");
                    }
                }
            }
            for (int t = 0; t < sockets.size(); t++)
            {
                writeFrame(sockets.get(t).getOutputStream(), 8, new byte[] {0x03, (byte)0xe8}, true); // 1000
                if (readFrame(ins.get(t)).opcode != 8)
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
    private void exchanges(final boolean overTls) throws IOException
    {
        try (Socket socket = connect(overTls))
        {
            final InputStream in = new BufferedInputStream(socket.getInputStream());
            final OutputStream out = socket.getOutputStream();
            for (int i = 0; i < REQUESTS_PER_CONNECTION; i++)
            {
                final String body = "{\"warmup\":" + i + "}";
                switch (i % 3)
                {
                    case 0:
                        out.write(("GET /connection/http_stream?i=1 HTTP/1.1\r\nHost: " + HOSTS[i % HOSTS.length] +
                            "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                        break;
                    case 1:
                        out.write(("POST /api HTTP/1.1\r\nHost: " + HOSTS[(i + 1) % HOSTS.length] +
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

    private Socket connect(final boolean overTls) throws IOException
    {
        final Socket socket = new Socket();
        try
        {
            socket.setTcpNoDelay(true);
            socket.setSoTimeout(IO_TIMEOUT_MS);
            socket.connect(overTls ? tlsProxy : proxy, IO_TIMEOUT_MS);
            if (overTls)
            {
                final javax.net.ssl.SSLSocket secured = (javax.net.ssl.SSLSocket)tls.createSocket(socket,
                    tlsProxy.getHostString(), tlsProxy.getPort(), true);
                secured.startHandshake();
                return secured;
            }
            return socket;
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

    private static String header(final String head, final String name)
    {
        for (final String line : head.split("\r\n"))
        {
            final int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).trim().equalsIgnoreCase(name))
            {
                return line.substring(colon + 1).trim();
            }
        }
        return null;
    }

    /** Reads the body the head announces (Content-Length or chunked); returns its length. */
    private static int readBody(final InputStream in, final String head) throws IOException
    {
        final String length = header(head, "Content-Length");
        if (length != null)
        {
            return in.readNBytes(need(in, Integer.parseInt(length))).length;
        }
        if (!"chunked".equalsIgnoreCase(header(head, "Transfer-Encoding")))
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

    private record Frame(int opcode, byte[] payload)
    {
    }

    private static Frame readFrame(final InputStream in) throws IOException
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
        return new Frame(b0 & 0x0f, payload);
    }

    private static void writeFrame(final OutputStream out, final int opcode, final byte[] payload, final boolean masked)
        throws IOException
    {
        final ByteArrayOutputStream frame = new ByteArrayOutputStream(payload.length + 14);
        frame.write(0x80 | opcode);
        final int maskBit = masked ? 0x80 : 0;
        if (payload.length < 126)
        {
            frame.write(maskBit | payload.length);
        }
        else
        {
            frame.write(maskBit | 126); // payloads here stay below 64 KiB
            frame.write(payload.length >>> 8);
            frame.write(payload.length & 0xff);
        }
        final byte[] body = payload.clone();
        if (masked)
        {
            final byte[] mask = new byte[4];
            ThreadLocalRandom.current().nextBytes(mask);
            frame.write(mask, 0, 4);
            for (int i = 0; i < body.length; i++)
            {
                body[i] ^= mask[i & 3];
            }
        }
        frame.write(body, 0, body.length);
        out.write(frame.toByteArray());
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

    /**
     * The in-process upstream: a blocking loopback server, a thread per connection. A WebSocket upgrade is answered
     * 101 and every frame echoed until the close handshake; any other request gets a 200 with its body length,
     * framed by Content-Length, or chunked when the request was.
     */
    static final class Node implements AutoCloseable
    {
        private final ServerSocket server;
        private final Set<Socket> open = ConcurrentHashMap.newKeySet();

        Node() throws IOException
        {
            server = new ServerSocket();
            server.bind(new InetSocketAddress("127.0.0.1", 0), 1024);
            final Thread acceptor = new Thread(this::accept, "centrigate-warmup-node");
            acceptor.setDaemon(true);
            acceptor.start();
        }

        InetSocketAddress address()
        {
            return new InetSocketAddress("127.0.0.1", server.getLocalPort());
        }

        private void accept()
        {
            while (!server.isClosed())
            {
                try
                {
                    final Socket socket = server.accept();
                    open.add(socket);
                    final Thread t = new Thread(() -> serve(socket), "centrigate-warmup-node-connection");
                    t.setDaemon(true);
                    t.start();
                }
                catch (final IOException e)
                {
                    return; // closed
                }
            }
        }

        private void serve(final Socket socket)
        {
            try (socket)
            {
                socket.setTcpNoDelay(true);
                final InputStream in = new BufferedInputStream(socket.getInputStream());
                final OutputStream out = socket.getOutputStream();
                String head;
                while ((head = readHead(in)) != null)
                {
                    final String key = header(head, "Sec-WebSocket-Key");
                    if (key != null && "websocket".equalsIgnoreCase(header(head, "Upgrade")))
                    {
                        out.write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
                            "Sec-WebSocket-Accept: " + accept(key) + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                        echo(in, out);
                        return;
                    }
                    final int length = readBody(in, head);
                    final String body = "{\"length\":" + length + "}";
                    if (header(head, "Transfer-Encoding") != null)
                    {
                        out.write(("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" +
                            Integer.toHexString(body.length()) + "\r\n" + body + "\r\n0\r\n\r\n")
                            .getBytes(StandardCharsets.US_ASCII));
                    }
                    else
                    {
                        out.write(("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
                            body.length() + "\r\n\r\n" + body).getBytes(StandardCharsets.US_ASCII));
                    }
                }
            }
            catch (final IOException | RuntimeException e)
            {
                // The proxy closed the connection (or the warm-up ended); the client side reports what matters.
            }
            finally
            {
                open.remove(socket);
            }
        }

        private static void echo(final InputStream in, final OutputStream out) throws IOException
        {
            while (true)
            {
                final Frame frame = readFrame(in);
                writeFrame(out, frame.opcode, frame.payload, false);
                if (frame.opcode == 8)
                {
                    return;
                }
            }
        }

        private static String accept(final String key)
        {
            try
            {
                return Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-1")
                    .digest((key + WS_GUID).getBytes(StandardCharsets.US_ASCII)));
            }
            catch (final NoSuchAlgorithmException e)
            {
                throw new IllegalStateException(e);
            }
        }

        @Override
        public void close()
        {
            try
            {
                server.close();
            }
            catch (final IOException ignore)
            {
                // closing
            }
            for (final Socket socket : open)
            {
                try
                {
                    socket.close();
                }
                catch (final IOException ignore)
                {
                    // closing
                }
            }
        }
    }
}
