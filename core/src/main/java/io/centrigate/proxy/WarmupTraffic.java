package io.centrigate.proxy;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayDeque;
import java.util.Base64;
import java.util.List;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The warm-up's plain traffic: its clients and its node on one thread, non-blocking, so that the proxy's loops get
 * the CPU. The first warm-up used a blocking client per thread and a thread per node connection: on a box where
 * everything shares one core, the generator and node took ~2.4x the proxy's own CPU (thread starts, a context
 * switch per echoed frame) and a 5 s warm-up drove 1,500 to 6,000 upgrades, too few for C2 to compile the
 * once-per-handshake code before the listeners opened; that code was then compiled during the first real ramp.
 *
 * <p>Clients: WebSocket upgrades (heads varied as clients send them), frames echoed both ways, then either a close
 * handshake or, for a share of them, held open (up to {@link #HOLD} at once, the oldest closed first, some by a
 * bare FIN as vanished clients do) so the proxy's tables, timers and buffer pool grow as in a real ramp; and
 * keep-alive HTTP connections with GET, Content-Length and chunked POSTs. The node answers 101 and echoes frames,
 * or answers 200 framed like the request. It also serves the TLS clients of {@link Warmup}, which stay blocking.
 *
 * <p>Cold-path code: plain, allocating; it runs only before the listeners bind.
 */
final class WarmupTraffic implements AutoCloseable
{
    private static final String WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    /** Clients opening, upgrading or exchanging at once (held tunnels not counted). */
    static final int IN_FLIGHT = 64;
    /** Tunnels held open at once. */
    static final int HOLD = 1_024;
    private static final int REQUESTS_PER_CONNECTION = 6;
    /** One client in this many is an HTTP keep-alive connection, the rest WebSockets. */
    private static final int HTTP_EVERY = 32;
    /** One tunnel in this many is held open after its frames. */
    private static final int HOLD_EVERY = 2;
    /**
     * Clients of the burst that makes the proxy's chunk pool grow: each sends half its head, which holds a chunk in
     * the proxy (an idle connection holds none), so more of them at once than the pool has chunks make it add
     * slabs. Real ramps grow the pool; code compiled on a warm-up that never grew it treated growth as a branch
     * never taken and went back to the interpreter at the first slab the real clients needed (perf and JFR of the
     * cold bench, 2026-12-08).
     */
    static final int BURST = 256;
    /** How long the burst's clients hold their half heads before sending the rest. */
    private static final long BURST_HOLD_NS = TimeUnit.MILLISECONDS.toNanos(100);
    /** A connection waiting longer than this for its peer is an error (the warm-up stops; the start goes on). */
    private static final long STALL_NS = TimeUnit.SECONDS.toNanos(2);

    private final Selector selector;
    private final ServerSocketChannel nodeServer;
    private final AtomicInteger upgrades;
    private final AtomicInteger requests;
    private final AtomicReference<String> error;
    private final Set<Client> active = new HashSet<>();
    private final ArrayDeque<Client> held = new ArrayDeque<>();
    private final CountDownLatch clientsDone = new CountDownLatch(1);
    private volatile boolean closed;

    WarmupTraffic(final AtomicInteger upgrades, final AtomicInteger requests, final AtomicReference<String> error)
        throws IOException
    {
        this.upgrades = upgrades;
        this.requests = requests;
        this.error = error;
        selector = Selector.open();
        nodeServer = ServerSocketChannel.open();
        try
        {
            nodeServer.bind(new InetSocketAddress("127.0.0.1", 0), 4096);
            nodeServer.configureBlocking(false);
            nodeServer.register(selector, SelectionKey.OP_ACCEPT);
        }
        catch (final IOException e)
        {
            close();
            throw e;
        }
    }

    InetSocketAddress nodeAddress() throws IOException
    {
        return (InetSocketAddress)nodeServer.getLocalAddress();
    }

    /** The proxy to drive; set once it is bound (the node has to exist first: it is the proxy's upstream). */
    private volatile InetSocketAddress target;

    void target(final InetSocketAddress target)
    {
        this.target = target;
    }

    /**
     * Waits until the clients stopped (deadline reached or an error) and every one of them has finished; false if
     * that took longer than {@code timeoutNs}.
     */
    boolean awaitClients(final long timeoutNs) throws InterruptedException
    {
        return clientsDone.await(timeoutNs, TimeUnit.NANOSECONDS);
    }

    /**
     * Serves the node and, until {@code deadline}, opens clients against the target (at least {@link #IN_FLIGHT}
     * of them, even when setting up took the whole duration: a warm-up that drove nothing would compile nothing);
     * then lets them finish and closes the held tunnels. Returns when {@link #close()} is called (the node keeps
     * serving until then: the TLS clients use it too).
     */
    void run(final long deadline)
    {
        long nextCheck = System.nanoTime();
        // Past half the duration: the pool's code is compiled by then, and recompiled with growth in its profile
        // before the warm-up ends.
        final long burstAt = nextCheck + (deadline - nextCheck) / 2;
        boolean burstOpened = false;
        long burstRelease = 0;
        boolean winding = false;
        while (!closed)
        {
            final long now = System.nanoTime();
            if (!burstOpened && !winding && target != null && now - burstAt >= 0)
            {
                burstOpened = true;
                burstRelease = now + BURST_HOLD_NS;
                for (int i = 0; i < BURST && error.get() == null; i++)
                {
                    open(now, true);
                }
            }
            if (burstRelease != 0 && now - burstRelease >= 0)
            {
                burstRelease = 0;
                for (final Client client : List.copyOf(active))
                {
                    client.restOfHead(now);
                }
            }
            if (!winding && (now - deadline >= 0 && opened >= IN_FLIGHT || error.get() != null))
            {
                winding = true;
                while (!held.isEmpty())
                {
                    held.pollFirst().release(now);
                }
            }
            if (!winding && target != null)
            {
                while (active.size() - burstActive < IN_FLIGHT && error.get() == null)
                {
                    open(now, false);
                }
            }
            if (winding && (active.isEmpty() || error.get() != null))
            {
                clientsDone.countDown();
            }
            if (now - nextCheck >= 0)
            {
                nextCheck = now + TimeUnit.MILLISECONDS.toNanos(100);
                for (final Client client : active)
                {
                    if (now - client.waitingSince > STALL_NS)
                    {
                        fail("a warm-up " + client.kind() + " waited " + TimeUnit.NANOSECONDS.toSeconds(STALL_NS) +
                            " s for the proxy (step " + client.step + ")");
                        break;
                    }
                }
            }
            try
            {
                selector.select(10);
            }
            catch (final IOException e)
            {
                fail("selector: " + e.getMessage());
                return;
            }
            final Set<SelectionKey> ready = selector.selectedKeys();
            for (final SelectionKey key : ready)
            {
                if (!key.isValid())
                {
                    continue;
                }
                if (key.attachment() == null)
                {
                    acceptNode();
                }
                else
                {
                    ((Peer)key.attachment()).ready(key);
                }
            }
            ready.clear();
        }
    }

    private void fail(final String why)
    {
        if (!closed)
        {
            error.compareAndSet(null, why);
        }
    }

    private void acceptNode()
    {
        try
        {
            SocketChannel channel;
            while ((channel = nodeServer.accept()) != null)
            {
                channel.configureBlocking(false);
                channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
                channel.register(selector, SelectionKey.OP_READ, new NodeSide(channel));
            }
        }
        catch (final IOException e)
        {
            fail("node accept: " + e.getMessage());
        }
    }

    private long opened;
    /** Burst clients still active (they do not count against {@link #IN_FLIGHT}). */
    private int burstActive;

    private void open(final long now, final boolean burst)
    {
        final long n = opened++;
        final Client client = burst ? new WsClient(n, true) : n % HTTP_EVERY == HTTP_EVERY - 1 ? new HttpClient(n) :
            new WsClient(n, false);
        active.add(client);
        client.waitingSince = now;
        try
        {
            final SocketChannel channel = SocketChannel.open();
            client.channel = channel;
            channel.configureBlocking(false);
            channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
            if (channel.connect(target))
            {
                channel.register(selector, SelectionKey.OP_READ, client);
                client.connected();
            }
            else
            {
                channel.register(selector, SelectionKey.OP_CONNECT, client);
            }
        }
        catch (final IOException e)
        {
            client.failed(e);
        }
    }

    @Override
    public void close()
    {
        closed = true;
        selector.wakeup();
    }

    /** After {@link #run} returned (or never ran): every socket closed. */
    void release()
    {
        for (final SelectionKey key : selector.keys())
        {
            closeQuietly(key.channel());
        }
        closeQuietly(nodeServer);
        closeQuietly(selector);
    }

    private static void closeQuietly(final java.io.Closeable c)
    {
        try
        {
            c.close();
        }
        catch (final IOException ignore)
        {
            // closing
        }
    }

    // ---------------------------------------------------------------- both ends: buffered non-blocking I/O

    private abstract static class Peer
    {
        SocketChannel channel;
        /** Bytes read and not consumed yet: [0, position); grown on demand (held tunnels keep theirs). */
        ByteBuffer in = ByteBuffer.allocate(2048);
        /** Bytes to send: [0, position). */
        ByteBuffer out = ByteBuffer.allocate(512);
        boolean closeAfterFlush;

        abstract void ready(SelectionKey key);

        /** Reads what is there; false at end of stream. */
        boolean fill() throws IOException
        {
            while (true)
            {
                if (!in.hasRemaining())
                {
                    in = grow(in, in.capacity() * 2);
                }
                final int n = channel.read(in);
                if (n < 0)
                {
                    return false;
                }
                if (n == 0)
                {
                    return true;
                }
            }
        }

        void send(final byte[] bytes, final SelectionKey key) throws IOException
        {
            if (out.remaining() < bytes.length)
            {
                out = grow(out, Math.max(out.capacity() * 2, out.position() + bytes.length));
            }
            out.put(bytes);
            flush(key);
        }

        void flush(final SelectionKey key) throws IOException
        {
            out.flip();
            channel.write(out);
            out.compact();
            final boolean pending = out.position() > 0;
            if (!pending && closeAfterFlush)
            {
                channel.close();
                return;
            }
            key.interestOps(pending ? key.interestOps() | SelectionKey.OP_WRITE :
                key.interestOps() & ~SelectionKey.OP_WRITE);
        }

        void consume(final int n)
        {
            in.flip();
            in.position(n);
            in.compact();
        }
    }

    private static ByteBuffer grow(final ByteBuffer b, final int capacity)
    {
        final ByteBuffer bigger = ByteBuffer.allocate(capacity);
        b.flip();
        bigger.put(b);
        return bigger;
    }

    // ---------------------------------------------------------------- the node

    private final class NodeSide extends Peer
    {
        private boolean webSocket;

        NodeSide(final SocketChannel channel)
        {
            this.channel = channel;
        }

        @Override
        void ready(final SelectionKey key)
        {
            try
            {
                if (key.isWritable())
                {
                    flush(key);
                    if (!channel.isOpen())
                    {
                        return;
                    }
                }
                if (key.isReadable())
                {
                    final boolean open = fill();
                    answer(key);
                    if (!open)
                    {
                        channel.close();
                    }
                }
            }
            catch (final IOException | RuntimeException e)
            {
                // The proxy closed or reset the connection: the client side reports what matters.
                closeQuietly(channel);
            }
        }

        private void answer(final SelectionKey key) throws IOException
        {
            while (channel.isOpen() && !closeAfterFlush)
            {
                if (webSocket)
                {
                    final Frame frame = Frame.parse(in);
                    if (frame == null)
                    {
                        return;
                    }
                    consume(frame.length);
                    send(Frame.encode(frame.opcode, frame.payload, false), key);
                    if (frame.opcode == 8)
                    {
                        closeAfterFlush = true;
                        flush(key);
                    }
                    continue;
                }
                final int end = Http.messageEnd(in);
                if (end < 0)
                {
                    return;
                }
                final String head = Http.head(in);
                consume(end);
                final String key64 = Http.header(head, "Sec-WebSocket-Key");
                if (key64 != null && "websocket".equalsIgnoreCase(Http.header(head, "Upgrade")))
                {
                    webSocket = true;
                    send(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
                        "Sec-WebSocket-Accept: " + cachedAccept(key64) + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII), key);
                    continue;
                }
                final String body = "{\"warmup\":true}";
                if (Http.header(head, "Transfer-Encoding") != null)
                {
                    send(("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" +
                        Integer.toHexString(body.length()) + "\r\n" + body + "\r\n0\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII), key);
                }
                else
                {
                    send(("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + body.length() +
                        "\r\n\r\n" + body).getBytes(StandardCharsets.US_ASCII), key);
                }
            }
        }
    }

    /** Sec-WebSocket-Accept per key: the clients use a few dozen keys, so each is hashed once. */
    private final java.util.Map<String, String> accepts = new java.util.HashMap<>();

    private String cachedAccept(final String key)
    {
        return accepts.computeIfAbsent(key, WarmupTraffic::accept);
    }

    static String accept(final String key)
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

    // ---------------------------------------------------------------- the clients

    private abstract class Client extends Peer
    {
        final long n;
        int step;
        long waitingSince;
        /** Held open after its frames: the proxy may end it (an idle timeout of the real settings) without error. */
        boolean isHeld;

        Client(final long n)
        {
            this.n = n;
        }

        abstract String kind();

        boolean inBurst()
        {
            return false;
        }

        /** The connection is up: send the first message. */
        abstract void connected() throws IOException;

        /** Bytes arrived: consume complete answers, send what follows. */
        abstract void answered(SelectionKey key) throws IOException;

        @Override
        final void ready(final SelectionKey key)
        {
            try
            {
                if (key.isConnectable())
                {
                    channel.finishConnect();
                    key.interestOps(SelectionKey.OP_READ);
                    connected();
                    return;
                }
                if (key.isWritable())
                {
                    flush(key);
                }
                if (key.isReadable() && channel.isOpen())
                {
                    final boolean open = fill();
                    waitingSince = System.nanoTime();
                    answered(key);
                    if (!open && channel.isOpen())
                    {
                        if (isHeld)
                        {
                            finished();
                            return;
                        }
                        throw new IOException("the proxy closed the connection");
                    }
                }
            }
            catch (final IOException | RuntimeException e)
            {
                failed(e);
            }
        }

        void failed(final Exception e)
        {
            fail(kind() + ": " + e.getClass().getSimpleName() + ": " + e.getMessage());
            finished();
        }

        void finished()
        {
            if (active.remove(this) && inBurst())
            {
                burstActive--;
            }
            if (isHeld)
            {
                isHeld = false;
                held.remove(this);
            }
            if (channel != null)
            {
                closeQuietly(channel);
            }
        }

        SelectionKey key()
        {
            return channel.keyFor(selector);
        }

        /** The burst's moment to send the rest of a half-sent head (only its WebSockets have one). */
        void restOfHead(final long now)
        {
        }

        /** A held tunnel's turn to go (only WebSockets are held). */
        void release(final long now)
        {
            finished();
        }

        void expectStatus(final String head, final String status) throws IOException
        {
            if (!head.startsWith("HTTP/1.1 " + status + " "))
            {
                throw new IOException("answer " + head.lines().findFirst().orElse(""));
            }
        }
    }

    /**
     * Heads as clients send them: a compiled method that never saw a branch taken (a digit or a colon in Host, a
     * header it does not know) is thrown away when the first real client takes it, so the warm-up varies them.
     */
    static final String[] HOSTS = {"warmup", "127.0.0.1:8080", "Centrifugo-1.example.com:8443", "[::1]:8000"};
    static final String[] EXTRA_FIELDS = {
        "",
        "Origin: https://app.example.com\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0\r\n" +
            "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n" +
            "Accept-Encoding: gzip, deflate, br\r\nAccept-Language: en-US,en;q=0.9\r\n" +
            "Cache-Control: no-cache\r\nPragma: no-cache\r\nCookie: session=0123456789abcdef\r\n",
        "Origin: http://127.0.0.1:3000\r\nSec-WebSocket-Protocol: centrifuge-protobuf\r\n" +
            "X-Request-Id: 5f0c1e2d-3b4a-4c5d-8e9f-a0b1c2d3e4f5\r\n",
    };

    /**
     * The upgrade requests, built once: every combination of the variations above (4 x 3 x 2 = 24 heads, each with
     * its own key) so the generator spends its CPU on sockets, not on building strings.
     */
    private static final byte[][] UPGRADES = new byte[HOSTS.length * EXTRA_FIELDS.length * 2][];

    static
    {
        for (int n = 0; n < UPGRADES.length; n++)
        {
            final byte[] nonce = new byte[16];
            ThreadLocalRandom.current().nextBytes(nonce);
            UPGRADES[n] = ("GET /connection/websocket" + (n % 2 == 1 ? "?format=protobuf" : "") +
                " HTTP/1.1\r\nHost: " + HOSTS[n % HOSTS.length] + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
                "Sec-WebSocket-Key: " + Base64.getEncoder().encodeToString(nonce) + "\r\nSec-WebSocket-Version: 13\r\n" +
                EXTRA_FIELDS[n / HOSTS.length % EXTRA_FIELDS.length] + "\r\n").getBytes(StandardCharsets.US_ASCII);
        }
    }

    static byte[] upgradeRequest(final long n)
    {
        return UPGRADES[(int)(n % UPGRADES.length)];
    }

    /** The frames' payload sizes: most tunnels a few small messages as Centrifugo's are; one in four larger ones. */
    static int payloadSize(final long n, final int i)
    {
        return i % 2 == 0 ? 24 + i : n % 4 == 0 ? 512 << (i % 5) : 96;
    }

    /** The clients' frames, masked, built once: [0] the small messages most tunnels send, [1] the larger ones. */
    private static final byte[][][] FRAMES = new byte[2][8][];
    private static final byte[] CLOSE = Frame.encode(8, new byte[] {0x03, (byte)0xe8}, true); // 1000

    static
    {
        for (int kind = 0; kind < 2; kind++)
        {
            for (int i = 0; i < 8; i++)
            {
                FRAMES[kind][i] = Frame.encode(i % 2 == 0 ? 1 : 2, new byte[payloadSize(kind == 1 ? 0 : 1, i)], true);
            }
        }
    }

    private final class WsClient extends Client
    {
        private final int frames;
        private final boolean hold;
        private final boolean burst;
        /** Bytes of the head sent so far (a burst client sends half first). */
        private int headSent;
        private boolean upgraded;

        WsClient(final long n, final boolean burst)
        {
            super(n);
            this.burst = burst;
            frames = burst ? 1 : n % 4 == 0 ? 8 : 2;
            hold = !burst && n % HOLD_EVERY == 0;
            if (burst)
            {
                burstActive++;
            }
        }

        @Override
        boolean inBurst()
        {
            return burst;
        }

        @Override
        void restOfHead(final long now)
        {
            final byte[] head = upgradeRequest(n);
            if (!burst || headSent == 0 || headSent == head.length || !channel.isOpen())
            {
                return;
            }
            waitingSince = now;
            try
            {
                send(java.util.Arrays.copyOfRange(head, headSent, head.length), key());
                headSent = head.length;
            }
            catch (final IOException | RuntimeException e)
            {
                failed(e);
            }
        }

        @Override
        String kind()
        {
            return "WebSocket client";
        }

        @Override
        void connected() throws IOException
        {
            final byte[] head = upgradeRequest(n);
            headSent = burst ? head.length / 2 : head.length;
            send(burst ? java.util.Arrays.copyOf(head, headSent) : head, key());
        }

        @Override
        void answered(final SelectionKey key) throws IOException
        {
            if (!upgraded)
            {
                final int end = Http.messageEnd(in);
                if (end < 0)
                {
                    return;
                }
                expectStatus(Http.head(in), "101");
                consume(end);
                upgraded = true;
                upgrades.incrementAndGet();
                sendFrame(key);
                return;
            }
            final Frame echo = Frame.parse(in);
            if (echo == null)
            {
                return;
            }
            consume(echo.length);
            if (echo.opcode == 8)
            {
                finished();
                return;
            }
            if (echo.payload.length != payloadSize(n, step))
            {
                throw new IOException("frame not echoed: " + echo.payload.length + " bytes");
            }
            step++;
            if (step < frames)
            {
                sendFrame(key);
            }
            else if (hold && held.size() < HOLD)
            {
                active.remove(this); // never a burst client: those are not held
                isHeld = true;
                held.addLast(this);
                if (held.size() == HOLD)
                {
                    held.pollFirst().release(System.nanoTime());
                }
            }
            else
            {
                goodbye(key);
            }
        }

        private void sendFrame(final SelectionKey key) throws IOException
        {
            send(FRAMES[n % 4 == 0 ? 1 : 0][step], key);
        }

        private void goodbye(final SelectionKey key) throws IOException
        {
            send(CLOSE, key);
        }

        @Override
        void release(final long now)
        {
            held.remove(this);
            isHeld = false;
            // Some clients vanish without a close handshake (a closed laptop, a killed tab).
            if (n % 8 == 0 || !channel.isOpen())
            {
                finished();
                return;
            }
            active.add(this);
            waitingSince = now;
            try
            {
                goodbye(key());
            }
            catch (final IOException | RuntimeException e)
            {
                failed(e);
            }
        }
    }

    private final class HttpClient extends Client
    {
        HttpClient(final long n)
        {
            super(n);
        }

        @Override
        String kind()
        {
            return "HTTP client";
        }

        @Override
        void connected() throws IOException
        {
            request(key());
        }

        private void request(final SelectionKey key) throws IOException
        {
            final String body = "{\"warmup\":" + step + "}";
            final String host = HOSTS[(int)((n + step) % HOSTS.length)];
            final String message = switch (step % 3)
            {
                case 0 -> "GET /connection/http_stream?i=1 HTTP/1.1\r\nHost: " + host + "\r\n\r\n";
                case 1 -> "POST /api HTTP/1.1\r\nHost: " + host + "\r\nContent-Type: application/json\r\n" +
                    "Content-Length: " + body.length() + "\r\n\r\n" + body;
                default -> "POST /chunked HTTP/1.1\r\nHost: warmup\r\nTransfer-Encoding: chunked\r\n\r\n" +
                    Integer.toHexString(body.length()) + "\r\n" + body + "\r\n0\r\n\r\n";
            };
            send(message.getBytes(StandardCharsets.US_ASCII), key);
        }

        @Override
        void answered(final SelectionKey key) throws IOException
        {
            final int end = Http.messageEnd(in);
            if (end < 0)
            {
                return;
            }
            expectStatus(Http.head(in), "200");
            consume(end);
            requests.incrementAndGet();
            if (++step < REQUESTS_PER_CONNECTION)
            {
                request(key);
            }
            else
            {
                finished();
            }
        }
    }

    // ---------------------------------------------------------------- just enough HTTP/1.1 and RFC 6455

    /** HTTP/1.1 message framing over a buffer's bytes [0, position). */
    static final class Http
    {
        private Http()
        {
        }

        /** End of the head (after its blank line), or -1. */
        static int headEnd(final ByteBuffer b)
        {
            final byte[] a = b.array();
            for (int i = 3; i < b.position(); i++)
            {
                if (a[i] == '\n' && a[i - 1] == '\r' && a[i - 2] == '\n' && a[i - 3] == '\r')
                {
                    return i + 1;
                }
            }
            return -1;
        }

        static String head(final ByteBuffer b)
        {
            return new String(b.array(), 0, headEnd(b), StandardCharsets.ISO_8859_1);
        }

        /**
         * End of the first complete message (head and its Content-Length or chunked body; none for a 101 or a
         * request without either), or -1 while incomplete.
         */
        static int messageEnd(final ByteBuffer b)
        {
            final int headEnd = headEnd(b);
            if (headEnd < 0)
            {
                return -1;
            }
            final String head = new String(b.array(), 0, headEnd, StandardCharsets.ISO_8859_1);
            if (head.startsWith("HTTP/1.1 101 "))
            {
                return headEnd;
            }
            final String length = header(head, "Content-Length");
            if (length != null)
            {
                final int end = headEnd + Integer.parseInt(length);
                return end <= b.position() ? end : -1;
            }
            if (!"chunked".equalsIgnoreCase(header(head, "Transfer-Encoding")))
            {
                return headEnd;
            }
            int at = headEnd;
            final byte[] a = b.array();
            while (true)
            {
                final int lineEnd = lineEnd(a, at, b.position());
                if (lineEnd < 0)
                {
                    return -1;
                }
                final String size = new String(a, at, lineEnd - 2 - at, StandardCharsets.ISO_8859_1);
                final int n = Integer.parseInt(size.split(";")[0].trim(), 16);
                at = lineEnd;
                if (n == 0)
                {
                    // trailer fields, then the blank line
                    while (true)
                    {
                        final int trailerEnd = lineEnd(a, at, b.position());
                        if (trailerEnd < 0)
                        {
                            return -1;
                        }
                        final boolean blank = trailerEnd - at == 2;
                        at = trailerEnd;
                        if (blank)
                        {
                            return at;
                        }
                    }
                }
                at += n + 2;
                if (at > b.position())
                {
                    return -1;
                }
            }
        }

        private static int lineEnd(final byte[] a, final int from, final int to)
        {
            for (int i = from + 1; i < to; i++)
            {
                if (a[i] == '\n' && a[i - 1] == '\r')
                {
                    return i + 1;
                }
            }
            return -1;
        }

        static String header(final String head, final String name)
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
    }

    /** A WebSocket frame (RFC 6455 §5.2), unmasked; {@code length} is its size on the wire. */
    record Frame(int opcode, byte[] payload, int length)
    {
        /** The first complete frame in [0, position), or null. */
        static Frame parse(final ByteBuffer b)
        {
            final byte[] a = b.array();
            final int have = b.position();
            if (have < 2)
            {
                return null;
            }
            int at = 2;
            long size = a[1] & 0x7f;
            if (size >= 126)
            {
                final int ext = size == 126 ? 2 : 8;
                if (have < at + ext)
                {
                    return null;
                }
                size = 0;
                for (int i = 0; i < ext; i++)
                {
                    size = size << 8 | (a[at + i] & 0xff);
                }
                at += ext;
            }
            if (size > 1 << 20)
            {
                throw new IllegalStateException("frame of " + size + " bytes");
            }
            final boolean masked = (a[1] & 0x80) != 0;
            final int maskAt = at;
            at += masked ? 4 : 0;
            if (have < at + size)
            {
                return null;
            }
            final byte[] payload = new byte[(int)size];
            for (int i = 0; i < payload.length; i++)
            {
                payload[i] = (byte)(a[at + i] ^ (masked ? a[maskAt + (i & 3)] : 0));
            }
            return new Frame(a[0] & 0x0f, payload, at + (int)size);
        }

        static byte[] encode(final int opcode, final byte[] payload, final boolean masked)
        {
            final int ext = payload.length < 126 ? 0 : payload.length < 65_536 ? 2 : 8;
            final byte[] frame = new byte[2 + ext + (masked ? 4 : 0) + payload.length];
            frame[0] = (byte)(0x80 | opcode);
            final int maskBit = masked ? 0x80 : 0;
            int at = 2;
            if (ext == 0)
            {
                frame[1] = (byte)(maskBit | payload.length);
            }
            else
            {
                frame[1] = (byte)(maskBit | (ext == 2 ? 126 : 127));
                for (int i = ext - 1; i >= 0; i--)
                {
                    frame[at + i] = (byte)((long)payload.length >>> (8 * (ext - 1 - i)));
                }
                at += ext;
            }
            final int maskAt = at;
            if (masked)
            {
                final byte[] mask = new byte[4];
                ThreadLocalRandom.current().nextBytes(mask);
                System.arraycopy(mask, 0, frame, at, 4);
                at += 4;
            }
            for (int i = 0; i < payload.length; i++)
            {
                frame[at + i] = (byte)(payload[i] ^ (masked ? frame[maskAt + (i & 3)] : 0));
            }
            return frame;
        }
    }

    String describe()
    {
        return String.format(Locale.ROOT, "%d clients opened, %d active, %d held", opened, active.size(),
            held.size());
    }
}
