package io.centrigate.metrics;

import java.io.BufferedOutputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.concurrent.TimeUnit;

import org.agrona.BitUtil;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.MessageHandler;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.ManyToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.RingBuffer;
import org.agrona.concurrent.ringbuffer.RingBufferDescriptor;

/**
 * The access log: one JSON line per HTTP exchange and per WebSocket tunnel, written off the loops.
 * <p>
 * A loop thread only copies a compact binary record (numbers and a few byte ranges: client address, method,
 * path, node) into a bounded many-to-one ring ({@link ManyToOneRingBuffer} over off-heap memory): no allocation,
 * no lock, no blocking. When the ring is full the record is not written, {@link #http} / {@link #ws} return
 * false and the loop counts the line as dropped ({@code LoopStats.accessLogDropped}). One daemon thread,
 * {@code centrigate-access-log}, reads the ring, formats JSON and writes it through a buffer it flushes whenever
 * the ring is empty; a writer that blocks (a full pipe, a slow disk) fills the ring and costs lines, never the
 * traffic. {@link #reopen()} (SIGUSR1) makes the writer close and reopen the file, for logrotate.
 */
public final class AccessLog implements AutoCloseable
{
    /** Who sent the close frame of a direction. */
    public static final int BY_NONE = 0;
    public static final int BY_CLIENT = 1;
    public static final int BY_NODE = 2;
    public static final int BY_PROXY = 3;
    /** Why a tunnel ended. */
    public static final int END_CLIENT_CLOSE = 1;
    public static final int END_NODE_CLOSE = 2;
    public static final int END_IDLE_TIMEOUT = 3;
    public static final int END_DRAIN = 4;
    public static final int END_ERROR = 5;
    /** Closed with 1012 by the proxy: moved to a lighter node, or off a node the admin drained. */
    public static final int END_REBALANCE = 6;
    public static final int END_NODE_DRAIN = 7;
    /** A close frame without a status code (or none seen): the code is logged as null. */
    public static final int NO_CODE = -1;

    /** Longest path (with its query) a record carries; longer ones are cut, marked {@code "path_truncated":true}. */
    public static final int MAX_PATH = 256;
    private static final int MAX_METHOD = 16;
    private static final int MAX_ADDRESS = 64;

    private static final int HTTP = 1;
    private static final int WS = 2;
    private static final int FLAG_TRUNCATED = 1;

    // HTTP record: seven longs... see the offsets; byte ranges follow the fixed part.
    private static final int H_TIME = 0;
    private static final int H_DURATION = 8;
    private static final int H_UPSTREAM = 16;
    private static final int H_BYTES_IN = 24;
    private static final int H_BYTES_OUT = 32;
    private static final int H_STATUS = 40;
    private static final int H_CLIENT_LEN = 44;
    private static final int H_METHOD_LEN = 48;
    private static final int H_PATH_LEN = 52;
    private static final int H_NODE_LEN = 56;
    private static final int H_FLAGS = 60;
    private static final int H_DATA = 64;

    private static final int W_TIME = 0;
    private static final int W_HANDSHAKE = 8;
    private static final int W_LIFETIME = 16;
    private static final int W_BYTES_UP = 24;
    private static final int W_BYTES_DOWN = 32;
    private static final int W_FRAMES_UP = 40;
    private static final int W_FRAMES_DOWN = 48;
    private static final int W_CLOSE_UP_CODE = 56;
    private static final int W_CLOSE_UP_BY = 60;
    private static final int W_CLOSE_DOWN_CODE = 64;
    private static final int W_CLOSE_DOWN_BY = 68;
    private static final int W_END = 72;
    private static final int W_CLIENT_LEN = 76;
    private static final int W_PATH_LEN = 80;
    private static final int W_NODE_LEN = 84;
    private static final int W_FLAGS = 88;
    private static final int W_DATA = 92;

