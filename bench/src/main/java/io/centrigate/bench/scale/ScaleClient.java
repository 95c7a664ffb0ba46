package io.centrigate.bench.scale;

import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramLogWriter;

/**
 * One load-generator process of the scale run: many idle WebSocket clients on one selector and one thread, every
 * client socket bound to one source address ({@code --source 127.0.0.2}) so that this process has the whole
 * ephemeral port range of that address to itself towards the one proxy address:port.
 *
 * <p>Phases, each started by a file appearing in {@code --control DIR} (so that several processes move in step):
 * <ol>
 *   <li><b>warm</b> (at once): {@code --warm N} tunnels opened and closed again (RST), so class loading and JIT in
 *   the proxies are paid before their "before" RSS is read; prints {@code WARM {json}}.</li>
 *   <li><b>open</b> ({@code DIR/go}): {@code --conns N} tunnels at {@code --rate} per second with at most
 *   {@code --inflight} handshakes pending; a tunnel counts as open on a {@code 101} with the right
 *   {@code Sec-WebSocket-Accept}. Nothing is retried: every failure is counted twice, by its exact reason
 *   ({@code failures}) and by kind ({@code failure_kinds}, see {@link #kindOf}): the status code of a non-101
 *   answer ({@code http_502}, {@code http_408}, ...), a client-side timeout ({@code timeout_connect},
 *   {@code timeout_101}: nothing came within {@code --handshake-timeout}), refused, reset, closed without an
 *   answer, other. Prints {@code OPENED {json}}.</li>
 *   <li><b>hold</b>: tunnels that the far side closes meanwhile are counted as {@code dropped}.</li>
 *   <li><b>verify</b> ({@code DIR/verify}): one masked 16 B binary frame per open tunnel carrying the tunnel's
 *   index and a per-run nonce; a tunnel is alive when exactly that payload comes back from the echo upstream.
 *   Prints {@code VERIFIED {json}}.</li>
 *   <li><b>release</b> ({@code DIR/release}): every socket closed with RST (no TIME_WAIT), the result JSON
 *   and the connect-time HdrHistogram log written to {@code --out PREFIX}.json/.hlog, {@code DONE}, exit.</li>
 * </ol>
 *
 * <pre>java -cp benchmarks.jar io.centrigate.bench.scale.ScaleClient --target 127.0.0.1:28000 --source 127.0.0.2
 *     --conns 13500 --rate 600 --inflight 256 --warm 100 --control DIR --out PREFIX [--label lg1]
 *     [--path /connection/websocket] [--handshake-timeout 10] [--verify-timeout 30] [--max-seconds 900]</pre>
 */
public final class ScaleClient
{
    private static final byte[] GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11".getBytes(StandardCharsets.US_ASCII);
    private static final int CONNECTING = 0;
    private static final int HANDSHAKE = 1;
    private static final int OPEN = 2;
    private static final int CLOSED = 3;
    private static final long HIGHEST_NS = TimeUnit.SECONDS.toNanos(120);

    // Kinds of a failed handshake (failure_kinds in the JSON), besides http_NNN (an answer other than 101, by its
    // status code). The two timeouts are client-side: nothing within --handshake-timeout of the first connect.
    static final String TIMEOUT_CONNECT = "timeout_connect";
    static final String TIMEOUT_101 = "timeout_101";
    static final String TIMEOUT_HARD_END = "timeout_hard_end";
    static final String REFUSED = "refused";
    static final String RESET = "reset";
    /** The proxy closed the connection without answering. */
    static final String CLOSED_NO_ANSWER = "closed_no_answer";
    /** Any other connect error, e.g. no free source port (EADDRNOTAVAIL). */
    static final String CONNECT_ERROR = "connect_error";
    static final String OTHER = "other";

    /** One client; deliberately small (the run holds tens of thousands per process). */
    private static final class Client
    {
        final int index;
        final long startNs;
        SocketChannel ch;
        SelectionKey key;
        String wsKey;
        ByteBuffer buf; // handshake bytes, or a partial frame; null while idle
        int state = CONNECTING;
        boolean verified;

