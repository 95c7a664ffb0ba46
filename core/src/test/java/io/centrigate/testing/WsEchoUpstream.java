package io.centrigate.testing;

import java.lang.reflect.Field;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.java_websocket.WebSocket;
import org.java_websocket.WebSocketImpl;
import org.java_websocket.WebSocketServerFactory;
import org.java_websocket.handshake.ClientHandshake;
import org.java_websocket.server.WebSocketServer;

/**
 * A real WebSocket server (Java-WebSocket) standing in for a Centrifugo node: echoes every message and
 * records each handshake's headers so tests can see what the proxy forwarded.
 * <p>
 * Its input is decoded on the library's selector thread ({@link #queue}), not on its worker threads. Java-WebSocket
 * 1.6.0 loses a reply sent from a worker under load: the worker queues it and asks for OP_WRITE while the selector
 * thread, in a write pass for the same connection that found nothing queued a moment before (the key stays in the
 * selected set after a write, so the read of the message that is being answered brings a stale "writable" with
 * it), then sets the interest back to OP_READ; the reply stays in the connection's queue and is never written. A
 * test then saw "no echo within 30 s" after a good 101 (issue: the tunnel flake under load, 2026-12-07). With one
 * thread doing both, the reply is queued before the write pass looks.
 */
public final class WsEchoUpstream extends WebSocketServer implements AutoCloseable
{
    private final CountDownLatch started = new CountDownLatch(1);
    private final AtomicInteger opened = new AtomicInteger();
    private final AtomicInteger healthChecks = new AtomicInteger();
    private final List<Map<String, String>> handshakes = new CopyOnWriteArrayList<>();
    private final Map<WebSocket, Boolean> open = new ConcurrentHashMap<>();
    private final List<java.net.InetAddress> peers = new CopyOnWriteArrayList<>();
    private volatile Exception startError;
    /** Selector thread only. */
    private BlockingQueue<ByteBuffer> readBuffers;

    private final String host;

    public WsEchoUpstream()
    {
        this(new InetSocketAddress("127.0.0.1", 0));
    }

    /** Bound to {@code bind}: e.g. 127.0.0.2 and 127.0.0.3 on one port, the addresses of one DNS name. */
    public WsEchoUpstream(final InetSocketAddress bind)
    {
        // One worker: the library starts them whatever happens, but they get no work here (see queue).
        super(bind, 1, List.of(new HealthDraft()));
        host = bind.getAddress().getHostAddress();
        setReuseAddr(true);
        setConnectionLostTimeout(0);
    }

    public static WsEchoUpstream start(final int ignored) throws Exception
    {
        return start(new InetSocketAddress("127.0.0.1", 0));
    }

    public static WsEchoUpstream start(final InetSocketAddress bind) throws Exception
    {
        return start(bind, null);
    }

    /** With {@code factory} (if not null) making its connections: lets a test wrap the node's sockets. */
    static WsEchoUpstream start(final InetSocketAddress bind, final WebSocketServerFactory factory) throws Exception
    {
        final WsEchoUpstream server = new WsEchoUpstream(bind);
        if (factory != null)
        {
            server.setWebSocketFactory(factory);
        }
        server.start();
        if (!server.started.await(10, TimeUnit.SECONDS) || server.startError != null)
        {
            throw new IllegalStateException("upstream did not start", server.startError);
        }
        return server;
    }

    /** A node on a given address: the same node restarted on its port. */
    public static WsEchoUpstream startOn(final InetSocketAddress address) throws Exception
    {
        final WsEchoUpstream server = new WsEchoUpstream(address);
        server.start();
        if (!server.started.await(10, TimeUnit.SECONDS) || server.startError != null)
        {
            throw new IllegalStateException("upstream did not start on " + address, server.startError);
        }
        return server;
    }

    public InetSocketAddress address()
    {
        return new InetSocketAddress(host, getPort());
    }

    /** Health checks answered ({@code GET /health...} without an upgrade: 200, as Centrifugo's endpoint). */
    public int healthChecks()
    {
        return healthChecks.get();
    }

    /**
     * What the selector thread read for {@code ws}: decoded here, on that thread, instead of on a worker (see the
     * class comment); the read buffer then goes back to the library's pool, as its worker would give it back.
     */
    @Override
    protected void queue(final WebSocketImpl ws) throws InterruptedException
    {
        final ByteBuffer buf = ws.inQueue.poll();
        if (buf == null)
        {
            return;
        }
        try
        {
            ws.decode(buf);
        }
        catch (final RuntimeException e)
        {
            // As the library's worker does: one connection's bad input must not end the server (an exception
            // here would reach the selector loop and shut it down).
            onError(ws, e);
        }
        finally
        {
            readBuffers().put(buf);
        }
    }

    /** The library's pool of read buffers: private in 1.6.0, and the selector blocks for one if none is left. */
    @SuppressWarnings("unchecked")
    private BlockingQueue<ByteBuffer> readBuffers()
    {
        if (readBuffers == null)
        {
            try
            {
                final Field field = WebSocketServer.class.getDeclaredField("buffers");
                field.setAccessible(true);
                readBuffers = (BlockingQueue<ByteBuffer>)field.get(this);
            }
            catch (final ReflectiveOperationException e)
            {
                throw new IllegalStateException("Java-WebSocket changed: WebSocketServer.buffers not found", e);
            }
        }
        return readBuffers;
    }

