package io.centrigate.loop;

import java.io.IOException;
import java.io.UncheckedIOException;
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
    public Connection connect(final InetSocketAddress remote, final Connection.Handler handler) throws IOException
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
            final boolean connected = channel.connect(remote);
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