    private final String destination;
    private final boolean keepQuery;
    private final PrintStream errors;
    private final ManyToOneRingBuffer ring;
    private final Thread writer;
    private final MessageHandler handler = this::onMessage;
    private volatile boolean running = true;
    private volatile boolean reopenRequested;
    private OutputStream out;
    private boolean failing;
    private byte[] line = new byte[1024];
    private int length;
    private long cachedSecond = Long.MIN_VALUE;
    private byte[] cachedSecondText;

    /**
     * Opens {@code destination} (a file, appended to, or {@code stdout}) and starts the writer thread; a file
     * that cannot be opened is an {@link IOException} naming it.
     */
    public AccessLog(final String destination, final boolean keepQuery, final int ringBytes, final PrintStream errors)
        throws IOException
    {
        this.destination = destination;
        this.keepQuery = keepQuery;
        this.errors = errors;
        final int capacity = BitUtil.findNextPositivePowerOfTwo(Math.max(ringBytes, 8 * 1024));
        final AtomicBuffer memory = new UnsafeBuffer(
            ByteBuffer.allocateDirect(capacity + RingBufferDescriptor.TRAILER_LENGTH));
        this.ring = new ManyToOneRingBuffer(memory);
        this.out = open();
        this.writer = new Thread(this::run, "centrigate-access-log");
        writer.setDaemon(true);
        writer.start();
    }

    private OutputStream open() throws IOException
    {
        if (destination.equals("stdout"))
        {
            return new BufferedOutputStream(new FileOutputStream(FileDescriptor.out), 64 * 1024);
        }
        try
        {
            return new BufferedOutputStream(new FileOutputStream(destination, true), 64 * 1024);
        }
        catch (final IOException e)
        {
            throw new IOException("access-log: cannot open " + destination + ": " + e.getMessage(), e);
        }
    }

    // ---------------------------------------------------------------- loop side: no allocation, no lock

    /**
     * Records an HTTP exchange. {@code head} holds the method at {@code [0, methodLength)} and the path right
     * behind it ({@code pathLength} bytes); {@code methodLength} -1 (or a null head) logs both as null, a null
     * {@code node} logs null. Returns false when the ring is full: the line is dropped.
     */
    public boolean http(final long timeMs, final long durationNs, final long upstreamNs, final long bytesIn,
        final long bytesOut, final int status, final byte[] client, final byte[] head, final int methodLength,
        final int pathLength, final boolean truncated, final byte[] node)
    {
        return http(timeMs, durationNs, upstreamNs, bytesIn, bytesOut, status, client, client.length, head,
            methodLength, pathLength, truncated, node);
    }

    /** As above, the client being {@code client[0, clientLength)}. */
    public boolean http(final long timeMs, final long durationNs, final long upstreamNs, final long bytesIn,
        final long bytesOut, final int status, final byte[] client, final int clientLength, final byte[] head,
        final int methodLength, final int pathLength, final boolean truncated, final byte[] node)
    {
        final int clientLen = Math.min(clientLength, MAX_ADDRESS);
        final int methodLen = head == null || methodLength < 0 ? -1 : Math.min(methodLength, MAX_METHOD);
        final int pathLen = methodLen < 0 ? 0 : Math.min(pathLength, MAX_PATH);
        final int nodeLen = node == null ? -1 : Math.min(node.length, MAX_ADDRESS);
        final int index = ring.tryClaim(HTTP, H_DATA + clientLen + Math.max(methodLen, 0) + pathLen + Math.max(nodeLen, 0));
        if (index < 0)
        {
            return false;
        }
        final AtomicBuffer b = ring.buffer();
        b.putLong(index + H_TIME, timeMs);
        b.putLong(index + H_DURATION, durationNs);
        b.putLong(index + H_UPSTREAM, upstreamNs);
        b.putLong(index + H_BYTES_IN, bytesIn);
        b.putLong(index + H_BYTES_OUT, bytesOut);
        b.putInt(index + H_STATUS, status);
        b.putInt(index + H_CLIENT_LEN, clientLen);
        b.putInt(index + H_METHOD_LEN, methodLen);
        b.putInt(index + H_PATH_LEN, pathLen);
        b.putInt(index + H_NODE_LEN, nodeLen);
        b.putInt(index + H_FLAGS, truncated ? FLAG_TRUNCATED : 0);
        int p = index + H_DATA;
        b.putBytes(p, client, 0, clientLen);
        p += clientLen;
        if (methodLen > 0)
        {
            b.putBytes(p, head, 0, methodLen);
            p += methodLen;
        }
        if (pathLen > 0)
        {
            b.putBytes(p, head, methodLength, pathLen);
            p += pathLen;
        }
        if (nodeLen > 0)
        {
            b.putBytes(p, node, 0, nodeLen);
        }
        ring.commit(index);
        return true;
    }

