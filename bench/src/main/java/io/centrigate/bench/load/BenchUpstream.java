package io.centrigate.bench.load;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Locale;

/**
 * The end-to-end bench's stand-in for a Centrifugo node: one java.nio selector thread per listener (several
 * listeners share the port through SO_REUSEPORT when {@code --threads} &gt; 1).
 * <ul>
 *   <li>WebSocket (RFC 6455): answers the upgrade with the right {@code Sec-WebSocket-Accept}, then unmasks every
 *   client frame and echoes it back as an unmasked server frame with the same opcode; ping gets pong, close gets
 *   close. A connection whose request path contains {@code fanout} is a subscriber: every {@code --fanout-ms}
 *   (100 ms) each subscriber is sent a binary frame of {@code --fanout-size} (256) bytes whose first 8 bytes are
 *   {@link System#nanoTime()} at the moment of its write (CLOCK_MONOTONIC on Linux, so comparable across
 *   processes) and the next 8 the tick number.</li>
 *   <li>HTTP/1.1: {@code GET /api/info} (and {@code GET /health}, which centrigate's health checks ask for, as
 *   Centrifugo's endpoint) answers 100 bytes of JSON with {@code Content-Length}, keep-alive unless the
 *   request says {@code Connection: close} (or is HTTP/1.0 without keep-alive); {@code GET /api/large} answers
 *   {@code --large-size} (16384) bytes the same way (bench/h2load.sh's larger responses); anything else gets 404.
 *   Pipelined requests are answered in order.</li>
 * </ul>
 * A subscriber whose socket buffer is still full at the next tick misses that tick (counted as a drop). Prints one
 * line {@code upstream listening on ...} when ready; SIGTERM ends it.
 *
 * <pre>java -cp bench/target/benchmarks.jar io.centrigate.bench.load.BenchUpstream --port 27100
 *     [--host 127.0.0.1] [--threads 1] [--fanout-ms 100] [--fanout-size 256] [--large-size 16384]</pre>
 */
