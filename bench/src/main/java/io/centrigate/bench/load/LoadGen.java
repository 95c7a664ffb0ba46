package io.centrigate.bench.load;

import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramLogWriter;

/**
 * The end-to-end bench's WebSocket load generator (java.nio, HdrHistogram). One scenario per run, one line of
 * JSON on stdout. Latencies in microseconds; CPU of the proxy (and of the upstream and of this process) from
 * {@code /proc/PID/stat} over the measured window only.
 *
 * <pre>java -cp bench/target/benchmarks.jar io.centrigate.bench.load.LoadGen SCENARIO --target HOST:PORT [options]
 *   echo    --conns 100 --rate 20000 --size 64      round trip of 64 B messages at a fixed total rate
 *   fanout  --conns 5000 --fanout-hz 10             delivery latency of the upstream's 256 B pushes
 *   hold    --conns 9000 --concurrency 64           connect time of idle tunnels; proxy RSS before/after
 *           [--rate 2000] [--warm-conns 500]        --rate: opens paced at this many per second (open loop, still
 *           [--warm-target HOST:PORT]               capped by --concurrency); --warm-conns 0: no warm-up (cold);
 *           [--source-port-base P]                  --warm-target: warm up against another address (this JVM warm,
 *                                                   the target untouched); --source-port-base: clients bind
 *                                                   explicit ports from P on (per --sources address), none from the
 *                                                   ephemeral range (bench/source-ports.sh)
 *   storm   --concurrency 64                        new handshakes per second, each closed with RST at once
 *   bulk    --conns 4 --size 524288                 large binary messages both ways: each tunnel sends one, the
 *                                                   upstream streams it back, then the next (closed loop); proxy
 *                                                   CPU seconds per GiB moved (both directions counted)
 * common: --seconds 10 --warmup 3 --label X --tag KEY=VALUE (copied into the JSON) --proxy-pids P[,P] --upstream-pid P --clk-tck 100 --sources 0
 *         --hlog FILE (HdrHistogram log of the main histogram) --path /connection/websocket</pre>
 */
public final class LoadGen
{
    private static final long HIGHEST_NS = TimeUnit.SECONDS.toNanos(60);

    private final String scenario;
    private InetSocketAddress target;
    private String targetText;
    private String label = "-";
    private String path;
    private final Map<String, String> tags = new LinkedHashMap<>();
    private int conns = -1;
    private double rate = 20_000;
    private boolean rateGiven;
    private int warmConns = 500;
    private InetSocketAddress warmTarget;
    private long openBehindMaxNs;
    private int size = 64;
    private double seconds = 10;
    private double warmup = 3;
    private double settle = 3;
    private int concurrency = 64;
    private int fanoutHz = 10;
    private long[] proxyPids = new long[0];
    private long[] upstreamPids = new long[0];
    private int clkTck = 100;
    private int sources;
    private int sourcePortBase;
    private String hlog;

    private LoadGen(final String scenario)
    {
        this.scenario = scenario;
    }

