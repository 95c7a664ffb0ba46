package io.centrigate.loop;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;

/** A {@link Connection} over a {@link SocketChannel} registered with the loop's selector. */
final class NioConnection implements Connection
{
    private final SocketChannel channel;
    private final SelectionKey key;
    private Handler handler;
    private int interest;

    NioConnection(final SocketChannel channel, final Selector selector, final int interest, final Handler handler)
        throws IOException
    {
        this.channel = channel;
        this.handler = handler;
        this.interest = interest;
        this.key = channel.register(selector, interest, this);
    }

    void onSelected(final SelectionKey selected)
    {
        final int ready;
        try
        {
            ready = selected.readyOps();
        }
        catch (final CancelledKeyException e)
        {
            return;
        }
        handler.onReady(this, ready);
    }

    @Override
    public void handler(final Handler handler)
    {
        this.handler = handler;
    }

    @Override
    public void interest(final int ops)
    {
        if (ops != interest && key.isValid())
        {
            interest = ops;
            key.interestOps(ops);
        }
    }

    @Override
    public int interest()
    {
        return interest;
    }

    @Override
    public boolean isConnectionPending()
    {
        return channel.isConnectionPending();
    }

    @Override
    public boolean finishConnect() throws IOException
    {
        return channel.finishConnect();
    }

    @Override
    public int read(final ByteBuffer dst) throws IOException
    {
        return channel.read(dst);
    }

    @Override
    public int write(final ByteBuffer src) throws IOException
    {
        return channel.write(src);
    }

    @Override
    public long write(final ByteBuffer[] srcs, final int offset, final int length) throws IOException
    {
        return channel.write(srcs, offset, length);
    }

    @Override
    public long write(final ByteBuffer[] srcs) throws IOException
    {
        return channel.write(srcs);
    }

    @Override
    public void shutdownOutput() throws IOException
    {
        channel.shutdownOutput();
    }

    @Override
    public void reset()
    {
        try
        {
            if (channel.isOpen())
            {
                channel.setOption(StandardSocketOptions.SO_LINGER, 0);
            }
        }
        catch (final IOException | RuntimeException ignore)
        {
            // Already broken: the close below ends it either way.
        }
        close();
    }

    @Override
    public boolean isOpen()
    {
        return channel.isOpen();
    }

    @Override
    public void close()
    {
        NioPoller.closeQuietly(channel);
    }

    @Override
    public InetSocketAddress remoteAddress()
    {
        try
        {
            return (InetSocketAddress)channel.getRemoteAddress();
        }
        catch (final IOException e)
        {
            return null;
        }
    }

    @Override
    public InetSocketAddress localAddress()
    {
        try
        {
            return (InetSocketAddress)channel.getLocalAddress();
        }
        catch (final IOException e)
        {
            return null;
        }
    }

    @Override
    public String toString()
    {
        return "nio:" + channel;
    }
}