        Client(final int index, final long startNs)
        {
            this.index = index;
            this.startNs = startNs;
        }
    }

    private final InetSocketAddress target;
    private final InetAddress source;
    private final String label;
    private final String path;
    private final String hostHeader;
    private final Selector selector;
    private final ByteBuffer readBuf = ByteBuffer.allocateDirect(64 * 1024);
    private final MessageDigest sha1;
    private final byte[] nonce = new byte[16];
    private final long verifyNonce = ThreadLocalRandom.current().nextLong();
    private final Map<String, Long> failures = new TreeMap<>();
    private final Map<String, Long> failureKinds = new TreeMap<>();
    private final Map<String, Long> drops = new TreeMap<>();
    private final Histogram connectNs = new Histogram(HIGHEST_NS, 3);
    private final ArrayDeque<Client> pending = new ArrayDeque<>();
    private boolean recording;
    private int inFlight;
    private long opened;
    private long failed;
    private long dropped;
    private long alive;
    private long badEcho;
    private long lastOpenNs;

    private ScaleClient(final InetSocketAddress target, final InetAddress source, final String label,
        final String path) throws Exception
    {
        this.target = target;
        this.source = source;
        this.label = label;
        this.path = path;
        this.hostHeader = target.getHostString() + ":" + target.getPort();
        this.selector = Selector.open();
        this.sha1 = MessageDigest.getInstance("SHA-1");
    }

