package io.centrigate.bench.load;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Writer;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Locale;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A population of WebSocket clients that behave like Centrifugo SDKs towards a node failure: each one connects
 * (TCP connect, upgrade, checked 101, then one echo round trip standing in for the SDK's connect command and
 * its reply), holds the connection, and on any close or failure reconnects after a jittered backoff, as
 * centrifuge-js computes it: {@code min(max, min + random(0, min(max, min * 2^step)))}, step 0 after a
 * connection that was open, one more after each failed attempt. An attempt not complete within
 * {@code --handshake-timeout} (the SDK's timeout) is abandoned and counts as timed out.
 *
 * <p>An open client sends a small text frame every {@code --ping-ms} (25 s, first at a random moment within
 * that), which the node echoes: a Centrifugo node pings every 25 s and the client answers, so a live tunnel is never
 * idle, and a proxy's idle timeouts (centrigate's 90 s tunnel idle timeout, Nginx's 60 s {@code proxy_read_timeout})
 * never cut one; without it they would close every tunnel of the population once a minute or so.
 *
 * <p>All on one selector thread. The {@code --clients} start at {@code --ramp} per second; commands on stdin,
 * one per line, change the population while it runs: {@code arrive R} makes R new clients per second join
 * (new page loads; {@code arrive 0} stops them), {@code quit} ends the process (so does SIGTERM).
 *
 * <p>Output: every attempt and every close of an open connection as one line of {@code --events} (times in
 * epoch milliseconds, so the harness's own marks, taken with {@code date +%s%3N}, line up):
 * <pre>
 * A start_ms end_ms client outcome new|re     outcome: ok, timeout, refused, reset, eof, status_NNN, bad_accept, error
 * C ms client kind code age_ms                kind: close (a close frame from the server, code as sent), eof, reset
 * </pre>
 * and once a second on stdout {@code stat ms connected N clients M attempts A failed F}.
 *
 * <pre>java -cp bench/target/benchmarks.jar io.centrigate.bench.load.ReconnectingClients --target 127.0.0.1:8000
 *     --clients 2000 [--ramp 500] [--handshake-timeout-ms 5000] [--backoff-min-ms 500] [--backoff-max-ms 20000]
 *     [--ping-ms 25000] [--path /connection/websocket] --events FILE</pre>
 */
public final class ReconnectingClients
{
    private static final int WAITING = 0;
    private static final int CONNECTING = 1;
    private static final int UPGRADING = 2;
    private static final int COMMAND = 3;
    private static final int OPEN = 4;

    /** Stands in for the SDK's connect command: the node's reply (here its echo) ends the handshake. */
    private static final byte[] CONNECT_COMMAND = "{\"id\":1,\"connect\":{}}".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] MASK = {0x11, 0x22, 0x33, 0x44};
    private static final byte[] PING = "{}".getBytes(StandardCharsets.US_ASCII);

    private final InetSocketAddress target;
    private final String path;
    private final long handshakeTimeoutNs;
    private final long backoffMinMs;
    private final long backoffMaxMs;
    private final long pingNs;
    private final Writer events;
    private final Selector selector;
    private final WebSocketKeys keys = new WebSocketKeys();
    private final ArrayList<Client> clients = new ArrayList<>();
    private final ConcurrentLinkedQueue<String> commands = new ConcurrentLinkedQueue<>();
    private final long epochOffsetMs = System.currentTimeMillis() - System.nanoTime() / 1_000_000L;
    private volatile boolean running = true;
    private double arrivalsPerS;
    private double arrivalCredit;
    private int connected;
    private long attempts;
    private long failed;

    private static final class Client
    {
        final int id;
        int state = WAITING;
        long dueNs;
        long attemptStartNs;
        long openSinceNs;
        long nextPingNs;
        int step;
        boolean fresh = true;
        SocketChannel ch;
        SelectionKey key;
        ByteBuffer out;
        String expectedAccept;
        final ByteBuffer in = ByteBuffer.allocate(4096);

        Client(final int id, final long dueNs)
        {
            this.id = id;
            this.dueNs = dueNs;
        }
    }

    private ReconnectingClients(final InetSocketAddress target, final String path, final long handshakeTimeoutMs,
        final long backoffMinMs, final long backoffMaxMs, final long pingMs, final Writer events) throws IOException
    {
        this.target = target;
        this.path = path;
        this.handshakeTimeoutNs = handshakeTimeoutMs * 1_000_000L;
        this.backoffMinMs = backoffMinMs;
        this.backoffMaxMs = backoffMaxMs;
        this.pingNs = pingMs * 1_000_000L;
        this.events = events;
        this.selector = Selector.open();
    }

    public static void main(final String[] args) throws Exception
    {
        String target = null;
        String path = "/connection/websocket";
        String eventsFile = null;
        int count = 100;
        double ramp = 500;
        long timeoutMs = 5000;
        long minMs = 500;
        long maxMs = 20_000;
        long pingMs = 25_000;
        for (int i = 0; i < args.length; i++)
        {
            switch (args[i])
            {
                case "--target" -> target = args[++i];
                case "--path" -> path = args[++i];
                case "--events" -> eventsFile = args[++i];
                case "--clients" -> count = Integer.parseInt(args[++i]);
                case "--ramp" -> ramp = Double.parseDouble(args[++i]);
                case "--handshake-timeout-ms" -> timeoutMs = Long.parseLong(args[++i]);
                case "--backoff-min-ms" -> minMs = Long.parseLong(args[++i]);
                case "--backoff-max-ms" -> maxMs = Long.parseLong(args[++i]);
                case "--ping-ms" -> pingMs = Long.parseLong(args[++i]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        if (target == null || eventsFile == null)
        {
            throw new IllegalArgumentException("--target HOST:PORT and --events FILE are required");
        }
        final int colon = target.lastIndexOf(':');
        final InetSocketAddress address =
            new InetSocketAddress(target.substring(0, colon), Integer.parseInt(target.substring(colon + 1)));
        try (BufferedWriter events = Files.newBufferedWriter(Path.of(eventsFile), StandardCharsets.US_ASCII))
        {
            final ReconnectingClients population =
                new ReconnectingClients(address, path, timeoutMs, minMs, maxMs, pingMs, events);
            population.start(count, ramp);
            population.run();
        }
    }

    private void start(final int count, final double ramp)
    {
        final long now = System.nanoTime();
        for (int i = 0; i < count; i++)
        {
            clients.add(new Client(i, now + (long)(i / ramp * 1e9)));
        }
        final Thread stdin = new Thread(() ->
        {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.US_ASCII)))
            {
                String line;
                while ((line = r.readLine()) != null)
                {
                    commands.add(line.trim());
                }
            }
            catch (final IOException ignored)
            {
                // stdin gone: no more commands, the population runs on until SIGTERM
            }
        }, "commands");
        stdin.setDaemon(true);
        stdin.start();
        final Thread loop = Thread.currentThread();
        Runtime.getRuntime().addShutdownHook(new Thread(() ->
        {
            running = false;
            selector.wakeup();
            try
            {
                loop.join(3000);
            }
            catch (final InterruptedException ignored)
            {
                Thread.currentThread().interrupt();
            }
        }, "stop"));
    }

    private void run() throws IOException
    {
        long lastNs = System.nanoTime();
        long nextStatNs = lastNs + 1_000_000_000L;
        while (running)
        {
            selector.select(this::onKey, 10);
            final long now = System.nanoTime();
            if (!commands())
            {
                break;
            }
            arrivalCredit += arrivalsPerS * (now - lastNs) / 1e9;
            lastNs = now;
            while (arrivalCredit >= 1)
            {
                arrivalCredit -= 1;
                clients.add(new Client(clients.size(), now));
            }
            for (int i = 0; i < clients.size(); i++)
            {
                final Client c = clients.get(i);
                if (c.state == WAITING)
                {
                    if (now >= c.dueNs)
                    {
                        attempt(c, now);
                    }
                }
                else if (c.state == OPEN)
                {
                    if (pingNs > 0 && now >= c.nextPingNs)
                    {
                        ping(c, now);
                    }
                }
                else if (now - c.attemptStartNs >= handshakeTimeoutNs)
                {
                    attemptFailed(c, now, "timeout");
                }
            }
            if (now >= nextStatNs)
            {
                nextStatNs += 1_000_000_000L;
                events.flush();
                System.out.printf(Locale.ROOT, "stat %d connected %d clients %d attempts %d failed %d%n",
                    ms(now), connected, clients.size(), attempts, failed);
                System.out.flush();
            }
        }
        events.flush();
        System.out.printf(Locale.ROOT, "stat %d connected %d clients %d attempts %d failed %d%n",
            ms(System.nanoTime()), connected, clients.size(), attempts, failed);
        System.out.flush();
    }

    /** Applies the commands that arrived; false on {@code quit}. */
    private boolean commands()
    {
        String cmd;
        while ((cmd = commands.poll()) != null)
        {
            final String[] w = cmd.split("\\s+");
            switch (w[0])
            {
                case "arrive" -> arrivalsPerS = Double.parseDouble(w[1]);
                case "quit" ->
                {
                    return false;
                }
                case "" ->
                {
                }
                default -> System.err.println("unknown command: " + cmd);
            }
        }
        return true;
    }

    private long ms(final long nanoTime)
    {
        return epochOffsetMs + nanoTime / 1_000_000L;
    }

    private void attempt(final Client c, final long now)
    {
        attempts++;
        c.attemptStartNs = now;
        c.in.clear();
        try
        {
            final SocketChannel ch = SocketChannel.open();
            c.ch = ch;
            ch.configureBlocking(false);
            ch.setOption(StandardSocketOptions.TCP_NODELAY, Boolean.TRUE);
            final String key = keys.newKey();
            c.expectedAccept = keys.accept(key);
            final String host = target.getHostString() + ":" + target.getPort();
            c.out = ByteBuffer.wrap(("GET " + path + " HTTP/1.1\r\nHost: " + host +
                "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + key +
                "\r\nSec-WebSocket-Version: 13\r\nOrigin: http://" + host + "\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
            c.state = CONNECTING;
            if (ch.connect(target))
            {
                c.key = ch.register(selector, SelectionKey.OP_READ, c);
                send(c, UPGRADING);
            }
            else
            {
                c.key = ch.register(selector, SelectionKey.OP_CONNECT, c);
            }
        }
        catch (final IOException | RuntimeException e)
        {
            attemptFailed(c, now, outcomeOf(e));
        }
    }

    private void send(final Client c, final int next) throws IOException
    {
        c.ch.write(c.out);
        if (c.out.hasRemaining())
        {
            throw new IOException("request not written at once");
        }
        c.state = next;
        c.key.interestOps(SelectionKey.OP_READ);
    }

    private void onKey(final SelectionKey key)
    {
        final Client c = (Client)key.attachment();
        if (!key.isValid() || c.key != key)
        {
            return;
        }
        final long now = System.nanoTime();
        try
        {
            if (c.state == CONNECTING)
            {
                if (key.isConnectable() && c.ch.finishConnect())
                {
                    send(c, UPGRADING);
                }
                return;
            }
            if (key.isReadable())
            {
                read(c, now);
            }
        }
        catch (final IOException | RuntimeException e)
        {
            if (c.state == OPEN)
            {
                lost(c, now, "reset", 0);
            }
            else
            {
                attemptFailed(c, now, outcomeOf(e));
            }
        }
    }

    private static String outcomeOf(final Exception e)
    {
        final String m = String.valueOf(e.getMessage()).toLowerCase(Locale.ROOT);
        if (m.contains("refused"))
        {
            return "refused";
        }
        if (m.contains("reset") || m.contains("broken pipe"))
        {
            return "reset";
        }
        return "error";
    }

    private void read(final Client c, final long now) throws IOException
    {
        final int n = c.ch.read(c.in);
        if (n < 0)
        {
            if (c.state == OPEN)
            {
                lost(c, now, "eof", 0);
            }
            else
            {
                attemptFailed(c, now, "eof");
            }
            return;
        }
        c.in.flip();
        if (c.state == UPGRADING)
        {
            final int end = BenchUpstream.endOfHead(c.in, 0, c.in.limit());
            if (end < 0)
            {
                c.in.position(c.in.limit());
                c.in.limit(c.in.capacity());
                return;
            }
            final String head = new String(c.in.array(), 0, end, StandardCharsets.ISO_8859_1);
            c.in.position(end);
            if (!head.startsWith("HTTP/1.1 101"))
            {
                final String status = head.length() >= 12 ? head.substring(9, 12) : "???";
                attemptFailed(c, now, "status_" + status);
                return;
            }
            final String accept = BenchUpstream.headerValue(head, head.toLowerCase(Locale.ROOT),
                "sec-websocket-accept");
            if (!c.expectedAccept.equals(accept))
            {
                attemptFailed(c, now, "bad_accept");
                return;
            }
            c.out = maskedFrame(0x1, CONNECT_COMMAND);
            send(c, COMMAND);
        }
        while (c.in.remaining() >= 2 && c.ch != null)
        {
            final int p = c.in.position();
            final int b0 = c.in.get(p) & 0xff;
            final int header = WsFrames.lengthHeader(c.in, p);
            if (header == 0)
            {
                break;
            }
            final long len = WsFrames.payloadLength(c.in, p, header);
            if (c.in.remaining() < header + len)
            {
                break;
            }
            c.in.position((int)(p + header + len));
            final int opcode = b0 & 0x0f;
            if (opcode == 0x8)
            {
                final int code = len >= 2 ? c.in.getShort(p + header) & 0xffff : 1005;
                if (c.state == OPEN)
                {
                    answerClose(c);
                    lost(c, now, "close", code);
                }
                else
                {
                    attemptFailed(c, now, "close_" + code);
                }
                return;
            }
            if (c.state == COMMAND)
            {
                opened(c, now);
            }
        }
        c.in.compact();
    }

    private static ByteBuffer maskedFrame(final int opcode, final byte[] payload)
    {
        final ByteBuffer b = ByteBuffer.allocate(6 + payload.length);
        b.put((byte)(0x80 | opcode)).put((byte)(0x80 | payload.length)).put(MASK);
        for (int i = 0; i < payload.length; i++)
        {
            b.put((byte)(payload[i] ^ MASK[i & 3]));
        }
        return b.flip();
    }

    private void ping(final Client c, final long now)
    {
        c.nextPingNs = now + pingNs;
        try
        {
            c.ch.write(maskedFrame(0x1, PING));
        }
        catch (final IOException e)
        {
            lost(c, now, "reset", 0);
        }
    }

    /** The SDK answers a server's close with its own before dropping the connection (RFC 6455 §5.5.1). */
    private static void answerClose(final Client c)
    {
        try
        {
            c.ch.write(maskedFrame(0x8, new byte[] {0x03, (byte)0xe8}));
        }
        catch (final IOException ignored)
        {
            // the peer is gone already: nothing left to tell it
        }
    }

    private void opened(final Client c, final long now) throws IOException
    {
        log("A %d %d %d ok %s%n", ms(c.attemptStartNs), ms(now), c.id, c.fresh ? "new" : "re");
        c.fresh = false;
        c.state = OPEN;
        c.step = 0;
        c.openSinceNs = now;
        c.nextPingNs = now + (pingNs > 0 ? ThreadLocalRandom.current().nextLong(pingNs) : 0);
        connected++;
    }

    private void attemptFailed(final Client c, final long now, final String outcome)
    {
        failed++;
        log("A %d %d %d %s %s%n", ms(c.attemptStartNs), ms(now), c.id, outcome, c.fresh ? "new" : "re");
        c.fresh = false;
        drop(c);
        c.dueNs = now + backoffMs(c.step++) * 1_000_000L;
    }

    private void lost(final Client c, final long now, final String kind, final int code)
    {
        log("C %d %d %s %d %d%n", ms(now), c.id, kind, code, (now - c.openSinceNs) / 1_000_000L);
        connected--;
        drop(c);
        c.step = 0;
        c.dueNs = now + backoffMs(c.step++) * 1_000_000L;
    }

    /** centrifuge-js {@code backoff(step, min, max)}: full jitter on top of the minimum, capped. */
    private long backoffMs(final int step)
    {
        final long ceiling = Math.min(backoffMaxMs, backoffMinMs << Math.min(step, 31));
        final long jitter = ThreadLocalRandom.current().nextLong(Math.max(1, ceiling + 1));
        return Math.min(backoffMaxMs, backoffMinMs + jitter);
    }

    private void drop(final Client c)
    {
        c.state = WAITING;
        if (c.key != null)
        {
            c.key.cancel();
            c.key = null;
        }
        if (c.ch != null)
        {
            try
            {
                c.ch.close();
            }
            catch (final IOException ignored)
            {
                // closing anyway
            }
            c.ch = null;
        }
    }

    private void log(final String format, final Object... args)
    {
        try
        {
            events.write(String.format(Locale.ROOT, format, args));
        }
        catch (final IOException e)
        {
            throw new IllegalStateException("events file: " + e.getMessage(), e);
        }
    }
}
