package io.centrigate.loop;

import java.io.IOException;
import java.net.InetSocketAddress;

/**
 * A listening socket of one {@link EventLoop}. What {@link #accept()} returns is a socket not yet registered with
 * any loop (a {@code SocketChannel} for NIO, a descriptor for a native transport): it may be handed to another loop
 * of the same transport, which makes it a {@link Connection} with {@link Poller#adopt}. Loop thread only, except
 * that an accepted socket may travel.
 */
public interface Listener
{
    /** Told when connections wait in the backlog (while accepting is on). */
    interface Handler
    {
        void onAcceptable(Listener listener);
    }

    /**
     * @return the next pending connection, or null when the backlog is empty.
     * @throws IOException e.g. EMFILE: the connection stays in the backlog (the caller should pause, not retry).
     */
    Object accept() throws IOException;

    /** Turns readiness reports on or off (off during a pause after EMFILE). */
    void accepting(boolean on);

    InetSocketAddress localAddress();

    boolean isOpen();

    /** Idempotent, never throws. */
    void close();
}