    public static void main(final String[] args) throws Exception
    {
        String targetText = null;
        String sourceText = null;
        String label = "lg";
        String path = "/connection/websocket";
        String control = null;
        String out = null;
        int conns = 1000;
        int warm = 100;
        double rate = 500;
        int inflight = 256;
        double handshakeTimeout = 10;
        double verifyTimeout = 30;
        double maxSeconds = 900;
        for (int i = 0; i < args.length; i++)
        {
            final String v = i + 1 < args.length ? args[i + 1] : null;
            switch (args[i])
            {
                case "--target" -> targetText = v;
                case "--source" -> sourceText = v;
                case "--label" -> label = v;
                case "--path" -> path = v;
                case "--control" -> control = v;
                case "--out" -> out = v;
                case "--conns" -> conns = Integer.parseInt(v);
                case "--warm" -> warm = Integer.parseInt(v);
                case "--rate" -> rate = Double.parseDouble(v);
                case "--inflight" -> inflight = Integer.parseInt(v);
                case "--handshake-timeout" -> handshakeTimeout = Double.parseDouble(v);
                case "--verify-timeout" -> verifyTimeout = Double.parseDouble(v);
                case "--max-seconds" -> maxSeconds = Double.parseDouble(v);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
            i++;
        }
        if (targetText == null || control == null || out == null)
        {
            throw new IllegalArgumentException("--target, --control and --out are required");
        }
        final int colon = targetText.lastIndexOf(':');
        final InetSocketAddress target = new InetSocketAddress(targetText.substring(0, colon),
            Integer.parseInt(targetText.substring(colon + 1)));
        final InetAddress source = sourceText == null ? null : InetAddress.getByName(sourceText);
        final ScaleClient c = new ScaleClient(target, source, label, path);
        final int code = c.run(conns, warm, rate, inflight, handshakeTimeout, (long)(verifyTimeout * 1e9),
            System.nanoTime() + (long)(maxSeconds * 1e9), Path.of(control), out);
        System.exit(code);
    }

    private int run(final int conns, final int warm, final double rate, final int maxInFlight,
        final double handshakeTimeoutS, final long verifyTimeoutNs, final long hardEnd, final Path control,
        final String out) throws Exception
    {
        final long handshakeTimeoutNs = (long)(handshakeTimeoutS * 1e9);
        final PrintStream stdout = System.out;
        final Map<String, Object> r = new LinkedHashMap<>();
        r.put("label", label);
        r.put("target", hostHeader);
        r.put("source", source == null ? "any" : source.getHostAddress());
        r.put("pid", ProcessHandle.current().pid());
        r.put("conns_target", conns);
        r.put("rate_per_s", rate);
        r.put("inflight_max", maxInFlight);
        r.put("handshake_timeout_s", handshakeTimeoutS);

        // ---- warm-up: open and close again, outside every figure
        final List<Client> warmed = open(warm, rate, maxInFlight, handshakeTimeoutNs, hardEnd);
        final long warmOk = opened;
        final long warmFailed = failed;
        final Map<String, Long> warmFailures = new TreeMap<>(failures);
        final Map<String, Long> warmFailureKinds = new TreeMap<>(failureKinds);
        for (final Client c : warmed)
        {
            reset(c);
        }
        pollFor(TimeUnit.MILLISECONDS.toNanos(300));
        opened = 0;
        failed = 0;
        failures.clear();
        failureKinds.clear();
        dropped = 0;
        drops.clear();
        lastOpenNs = 0;
        r.put("warm_opened", warmOk);
        r.put("warm_failed", warmFailed);
        r.put("warm_failures", warmFailures);
        r.put("warm_failure_kinds", warmFailureKinds);
        stdout.println("WARM " + json(r));
        stdout.flush();

        // ---- open, paced, every failure counted, nothing retried
        waitFor(control.resolve("go"), hardEnd);
        recording = true;
        final long goEpochMs = System.currentTimeMillis();
        final long t0 = System.nanoTime();
        final List<Client> clients = open(conns, rate, maxInFlight, handshakeTimeoutNs, hardEnd);
        final long t1 = System.nanoTime();
        r.put("go_epoch_ms", goEpochMs);
        r.put("opened", opened);
        r.put("failed", failed);
        r.put("failures", new TreeMap<>(failures));
        r.put("failure_kinds", new TreeMap<>(failureKinds));
        r.put("open_seconds", (t1 - t0) / 1e9);
        r.put("last_open_after_go_s", lastOpenNs == 0 ? null : (lastOpenNs - t0) / 1e9);
        r.put("open_per_s", opened / Math.max(1e-9, (t1 - t0) / 1e9));
        r.put("connect_p50_ms", connectNs.getValueAtPercentile(50) / 1e6);
        r.put("connect_p99_ms", connectNs.getValueAtPercentile(99) / 1e6);
        r.put("connect_p999_ms", connectNs.getValueAtPercentile(99.9) / 1e6);
        r.put("connect_max_ms", connectNs.getMaxValue() / 1e6);
        stdout.println("OPENED " + json(r));
        stdout.flush();

        // ---- hold until told to verify (drops meanwhile are counted)
        waitFor(control.resolve("verify"), hardEnd);
        final long openBeforeVerify = countOpen(clients);
        r.put("dropped_while_holding", dropped);
        r.put("drops", new TreeMap<>(drops));
        r.put("open_at_verify", openBeforeVerify);
        final long v0 = System.nanoTime();
        final ByteBuffer frame = ByteBuffer.allocateDirect(2 + 4 + 16).order(ByteOrder.BIG_ENDIAN);
        long writeFailures = 0;
        for (final Client c : clients)
        {
            if (c.state != OPEN)
            {
                continue;
            }
            final int mask = ThreadLocalRandom.current().nextInt();
            frame.clear();
            frame.put((byte)0x82).put((byte)(0x80 | 16)).putInt(mask);
            frame.putLong((c.index & 0xffffffffL) ^ maskLong(mask));
            frame.putLong(verifyNonce ^ maskLong(mask));
            frame.flip();
            try
            {
                c.ch.write(frame);
                if (frame.hasRemaining())
                {
                    writeFailures++;
                }
            }
            catch (final IOException e)
            {
                writeFailures++;
                drop(c, "verify write: " + e.getMessage());
            }
            if ((c.index & 255) == 0)
            {
                selector.selectNow(this::onKey);
            }
        }
        final long verifyEnd = Math.min(hardEnd, System.nanoTime() + verifyTimeoutNs);
        while (alive < openBeforeVerify && System.nanoTime() < verifyEnd)
        {
            selector.select(this::onKey, 20);
        }
        r.put("verify_write_failures", writeFailures);
        r.put("alive", alive);
        r.put("bad_echo", badEcho);
        r.put("verify_seconds", (System.nanoTime() - v0) / 1e9);
        r.put("dropped_total", dropped);
        r.put("drops", new TreeMap<>(drops));
        stdout.println("VERIFIED " + json(r));
        stdout.flush();

        // ---- hold (the orchestrator reads the processes once more), then release with RST
        waitFor(control.resolve("release"), hardEnd);
        r.put("open_at_release", countOpen(clients));
        for (final Client c : clients)
        {
            reset(c);
        }
        selector.close();
        Files.writeString(Path.of(out + ".json"), json(r) + "\n");
        try (PrintStream log = new PrintStream(Files.newOutputStream(Path.of(out + ".hlog"))))
        {
            final HistogramLogWriter w = new HistogramLogWriter(log);
            w.outputComment("connect time (TCP connect -> valid 101) of " + label + ", ns");
            w.outputLogFormatVersion();
            w.outputLegend();
            connectNs.setTag(label);
            w.outputIntervalHistogram(connectNs);
        }
        stdout.println("DONE " + label);
        stdout.flush();
        return 0;
    }

    private static long maskLong(final int mask)
    {
        final long m = mask & 0xffffffffL;
        return (m << 32) | m;
    }

    private long countOpen(final List<Client> clients)
    {
        long n = 0;
        for (final Client c : clients)
        {
            if (c.state == OPEN)
            {
                n++;
            }
        }
        return n;
    }

    /** Polls the selector (so drops are seen and counted) until the file exists. */
    private void waitFor(final Path file, final long hardEnd) throws IOException
    {
        while (!Files.exists(file))
        {
            if (System.nanoTime() > hardEnd)
            {
                throw new IllegalStateException("gave up waiting for " + file + " (--max-seconds)");
            }
            selector.select(this::onKey, 100);
        }
    }

    private void pollFor(final long ns) throws IOException
    {
        final long end = System.nanoTime() + ns;
        while (System.nanoTime() < end)
        {
            selector.select(this::onKey, 10);
        }
    }

    /** Opens {@code n} tunnels at {@code rate}/s, at most {@code maxInFlight} pending; returns all of them. */
    private List<Client> open(final int n, final double rate, final int maxInFlight, final long timeoutNs,
        final long hardEnd) throws IOException
    {
        final List<Client> all = new ArrayList<>(n);
        final long t0 = System.nanoTime();
        int started = 0;
        while (started < n || inFlight > 0)
        {
            final long now = System.nanoTime();
            if (now > hardEnd)
            {
                break;
            }
            final long due = Math.min(n, (long)((now - t0) * rate / 1e9) + 1);
            while (started < due && inFlight < maxInFlight)
            {
                all.add(start(started++));
            }
            expire(now, timeoutNs);
            selector.select(this::onKey, 1);
        }
        for (final Client c : all)
        {
            if (c.state == CONNECTING || c.state == HANDSHAKE)
            {
                fail(c, TIMEOUT_HARD_END, "timeout: still pending at the hard end");
            }
        }
        return all;
    }

    private void expire(final long now, final long timeoutNs)
    {
        while (!pending.isEmpty())
        {
            final Client c = pending.peekFirst();
            if (c.state != CONNECTING && c.state != HANDSHAKE)
            {
                pending.pollFirst();
                continue;
            }
            if (now - c.startNs < timeoutNs)
            {
                return;
            }
            pending.pollFirst();
            // client-side: the proxy neither completed the TCP connect nor answered within --handshake-timeout
            fail(c, c.state == CONNECTING ? TIMEOUT_CONNECT : TIMEOUT_101,
                c.state == CONNECTING ? "timeout: TCP connect" : "timeout: no 101");
        }
    }

    private Client start(final int index)
    {
        final Client c = new Client(index, System.nanoTime());
        inFlight++;
        pending.addLast(c);
        try
        {
            c.ch = SocketChannel.open();
            c.ch.configureBlocking(false);
            c.ch.setOption(StandardSocketOptions.TCP_NODELAY, Boolean.TRUE);
        }
        catch (final IOException e)
        {
            fail(c, kindOf(e, OTHER), "socket: " + e.getMessage());
            return c;
        }
        try
        {
            if (source != null)
            {
                c.ch.bind(new InetSocketAddress(source, 0));
            }
        }
        catch (final IOException e)
        {
            fail(c, kindOf(e, OTHER), "bind " + source.getHostAddress() + ": " + e.getMessage());
            return c;
        }
        try
        {
            final boolean connected = c.ch.connect(target);
            c.key = c.ch.register(selector, connected ? SelectionKey.OP_READ : SelectionKey.OP_CONNECT, c);
            if (connected)
            {
                sendUpgrade(c);
            }
        }
        catch (final IOException e)
        {
            fail(c, kindOf(e, CONNECT_ERROR), "connect: " + e.getMessage());
        }
        return c;
    }

    private void sendUpgrade(final Client c) throws IOException
    {
        ThreadLocalRandom.current().nextBytes(nonce);
        c.wsKey = Base64.getEncoder().encodeToString(nonce);
        final byte[] req = ("GET " + path + " HTTP/1.1\r\nHost: " + hostHeader +
            "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + c.wsKey +
            "\r\nSec-WebSocket-Version: 13\r\nOrigin: http://" + hostHeader + "\r\n\r\n")
            .getBytes(StandardCharsets.US_ASCII);
        final ByteBuffer b = ByteBuffer.wrap(req);
        c.ch.write(b);
        if (b.hasRemaining())
        {
            throw new IOException("upgrade request not written at once");
        }
        c.state = HANDSHAKE;
        c.buf = ByteBuffer.allocate(1024);
        c.key.interestOps(SelectionKey.OP_READ);
    }

    private void onKey(final SelectionKey key)
    {
        final Client c = (Client)key.attachment();
        if (c.state == CLOSED || !key.isValid())
        {
            return;
        }
        try
        {
            if (c.state == CONNECTING)
            {
                if (key.isConnectable() && c.ch.finishConnect())
                {
                    sendUpgrade(c);
                }
                return;
            }
            if (key.isReadable())
            {
                if (c.state == HANDSHAKE)
                {
                    readHandshake(c);
                }
                else
                {
                    readFrames(c);
                }
            }
        }
        catch (final IOException | RuntimeException e)
        {
            if (c.state == CONNECTING)
            {
                fail(c, kindOf(e, CONNECT_ERROR), "connect: " + e.getMessage());
            }
            else if (c.state == HANDSHAKE)
            {
                fail(c, kindOf(e, OTHER), "handshake io: " + e.getMessage());
            }
            else
            {
                drop(c, "io: " + e.getMessage());
            }
        }
    }

    private void readHandshake(final Client c) throws IOException
    {
        final int n = c.ch.read(c.buf);
        if (n < 0)
        {
            fail(c, CLOSED_NO_ANSWER, "eof before the 101");
            return;
        }
        final ByteBuffer b = c.buf;
        final int end = endOfHead(b.array(), b.position());
        if (end < 0)
        {
            if (!b.hasRemaining())
            {
                fail(c, OTHER, "response head over 1 KiB");
            }
            return;
        }
        final String head = new String(b.array(), 0, end, StandardCharsets.ISO_8859_1);
        final int eol = head.indexOf('\r');
        final String status = eol > 0 ? head.substring(0, eol) : head;
        if (!status.startsWith("HTTP/1.1 101"))
        {
            fail(c, statusKind(status), "status: " + status);
            return;
        }
        final String accept = header(head, "sec-websocket-accept");
        if (!expectedAccept(c.wsKey).equals(accept))
        {
            fail(c, OTHER, "wrong Sec-WebSocket-Accept");
            return;
        }
        final long now = System.nanoTime();
        c.state = OPEN;
        c.wsKey = null;
        inFlight--;
        opened++;
        lastOpenNs = now;
        if (recording)
        {
            connectNs.recordValue(Math.min(HIGHEST_NS, now - c.startNs));
        }
        final int rest = b.position() - end;
        if (rest > 0)
        {
            final ByteBuffer keep = ByteBuffer.allocate(Math.max(64, rest));
            keep.put(b.array(), end, rest);
            c.buf = keep;
            frames(c, keep.array(), 0, rest);
        }
        else
        {
            c.buf = null;
        }
    }

    private void readFrames(final Client c) throws IOException
    {
        for (int reads = 0; reads < 8 && c.state == OPEN; reads++)
        {
            readBuf.clear();
            if (c.buf != null && c.buf.position() > 0)
            {
                c.buf.flip();
                readBuf.put(c.buf);
                c.buf = null;
            }
            final int before = readBuf.position();
            final int n = c.ch.read(readBuf);
            if (n < 0)
            {
                drop(c, "eof");
                return;
            }
            if (n == 0 && before == 0)
            {
                return;
            }
            final byte[] a = new byte[readBuf.position()];
            readBuf.flip();
            readBuf.get(a);
            frames(c, a, 0, a.length);
            if (n == 0)
            {
                return;
            }
        }
    }

    /** Parses complete server frames; a partial one is kept in {@code c.buf}. */
    private void frames(final Client c, final byte[] a, final int from, final int to)
    {
        int p = from;
        c.buf = null;
        while (c.state == OPEN && to - p >= 2)
        {
            final int b0 = a[p] & 0xff;
            final int b1 = a[p + 1] & 0xff;
            int header = 2;
            long len = b1 & 0x7f;
            if (len == 126)
            {
                if (to - p < 4)
                {
                    break;
                }
                len = ((a[p + 2] & 0xff) << 8) | (a[p + 3] & 0xff);
                header = 4;
            }
            else if (len == 127)
            {
                drop(c, "unexpected 64-bit frame length");
                return;
            }
            if ((b1 & 0x80) != 0)
            {
                header += 4;
            }
            if (to - p < header + len)
            {
                break;
            }
            final int op = b0 & 0x0f;
            final int at = p + header;
            if (op == 0x8)
            {
                drop(c, "close frame from the server");
                return;
            }
            if (op == 0x2 && len == 16)
            {
                final long idx = getLong(a, at);
                final long nonceBack = getLong(a, at + 8);
                if (idx == (c.index & 0xffffffffL) && nonceBack == verifyNonce && !c.verified)
                {
                    c.verified = true;
                    alive++;
                }
                else
                {
                    badEcho++;
                }
            }
            p += header + (int)len;
        }
        if (c.state == OPEN && p < to)
        {
            final ByteBuffer keep = ByteBuffer.allocate(Math.max(64, to - p));
            keep.put(a, p, to - p);
            c.buf = keep;
        }
    }

    private static long getLong(final byte[] a, final int at)
    {
        long v = 0;
        for (int i = 0; i < 8; i++)
        {
            v = (v << 8) | (a[at + i] & 0xff);
        }
        return v;
    }

    private String expectedAccept(final String key)
    {
        sha1.reset();
        sha1.update(key.getBytes(StandardCharsets.US_ASCII));
        sha1.update(GUID);
        return Base64.getEncoder().encodeToString(sha1.digest());
    }

    private static int endOfHead(final byte[] a, final int limit)
    {
        for (int i = 3; i < limit; i++)
        {
            if (a[i] == '\n' && a[i - 1] == '\r' && a[i - 2] == '\n' && a[i - 3] == '\r')
            {
                return i + 1;
            }
        }
        return -1;
    }

    private static String header(final String head, final String name)
    {
        for (final String line : head.split("\r\n"))
        {
            final int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).trim().toLowerCase(Locale.ROOT).equals(name))
            {
                return line.substring(colon + 1).trim();
            }
        }
        return null;
    }

    /** {@code http_502} for {@code HTTP/1.1 502 Bad Gateway}; {@code http_bad_status} when no code can be read. */
    static String statusKind(final String statusLine)
    {
        final int sp = statusLine.indexOf(' ');
        if (sp > 0 && statusLine.length() >= sp + 4)
        {
            final String code = statusLine.substring(sp + 1, sp + 4);
            if (code.chars().allMatch(ch -> ch >= '0' && ch <= '9'))
            {
                return "http_" + code;
            }
        }
        return "http_bad_status";
    }

    /** Refused and reset by the exception's message (the JDK's text of ECONNREFUSED / ECONNRESET / EPIPE). */
    static String kindOf(final Exception e, final String otherwise)
    {
        final String m = String.valueOf(e.getMessage()).toLowerCase(Locale.ROOT);
        if (m.contains("refused"))
        {
            return REFUSED;
        }
        if (m.contains("reset") || m.contains("broken pipe"))
        {
            return RESET;
        }
        return otherwise;
    }

    /** A handshake that did not end in an open tunnel; {@code kind} as {@link #kindOf}, {@code why} exact. */
    private void fail(final Client c, final String kind, final String why)
    {
        if (c.state == CLOSED)
        {
            return;
        }
        if (c.state == CONNECTING || c.state == HANDSHAKE)
        {
            inFlight--;
        }
        failed++;
        failures.merge(shorten(why), 1L, Long::sum);
        failureKinds.merge(kind, 1L, Long::sum);
        reset(c);
    }

    /** An open tunnel that ended before release. */
    private void drop(final Client c, final String why)
    {
        if (c.state == CLOSED)
        {
            return;
        }
        dropped++;
        drops.merge(shorten(why), 1L, Long::sum);
        reset(c);
    }

    private static String shorten(final String why)
    {
        final String s = String.valueOf(why);
        return s.length() > 120 ? s.substring(0, 120) : s;
    }

    private void reset(final Client c)
    {
        c.state = CLOSED;
        c.buf = null;
        if (c.ch == null)
        {
            return;
        }
        try
        {
            c.ch.setOption(StandardSocketOptions.SO_LINGER, 0);
        }
        catch (final IOException | RuntimeException ignored)
        {
            // closing anyway
        }
        try
        {
            c.ch.close();
        }
        catch (final IOException ignored)
        {
            // nothing to do
        }
    }

    // ------------------------------------------------------------------------------------------------ JSON

    static String json(final Map<String, ?> m)
    {
        final StringBuilder sb = new StringBuilder("{");
        boolean first = true;
        for (final Map.Entry<String, ?> e : m.entrySet())
        {
            if (!first)
            {
                sb.append(',');
            }
            first = false;
            sb.append('"').append(escape(e.getKey())).append("\":").append(value(e.getValue()));
        }
        return sb.append('}').toString();
    }

    @SuppressWarnings("unchecked")
    private static String value(final Object v)
    {
        if (v == null)
        {
            return "null";
        }
        if (v instanceof Map<?, ?> map)
        {
            return json((Map<String, ?>)map);
        }
        if (v instanceof Double d)
        {
            return d.isNaN() || d.isInfinite() ? "null" : String.format(Locale.ROOT, "%.3f", d);
        }
        if (v instanceof Number || v instanceof Boolean)
        {
            return v.toString();
        }
        return '"' + escape(v.toString()) + '"';
    }

    private static String escape(final String s)
    {
        final StringBuilder sb = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++)
        {
            final char ch = s.charAt(i);
            switch (ch)
            {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (ch < 0x20)
                    {
                        sb.append(String.format(Locale.ROOT, "\\u%04x", (int)ch));
                    }
                    else
                    {
                        sb.append(ch);
                    }
                }
            }
        }
        return sb.toString();
    }
}
