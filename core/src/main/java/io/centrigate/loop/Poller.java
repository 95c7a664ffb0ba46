package io.centrigate.loop;

import java.io.IOException;
import java.net.InetSocketAddress;

/**
 * The readiness engine of one {@link EventLoop} and the factory of its sockets: JDK NIO's selector
 * ({@link NioPoller}) or a native one ({@code io.centrigate.nativeio.NativePoller}, JDK 22+ on Linux). Everything
 * but {@link #wakeup()} is called on the loop's thread only.
 */
public interface Poller extends AutoCloseable
{
    /** Called by the poller before it dispatches the first readiness of a poll, so the loop can read its clock. */
    interface DispatchHook
    {
        void beforeDispatch();
    }

    /** "nio", "epoll"...: what runs, for the startup line and the metrics. */
    String transport();

    /**
     * Starts a non-blocking connect (TCP_NODELAY on). The connection's interest is {@link Connection#OP_CONNECT}
     * while {@link Connection#isConnectionPending()}, otherwise nothing yet.
     *
     * @throws NoSocketException no socket could be made (EMFILE): the process's limit, not the peer's fault.
     * @throws IOException the connect failed at once (e.g. unreachable).
     */
    default Connection connect(InetSocketAddress remote, Connection.Handler handler) throws IOException
    {
        return connect(remote, null, handler);
    }

    /**
     * As {@link #connect(InetSocketAddress, Connection.Handler)}, the socket first bound to {@code local} (port 0)
     * when it is not null. The epoll transport sets IP_BIND_ADDRESS_NO_PORT before the bind, so the kernel picks
     * the port at connect time with the whole 4-tuple in view: one source address then has the full ephemeral
     * range towards each node address:port. NIO (JDK 17) cannot set that option: its bind picks a port at once,
     * unique for the source address across every destination, so there one source address gives one ephemeral
     * range over all nodes together.
     *
     * @throws SourceBindException the socket could not take {@code local} (not on this machine, no port left).
     */
    Connection connect(InetSocketAddress remote, InetSocketAddress local, Connection.Handler handler)
        throws IOException;

    /**
     * Registers a socket accepted by a listener of this transport (any loop's), TCP_NODELAY on, interest
     * {@link Connection#OP_READ}. On failure the socket is closed.
     */
    Connection adopt(Object accepted, Connection.Handler handler) throws IOException;

    /** Closes an accepted socket that will not be adopted; never throws. */
    void discard(Object accepted);

    /** Binds and listens (SO_REUSEADDR; SO_REUSEPORT if asked), readiness on. */
    Listener listen(InetSocketAddress address, int backlog, boolean reusePort, Listener.Handler handler)
        throws IOException;

    /**
     * Waits for readiness up to {@code timeoutMs} (0: until something is ready or {@link #wakeup()}), then
     * dispatches it to the handlers.
     *
     * @return the number of readiness reports dispatched.
     */
    int poll(long timeoutMs) throws IOException;

    /** Dispatches what is ready now without waiting. */
    int pollNow() throws IOException;

    /** Makes a blocked or the next {@link #poll} return at once; any thread. */
    void wakeup();

    /**
     * A new kernel pipe for splicing between this poller's connections, or null when the transport cannot splice
     * (NIO) or the kernel refused one (EMFILE). The caller closes it.
     */
    default KernelPipe openPipe()
    {
        return null;
    }

    /** Whether {@link #openPipe()} can give pipes at all: false on NIO, whose channels have no splice. */
    default boolean canSplice()
    {
        return false;
    }

    /** Closes the poller itself (sockets are closed by their owners); never throws. */
    @Override
    void close();
}
