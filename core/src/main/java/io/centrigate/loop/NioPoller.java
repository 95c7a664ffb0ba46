package io.centrigate.loop;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.function.Consumer;

/** The JDK's transport: one {@link Selector}; runs on every JDK and platform. */
public final class NioPoller implements Poller
{
    private final Selector selector;
    private final DispatchHook hook;
    private final Consumer<SelectionKey> onSelectedKey = this::onSelectedKey;

    public NioPoller(final DispatchHook hook)
    {
        this.hook = hook;
        try
        {
            this.selector = Selector.open();
        }
        catch (final IOException e)
        {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public String transport()
    {
        return "nio";
    }

    @Override
    public Connection connect(final InetSocketAddress remote, final InetSocketAddress local,
        final Connection.Handler handler) throws IOException
    {
        final SocketChannel channel;
        try
        {
            channel = SocketChannel.open();
        }
        catch (final IOException e)
        {
            throw new NoSocketException(e.getMessage(), e);
        }
        try
        {
            channel.configureBlocking(false);
            channel.setOption(StandardSocketOptions.TCP_NODELAY, Boolean.TRUE);
            if (local != null)
            {
                // No IP_BIND_ADDRESS_NO_PORT through NIO: this bind reserves a port of the source address for
                // every destination (see Poller.connect).
                try
                {
                    channel.bind(local);
                }
                catch (final IOException e)
                {
                    throw new SourceBindException(local.getAddress().getHostAddress() + ": " + e.getMessage(), e);
                }
            }
            final boolean connected;
            try
            {
                connected = channel.connect(remote);
            }
            catch (final BindException e)
            {
                // EADDRNOTAVAIL/EADDRINUSE at connect: the source has no port left towards this node.
                if (local != null)
                {
                    throw new SourceBindException(local.getAddress().getHostAddress() + ": " + e.getMessage(), e);
                }
                throw e;
            }
            return new NioConnection(channel, selector, connected ? 0 : Connection.OP_CONNECT, handler);
        }
        catch (final IOException | RuntimeException e)
        {
            closeQuietly(channel);
            throw e;
        }
    }

    @Override
    public Connection adopt(final Object accepted, final Connection.Handler handler) throws IOException
    {
        final SocketChannel channel = (SocketChannel)accepted;
        try
        {
            channel.configureBlocking(false);
            channel.setOption(StandardSocketOptions.TCP_NODELAY, Boolean.TRUE);
            return new NioConnection(channel, selector, Connection.OP_READ, handler);
        }
        catch (final IOException | RuntimeException e)
        {
            closeQuietly(channel);
            throw e;
        }
    }

    @Override
    public void discard(final Object accepted)
    {
        closeQuietly((SocketChannel)accepted);
    }

    @Override
    public Listener listen(final InetSocketAddress address, final int backlog, final boolean reusePort,
        final Listener.Handler handler) throws IOException
    {
        final ServerSocketChannel channel = ServerSocketChannel.open();
        try
        {
            channel.setOption(StandardSocketOptions.SO_REUSEADDR, Boolean.TRUE);
            if (reusePort)
            {
                channel.setOption(StandardSocketOptions.SO_REUSEPORT, Boolean.TRUE);
            }
            channel.bind(address, backlog);
            channel.configureBlocking(false);
            return new NioListener(channel, selector, handler);
        }
        catch (final IOException | RuntimeException e)
        {
            closeQuietly(channel);
            throw e;
        }
    }

    @Override
    public int poll(final long timeoutMs) throws IOException
    {
        return selector.select(onSelectedKey, timeoutMs);
    }

    @Override
    public int pollNow() throws IOException
    {
        return selector.selectNow(onSelectedKey);
    }

    @Override
    public void wakeup()
    {
        selector.wakeup();
    }

    @Override
    public void close()
    {
        closeQuietly(selector);
    }

    private void onSelectedKey(final SelectionKey key)
    {
        hook.beforeDispatch();
        final Object attachment = key.attachment();
        if (attachment instanceof NioConnection)
        {
            ((NioConnection)attachment).onSelected(key);
        }
        else if (attachment instanceof NioListener)
        {
            ((NioListener)attachment).onSelected();
        }
    }

    static void closeQuietly(final AutoCloseable closeable)
    {
        try
        {
            closeable.close();
        }
        catch (final Exception ignore)
        {
            // Closing anyway: nothing useful to do with it.
        }
    }
}
