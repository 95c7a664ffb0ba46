package io.centrigate.admin;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;

import io.centrigate.config.Cidr;
import io.centrigate.config.ProxyContext;
import io.centrigate.proxy.Proxy;

/**
 * The admin listener ({@code --admin-listen}): operator endpoints only, never proxying. One small daemon thread
 * with its own selector, apart from the proxy's event loops; bounded in every way: {@link #MAX_CONNECTIONS}
 * connections, an {@link #MAX_HEAD_BYTES} request head, {@link #REQUEST_TIMEOUT_NS} per request, one request per
 * connection ({@code Connection: close}). A peer outside {@code --admin-allow} is marked at accept and answered
 * 403 once its request head has come (answering before reading it could reset the connection under the answer).
 */
public final class AdminServer implements AutoCloseable
{
    public static final int MAX_CONNECTIONS = 64;
    public static final int MAX_HEAD_BYTES = 8 * 1024;
    public static final long REQUEST_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(5);

    private final AdminEndpoints endpoints;
    private final List<Cidr> allow;
    private final Selector selector;
    private final List<ServerSocketChannel> listeners = new ArrayList<>();
    private final List<InetSocketAddress> bound = new ArrayList<>();
    private final Thread thread;
    private volatile boolean running = true;
    private int connections;

    /** One admin connection: its request head coming in, then its answer going out. */
    private static final class Exchange
    {
        // Direct, as the loops' buffers are: a heap buffer through the same JDK socket code would give its compiled
        // form a second buffer type to handle, on the loops' hot path too (profile pollution).
        final ByteBuffer in = ByteBuffer.allocateDirect(MAX_HEAD_BYTES);
        final boolean allowed;
        final long deadlineNs;
        ByteBuffer out;

        Exchange(final boolean allowed, final long deadlineNs)
        {
            this.allowed = allowed;
            this.deadlineNs = deadlineNs;
        }
    }

    private AdminServer(final Proxy proxy, final List<InetSocketAddress> addresses, final List<String> allowCidrs,
        final String version) throws IOException
    {
        allow = allowCidrs.stream().map(Cidr::parse).toList();
        selector = Selector.open();
        try
        {
            for (final InetSocketAddress address : addresses)
            {
                final ServerSocketChannel channel = ServerSocketChannel.open();
                listeners.add(channel);
                try
                {
                    channel.setOption(StandardSocketOptions.SO_REUSEADDR, Boolean.TRUE);
                    channel.bind(address, 64);
                }
                catch (final IOException e)
                {
                    throw new IOException("cannot listen on admin " + address.getHostString() + ":" + address.getPort() +
                        ": " + e.getMessage(), e);
                }
                channel.configureBlocking(false);
                channel.register(selector, SelectionKey.OP_ACCEPT);
                bound.add((InetSocketAddress)channel.getLocalAddress());
            }
        }
        catch (final IOException | RuntimeException e)
        {
            closeAll();
            throw e;
        }
        endpoints = new AdminEndpoints(proxy, version, List.copyOf(bound));
        thread = new Thread(this::run, "centrigate-admin");
        thread.setDaemon(true);
    }

    /** Binds the context's {@link ProxyContext#adminListen()} addresses and serves them; an address that cannot bind throws. */
    public static AdminServer start(final Proxy proxy, final String version) throws IOException
    {
        final ProxyContext ctx = proxy.context();
        return start(proxy, ctx.adminListen(), ctx.adminAllow(), version);
    }

    public static AdminServer start(final Proxy proxy, final List<InetSocketAddress> addresses,
        final List<String> allowCidrs, final String version) throws IOException
    {
        final AdminServer server = new AdminServer(proxy, addresses, allowCidrs, version);
        server.thread.start();
        return server;
    }

    /** The admin addresses actually bound (port 0 resolved). */
    public List<InetSocketAddress> boundAddresses()
    {
        return List.copyOf(bound);
    }

    private void run()
    {
        // A scrape is a burst of work: never at a loop's expense where both share a CPU.
        io.centrigate.loop.BackgroundPriority.lowerCurrentThread();
        try
        {
            while (running)
            {
                selector.select(250);
                final Iterator<SelectionKey> keys = selector.selectedKeys().iterator();
                while (keys.hasNext())
                {
                    final SelectionKey key = keys.next();
                    keys.remove();
                    try
                    {
                        handle(key);
                    }
                    catch (final IOException | RuntimeException e)
                    {
                        drop(key);
                    }
                }
                expire();
            }
        }
        catch (final IOException | java.nio.channels.ClosedSelectorException e)
        {
            // Closing.
        }
        finally
        {
            closeAll();
        }
    }

    private void handle(final SelectionKey key) throws IOException
    {
        if (!key.isValid())
        {
            return;
        }
        if (key.isAcceptable())
        {
            accept((ServerSocketChannel)key.channel());
            return;
        }
        final Exchange exchange = (Exchange)key.attachment();
        if (key.isReadable() && exchange.out == null)
        {
            read(key, exchange);
        }
        else if (key.isWritable() && exchange.out != null)
        {
            write(key, exchange);
        }
    }

