package io.centrigate.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A hung node: it accepts TCP connections and never reads a byte of them (stuck GC, SIGSTOP), so a connect
 * succeeds and an upgrade waits for ever. {@link #answer(boolean)} switches it to a working node: from then on each
 * new connection is relayed byte for byte to {@code backend} (e.g. a {@link WsEchoUpstream}, which answers health
 * checks too). Connections taken while silent stay silent.
 */
public final class SilentNode implements AutoCloseable
{
    private final ServerSocket server;
    private final InetSocketAddress backend;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final AtomicInteger accepted = new AtomicInteger();
    private final AtomicInteger relayed = new AtomicInteger();
    private volatile boolean answering;
    private volatile boolean closing;

    public SilentNode(final InetSocketAddress backend) throws IOException
    {
        this.backend = backend;
        server = new ServerSocket(0, 512, InetAddress.getLoopbackAddress());
        final Thread acceptor = new Thread(this::acceptLoop, "silent-node");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    public InetSocketAddress address()
    {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), server.getLocalPort());
    }

    /** true: relay new connections to the backend; false: hang them. */
    public void answer(final boolean on)
    {
        answering = on;
    }

    /**
     * true: read each new connection's request head, then close it without a byte of answer, as a node going down
     * does with connections its kernel had already completed.
     */
    public void closeWithoutAnswer(final boolean on)
    {
        closing = on;
    }

    /** Connections accepted (health checks included). */
    public int accepted()
    {
        return accepted.get();
    }

    /** Connections relayed to the backend. */
    public int relayed()
    {
        return relayed.get();
    }

    private void acceptLoop()
    {
        while (!server.isClosed())
        {
            final Socket s;
            try
            {
                s = server.accept();
            }
            catch (final IOException e)
            {
                return;
            }
            accepted.incrementAndGet();
            sockets.add(s);
            if (closing)
            {
                closeAfterHead(s);
            }
            else if (answering)
            {
                relayed.incrementAndGet();
                relay(s);
            }
        }
    }

    private static void closeAfterHead(final Socket s)
    {
        final Thread t = new Thread(() ->
        {
            try (InputStream in = s.getInputStream())
            {
                s.setSoTimeout(10_000); // bounded: a proxy that never sends its head does not keep this thread
                int matched = 0;
                int b;
                while (matched < 4 && (b = in.read()) >= 0)
                {
                    matched = b == "\r\n\r\n".charAt(matched) ? matched + 1 : b == '\r' ? 1 : 0;
                }
            }
            catch (final IOException e)
            {
                // Closing anyway.
            }
            closeQuietly(s);
        }, "silent-node-closer");
        t.setDaemon(true);
        t.start();
    }

    private void relay(final Socket client)
    {
        final Socket upstream;
        try
        {
            upstream = new Socket(backend.getAddress(), backend.getPort());
        }
        catch (final IOException e)
        {
            closeQuietly(client);
            return;
        }
        sockets.add(upstream);
        pump(client, upstream);
        pump(upstream, client);
    }

    private static void pump(final Socket from, final Socket to)
    {
        final Thread t = new Thread(() ->
        {
            final byte[] buf = new byte[16 * 1024];
            try (InputStream in = from.getInputStream())
            {
                final OutputStream out = to.getOutputStream();
                int n;
                while ((n = in.read(buf)) >= 0)
                {
                    out.write(buf, 0, n);
                    out.flush();
                }
                to.shutdownOutput();
            }
            catch (final IOException e)
            {
                closeQuietly(to);
            }
        }, "silent-node-relay");
        t.setDaemon(true);
        t.start();
    }

    private static void closeQuietly(final Socket s)
    {
        try
        {
            s.close();
        }
        catch (final IOException ignore)
        {
            // Closing anyway.
        }
    }

    @Override
    public void close() throws IOException
    {
        server.close();
        for (final Socket s : sockets)
        {
            closeQuietly(s);
        }
    }
}