    /**
     * Records a WebSocket tunnel that ended; the path is {@code head[methodLength, methodLength + pathLength)}.
     * Close codes are {@link #NO_CODE} when unknown, {@code by} {@link #BY_NONE} when no close frame went that
     * way. Returns false when the ring is full: the line is dropped.
     */
    public boolean ws(final long timeMs, final long handshakeNs, final long lifetimeNs, final long bytesUp,
        final long bytesDown, final long framesUp, final long framesDown, final int closeUpCode, final int closeUpBy,
        final int closeDownCode, final int closeDownBy, final int end, final byte[] client, final byte[] head,
        final int methodLength, final int pathLength, final boolean truncated, final byte[] node)
    {
        return ws(timeMs, handshakeNs, lifetimeNs, bytesUp, bytesDown, framesUp, framesDown, closeUpCode, closeUpBy,
            closeDownCode, closeDownBy, end, client, client.length, head, methodLength, pathLength, truncated, node);
    }

    /** As above, the client being {@code client[0, clientLength)}. */
    public boolean ws(final long timeMs, final long handshakeNs, final long lifetimeNs, final long bytesUp,
        final long bytesDown, final long framesUp, final long framesDown, final int closeUpCode, final int closeUpBy,
        final int closeDownCode, final int closeDownBy, final int end, final byte[] client, final int clientLength,
        final byte[] head, final int methodLength, final int pathLength, final boolean truncated, final byte[] node)
    {
        final int clientLen = Math.min(clientLength, MAX_ADDRESS);
        final int pathLen = head == null || methodLength < 0 ? -1 : Math.min(pathLength, MAX_PATH);
        final int nodeLen = node == null ? -1 : Math.min(node.length, MAX_ADDRESS);
        final int index = ring.tryClaim(WS, W_DATA + clientLen + Math.max(pathLen, 0) + Math.max(nodeLen, 0));
        if (index < 0)
        {
            return false;
        }
        final AtomicBuffer b = ring.buffer();
        b.putLong(index + W_TIME, timeMs);
        b.putLong(index + W_HANDSHAKE, handshakeNs);
        b.putLong(index + W_LIFETIME, lifetimeNs);
        b.putLong(index + W_BYTES_UP, bytesUp);
        b.putLong(index + W_BYTES_DOWN, bytesDown);
        b.putLong(index + W_FRAMES_UP, framesUp);
        b.putLong(index + W_FRAMES_DOWN, framesDown);
        b.putInt(index + W_CLOSE_UP_CODE, closeUpCode);
        b.putInt(index + W_CLOSE_UP_BY, closeUpBy);
        b.putInt(index + W_CLOSE_DOWN_CODE, closeDownCode);
        b.putInt(index + W_CLOSE_DOWN_BY, closeDownBy);
        b.putInt(index + W_END, end);
        b.putInt(index + W_CLIENT_LEN, clientLen);
        b.putInt(index + W_PATH_LEN, pathLen);
        b.putInt(index + W_NODE_LEN, nodeLen);
        b.putInt(index + W_FLAGS, truncated ? FLAG_TRUNCATED : 0);
        int p = index + W_DATA;
        b.putBytes(p, client, 0, clientLen);
        p += clientLen;
        if (pathLen > 0)
        {
            b.putBytes(p, head, methodLength, pathLen);
            p += pathLen;
        }
        if (nodeLen > 0)
        {
            b.putBytes(p, node, 0, nodeLen);
        }
        ring.commit(index);
        return true;
    }