    public static void main(final String[] args) throws Exception
    {
        if (args.length < 1)
        {
            System.err.println("usage: LoadGen echo|fanout|hold|storm --target HOST:PORT [options]");
            System.exit(2);
        }
        // Sized before the first connection: a JVM that grows its descriptor table mid-run stalls for an RCU grace
        // period at each doubling (io.centrigate.loop.DescriptorTable), which the bench would record as latency.
        io.centrigate.loop.DescriptorTable.reserve((int)Math.min(io.centrigate.config.OpenFileLimit.current(),
            io.centrigate.loop.DescriptorTable.PORTABLE_MAX));
        final LoadGen g = new LoadGen(args[0]);
        for (int i = 1; i < args.length; i++)
        {
            final String v = i + 1 < args.length ? args[i + 1] : null;
            switch (args[i])
            {
                case "--target" -> g.targetText = v;
                case "--label" -> g.label = v;
                case "--path" -> g.path = v;
                case "--conns" -> g.conns = Integer.parseInt(v);
                case "--rate" ->
                {
                    g.rate = Double.parseDouble(v);
                    g.rateGiven = true;
                }
                case "--warm-conns" -> g.warmConns = Integer.parseInt(v);
                case "--warm-target" -> g.warmTarget = new InetSocketAddress(v.substring(0, v.lastIndexOf(':')),
                    Integer.parseInt(v.substring(v.lastIndexOf(':') + 1)));
                case "--size" -> g.size = Integer.parseInt(v);
                case "--seconds" -> g.seconds = Double.parseDouble(v);
                case "--warmup" -> g.warmup = Double.parseDouble(v);
                case "--settle" -> g.settle = Double.parseDouble(v);
                case "--concurrency" -> g.concurrency = Integer.parseInt(v);
                case "--fanout-hz" -> g.fanoutHz = Integer.parseInt(v);
                case "--proxy-pids" -> g.proxyPids = ProcessStats.parsePids(v);
                case "--upstream-pid" -> g.upstreamPids = ProcessStats.parsePids(v);
                case "--clk-tck" -> g.clkTck = Integer.parseInt(v);
                case "--sources" -> g.sources = Integer.parseInt(v);
                case "--source-port-base" -> g.sourcePortBase = Integer.parseInt(v);
                case "--hlog" -> g.hlog = v;
                case "--tag" -> g.tags.put(v.substring(0, v.indexOf('=')), v.substring(v.indexOf('=') + 1));
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
            i++;
        }
        if (g.targetText == null)
        {
            throw new IllegalArgumentException("--target HOST:PORT is required");
        }
        if (g.path == null)
        {
            // the bench upstream makes a connection a fan-out subscriber by its path
            g.path = "fanout".equals(g.scenario) ? "/connection/websocket?fanout=1" : "/connection/websocket";
        }
        final int colon = g.targetText.lastIndexOf(':');
        g.target = new InetSocketAddress(g.targetText.substring(0, colon),
            Integer.parseInt(g.targetText.substring(colon + 1)));
        final Map<String, Object> result = switch (g.scenario)
        {
            case "echo" -> g.echo();
            case "fanout" -> g.fanout();
            case "hold" -> g.hold();
            case "storm" -> g.storm();
            case "bulk" -> g.bulk();
            default -> throw new IllegalArgumentException("unknown scenario " + g.scenario);
        };
        final PrintStream out = System.out;
        out.println(json(result));
        out.flush();
        System.exit(0);
    }

    // ------------------------------------------------------------------------------------------------ echo

    private Map<String, Object> echo() throws Exception
    {
        final int n = conns > 0 ? conns : 100;
        final WsClients net = new WsClients(target, sources, 64 * 1024);
        final Histogram rtt = new Histogram(HIGHEST_NS, 3);
        final Histogram corrected = new Histogram(HIGHEST_NS, 3);
        final long[] received = new long[2]; // [0] in the window, [1] all
        final long[] window = new long[2];
        final List<WsClients.Client> open = openAll(net, n, null, TimeUnit.SECONDS.toNanos(30), 0);
        final Map<String, Object> r = header(n);
        if (open.size() < n)
        {
            return failed(r, net, open.size());
        }
        final long start = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(100);
        window[0] = start + (long)(warmup * 1e9);
        window[1] = window[0] + (long)(seconds * 1e9);
        net.listener(new Quiet()
        {
            @Override
            public void onFrame(final WsClients.Client c, final ByteBuffer in, final int at, final int len,
                final long now)
            {
                final long sent = in.getLong(at);
                final long intended = in.getLong(at + 8);
                received[1]++;
                // the window is by intended send time, as the sender counts it
                if (intended >= window[0] && intended < window[1])
                {
                    received[0]++;
                    rtt.recordValue(Math.min(HIGHEST_NS, Math.max(0, now - sent)));
                    corrected.recordValue(Math.min(HIGHEST_NS, Math.max(0, now - intended)));
                }
            }
        });
        final Sender sender = new Sender(open, rate, size, start, window[0], window[1]);
        final CpuWindow cpu = new CpuWindow(window[0], window[1]);
        final Thread st = new Thread(sender, "echo-sender");
        st.start();
        cpu.start();
        final long drainEnd = window[1] + TimeUnit.SECONDS.toNanos(2);
        while (System.nanoTime() < drainEnd)
        {
            net.poll(20);
            if (sender.done && received[0] >= sender.sentInWindow)
            {
                break;
            }
        }
        st.join(5000);
        cpu.join(5000);
        r.put("rate_target", rate);
        r.put("size", size);
        r.put("sent", sender.sentInWindow);
        r.put("received", received[0]);
        r.put("lost", sender.sentInWindow - received[0]);
        r.put("rate_achieved", sender.sentInWindow / seconds);
        r.put("send_behind_max_us", sender.maxBehindNs / 1e3);
        r.put("write_stalls", sender.writeStalls);
        percentiles(r, "rtt", rtt);
        percentiles(r, "rtt_co", corrected);
        cpu.put(r, received[0]);
        errors(r, net);
        writeLog(rtt);
        net.close();
        return r;
    }

    /**
     * Large messages through the tunnels: each connection writes one masked binary frame of {@code --size} bytes,
     * reads the upstream's echo of it as it streams back (the bench upstream echoes frames too large for its buffer
     * while they arrive), then sends the next. What is measured is the proxy's CPU per byte moved: this is the
     * scenario where kernel zero-copy (splice) would count.
     */
    private Map<String, Object> bulk() throws Exception
    {
        final int n = conns > 0 ? conns : 4;
        final int s = size >= 65536 ? size : 512 * 1024;
        final WsClients net = new WsClients(target, sources, 64 * 1024);
        final List<WsClients.Client> open = openAll(net, n, null, TimeUnit.SECONDS.toNanos(30), 0);
        final Map<String, Object> r = header(n);
        if (open.size() < n)
        {
            return failed(r, net, open.size());
        }
        final byte[] mask = new byte[4];
        ThreadLocalRandom.current().nextBytes(mask);
        final ByteBuffer frame = ByteBuffer.allocateDirect(14 + s);
        frame.put((byte)0x82).put((byte)(0x80 | 127)).putLong(s).put(mask);
        for (int i = 0; i < s; i++)
        {
            frame.put((byte)((i * 131 + (i >>> 9)) ^ mask[i & 3]));
        }
        frame.flip();
        final long echoBytes = 10L + s; // the upstream's unmasked frame: 64-bit length form
        // The tunnels leave WsClients' loop: this one reads and writes them directly.
        final java.nio.channels.Selector selector = java.nio.channels.Selector.open();
        final ByteBuffer[] out = new ByteBuffer[n];
        final long[] toRead = new long[n];
        final long[] sentAt = new long[n];
        final java.nio.channels.SelectionKey[] keys = new java.nio.channels.SelectionKey[n];
        final long first = System.nanoTime();
        for (int i = 0; i < n; i++)
        {
            out[i] = frame.duplicate();
            toRead[i] = echoBytes;
            sentAt[i] = first;
            keys[i] = open.get(i).ch.register(selector,
                java.nio.channels.SelectionKey.OP_READ | java.nio.channels.SelectionKey.OP_WRITE, i);
        }
        final ByteBuffer scratch = ByteBuffer.allocateDirect(256 * 1024);
        final Histogram rtt = new Histogram(HIGHEST_NS, 3);
        final long start = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(100);
        final long from = start + (long)(warmup * 1e9);
        final long to = from + (long)(seconds * 1e9);
        final CpuWindow cpu = new CpuWindow(from, to);
        cpu.start();
        long messages = 0;
        long ioErrors = 0;
        long now;
        while ((now = System.nanoTime()) < to)
        {
            selector.select(10);
            for (final java.util.Iterator<java.nio.channels.SelectionKey> it = selector.selectedKeys().iterator();
                it.hasNext(); )
            {
                final java.nio.channels.SelectionKey key = it.next();
                it.remove();
                final int i = (Integer)key.attachment();
                final java.nio.channels.SocketChannel ch = (java.nio.channels.SocketChannel)key.channel();
                try
                {
                    if (key.isValid() && key.isWritable() && out[i].hasRemaining())
                    {
                        ch.write(out[i]);
                        if (!out[i].hasRemaining())
                        {
                            key.interestOps(java.nio.channels.SelectionKey.OP_READ);
                        }
                    }
                    if (key.isValid() && key.isReadable())
                    {
                        int got;
                        while ((got = ch.read(scratch.clear())) > 0)
                        {
                            toRead[i] -= got;
                        }
                        if (got < 0 || toRead[i] < 0)
                        {
                            throw new IOException(got < 0 ? "tunnel closed" : "more bytes back than were sent");
                        }
                    }
                }
                catch (final IOException e)
                {
                    ioErrors++;
                    key.cancel();
                    continue;
                }
                if (toRead[i] == 0 && !out[i].hasRemaining())
                {
                    final long done = System.nanoTime();
                    if (sentAt[i] >= from && done < to)
                    {
                        messages++;
                        rtt.recordValue(Math.min(HIGHEST_NS, done - sentAt[i]));
                    }
                    out[i] = frame.duplicate();
                    toRead[i] = echoBytes;
                    sentAt[i] = done;
                    key.interestOps(java.nio.channels.SelectionKey.OP_READ | java.nio.channels.SelectionKey.OP_WRITE);
                }
            }
        }
        cpu.join(5000);
        selector.close();
        final double gib = messages * 2.0 * s / (1L << 30);
        r.put("size", s);
        r.put("messages", messages);
        r.put("gib_moved", gib);
        r.put("mib_per_s", gib * 1024 / seconds);
        r.put("io_errors", ioErrors);
        percentiles(r, "message_rtt", rtt);
        cpu.put(r, 0);
        final Object proxyCpu = r.get("proxy_cpu_s");
        r.put("proxy_cpu_s_per_gib", proxyCpu instanceof Double && gib > 0 ? (Double)proxyCpu / gib : null);
        errors(r, net);
        net.close();
        return r;
    }

    /** Paces client frames round robin over the connections at a fixed total rate (open loop). */
    private static final class Sender implements Runnable
    {
        private final List<WsClients.Client> clients;
        private final double rate;
        private final int size;
        private final long start;
        private final long from;
        private final long to;
        private final ByteBuffer frame;
        private final byte[] mask = new byte[4];
        private final int payloadAt;
        volatile boolean done;
        volatile long sentInWindow;
        long writeStalls;
        long maxBehindNs;

        Sender(final List<WsClients.Client> clients, final double rate, final int size, final long start,
            final long from, final long to)
        {
            this.clients = clients;
            this.rate = rate;
            this.size = Math.max(16, size);
            this.start = start;
            this.from = from;
            this.to = to;
            this.frame = ByteBuffer.allocateDirect(this.size + 14);
            ThreadLocalRandom.current().nextBytes(mask);
            frame.put((byte)0x82);
            if (this.size < 126)
            {
                frame.put((byte)(0x80 | this.size));
            }
            else
            {
                frame.put((byte)(0x80 | 126)).putShort((short)this.size);
            }
            frame.put(mask);
            payloadAt = frame.position();
            for (int i = 0; i < this.size; i++)
            {
                frame.put((byte)('a' ^ mask[i & 3])); // masked filler (RFC 6455 §5.3)
            }
            frame.flip();
        }

        @Override
        public void run()
        {
            final double intervalNs = 1e9 / rate;
            long i = 0;
            long sent = 0;
            int next = 0;
            try
            {
                while (true)
                {
                    final long intended = start + (long)(i * intervalNs);
                    if (intended >= to)
                    {
                        break;
                    }
                    long now = System.nanoTime();
                    if (now < intended)
                    {
                        LockSupport.parkNanos(intended - now);
                        continue;
                    }
                    if (now - intended > maxBehindNs && intended >= from)
                    {
                        maxBehindNs = now - intended;
                    }
                    final WsClients.Client c = clients.get(next);
                    next = next + 1 == clients.size() ? 0 : next + 1;
                    now = System.nanoTime();
                    putMasked(payloadAt, now);
                    putMasked(payloadAt + 8, intended);
                    frame.position(0);
                    if (!write(c))
                    {
                        break;
                    }
                    if (intended >= from)
                    {
                        sent++;
                    }
                    i++;
                }
            }
            finally
            {
                sentInWindow = sent;
                done = true;
            }
        }

        private void putMasked(final int at, final long value)
        {
            for (int b = 0; b < 8; b++)
            {
                final int off = at - payloadAt + b;
                frame.put(at + b, (byte)((value >>> (56 - 8 * b)) ^ mask[off & 3]));
            }
        }

        private boolean write(final WsClients.Client c)
        {
            try
            {
                c.ch.write(frame);
                if (frame.hasRemaining())
                {
                    writeStalls++;
                    final long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
                    while (frame.hasRemaining())
                    {
                        if (System.nanoTime() > giveUp)
                        {
                            return false;
                        }
                        Thread.onSpinWait();
                        c.ch.write(frame);
                    }
                }
                return true;
            }
            catch (final IOException e)
            {
                return false;
            }
        }
    }

    // ---------------------------------------------------------------------------------------------- fanout

    private Map<String, Object> fanout() throws Exception
    {
        final int n = conns > 0 ? conns : 5000;
        final WsClients net = new WsClients(target, sources, 64 * 1024);
        final Histogram delivery = new Histogram(HIGHEST_NS, 3);
        final List<WsClients.Client> open = openAll(net, n, null, TimeUnit.SECONDS.toNanos(60), 0);
        final Map<String, Object> r = header(n);
        if (open.size() < n)
        {
            return failed(r, net, open.size());
        }
        final long from = System.nanoTime() + (long)(warmup * 1e9);
        final long to = from + (long)(seconds * 1e9);
        final long[] delivered = new long[1];
        net.listener(new Quiet()
        {
            @Override
            public void onFrame(final WsClients.Client c, final ByteBuffer in, final int at, final int len,
                final long now)
            {
                final long sent = in.getLong(at);
                if (sent >= from && sent < to)
                {
                    delivered[0]++;
                    delivery.recordValue(Math.min(HIGHEST_NS, Math.max(0, now - sent)));
                }
            }
        });
        final CpuWindow cpu = new CpuWindow(from, to);
        cpu.start();
        final long end = to + TimeUnit.SECONDS.toNanos(2); // late deliveries still count
        while (System.nanoTime() < end)
        {
            net.poll(20);
        }
        cpu.join(5000);
        final double expected = (double)n * fanoutHz * seconds;
        r.put("delivered", delivered[0]);
        r.put("expected", (long)expected);
        r.put("delivered_ratio", delivered[0] / expected);
        r.put("deliveries_per_s", delivered[0] / seconds);
        percentiles(r, "delivery", delivery);
        cpu.put(r, delivered[0]);
        errors(r, net);
        writeLog(delivery);
        net.close();
        return r;
    }

    // ------------------------------------------------------------------------------------------------ hold

    private Map<String, Object> hold() throws Exception
    {
        final int n = conns > 0 ? conns : 9000;
        final WsClients net = new WsClients(target, sources, 1024);
        net.sourcePortBase(sourcePortBase);
        // warm-up: the same path once with a few connections, so class loading, JIT and first pool slabs are
        // paid before the "before" RSS is read
        // (--warm-conns 0: none, the cold-start scenario measures exactly what this would hide)
        final double openRate = rateGiven ? rate : 0;
        if (warmConns > 0)
        {
            final WsClients warmNet = warmTarget == null ? net : new WsClients(warmTarget, sources, 1024);
            // paced and recorded like the measured ramp (into a histogram thrown away), so the JIT has compiled
            // that code and not only the unpaced loop: a load generator compiling during the ramp delays starts
            final List<WsClients.Client> warm = openAll(warmNet, Math.min(warmConns, n),
                new Histogram(HIGHEST_NS, 3), TimeUnit.SECONDS.toNanos(30), openRate);
            for (final WsClients.Client c : warm)
            {
                warmNet.reset(c);
            }
            pollFor(warmNet, warmTarget == null ? 1.0 : 0.1);
            if (warmNet != net)
            {
                warmNet.close();
            }
        }
        openBehindMaxNs = 0; // the warm-up's lag is not the ramp's
        if (warmConns > 0)
        {
            // the warm-up's garbage would bring a collection (tens of ms with thousands of clients live) into the ramp
            System.gc();
        }
        final long rssBefore = ProcessStats.rssKb(proxyPids);
        final long upRssBefore = ProcessStats.rssKb(upstreamPids);
        final Histogram connect = new Histogram(HIGHEST_NS, 3);
        final long t0 = System.nanoTime();
        final List<WsClients.Client> open = openAll(net, n, connect, TimeUnit.SECONDS.toNanos(120), openRate);
        final double openSeconds = (System.nanoTime() - t0) / 1e9;
        writeTimeline();
        pollFor(net, settle);
        final long rssAfter = ProcessStats.rssKb(proxyPids);
        final long upRssAfter = ProcessStats.rssKb(upstreamPids);
        // every tunnel verified alive: one 16 B echo each
        final long[] alive = new long[1];
        net.listener(new Quiet()
        {
            @Override
            public void onFrame(final WsClients.Client c, final ByteBuffer in, final int at, final int len,
                final long now)
            {
                if (c.echoes++ == 0)
                {
                    alive[0]++;
                }
            }
        });
        final ByteBuffer ping = ByteBuffer.allocateDirect(22);
        ping.put((byte)0x82).put((byte)(0x80 | 16)).putInt(0x11223344);
        for (int i = 0; i < 16; i++)
        {
            ping.put((byte)'p');
        }
        int pingWriteFailures = 0;
        for (final WsClients.Client c : open)
        {
            if (c.state != WsClients.OPEN)
            {
                continue;
            }
            ping.position(0);
            try
            {
                c.ch.write(ping);
            }
            catch (final IOException e)
            {
                pingWriteFailures++;
            }
            if (ping.hasRemaining())
            {
                pingWriteFailures++;
            }
            net.pollNow();
        }
        final long verifyEnd = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (alive[0] < open.size() && System.nanoTime() < verifyEnd)
        {
            net.poll(20);
        }
        final long rssAfterVerify = ProcessStats.rssKb(proxyPids);
        final Map<String, Object> r = header(n);
        r.put("opened", open.size());
        r.put("alive", alive[0]);
        r.put("ping_write_failures", pingWriteFailures);
        r.put("open_seconds", openSeconds);
        r.put("open_per_s", open.size() / openSeconds);
        r.put("open_rate_target", openRate > 0 ? openRate : null);
        r.put("open_behind_max_us", openRate > 0 ? openBehindMaxNs / 1e3 : null);
        r.put("warm_conns", warmConns);
        percentiles(r, "connect", connect);
        r.put("rss_before_kb", rssBefore);
        r.put("rss_after_kb", rssAfter);
        r.put("rss_after_verify_kb", rssAfterVerify);
        r.put("rss_per_tunnel_bytes", proxyPids.length == 0 || open.isEmpty() ? null :
            (rssAfter - rssBefore) * 1024.0 / open.size());
        r.put("upstream_rss_per_conn_bytes", upstreamPids.length == 0 || open.isEmpty() ? null :
            (upRssAfter - upRssBefore) * 1024.0 / open.size());
        errors(r, net);
        writeLog(connect);
        net.close();
        return r;
    }

    // ----------------------------------------------------------------------------------------------- storm

    private Map<String, Object> storm() throws Exception
    {
        final WsClients net = new WsClients(target, sources, 1024);
        final Histogram handshake = new Histogram(HIGHEST_NS, 3);
        final long from = System.nanoTime() + (long)(warmup * 1e9);
        final long to = from + (long)(seconds * 1e9);
        final long[] counts = new long[3]; // ok in window, failed in window, in flight
        net.listener(new WsClients.Listener()
        {
            @Override
            public void onOpen(final WsClients.Client c, final long now)
            {
                counts[2]--;
                if (c.startNs >= from && now < to)
                {
                    counts[0]++;
                    handshake.recordValue(Math.min(HIGHEST_NS, now - c.startNs));
                }
                net.reset(c);
                if (now < to)
                {
                    counts[2]++;
                    net.open(path);
                }
            }

            @Override
            public void onFrame(final WsClients.Client c, final ByteBuffer in, final int at, final int len,
                final long now)
            {
            }

            @Override
            public void onFail(final WsClients.Client c, final String why, final long now)
            {
                counts[2]--;
                if (c.startNs >= from && now < to)
                {
                    counts[1]++;
                }
                lastError = why;
                if (now < to)
                {
                    counts[2]++;
                    net.open(path);
                }
            }
        });
        for (int i = 0; i < concurrency; i++)
        {
            counts[2]++;
            net.open(path);
        }
        final CpuWindow cpu = new CpuWindow(from, to);
        cpu.start();
        final long hardEnd = to + TimeUnit.SECONDS.toNanos(5);
        while (System.nanoTime() < hardEnd && (System.nanoTime() < to || counts[2] > 0))
        {
            net.poll(5);
        }
        cpu.join(5000);
        final Map<String, Object> r = header(concurrency);
        r.put("handshakes", counts[0]);
        r.put("handshakes_per_s", counts[0] / seconds);
        r.put("failed", counts[1]);
        percentiles(r, "handshake", handshake);
        cpu.put(r, counts[0]);
        errors(r, net);
        writeLog(handshake);
        net.close();
        return r;
    }

    // --------------------------------------------------------------------------------------------- helpers

    private String lastError;

    /**
     * Opens {@code n} WebSocket connections with at most {@link #concurrency} handshakes in flight; with
     * {@code ratePerS > 0} also paced: connection i is started no earlier than i / rate seconds after the first
     * (open loop: a slow answer does not delay the next start unless the concurrency cap is reached). How late a
     * start was against its schedule goes to {@link #openBehindMaxNs}.
     */
    /**
     * {@code -Dcentrigate.bench.timeline=FILE}: when in the ramp each connection started and how long its
     * connect+upgrade took (one line each, ms since the first start and µs), to tell a cold start's slow first
     * moments from slowness spread over the ramp.
     */
    private static final String TIMELINE_FILE = System.getProperty("centrigate.bench.timeline");
    private long[] timeline;
    private int timelineCount;

    private void writeTimeline()
    {
        if (timeline == null || timelineCount == 0)
        {
            return;
        }
        long first = Long.MAX_VALUE;
        for (int i = 0; i < timelineCount; i++)
        {
            first = Math.min(first, timeline[2 * i]);
        }
        try (PrintStream ps = new PrintStream(Files.newOutputStream(Path.of(TIMELINE_FILE))))
        {
            // System.nanoTime() is CLOCK_MONOTONIC on Linux: lines up with `perf record -k CLOCK_MONOTONIC`
            ps.printf(java.util.Locale.ROOT, "# first start at monotonic %d ns%n", first);
            for (int i = 0; i < timelineCount; i++)
            {
                ps.printf(java.util.Locale.ROOT, "%.3f %.1f%n", (timeline[2 * i] - first) / 1e6, timeline[2 * i + 1] / 1e3);
            }
        }
        catch (final IOException e)
        {
            System.err.println("timeline: " + e);
        }
    }

    private List<WsClients.Client> openAll(final WsClients net, final int n, final Histogram connectTimes,
        final long timeoutNs, final double ratePerS) throws IOException
    {
        if (connectTimes != null && TIMELINE_FILE != null)
        {
            timeline = new long[2 * n];
            timelineCount = 0;
        }
        final List<WsClients.Client> open = new ArrayList<>(n);
        final int[] state = new int[2]; // in flight, finished (open or failed)
        net.listener(new Quiet()
        {
            @Override
            public void onOpen(final WsClients.Client c, final long now)
            {
                state[0]--;
                state[1]++;
                c.index = open.size();
                open.add(c);
                if (connectTimes != null)
                {
                    connectTimes.recordValue(Math.min(HIGHEST_NS, now - c.startNs));
                    if (timeline != null && timelineCount < timeline.length / 2)
                    {
                        timeline[2 * timelineCount] = c.startNs;
                        timeline[2 * timelineCount++ + 1] = now - c.startNs;
                    }
                }
            }

            @Override
            public void onFail(final WsClients.Client c, final String why, final long now)
            {
                if (c.state == WsClients.CLOSED && open.contains(c))
                {
                    return; // an open tunnel closed later: counted by the caller
                }
                state[0]--;
                state[1]++;
                lastError = why;
            }
        });
        final long begin = System.nanoTime();
        final long deadline = begin + timeoutNs;
        final double intervalNs = ratePerS > 0 ? 1e9 / ratePerS : 0;
        int started = 0;
        while (state[1] < n && System.nanoTime() < deadline)
        {
            if (ratePerS > 0)
            {
                final long now = System.nanoTime();
                while (state[0] < concurrency && started < n && (long)(started * intervalNs) <= now - begin)
                {
                    openBehindMaxNs = Math.max(openBehindMaxNs, now - begin - (long)(started * intervalNs));
                    state[0]++;
                    started++;
                    net.open(path);
                }
                // a select of 1 ms at most between starts (2 starts per ms at 2,000/s)
                if (started < n)
                {
                    net.poll(1);
                }
                else
                {
                    net.poll(10);
                }
                continue;
            }
            while (state[0] < concurrency && started < n)
            {
                state[0]++;
                started++;
                net.open(path);
            }
            net.poll(10);
        }
        return open;
    }

    private static void pollFor(final WsClients net, final double secs) throws IOException
    {
        final long end = System.nanoTime() + (long)(secs * 1e9);
        while (System.nanoTime() < end)
        {
            net.poll(20);
        }
    }

    private Map<String, Object> header(final int connections)
    {
        final Map<String, Object> r = new LinkedHashMap<>();
        r.put("scenario", scenario);
        r.put("label", label);
        r.putAll(tags);
        r.put("target", targetText);
        r.put("connections", connections);
        r.put("seconds", seconds);
        r.put("warmup_seconds", warmup);
        r.put("loadavg", loadavg());
        return r;
    }

    private Map<String, Object> failed(final Map<String, Object> r, final WsClients net, final int opened)
        throws IOException
    {
        r.put("error", "only " + opened + " connections opened");
        errors(r, net);
        net.close();
        return r;
    }

    private void errors(final Map<String, Object> r, final WsClients net)
    {
        r.put("connect_errors", net.connectErrors);
        r.put("handshake_errors", net.handshakeErrors);
        r.put("io_errors", net.ioErrors);
        r.put("eofs", net.eofs);
        r.put("last_error", lastError);
    }

    private static void percentiles(final Map<String, Object> r, final String name, final Histogram h)
    {
        r.put(name + "_count", h.getTotalCount());
        r.put(name + "_p50_us", h.getValueAtPercentile(50) / 1e3);
        r.put(name + "_p90_us", h.getValueAtPercentile(90) / 1e3);
        r.put(name + "_p99_us", h.getValueAtPercentile(99) / 1e3);
        r.put(name + "_p999_us", h.getValueAtPercentile(99.9) / 1e3);
        r.put(name + "_max_us", h.getMaxValue() / 1e3);
    }

    private void writeLog(final Histogram h)
    {
        if (hlog == null)
        {
            return;
        }
        try (PrintStream ps = new PrintStream(Files.newOutputStream(Path.of(hlog))))
        {
            final HistogramLogWriter w = new HistogramLogWriter(ps);
            w.outputComment("centrigate bench " + scenario + " " + label + " (values in ns)");
            w.outputLogFormatVersion();
            w.outputLegend();
            h.setStartTimeStamp(System.currentTimeMillis() - (long)(seconds * 1000));
            h.setEndTimeStamp(System.currentTimeMillis());
            w.outputIntervalHistogram(h);
        }
        catch (final IOException e)
        {
            System.err.println("hlog: " + e);
        }
    }

    private static String loadavg()
    {
        try
        {
            return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
        }
        catch (final IOException e)
        {
            return null;
        }
    }

    /** CPU ticks of the proxy, the upstream and this process sampled at the start and the end of the window. */
    private final class CpuWindow extends Thread
    {
        private final long from;
        private final long to;
        private final long[] begin = new long[4];
        private final long[] end = new long[4];
        private long wallNs;

        CpuWindow(final long from, final long to)
        {
            super("cpu-window");
            this.from = from;
            this.to = to;
            setDaemon(true);
        }

        @Override
        public void run()
        {
            sleepUntil(from);
            final long t0 = System.nanoTime();
            sample(begin);
            sleepUntil(to);
            sample(end);
            wallNs = System.nanoTime() - t0;
        }

        private void sample(final long[] into)
        {
            into[0] = ProcessStats.cpuTicks(proxyPids);
            into[1] = ProcessStats.cpuTicks(upstreamPids);
            into[2] = ProcessStats.selfCpuTicks();
            into[3] = ProcessStats.machineBusyTicks();
        }

        private void sleepUntil(final long t)
        {
            long now;
            while ((now = System.nanoTime()) < t)
            {
                LockSupport.parkNanos(t - now);
            }
        }

        void put(final Map<String, Object> r, final long events)
        {
            final double wall = wallNs / 1e9;
            final String[] names = {"proxy", "upstream", "loadgen"};
            for (int i = 0; i < 3; i++)
            {
                if (begin[i] < 0 || wall <= 0)
                {
                    r.put(names[i] + "_cpu_s", null);
                    continue;
                }
                final double cpuS = (end[i] - begin[i]) / (double)clkTck;
                r.put(names[i] + "_cpu_s", cpuS);
                r.put(names[i] + "_cpu_pct", 100 * cpuS / wall);
            }
            if (begin[3] >= 0 && wall > 0)
            {
                // CPU used on this machine by anything but the proxy, the upstream and this load generator: a
                // noise indicator (other work on the box during the window), in % of one core
                long ours = end[2] - begin[2];
                ours += begin[0] >= 0 ? end[0] - begin[0] : 0;
                ours += begin[1] >= 0 ? end[1] - begin[1] : 0;
                final double other = (end[3] - begin[3] - ours) / (double)clkTck;
                r.put("other_cpu_pct", Math.max(0, 100 * other / wall));
            }
            if (begin[0] >= 0 && events > 0)
            {
                r.put("proxy_cpu_s_per_100k", (end[0] - begin[0]) / (double)clkTck / (events / 1e5));
            }
        }
    }

    /** A listener that ignores what the scenario does not need. */
    private abstract static class Quiet implements WsClients.Listener
    {
        @Override
        public void onOpen(final WsClients.Client c, final long nowNs)
        {
        }

        @Override
        public void onFrame(final WsClients.Client c, final ByteBuffer in, final int payloadAt, final int length,
            final long nowNs)
        {
        }

        @Override
        public void onFail(final WsClients.Client c, final String why, final long nowNs)
        {
        }
    }

    static String json(final Map<String, Object> m)
    {
        final StringBuilder sb = new StringBuilder("{");
        for (final Map.Entry<String, Object> e : m.entrySet())
        {
            if (sb.length() > 1)
            {
                sb.append(',');
            }
            sb.append('"').append(e.getKey()).append("\":");
            final Object v = e.getValue();
            if (v == null)
            {
                sb.append("null");
            }
            else if (v instanceof Double d)
            {
                sb.append(d.isNaN() || d.isInfinite() ? "null" : String.format(Locale.ROOT, "%.3f", d));
            }
            else if (v instanceof Number)
            {
                sb.append(v);
            }
            else
            {
                sb.append('"').append(v.toString().replace("\\", "\\\\").replace("\"", "\\\"")
                    .replace("\n", " ").replace("\r", " ")).append('"');
            }
        }
        return sb.append('}').toString();
    }
}