public final class BenchUpstream
{
    static final byte[] INFO_BODY = padTo(
        "{\"version\":\"bench\",\"nodes\":1,\"uptime\":12345,\"engine\":\"memory\",\"clients\":0}", 100);
    private static final byte[] HTTP_OK_KEEP = ("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" +
        "Content-Length: 100\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
    private static final byte[] HTTP_OK_CLOSE = ("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" +
        "Content-Length: 100\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
    private static final byte[] HTTP_404 = ("HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\n" +
        "Content-Length: 10\r\n\r\nnot found\n").getBytes(StandardCharsets.US_ASCII);
    private static final int IN_SIZE = 8192;
    private static final int OUT_SIZE = 256 * 1024;

    private BenchUpstream()
    {
    }

    public static void main(final String[] args) throws Exception
    {
        // Sized before the first connection: a JVM that grows its descriptor table mid-run stalls for an RCU grace
        // period at each doubling (io.centrigate.loop.DescriptorTable), which the bench would record as latency.
        io.centrigate.loop.DescriptorTable.reserve((int)Math.min(io.centrigate.config.OpenFileLimit.current(),
            io.centrigate.loop.DescriptorTable.PORTABLE_MAX));
        String host = "127.0.0.1";
        int port = 27100;
        int threads = 1;
        long fanoutMs = 100;
        int fanoutSize = 256;
        int largeSize = 16384;
        for (int i = 0; i < args.length; i++)
        {
            switch (args[i])
            {
                case "--host" -> host = args[++i];
                case "--port" -> port = Integer.parseInt(args[++i]);
                case "--threads" -> threads = Integer.parseInt(args[++i]);
                case "--fanout-ms" -> fanoutMs = Long.parseLong(args[++i]);
                case "--fanout-size" -> fanoutSize = Integer.parseInt(args[++i]);
                case "--large-size" -> largeSize = Integer.parseInt(args[++i]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        if (fanoutSize < 16 || fanoutSize > 65535)
        {
            throw new IllegalArgumentException("--fanout-size must be 16..65535");
        }
        if (largeSize < 1 || largeSize > OUT_SIZE / 2)
        {
            throw new IllegalArgumentException("--large-size must be 1.." + OUT_SIZE / 2);
        }
        final Thread[] workers = new Thread[threads];
        for (int i = 0; i < threads; i++)
        {
            final ServerSocketChannel server = ServerSocketChannel.open();
            server.setOption(StandardSocketOptions.SO_REUSEADDR, Boolean.TRUE);
            if (threads > 1)
            {
                server.setOption(StandardSocketOptions.SO_REUSEPORT, Boolean.TRUE);
            }
            server.bind(new InetSocketAddress(host, port), 4096);
            server.configureBlocking(false);
            workers[i] = new Thread(new Worker(server, fanoutMs * 1_000_000L, fanoutSize, largeSize), "upstream-" + i);
            workers[i].start();
        }
        System.out.printf(Locale.ROOT, "upstream listening on %s:%d threads %d fanout-ms %d fanout-size %d%n",
            host, port, threads, fanoutMs, fanoutSize);
        System.out.flush();
        for (final Thread t : workers)
        {
            t.join();
        }
    }

    static byte[] padTo(final String s, final int n)
    {
        final byte[] b = Arrays.copyOf(s.getBytes(StandardCharsets.US_ASCII), n);
        for (int i = s.length(); i < n - 1; i++)
        {
            b[i] = ' ';
        }
        b[n - 1] = '\n';
        return b;
    }

    private static final class Conn
    {
        static final int HEAD = 0;
        static final int WEBSOCKET = 1;

        final SocketChannel ch;
        final SelectionKey key;
        final ByteBuffer in = ByteBuffer.allocate(IN_SIZE);
        ByteBuffer pending;
        int state = HEAD;
        long skipBody;
        boolean closeAfterWrite;
        boolean subscriber;
        boolean closed;
        /** A frame too large for {@link #in} (the bulk scenario) is echoed as it streams: payload bytes still to come. */
        long bulkRemaining;
        final byte[] bulkMask = new byte[4];
        long bulkMaskPos;

        Conn(final SocketChannel ch, final SelectionKey key)
        {
            this.ch = ch;
            this.key = key;
        }
    }

    private static final class Worker implements Runnable
    {
        private final ServerSocketChannel server;
        private final Selector selector;
        private final long tickNs;
        private final byte[] fanoutPayload;
        private final byte[] largeKeep;
        private final byte[] largeClose;
        private final ByteBuffer out = ByteBuffer.allocateDirect(OUT_SIZE);
        private final ArrayList<Conn> subscribers = new ArrayList<>();
        private final WebSocketKeys keys = new WebSocketKeys();
        private long nextTick;
        private long tick;
        private long drops;

        Worker(final ServerSocketChannel server, final long tickNs, final int fanoutSize, final int largeSize)
            throws IOException
        {
            this.server = server;
            this.selector = Selector.open();
            this.tickNs = tickNs;
            this.fanoutPayload = new byte[fanoutSize];
            Arrays.fill(fanoutPayload, (byte)'f');
            this.largeKeep = large(largeSize, "");
            this.largeClose = large(largeSize, "Connection: close\r\n");
            server.register(selector, SelectionKey.OP_ACCEPT);
        }

        /** The whole answer to GET /api/large: head and {@code size} bytes of body. */
        private static byte[] large(final int size, final String extraHeaders)
        {
            final byte[] head = ("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: " + size +
                "\r\n" + extraHeaders + "\r\n").getBytes(StandardCharsets.US_ASCII);
            final byte[] answer = Arrays.copyOf(head, head.length + size);
            Arrays.fill(answer, head.length, answer.length, (byte)'x');
            return answer;
        }

        @Override
        public void run()
        {
            nextTick = System.nanoTime() + tickNs;
            try
            {
                while (true)
                {
                    final long now = System.nanoTime();
                    if (now >= nextTick)
                    {
                        fanout();
                        nextTick += tickNs;
                        if (nextTick < now)
                        {
                            nextTick = now + tickNs; // fell behind a whole tick: do not burst to catch up
                        }
                        continue;
                    }
                    final long waitMs = Math.max(1, (nextTick - now) / 1_000_000L);
                    selector.select(this::onKey, waitMs);
                }
            }
            catch (final IOException e)
            {
                e.printStackTrace();
                System.exit(1);
            }
        }

        private void onKey(final SelectionKey key)
        {
            if (!key.isValid())
            {
                return;
            }
            if (key.channel() == server)
            {
                accept();
                return;
            }
            final Conn c = (Conn)key.attachment();
            try
            {
                if (key.isWritable())
                {
                    flushPending(c);
                }
                if (!c.closed && key.isValid() && key.isReadable())
                {
                    read(c);
                }
            }
            catch (final IOException | RuntimeException e)
            {
                close(c);
            }
        }

        private void accept()
        {
            for (int i = 0; i < 256; i++)
            {
                final SocketChannel ch;
                try
                {
                    ch = server.accept();
                    if (ch == null)
                    {
                        return;
                    }
                    ch.configureBlocking(false);
                    ch.setOption(StandardSocketOptions.TCP_NODELAY, Boolean.TRUE);
                    final SelectionKey key = ch.register(selector, SelectionKey.OP_READ);
                    key.attach(new Conn(ch, key));
                }
                catch (final IOException e)
                {
                    return; // EMFILE and the like: the backlog holds the rest, retried on the next select
                }
            }
        }

        private void read(final Conn c) throws IOException
        {
            final int n = c.ch.read(c.in);
            if (n < 0)
            {
                close(c);
                return;
            }
            if (n == 0)
            {
                return;
            }
            c.in.flip();
            out.clear();
            if (c.state == Conn.HEAD)
            {
                onHttp(c);
            }
            if (c.state == Conn.WEBSOCKET && !c.closed)
            {
                onFrames(c);
            }
            if (c.closed)
            {
                return;
            }
            c.in.compact();
            if (!c.in.hasRemaining())
            {
                close(c); // a head or frame larger than the buffer: not something the bench sends
                return;
            }
            out.flip();
            write(c);
        }

        /** Answers every complete request head in the buffer; switches to WebSocket on an upgrade. */
        private void onHttp(final Conn c)
        {
            final ByteBuffer in = c.in;
            while (c.state == Conn.HEAD)
            {
                if (c.skipBody > 0)
                {
                    final int skip = (int)Math.min(c.skipBody, in.remaining());
                    in.position(in.position() + skip);
                    c.skipBody -= skip;
                    if (c.skipBody > 0)
                    {
                        return;
                    }
                }
                final int start = in.position();
                final int end = endOfHead(in, start, in.limit());
                if (end < 0)
                {
                    return;
                }
                final String head = new String(in.array(), start, end - start, StandardCharsets.ISO_8859_1);
                in.position(end);
                final String lower = head.toLowerCase(Locale.ROOT);
                final int sp1 = head.indexOf(' ');
                final int sp2 = head.indexOf(' ', sp1 + 1);
                final String path = sp1 > 0 && sp2 > sp1 ? head.substring(sp1 + 1, sp2) : "";
                final boolean http10 = head.startsWith("HTTP/1.0", sp2 + 1);
                final String key = headerValue(head, lower, "sec-websocket-key");
                if (key != null && lower.contains("\nupgrade: websocket"))
                {
                    out.put(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
                        "Sec-WebSocket-Accept: " + keys.accept(key) + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                    c.state = Conn.WEBSOCKET;
                    if (path.contains("fanout"))
                    {
                        c.subscriber = true;
                        subscribers.add(c);
                    }
                    return;
                }
                final String cl = headerValue(head, lower, "content-length");
                if (cl != null)
                {
                    c.skipBody = Long.parseLong(cl.trim());
                }
                final String connection = headerValue(head, lower, "connection");
                final boolean close = connection != null ? connection.toLowerCase(Locale.ROOT).contains("close") :
                    http10;
                if (head.startsWith("GET /api/info") || head.startsWith("GET /health"))
                {
                    out.put(close ? HTTP_OK_CLOSE : HTTP_OK_KEEP).put(INFO_BODY);
                }
                else if (head.startsWith("GET /api/large"))
                {
                    final byte[] answer = close ? largeClose : largeKeep;
                    if (out.remaining() < answer.length)
                    {
                        close(c); // pipelined beyond the output buffer: not something the bench sends
                        return;
                    }
                    out.put(answer);
                }
                else
                {
                    out.put(HTTP_404);
                }
                if (close)
                {
                    c.closeAfterWrite = true;
                    in.position(in.limit()); // nothing after a close is answered
                    return;
                }
            }
        }

        /** Unmasks each complete client frame into an unmasked server frame with the same opcode (RFC 6455 §5). */
        private void onFrames(final Conn c)
        {
            final ByteBuffer in = c.in;
            if (c.bulkRemaining > 0 && !streamBulk(c))
            {
                return;
            }
            while (in.remaining() >= 2)
            {
                final int p = in.position();
                final int b0 = in.get(p) & 0xff;
                final int b1 = in.get(p + 1) & 0xff;
                int header = WsFrames.lengthHeader(in, p);
                if (header == 0)
                {
                    return;
                }
                final long len = WsFrames.payloadLength(in, p, header);
                final boolean masked = (b1 & 0x80) != 0;
                final int maskAt = p + header;
                if (masked)
                {
                    header += 4;
                }
                if (len > IN_SIZE - 14)
                {
                    // The bulk scenario's frames (256 KiB and up): the header now, the payload unmasked as it arrives.
                    if (in.remaining() < header || out.remaining() < 10)
                    {
                        return;
                    }
                    out.put((byte)b0);
                    if (len < 65536)
                    {
                        out.put((byte)126).putShort((short)len);
                    }
                    else
                    {
                        out.put((byte)127).putLong(len);
                    }
                    for (int k = 0; k < 4; k++)
                    {
                        c.bulkMask[k] = masked ? in.get(maskAt + k) : 0;
                    }
                    c.bulkMaskPos = 0;
                    c.bulkRemaining = len;
                    in.position(p + header);
                    if (!streamBulk(c))
                    {
                        return;
                    }
                    continue;
                }
                if (in.remaining() < header + len)
                {
                    return;
                }
                final int opcode = b0 & 0x0f;
                final int payloadAt = p + header;
                in.position((int)(payloadAt + len));
                if (opcode == 0xA)
                {
                    continue; // pong: nothing to answer
                }
                if (out.remaining() < len + 10)
                {
                    throw new IllegalStateException("echo output full");
                }
                final int outB0 = opcode == 0x9 ? (b0 & 0xf0) | 0xA : b0;
                out.put((byte)outB0);
                if (len < 126)
                {
                    out.put((byte)len);
                }
                else
                {
                    out.put((byte)126).putShort((short)len);
                }
                for (int i = 0; i < len; i++)
                {
                    final byte m = masked ? in.get(maskAt + (i & 3)) : 0;
                    out.put((byte)(in.get(payloadAt + i) ^ m));
                }
                if (opcode == 0x8)
                {
                    c.closeAfterWrite = true;
                    in.position(in.limit());
                    return;
                }
            }
        }

        private void fanout()
        {
            tick++;
            int live = 0;
            final int size = fanoutPayload.length;
            for (int i = 0; i < subscribers.size(); i++)
            {
                final Conn c = subscribers.get(i);
                if (c.closed)
                {
                    continue;
                }
                subscribers.set(live++, c);
                if (c.pending != null)
                {
                    drops++;
                    continue;
                }
                out.clear();
                out.put((byte)0x82);
                if (size < 126)
                {
                    out.put((byte)size);
                }
                else
                {
                    out.put((byte)126).putShort((short)size);
                }
                final int payloadAt = out.position();
                out.put(fanoutPayload);
                out.putLong(payloadAt + 8, tick);
                out.putLong(payloadAt, System.nanoTime());
                out.flip();
                try
                {
                    write(c);
                }
                catch (final IOException e)
                {
                    close(c);
                }
            }
            subscribers.subList(live, subscribers.size()).clear();
        }

        /** Echoes what has come of a large frame's payload, unmasked; true when the frame is done. */
        private boolean streamBulk(final Conn c)
        {
            final ByteBuffer in = c.in;
            final int n = (int)Math.min(Math.min(in.remaining(), c.bulkRemaining), out.remaining());
            final int p = in.position();
            for (int i = 0; i < n; i++)
            {
                out.put((byte)(in.get(p + i) ^ c.bulkMask[(int)((c.bulkMaskPos + i) & 3)]));
            }
            in.position(p + n);
            c.bulkMaskPos += n;
            c.bulkRemaining -= n;
            return c.bulkRemaining == 0;
        }

        /** Writes {@link #out}; what the socket does not take waits in the connection's pending buffer. */
        private void write(final Conn c) throws IOException
        {
            if (out.hasRemaining())
            {
                c.ch.write(out);
                if (out.hasRemaining())
                {
                    final ByteBuffer p = ByteBuffer.allocate(out.remaining());
                    p.put(out).flip();
                    c.pending = p;
                    c.key.interestOps(SelectionKey.OP_WRITE); // stop reading until the peer drains
                    return;
                }
            }
            if (c.closeAfterWrite)
            {
                close(c);
            }
        }

        private void flushPending(final Conn c) throws IOException
        {
            final ByteBuffer p = c.pending;
            if (p == null)
            {
                c.key.interestOps(SelectionKey.OP_READ);
                return;
            }
            c.ch.write(p);
            if (!p.hasRemaining())
            {
                c.pending = null;
                if (c.closeAfterWrite)
                {
                    close(c);
                    return;
                }
                c.key.interestOps(SelectionKey.OP_READ);
            }
        }

        private void close(final Conn c)
        {
            if (c.closed)
            {
                return;
            }
            c.closed = true;
            try
            {
                c.ch.close();
            }
            catch (final IOException ignored)
            {
                // closing anyway
            }
        }
    }

    static int endOfHead(final ByteBuffer b, final int from, final int to)
    {
        for (int i = from; i + 3 < to; i++)
        {
            if (b.get(i) == '\r' && b.get(i + 1) == '\n' && b.get(i + 2) == '\r' && b.get(i + 3) == '\n')
            {
                return i + 4;
            }
        }
        return -1;
    }

    /** The value of the first header field named {@code name} (lower case), or null. */
    static String headerValue(final String head, final String lower, final String name)
    {
        final int at = lower.indexOf("\n" + name + ":");
        if (at < 0)
        {
            return null;
        }
        final int from = at + name.length() + 2;
        int to = head.indexOf('\r', from);
        if (to < 0)
        {
            to = head.length();
        }
        return head.substring(from, to).trim();
    }
}