    // ---------------------------------------------------------------- control

    /** SIGUSR1: the writer closes the file and opens it again (by name) before its next line. */
    public void reopen()
    {
        reopenRequested = true;
    }

    public String destination()
    {
        return destination;
    }

    /** Lets the writer write what the ring holds, then stops it; bounded (a blocked writer is left behind). */
    @Override
    public void close()
    {
        running = false;
        try
        {
            writer.join(TimeUnit.SECONDS.toMillis(2));
        }
        catch (final InterruptedException e)
        {
            Thread.currentThread().interrupt();
        }
    }

    // ---------------------------------------------------------------- the writer thread

    private void run()
    {
        // Formatting and writing lines is background work: a loop with traffic comes first on a shared CPU.
        io.centrigate.loop.BackgroundPriority.lowerCurrentThread();
        final IdleStrategy idle = new BackoffIdleStrategy(10, 20, TimeUnit.MICROSECONDS.toNanos(10),
            TimeUnit.MILLISECONDS.toNanos(10));
        while (true)
        {
            if (reopenRequested)
            {
                reopenRequested = false;
                reopenNow();
            }
            final int read = ring.read(handler, 256);
            if (read == 0)
            {
                flush();
                if (!running && ring.size() == 0)
                {
                    break;
                }
                idle.idle();
            }
            else
            {
                idle.reset();
            }
        }
        flush();
        if (!destination.equals("stdout"))
        {
            try
            {
                out.close();
            }
            catch (final IOException ignore)
            {
                // Closing anyway.
            }
        }
    }

    private void reopenNow()
    {
        if (destination.equals("stdout"))
        {
            return;
        }
        flush();
        try
        {
            out.close();
        }
        catch (final IOException ignore)
        {
            // The old file is let go of either way.
        }
        try
        {
            out = open();
            failing = false;
        }
        catch (final IOException e)
        {
            failed(e);
            out = OutputStream.nullOutputStream();
        }
    }

    private void flush()
    {
        try
        {
            out.flush();
        }
        catch (final IOException e)
        {
            failed(e);
        }
    }

    private void failed(final IOException e)
    {
        if (!failing)
        {
            failing = true;
            errors.println("centrigate: access-log: " + destination + ": " + e.getMessage() + " (lines are lost until it works again)");
        }
    }

    private void onMessage(final int type, final MutableDirectBuffer b, final int index, final int recordLength)
    {
        length = 0;
        if (type == HTTP)
        {
            formatHttp(b, index);
        }
        else if (type == WS)
        {
            formatWs(b, index);
        }
        else
        {
            return;
        }
        try
        {
            out.write(line, 0, length);
        }
        catch (final IOException e)
        {
            failed(e);
        }
    }

