package io.centrigate.nativeio;

import java.net.InetSocketAddress;

/**
 * A socket accepted by an {@link NativeListener} and not yet adopted: its descriptor and the peer's address accept4
 * gave with it. Immutable, so it may travel to another loop (acceptor mode) through a queue.
 */
final class NativeAccepted
{
    final int fd;
    /** An IPv4 peer as {@link SocketAddresses#packV4}, or -1: then {@link #remote} holds it. */
    final long peerV4;
    final InetSocketAddress remote;

    NativeAccepted(final int fd, final long peerV4, final InetSocketAddress remote)
    {
        this.fd = fd;
        this.peerV4 = peerV4;
        this.remote = remote;
    }

    @Override
    public String toString()
    {
        return "fd " + fd + " from " + (peerV4 >= 0 ? SocketAddresses.unpackV4(peerV4) : remote);
    }
}
