package io.centrigate.testing;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;

/**
 * A node on loopback whose accept queue is full and that never accepts: the kernel drops every further SYN, so a
 * connect to it neither succeeds nor fails, it waits for retransmissions, as to a saturated node.
 */
public final class SaturatedListener implements AutoCloseable
{
    private final ServerSocketChannel server;
    private final List<SocketChannel> fillers = new ArrayList<>();

    public SaturatedListener() throws IOException
    {
        server = ServerSocketChannel.open();
        server.bind(new InetSocketAddress("127.0.0.1", 0), 1);
        // Connections complete into the queue until it is full; the first one that does not complete within a
        // bounded wait shows that SYNs are now dropped.
        for (int i = 0; i < 16; i++)
        {
            final SocketChannel probe = SocketChannel.open();
            probe.configureBlocking(false);
            if (probe.connect(address()) || completes(probe, 300))
            {
                fillers.add(probe);
                continue;
            }
            probe.close();
            return;
        }
        close();
        throw new IllegalStateException("the accept queue of a listener with backlog 1 did not fill");
    }

    private static boolean completes(final SocketChannel channel, final long timeoutMs) throws IOException
    {
        try (Selector selector = Selector.open())
        {
            channel.register(selector, SelectionKey.OP_CONNECT);
            return selector.select(timeoutMs) > 0 && channel.finishConnect();
        }
    }

    public InetSocketAddress address()
    {
        return new InetSocketAddress("127.0.0.1", server.socket().getLocalPort());
    }

    @Override
    public void close() throws IOException
    {
        for (final SocketChannel filler : fillers)
        {
            filler.close();
        }
        server.close();
    }
}
