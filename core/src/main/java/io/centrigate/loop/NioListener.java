package io.centrigate.loop;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;

/** A {@link Listener} over a {@link ServerSocketChannel}; accepted sockets are {@code SocketChannel}s. */
final class NioListener implements Listener
{
    private final ServerSocketChannel channel;
    private final SelectionKey key;
    private final Handler handler;
    private final InetSocketAddress local;

    NioListener(final ServerSocketChannel channel, final Selector selector, final Handler handler) throws IOException
    {
        this.channel = channel;
        this.handler = handler;
        this.local = (InetSocketAddress)channel.getLocalAddress();
        this.key = channel.register(selector, SelectionKey.OP_ACCEPT, this);
    }

    void onSelected()
    {
        handler.onAcceptable(this);
    }

    @Override
    public Object accept() throws IOException
    {
        return channel.accept();
    }

    @Override
    public void accepting(final boolean on)
    {
        if (key.isValid())
        {
            key.interestOps(on ? SelectionKey.OP_ACCEPT : 0);
        }
    }

    @Override
    public InetSocketAddress localAddress()
    {
        return local;
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
}
