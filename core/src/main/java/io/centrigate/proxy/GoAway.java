package io.centrigate.proxy;

import io.centrigate.buffer.Chunk;
import io.centrigate.buffer.ChunkPool;
import io.centrigate.metrics.AccessLog;
import io.centrigate.tunnel.Pipe;
import io.centrigate.upstream.NodeTunnels;
import io.centrigate.websocket.FrameTracker;

/**
 * A tunnel the proxy ends by itself: at a process drain (close 1001), or to move it off its node (close 1012, for a
 * rebalance or a node drain). Our close frame goes into each direction only at a frame boundary of that direction,
 * so no peer ever reads it in the middle of another frame; once it went out in a direction, what that direction's
 * sender still sends is dropped until its FIN (RFC 6455 §5.5.1: no data after a close). The session owns the sockets
 * and decides when to write; this holds what the close needs between reads.
 * <p>
 * Created when such a close begins, never before: an ordinary tunnel (nearly all of them, for their whole life)
 * carries none of this state, and the forwarding path only tests the session's reference to it for null.
 */
final class GoAway
{
    /** WebSocket close 1001 "going away" (RFC 6455 §7.4.1): SDKs reconnect at once on it. */
    static final int GOING_AWAY = 1001;
    /**
     * WebSocket close 1012 "service restart" (IANA registry): what a rebalance or a node drain sends; SDKs reconnect
     * at once on it, and unlike 1001 it does not read as the whole service leaving.
     */
    static final int SERVICE_RESTART = 1012;

    /** Server to client: unmasked. */
    private static final byte[] GOING_AWAY_TO_CLIENT = {(byte)0x88, 0x02, 0x03, (byte)0xE9};
    /** The same close towards the node; frames from the client side must be masked (RFC 6455 §5.3). */
    private static final byte[] GOING_AWAY_TO_UPSTREAM =
        {(byte)0x88, (byte)0x82, 0x37, (byte)0xFA, 0x21, 0x3D, 0x03 ^ 0x37, (byte)(0xE9 ^ 0xFA)};
    private static final byte[] RESTART_TO_CLIENT = {(byte)0x88, 0x02, 0x03, (byte)0xF4};
    private static final byte[] RESTART_TO_UPSTREAM =
        {(byte)0x88, (byte)0x82, 0x37, (byte)0xFA, 0x21, 0x3D, 0x03 ^ 0x37, (byte)(0xF4 ^ 0xFA)};

    /** The direction is not at a frame boundary yet, its earlier bytes are still being written, or it got ours. */
    static final int NOT_NOW = 0;
    /** Our close frame is queued in the direction's pipe: the caller flushes it. */
    static final int QUEUED = 1;
    /** No chunk to put the frame in: the pool is exhausted, and the caller ends the tunnel instead. */
    static final int NO_CHUNK = 2;

    private final int code;
    /** Why the proxy moves this tunnel ({@link NodeTunnels#DRAIN}, {@link NodeTunnels#REBALANCE}), or NONE. */
    private final int moved;
    private final long startNs;
    private boolean sentDown;
    private boolean sentUp;

    GoAway(final int code, final int moved, final long startNs)
    {
        this.code = code;
        this.moved = moved;
        this.startNs = startNs;
    }

    int code()
    {
        return code;
    }

    /** The peers get this long to finish the closing handshake before the tunnel is closed anyway. */
    long deadlineNs()
    {
        return startNs + ProxyLoop.GOING_AWAY_GRACE_NS;
    }

    /** Our close went to the client. */
    boolean sentDown()
    {
        return sentDown;
    }

    /** Our close went to the node. */
    boolean sentUp()
    {
        return sentUp;
    }

    /** Queues our close towards the client when the node's stream is at a frame boundary and fully written. */
    int closeTowardsClient(final Pipe down, final FrameTracker downFrames, final ChunkPool pool)
    {
        if (sentDown || !down.isEmpty() || downFrames.bytesToBoundary() != 0)
        {
            return NOT_NOW;
        }
        if (!queue(down, code == SERVICE_RESTART ? RESTART_TO_CLIENT : GOING_AWAY_TO_CLIENT, pool))
        {
            return NO_CHUNK;
        }
        sentDown = true;
        return QUEUED;
    }

    /** Queues our close towards the node when the client's stream is at a frame boundary and fully written. */
    int closeTowardsNode(final Pipe up, final FrameTracker upFrames, final ChunkPool pool)
    {
        if (sentUp || !up.isEmpty() || upFrames.bytesToBoundary() != 0)
        {
            return NOT_NOW;
        }
        if (!queue(up, code == SERVICE_RESTART ? RESTART_TO_UPSTREAM : GOING_AWAY_TO_UPSTREAM, pool))
        {
            return NO_CHUNK;
        }
        sentUp = true;
        return QUEUED;
    }

    /** A direction that is not a WebSocket stream (a tracker that lost the framing) has no boundary to wait for. */
    static boolean noBoundary(final FrameTracker upFrames, final FrameTracker downFrames)
    {
        return downFrames.bytesToBoundary() < 0 || upFrames.bytesToBoundary() < 0;
    }

    /** How the access log names the end of a tunnel the proxy closed. */
    int accessLogEnd()
    {
        return moved == NodeTunnels.DRAIN ? AccessLog.END_NODE_DRAIN :
            moved == NodeTunnels.REBALANCE ? AccessLog.END_REBALANCE : AccessLog.END_DRAIN;
    }

    private static boolean queue(final Pipe pipe, final byte[] frame, final ChunkPool pool)
    {
        final Chunk chunk = pool.acquire();
        if (chunk == null)
        {
            return false;
        }
        chunk.buffer().putBytes(0, frame);
        chunk.byteBuffer().clear().limit(frame.length);
        pipe.offer(chunk);
        return true;
    }
}