    private void formatHttp(final MutableDirectBuffer b, final int index)
    {
        final int clientLen = b.getInt(index + H_CLIENT_LEN);
        final int methodLen = b.getInt(index + H_METHOD_LEN);
        final int pathLen = b.getInt(index + H_PATH_LEN);
        final int nodeLen = b.getInt(index + H_NODE_LEN);
        int p = index + H_DATA;
        ascii("{\"time\":\"");
        time(b.getLong(index + H_TIME));
        ascii("\",\"type\":\"http\",\"client\":");
        string(b, p, clientLen, false);
        p += clientLen;
        ascii(",\"method\":");
        if (methodLen < 0)
        {
            ascii("null,\"path\":null");
        }
        else
        {
            string(b, p, methodLen, false);
            p += methodLen;
            ascii(",\"path\":");
            string(b, p, pathLen, !keepQuery);
            p += pathLen;
            if ((b.getInt(index + H_FLAGS) & FLAG_TRUNCATED) != 0 && (keepQuery || indexOf(b, p - pathLen, pathLen, '?') < 0))
            {
                ascii(",\"path_truncated\":true");
            }
        }
        ascii(",\"status\":");
        number(b.getInt(index + H_STATUS));
        ascii(",\"node\":");
        if (nodeLen < 0)
        {
            ascii("null");
        }
        else
        {
            string(b, p, nodeLen, false);
        }
        ascii(",\"bytes_in\":");
        number(b.getLong(index + H_BYTES_IN));
        ascii(",\"bytes_out\":");
        number(b.getLong(index + H_BYTES_OUT));
        ascii(",\"duration_ms\":");
        millis(b.getLong(index + H_DURATION));
        ascii(",\"upstream_ms\":");
        final long upstreamNs = b.getLong(index + H_UPSTREAM);
        if (upstreamNs < 0)
        {
            ascii("null");
        }
        else
        {
            millis(upstreamNs);
        }
        ascii("}\n");
    }

    private void formatWs(final MutableDirectBuffer b, final int index)
    {
        final int clientLen = b.getInt(index + W_CLIENT_LEN);
        final int pathLen = b.getInt(index + W_PATH_LEN);
        final int nodeLen = b.getInt(index + W_NODE_LEN);
        int p = index + W_DATA;
        ascii("{\"time\":\"");
        time(b.getLong(index + W_TIME));
        ascii("\",\"type\":\"ws\",\"client\":");
        string(b, p, clientLen, false);
        p += clientLen;
        ascii(",\"path\":");
        if (pathLen < 0)
        {
            ascii("null");
        }
        else
        {
            string(b, p, pathLen, !keepQuery);
            p += pathLen;
        }
        ascii(",\"node\":");
        if (nodeLen < 0)
        {
            ascii("null");
        }
        else
        {
            string(b, p, nodeLen, false);
        }
        ascii(",\"handshake_ms\":");
        millis(b.getLong(index + W_HANDSHAKE));
        ascii(",\"lifetime_s\":");
        millis(b.getLong(index + W_LIFETIME) / 1000); // ns/1000 in millis() is µs -> shows seconds with 3 decimals
        ascii(",\"bytes_up\":");
        number(b.getLong(index + W_BYTES_UP));
        ascii(",\"bytes_down\":");
        number(b.getLong(index + W_BYTES_DOWN));
        ascii(",\"frames_up\":");
        number(b.getLong(index + W_FRAMES_UP));
        ascii(",\"frames_down\":");
        number(b.getLong(index + W_FRAMES_DOWN));
        ascii(",\"close_up\":");
        close(b.getInt(index + W_CLOSE_UP_CODE), b.getInt(index + W_CLOSE_UP_BY));
        ascii(",\"close_down\":");
        close(b.getInt(index + W_CLOSE_DOWN_CODE), b.getInt(index + W_CLOSE_DOWN_BY));
        ascii(",\"end\":\"");
        switch (b.getInt(index + W_END))
        {
            case END_CLIENT_CLOSE: ascii("client_close"); break;
            case END_NODE_CLOSE: ascii("node_close"); break;
            case END_IDLE_TIMEOUT: ascii("idle_timeout"); break;
            case END_DRAIN: ascii("drain"); break;
            case END_REBALANCE: ascii("rebalance"); break;
            case END_NODE_DRAIN: ascii("node_drain"); break;
            default: ascii("error"); break;
        }
        ascii("\"}\n");
    }

    private void close(final int code, final int by)
    {
        if (by == BY_NONE)
        {
            ascii("null");
            return;
        }
        ascii("{\"code\":");
        if (code < 0)
        {
            ascii("null");
        }
        else
        {
            number(code);
        }
        ascii(",\"by\":\"");
        ascii(by == BY_CLIENT ? "client" : by == BY_NODE ? "node" : "proxy");
        ascii("\"}");
    }

