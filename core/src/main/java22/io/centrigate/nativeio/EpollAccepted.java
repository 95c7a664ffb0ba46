package io.centrigate.nativeio;

import java.net.InetSocketAddress;

/**
 * A socket accepted by an {@link EpollListener} and not yet adopted: its descriptor and the peer's address accept4
 * gave with it. Immutable, so it may travel to another loop (acceptor mode) through a queue.
 */
final class EpollAccepted
{
    final int fd;
    final InetSocketAddress remote;

    EpollAccepted(final int fd, final InetSocketAddress remote)
    {
        this.fd = fd;
        this.remote = remote;
    }

    @Override
    public String toString()
    {
        return "fd " + fd + " from " + remote;
    }
}