    @Override
    public void onOpen(final WebSocket conn, final ClientHandshake handshake)
    {
        if (HealthDraft.isHealth(handshake))
        {
            healthChecks.incrementAndGet();
            conn.close(1000, "health answered"); // queued behind the 200, unlike closeConnection
            return;
        }
        final Map<String, String> headers = new ConcurrentHashMap<>();
        handshake.iterateHttpFields().forEachRemaining(name -> headers.put(name.toLowerCase(), handshake.getFieldValue(name)));
        headers.put(":path", handshake.getResourceDescriptor());
        handshakes.add(headers);
        peers.add(conn.getRemoteSocketAddress().getAddress());
        opened.incrementAndGet();
        open.put(conn, Boolean.TRUE);
    }

    @Override
    public void onClose(final WebSocket conn, final int code, final String reason, final boolean remote)
    {
        open.remove(conn);
    }

    @Override
    public void onMessage(final WebSocket conn, final String message)
    {
        if (message.startsWith("close:"))
        {
            conn.close(Integer.parseInt(message.substring(6))); // the node ends the tunnel with this code
            return;
        }
        conn.send(message);
    }

    @Override
    public void onMessage(final WebSocket conn, final ByteBuffer message)
    {
        conn.send(message);
    }

    @Override
    public void onError(final WebSocket conn, final Exception ex)
    {
        if (conn == null)
        {
            startError = ex;
            started.countDown();
        }
    }

    @Override
    public void onStart()
    {
        started.countDown();
    }

    /** The source address of each WebSocket opened (health checks left out), in the order they opened. */
    public List<java.net.InetAddress> peers()
    {
        return peers;
    }

    /** Connections opened since start (handshakes completed). */
    public int opened()
    {
        return opened.get();
    }

    public int openNow()
    {
        return open.size();
    }

    public List<Map<String, String>> handshakes()
    {
        return handshakes;
    }

    /**
     * RFC 6455 as usual, plus a plain {@code GET /health} (no Upgrade) answered {@code 200} and closed, like a
     * Centrifugo node's health endpoint: the library itself would answer such a request with a 404.
     */
    static final class HealthDraft extends org.java_websocket.drafts.Draft_6455
    {
        private static final String MARK = "X-Test-Health";

        static boolean isHealth(final org.java_websocket.handshake.ClientHandshake h)
        {
            return h.getResourceDescriptor().startsWith("/health") && !h.hasFieldValue("Upgrade");
        }

        @Override
        public org.java_websocket.enums.HandshakeState acceptHandshakeAsServer(
            final org.java_websocket.handshake.ClientHandshake h) throws org.java_websocket.exceptions.InvalidHandshakeException
        {
            return isHealth(h) ? org.java_websocket.enums.HandshakeState.MATCHED : super.acceptHandshakeAsServer(h);
        }

        @Override
        public org.java_websocket.handshake.HandshakeBuilder postProcessHandshakeResponseAsServer(
            final org.java_websocket.handshake.ClientHandshake request,
            final org.java_websocket.handshake.ServerHandshakeBuilder response)
            throws org.java_websocket.exceptions.InvalidHandshakeException
        {
            if (isHealth(request))
            {
                response.put(MARK, "1");
                return response;
            }
            return super.postProcessHandshakeResponseAsServer(request, response);
        }

        @Override
        public List<ByteBuffer> createHandshake(final org.java_websocket.handshake.Handshakedata data,
            final boolean withContent)
        {
            if (data instanceof org.java_websocket.handshake.ServerHandshake && "1".equals(data.getFieldValue(MARK)))
            {
                return List.of(ByteBuffer.wrap("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    .getBytes(java.nio.charset.StandardCharsets.US_ASCII)));
            }
            return super.createHandshake(data, withContent);
        }

        @Override
        public org.java_websocket.drafts.Draft copyInstance()
        {
            return new HealthDraft();
        }
    }

    /**
     * Stops as a node process would: a 1001 close to every connection, then, after {@code timeout}, whatever did not
     * finish its close handshake is cut at the socket (a process that exits does not leave sockets open). The
     * library alone keeps such connections open, uncounted as closed, once its selector thread has ended.
     */
    @Override
    public void stop(final int timeout, final String closeMessage) throws InterruptedException
    {
        try
        {
            super.stop(timeout, closeMessage);
        }
        catch (final java.nio.channels.ClosedSelectorException e)
        {
            // The library's selector thread had already ended and closed its selector (its wakeup then throws):
            // stopped either way; what is left open is cut below.
        }
        for (final WebSocket conn : List.copyOf(open.keySet()))
        {
            if (conn instanceof org.java_websocket.WebSocketImpl impl)
            {
                impl.closeConnection(org.java_websocket.framing.CloseFrame.ABNORMAL_CLOSE, "node stopped", false);
            }
            open.remove(conn);
        }
    }

    @Override
    public void close() throws InterruptedException
    {
        stop(2000);
    }
}
