package io.centrigate.bench.load;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;

/**
 * Many WebSocket client connections on one selector, driven by one thread: non-blocking connect, the upgrade
 * request, the 101 checked (status and {@code Sec-WebSocket-Accept}), then server frames (unmasked) parsed and
 * handed to a {@link Listener} with the receive time taken right after the read that brought them.
 * Writes of client frames may come from another thread (a SocketChannel allows one reader and one writer at once).
 */
final class WsClients
{
    interface Listener
    {
        void onOpen(Client c, long nowNs);

        /** A complete server frame; {@code in} is positioned nowhere in particular, use the offsets. */
        void onFrame(Client c, ByteBuffer in, int payloadAt, int length, long nowNs);

        void onFail(Client c, String why, long nowNs);
    }

    static final int CONNECTING = 0;
    static final int HANDSHAKE = 1;
    static final int OPEN = 2;
    static final int CLOSED = 3;

    static final class Client
    {
        final SocketChannel ch;
        final long startNs;
        final String expectedAccept;
        final ByteBuffer request;
        final ByteBuffer in;
        SelectionKey key;
        int state = CONNECTING;
        int index;
        long echoes;

        Client(final SocketChannel ch, final long startNs, final String expectedAccept, final ByteBuffer request,
            final int bufferSize)
        {
            this.ch = ch;
            this.startNs = startNs;
            this.expectedAccept = expectedAccept;
            this.request = request;
            this.in = ByteBuffer.allocate(bufferSize);
        }
    }

    private final Selector selector;
    private final InetSocketAddress target;
    private final String hostHeader;
    private final InetAddress[] sources;
    private final WebSocketKeys keys = new WebSocketKeys();
    private final int bufferSize;
    private Listener listener;
    private int nextSource;
    /** 0: the kernel picks each client's port; else client k binds port {@code sourcePortBase + k / sources}. */
    private int sourcePortBase;
    long connectErrors;
    long handshakeErrors;
    long ioErrors;
    long eofs;

    WsClients(final InetSocketAddress target, final int sourceCount, final int bufferSize) throws IOException
    {
        this.selector = Selector.open();
        this.target = target;
        this.hostHeader = target.getHostString() + ":" + target.getPort();
        this.bufferSize = bufferSize;
        this.sources = new InetAddress[sourceCount];
        for (int i = 0; i < sourceCount; i++)
        {
            // 127.0.0.2, 127.0.0.3 ...: more 4-tuples than one source address has ephemeral ports
            sources[i] = InetAddress.getByAddress(new byte[] {127, 0, 0, (byte)(2 + i)});
        }
    }

    /**
     * Binds every client to an explicit port from {@code base} on (per source address, in turn), with
     * SO_REUSEADDR so ports a previous run left in TIME_WAIT can be taken again: the clients then draw nothing from
     * the ephemeral range, which bench/source-ports.sh narrows to exhaust the proxy's upstream side only (a
     * port bound by bind() also can never be shared by a connect-time pick of another socket, so clients bound
     * with port 0 would take the window's ports away from the proxy's IP_BIND_ADDRESS_NO_PORT connects).
     */
    void sourcePortBase(final int base)
    {
        this.sourcePortBase = base;
    }

    void listener(final Listener listener)
    {
        this.listener = listener;
    }