    private void accept(final ServerSocketChannel listener) throws IOException
    {
        SocketChannel channel;
        while ((channel = listener.accept()) != null)
        {
            if (connections >= MAX_CONNECTIONS)
            {
                channel.close();
                continue;
            }
            final InetAddress peer = ((InetSocketAddress)channel.getRemoteAddress()).getAddress();
            channel.configureBlocking(false);
            channel.register(selector, SelectionKey.OP_READ,
                new Exchange(allowed(peer), System.nanoTime() + REQUEST_TIMEOUT_NS));
            connections++;
        }
    }

    private boolean allowed(final InetAddress peer)
    {
        for (final Cidr cidr : allow)
        {
            if (cidr.contains(peer))
            {
                return true;
            }
        }
        return false;
    }

    private void read(final SelectionKey key, final Exchange exchange) throws IOException
    {
        final int n = ((SocketChannel)key.channel()).read(exchange.in);
        if (n < 0)
        {
            drop(key);
            return;
        }
        final int end = headEnd(exchange.in);
        if (end < 0)
        {
            if (!exchange.in.hasRemaining())
            {
                answer(key, exchange, AdminResponse.text(431, "Request Header Fields Too Large",
                    "request head larger than " + MAX_HEAD_BYTES + " bytes\n"), false);
            }
            return;
        }
        final byte[] headBytes = new byte[end];
        exchange.in.get(0, headBytes);
        final String head = new String(headBytes, 0, end, StandardCharsets.ISO_8859_1);
        final AdminRequest request = AdminRequest.parse(head);
        final AdminResponse response;
        if (request == null)
        {
            response = AdminResponse.text(400, "Bad Request", "malformed request\n");
        }
        else if (!exchange.allowed)
        {
            response = AdminResponse.text(403, "Forbidden", "forbidden: outside admin-allow\n");
        }
        else
        {
            response = endpoints.answer(request);
        }
        answer(key, exchange, response, request != null && request.method().equals("HEAD"));
    }

    /** The index just past the empty line that ends the head, or -1. */
    private static int headEnd(final ByteBuffer in)
    {
        final int limit = in.position();
        for (int i = 3; i < limit; i++)
        {
            if (in.get(i) == '\n' && in.get(i - 1) == '\r' && in.get(i - 2) == '\n' && in.get(i - 3) == '\r')
            {
                return i + 1;
            }
        }
        return -1;
    }

    private void answer(final SelectionKey key, final Exchange exchange, final AdminResponse response,
        final boolean headOnly) throws IOException
    {
        final byte[] bytes = response.bytes(headOnly);
        exchange.out = ByteBuffer.allocateDirect(bytes.length).put(bytes).flip();
        key.interestOps(SelectionKey.OP_WRITE);
        write(key, exchange);
    }

    private void write(final SelectionKey key, final Exchange exchange) throws IOException
    {
        ((SocketChannel)key.channel()).write(exchange.out);
        if (!exchange.out.hasRemaining())
        {
            drop(key);
        }
    }

    /** Closes connections past their deadline: a slow or silent peer holds a slot at most 5 s. */
    private void expire()
    {
        final long now = System.nanoTime();
        for (final SelectionKey key : selector.keys())
        {
            if (key.attachment() instanceof Exchange exchange && now - exchange.deadlineNs > 0)
            {
                drop(key);
            }
        }
    }

    private void drop(final SelectionKey key)
    {
        key.cancel();
        if (key.attachment() instanceof Exchange)
        {
            connections--;
            key.attach(null);
        }
        try
        {
            key.channel().close();
        }
        catch (final IOException ignore)
        {
            // Closing anyway.
        }
    }

    private void closeAll()
    {
        for (final ServerSocketChannel channel : listeners)
        {
            try
            {
                channel.close();
            }
            catch (final IOException ignore)
            {
                // Closing anyway.
            }
        }
        if (selector.isOpen())
        {
            for (final SelectionKey key : selector.keys())
            {
                try
                {
                    key.channel().close();
                }
                catch (final IOException ignore)
                {
                    // Closing anyway.
                }
            }
            try
            {
                selector.close();
            }
            catch (final IOException ignore)
            {
                // Closing anyway.
            }
        }
    }

    /** Stops the thread and closes the listeners and connections; waits for the thread at most a few seconds. */
    @Override
    public void close()
    {
        running = false;
        selector.wakeup();
        if (thread.isAlive() && Thread.currentThread() != thread)
        {
            try
            {
                thread.join(TimeUnit.SECONDS.toMillis(10));
            }
            catch (final InterruptedException e)
            {
                Thread.currentThread().interrupt();
            }
        }
        if (!thread.isAlive())
        {
            closeAll();
        }
    }
}
