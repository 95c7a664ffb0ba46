package io.centrigate.proxy;

import java.util.ArrayDeque;

import org.agrona.DeadlineTimerWheel;

import io.centrigate.loop.Connection;
import io.centrigate.loop.EventLoop;

/**
 * Idle keep-alive connections to the upstream nodes, per loop (so taking one needs no lock) and per node (Nginx
 * {@code keepalive} in an upstream block). The most recently used connection is taken first; each one expires
 * after the idle timeout, set below Centrifugo's own 30 s read timeout so the proxy, not the node, closes it.
 * An idle connection that becomes readable was closed by the node (or sent garbage): it is dropped at once.
 * Holder objects are recycled, so pooling allocates nothing per request.
 */
final class UpstreamPool
{
    private final EventLoop loop;
    private final int maxIdlePerNode;
    private final long idleTimeoutNs;
    private final ArrayDeque<Idle>[] idle;
    private final ArrayDeque<Idle> spare = new ArrayDeque<>();
    private final java.nio.ByteBuffer probe = java.nio.ByteBuffer.allocateDirect(64);
    private long reused;
    private long expired;

    /**
     * One idle connection; also its handler and timer target while it waits: any readiness (the node closed it, or
     * sent bytes nobody asked for) ends it.
     */
    final class Idle implements Connection.Handler, EventLoop.TimerTarget
    {
        Connection connection;
        int node;
        long timerId = DeadlineTimerWheel.NULL_DEADLINE;

        @Override
        public void onReady(final Connection ready, final int readyOps)
        {
            if (closedOrChatty(ready))
            {
                discard(this);
            }
        }

        @Override
        public void onTimer(final long nowNs)
        {
            timerId = DeadlineTimerWheel.NULL_DEADLINE;
            expired++;
            discard(this);
        }
    }

    /**
     * Whether a parked connection reported readable really has something: its FIN, an error, or bytes nobody asked
     * for (either way it cannot carry another exchange). An edge-triggered transport may report readiness for data
     * an exchange already read, so readiness alone is not proof. Reads into a scratch buffer: whatever it gets ends
     * the connection anyway.
     */
    private boolean closedOrChatty(final Connection connection)
    {
        probe.clear();
        try
        {
            return connection.read(probe) != 0;
        }
        catch (final java.io.IOException e)
        {
            return true;
        }
    }

    @SuppressWarnings("unchecked")
    UpstreamPool(final EventLoop loop, final int nodes, final int maxIdlePerNode, final long idleTimeoutNs)
    {
        this.loop = loop;
        this.maxIdlePerNode = maxIdlePerNode;
        this.idleTimeoutNs = idleTimeoutNs;
        this.idle = new ArrayDeque[nodes];
        for (int i = 0; i < nodes; i++)
        {
            idle[i] = new ArrayDeque<>();
        }
    }

    /** Parks a connection whose exchange ended cleanly; false (caller closes it) when the pool is full. */
    boolean offer(final int node, final Connection connection)
    {
        if (maxIdlePerNode == 0 || idle[node].size() >= maxIdlePerNode || !connection.isOpen())
        {
            return false;
        }
        final Idle entry = spare.isEmpty() ? new Idle() : spare.pop();
        entry.connection = connection;
        entry.node = node;
        connection.handler(entry);
        connection.interest(Connection.OP_READ);
        if (idleTimeoutNs > 0)
        {
            entry.timerId = loop.schedule(entry, loop.nowNs() + idleTimeoutNs);
        }
        idle[node].push(entry);
        return true;
    }

    /** The most recently parked connection to this node, or null; the caller becomes its handler. */
    Idle take(final int node)
    {
        final Idle entry = idle[node].poll();
        if (entry != null)
        {
            loop.cancel(entry.timerId);
            entry.timerId = DeadlineTimerWheel.NULL_DEADLINE;
            reused++;
        }
        return entry;
    }

    /** Gives a holder back once its connection was taken over. */
    void recycle(final Idle entry)
    {
        entry.connection = null;
        spare.push(entry);
    }

    private void discard(final Idle entry)
    {
        if (entry.connection == null)
        {
            return;
        }
        idle[entry.node].remove(entry);
        loop.cancel(entry.timerId);
        entry.timerId = DeadlineTimerWheel.NULL_DEADLINE;
        entry.connection.close();
        recycle(entry);
    }

    void closeAll()
    {
        for (final ArrayDeque<Idle> perNode : idle)
        {
            while (!perNode.isEmpty())
            {
                discard(perNode.peek());
            }
        }
    }

    int idleCount()
    {
        int n = 0;
        for (final ArrayDeque<Idle> perNode : idle)
        {
            n += perNode.size();
        }
        return n;
    }

    long reused()
    {
        return reused;
    }

    long expired()
    {
        return expired;
    }
}