    /** Starts a connection; its outcome arrives through the listener from {@link #poll(long)}. */
    Client open(final String path)
    {
        final long t0 = System.nanoTime();
        SocketChannel ch = null;
        try
        {
            ch = SocketChannel.open();
            ch.configureBlocking(false);
            ch.setOption(StandardSocketOptions.TCP_NODELAY, Boolean.TRUE);
            if (sourcePortBase > 0)
            {
                final int n = Math.max(1, sources.length);
                final InetAddress from = sources.length > 0 ? sources[nextSource % n] : InetAddress.getLoopbackAddress();
                ch.setOption(StandardSocketOptions.SO_REUSEADDR, Boolean.TRUE);
                ch.bind(new InetSocketAddress(from, sourcePortBase + nextSource++ / n));
            }
            else if (sources.length > 0)
            {
                ch.bind(new InetSocketAddress(sources[nextSource++ % sources.length], 0));
            }
            final String key = keys.newKey();
            final byte[] req = ("GET " + path + " HTTP/1.1\r\nHost: " + hostHeader +
                "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + key +
                "\r\nSec-WebSocket-Version: 13\r\nOrigin: http://" + hostHeader + "\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII);
            final Client c = new Client(ch, t0, keys.accept(key), ByteBuffer.wrap(req), bufferSize);
            final boolean connected = ch.connect(target);
            c.key = ch.register(selector, connected ? SelectionKey.OP_READ : SelectionKey.OP_CONNECT, c);
            if (connected)
            {
                sendRequest(c);
            }
            return c;
        }
        catch (final IOException e)
        {
            connectErrors++;
            final Client failed = new Client(ch, t0, "", null, 0);
            failed.state = CLOSED;
            closeQuietly(ch);
            listener.onFail(failed, "connect: " + e.getMessage(), System.nanoTime());
            return failed;
        }
    }

    void poll(final long timeoutMs) throws IOException
    {
        selector.select(this::onKey, Math.max(1, timeoutMs));
    }

    void pollNow() throws IOException
    {
        selector.selectNow(this::onKey);
    }

    /** Closes with SO_LINGER 0 (RST): no TIME_WAIT left behind to eat ephemeral ports between runs. */
    void reset(final Client c)
    {
        if (c.state == CLOSED)
        {
            return;
        }
        c.state = CLOSED;
        try
        {
            c.ch.setOption(StandardSocketOptions.SO_LINGER, 0);
        }
        catch (final IOException | RuntimeException ignored)
        {
            // closing anyway
        }
        closeQuietly(c.ch);
    }

    void close() throws IOException
    {
        for (final SelectionKey k : selector.keys())
        {
            if (k.attachment() instanceof Client c)
            {
                reset(c);
            }
        }
        selector.close();
    }

    private void sendRequest(final Client c) throws IOException
    {
        c.ch.write(c.request);
        if (c.request.hasRemaining())
        {
            throw new IOException("upgrade request not written at once");
        }
        c.state = HANDSHAKE;
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
                    sendRequest(c);
                }
                return;
            }
            if (key.isReadable())
            {
                read(c);
            }
        }
        catch (final IOException | RuntimeException e)
        {
            if (c.state == CONNECTING)
            {
                connectErrors++;
            }
            else
            {
                ioErrors++;
            }
            fail(c, e.toString());
        }
    }

    private void read(final Client c) throws IOException
    {
        for (int reads = 0; reads < 16; reads++)
        {
            final int n = c.ch.read(c.in);
            final long now = System.nanoTime();
            if (n < 0)
            {
                eofs++;
                fail(c, "eof");
                return;
            }
            if (n == 0)
            {
                return;
            }
            c.in.flip();
            if (c.state == HANDSHAKE && !handshake(c, now))
            {
                c.in.compact();
                if (!c.in.hasRemaining())
                {
                    handshakeErrors++;
                    fail(c, "response head too large");
                }
                return;
            }
            if (c.state == OPEN)
            {
                frames(c, now);
            }
            if (c.state == CLOSED)
            {
                return;
            }
            c.in.compact();
            if (!c.in.hasRemaining())
            {
                ioErrors++;
                fail(c, "frame larger than the client buffer");
                return;
            }
        }
    }

    private boolean handshake(final Client c, final long now)
    {
        final ByteBuffer in = c.in;
        final int end = BenchUpstream.endOfHead(in, in.position(), in.limit());
        if (end < 0)
        {
            return false;
        }
        final String head = new String(in.array(), in.position(), end - in.position(), StandardCharsets.ISO_8859_1);
        in.position(end);
        final String lower = head.toLowerCase(java.util.Locale.ROOT);
        final String accept = BenchUpstream.headerValue(head, lower, "sec-websocket-accept");
        if (!head.startsWith("HTTP/1.1 101") || !c.expectedAccept.equals(accept))
        {
            handshakeErrors++;
            final int eol = head.indexOf('\r');
            fail(c, "bad handshake: " + (eol > 0 ? head.substring(0, eol) : head));
            return true;
        }
        c.state = OPEN;
        listener.onOpen(c, now);
        return true;
    }

    private void frames(final Client c, final long now)
    {
        final ByteBuffer in = c.in;
        while (in.remaining() >= 2 && c.state == OPEN)
        {
            final int p = in.position();
            final int b1 = in.get(p + 1) & 0xff;
            int header = WsFrames.lengthHeader(in, p);
            if (header == 0)
            {
                return;
            }
            final long len = WsFrames.payloadLength(in, p, header);
            if ((b1 & 0x80) != 0)
            {
                header += 4; // a server must not mask (RFC 6455 §5.1); tolerated here, payload not unmasked
            }
            if (len > in.capacity() - header)
            {
                throw new IllegalStateException("frame of " + len + " bytes larger than the client buffer");
            }
            if (in.remaining() < header + len)
            {
                return;
            }
            in.position((int)(p + header + len));
            listener.onFrame(c, in, p + header, (int)len, now);
        }
    }

    private void fail(final Client c, final String why)
    {
        reset(c);
        listener.onFail(c, why, System.nanoTime());
    }

    private static void closeQuietly(final SocketChannel ch)
    {
        if (ch == null)
        {
            return;
        }
        try
        {
            ch.close();
        }
        catch (final IOException ignored)
        {
            // nothing to do
        }
    }
}
