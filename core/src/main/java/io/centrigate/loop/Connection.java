package io.centrigate.loop;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.GatheringByteChannel;
import java.nio.channels.SelectionKey;

/**
 * A connected (or connecting) non-blocking stream socket of one {@link EventLoop}: the seam between the proxy's
 * session logic and the transport under it (JDK NIO, or the native epoll transport). The session reads into and
 * writes from its pooled chunks through it, says what it wants next with {@link #interest(int)}, and hears back
 * through its {@link Handler}; it never sees a channel, a selection key or a file descriptor.
 * <p>
 * Readiness is level-like whatever the transport: a handler is called again while the socket is ready for
 * something in its interest, so a handler may take one chunk per call and leave the rest for the next one (an
 * edge-triggered transport remembers the readiness until a read or write comes back short).
 * <p>
 * Loop thread only.
 */
public interface Connection extends ByteChannel, GatheringByteChannel
{
    /** The interest and readiness bits: the same values as {@link SelectionKey}'s, so they can be passed through. */
    int OP_READ = SelectionKey.OP_READ;
    int OP_WRITE = SelectionKey.OP_WRITE;
    int OP_CONNECT = SelectionKey.OP_CONNECT;

    /** Gets the connection's readiness; the connection passes itself, so one handler can own two connections. */
    interface Handler
    {
        void onReady(Connection connection, int readyOps);
    }

    /** From now on readiness goes to {@code handler} (a parked upstream connection changes owner). */
    void handler(Handler handler);

    /** What the owner wants to hear about next: a mix of {@link #OP_READ}, {@link #OP_WRITE}, {@link #OP_CONNECT}. */
    void interest(int ops);

    int interest();

    /** Whether a non-blocking connect is still under way (the handler gets {@link #OP_CONNECT} when it ends). */
    boolean isConnectionPending();

    /**
     * Completes a connect the handler was told about.
     *
     * @return true once connected; false if it is still under way.
     * @throws IOException the connect failed (refused, unreachable, timed out in the kernel).
     */
    boolean finishConnect() throws IOException;

    /** Reads into {@code dst}'s remaining space: bytes read, 0 if none are there now, -1 at the peer's FIN. */
    @Override
    int read(ByteBuffer dst) throws IOException;

    /**
     * Copies the next bytes waiting to be read into {@code dst} (a direct buffer) without consuming them, from its
     * position; the position does not move. Only the native transports can (MSG_PEEK): elsewhere 0.
     *
     * @return bytes copied, 0 if none are there now (or peeking is not supported), -1 at the peer's FIN.
     */
    default int peek(ByteBuffer dst) throws IOException
    {
        return 0;
    }

    /** Sends FIN after what was written; reading goes on. */
    void shutdownOutput() throws IOException;

    /** Ends the connection with a reset (RST, SO_LINGER 0) instead of a FIN; never throws. */
    void reset();

    /** Closes the socket and drops it from the loop; idempotent, never throws. */
    @Override
    void close();

    /** The peer's address, known since accept or connect (no system call); null if the socket is gone. */
    InetSocketAddress remoteAddress();

    /** The local address, known since accept or connect; null if the socket is gone. */
    InetSocketAddress localAddress();
}