    private static int indexOf(final MutableDirectBuffer b, final int offset, final int length, final char c)
    {
        for (int i = 0; i < length; i++)
        {
            if (b.getByte(offset + i) == c)
            {
                return i;
            }
        }
        return -1;
    }

    // ---------------------------------------------------------------- JSON text

    private void ensure(final int more)
    {
        if (length + more > line.length)
        {
            line = java.util.Arrays.copyOf(line, Math.max(line.length * 2, length + more));
        }
    }

    private void ascii(final String s)
    {
        ensure(s.length());
        for (int i = 0; i < s.length(); i++)
        {
            line[length++] = (byte)s.charAt(i);
        }
    }

    /**
     * A JSON string of raw bytes: quote, backslash and control characters escaped, and bytes outside ASCII
     * written as six-character JSON escapes (a request target should be ASCII, RFC 9112; whatever else came is shown, not
     * passed on as invalid UTF-8). {@code stopAtQuery}: the string ends at the first '?'.
     */
    private void string(final MutableDirectBuffer b, final int offset, final int len, final boolean stopAtQuery)
    {
        ensure(2 + len * 6);
        line[length++] = '"';
        for (int i = 0; i < len; i++)
        {
            final int c = b.getByte(offset + i) & 0xFF;
            if (stopAtQuery && c == '?')
            {
                break;
            }
            if (c == '"' || c == '\\')
            {
                line[length++] = '\\';
                line[length++] = (byte)c;
            }
            else if (c < 0x20 || c >= 0x7F)
            {
                line[length++] = '\\';
                line[length++] = 'u';
                line[length++] = '0';
                line[length++] = '0';
                line[length++] = HEX[c >> 4];
                line[length++] = HEX[c & 0xF];
            }
            else
            {
                line[length++] = (byte)c;
            }
        }
        line[length++] = '"';
    }

    private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);

    private void number(final long n)
    {
        ascii(Long.toString(n));
    }

    /** Nanoseconds as milliseconds with three decimals (microsecond resolution). */
    private void millis(final long ns)
    {
        final long us = Math.max(0, ns / 1000);
        number(us / 1000);
        final long frac = us % 1000;
        ensure(4);
        line[length++] = '.';
        line[length++] = (byte)('0' + frac / 100);
        line[length++] = (byte)('0' + frac / 10 % 10);
        line[length++] = (byte)('0' + frac % 10);
    }

    /** ISO-8601 UTC with milliseconds: 2026-12-04T14:43:44.123Z. */
    private void time(final long epochMs)
    {
        final long second = Math.floorDiv(epochMs, 1000);
        if (second != cachedSecond)
        {
            final LocalDateTime t = LocalDateTime.ofEpochSecond(second, 0, ZoneOffset.UTC);
            cachedSecondText = String.format("%04d-%02d-%02dT%02d:%02d:%02d", t.getYear(), t.getMonthValue(),
                t.getDayOfMonth(), t.getHour(), t.getMinute(), t.getSecond()).getBytes(StandardCharsets.US_ASCII);
            cachedSecond = second;
        }
        ensure(cachedSecondText.length + 5);
        System.arraycopy(cachedSecondText, 0, line, length, cachedSecondText.length);
        length += cachedSecondText.length;
        final int ms = (int)Math.floorMod(epochMs, 1000);
        line[length++] = '.';
        line[length++] = (byte)('0' + ms / 100);
        line[length++] = (byte)('0' + ms / 10 % 10);
        line[length++] = (byte)('0' + ms % 10);
        line[length++] = 'Z';
    }

    /** For tests and /status: the ring's capacity in bytes. */
    public int capacity()
    {
        return ring.capacity();
    }

    RingBuffer ring()
    {
        return ring;
    }
}
