package io.centrigate.proxy;

import java.io.IOException;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.util.ArrayDeque;

import org.agrona.DeadlineTimerWheel;

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
    private long reused;
    private long expired;

    /** One idle connection; also the selection-key attachment and timer target while it waits. */
    final class Idle implements EventLoop.Selectable, EventLoop.TimerTarget
    {
        SocketChannel channel;
        SelectionKey key;
        int node;
        long timerId = DeadlineTimerWheel.NULL_DEADLINE;

        @Override
        public void onSelected(final SelectionKey selected)
        {
            discard(this);
        }

        @Override
        public void onTimer(final long nowNs)
        {
            timerId = DeadlineTimerWheel.NULL_DEADLINE;
            expired++;
            discard(this);
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
    boolean offer(final int node, final SocketChannel channel, final SelectionKey key)
    {
        if (maxIdlePerNode == 0 || idle[node].size() >= maxIdlePerNode || !key.isValid())
        {
            return false;
        }
        final Idle entry = spare.isEmpty() ? new Idle() : spare.pop();
        entry.channel = channel;
        entry.key = key;
        entry.node = node;
        key.attach(entry);
        key.interestOps(SelectionKey.OP_READ);
        if (idleTimeoutNs > 0)
        {
            entry.timerId = loop.schedule(entry, loop.nowNs() + idleTimeoutNs);
        }
        idle[node].push(entry);
        return true;
    }

    /** The most recently parked connection to this node, or null; the caller re-attaches its key. */
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

    /** Gives a holder back once its channel and key were taken over. */
    void recycle(final Idle entry)
    {
        entry.channel = null;
        entry.key = null;
        spare.push(entry);
    }

    private void discard(final Idle entry)
    {
        if (entry.channel == null)
        {
            return;
        }
        idle[entry.node].remove(entry);
        loop.cancel(entry.timerId);
        entry.timerId = DeadlineTimerWheel.NULL_DEADLINE;
        closeQuietly(entry.channel);
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

    private static void closeQuietly(final SocketChannel channel)
    {
        try
        {
            channel.close();
        }
        catch (final IOException ignore)
        {
            // Closing an idle connection: nothing to report.
        }
    }
}
