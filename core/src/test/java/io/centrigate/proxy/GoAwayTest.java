package io.centrigate.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import io.centrigate.buffer.Chunk;
import io.centrigate.buffer.ChunkPool;
import io.centrigate.metrics.AccessLog;
import io.centrigate.tunnel.Pipe;
import io.centrigate.upstream.NodeTunnels;
import io.centrigate.websocket.FrameTracker;

final class GoAwayTest
{
    /** A binary frame with 4 payload bytes, unmasked (node to client): 6 bytes. */
    private static final byte[] BINARY_DOWN = {(byte)0x82, 0x04, 1, 2, 3, 4};
    /** The same, masked (client to node): 10 bytes. */
    private static final byte[] BINARY_UP = {(byte)0x82, (byte)0x84, 9, 9, 9, 9, 1, 2, 3, 4};

    private final ChunkPool pool = new ChunkPool(256, 4, 4);
    private final Pipe pipe = new Pipe(pool);
    private final FrameTracker frames = new FrameTracker();

    private void seen(final byte[] bytes, final int length)
    {
        frames.onBytes(new UnsafeBuffer(bytes), 0, length);
    }

    /** The frame queued in the pipe, read back by a tracker of its own: what the peer will make of it. */
    private FrameTracker queuedFrame()
    {
        final Chunk chunk = pipe.last();
        assertNotNull(chunk);
        final FrameTracker peer = new FrameTracker();
        peer.onBytes(chunk.buffer(), chunk.byteBuffer().position(), chunk.byteBuffer().remaining());
        assertEquals(0, peer.bytesToBoundary(), "one whole frame");
        assertEquals(1, peer.frames());
        return peer;
    }

    @Test
    void closesTowardsTheClientOnlyAtAFrameBoundary()
    {
        final GoAway goAway = new GoAway(GoAway.GOING_AWAY, NodeTunnels.NONE, 0);
        seen(BINARY_DOWN, 4);
        assertEquals(GoAway.NOT_NOW, goAway.closeTowardsClient(pipe, frames, pool), "inside a frame's payload");
        assertFalse(goAway.sentDown());
        assertTrue(pipe.isEmpty());

        frames.onBytes(new UnsafeBuffer(BINARY_DOWN), 4, 2);
        assertEquals(GoAway.QUEUED, goAway.closeTowardsClient(pipe, frames, pool));
        assertTrue(goAway.sentDown());
        final FrameTracker peer = queuedFrame();
        assertEquals(1, peer.closeFrames());
        assertEquals(1001, peer.closeCode());
        assertEquals(4, peer.bytes(), "unmasked: server to client (RFC 6455 §5.1)");
    }

    @Test
    void closesTowardsTheNodeMaskedWithTheMoveCode()
    {
        final GoAway goAway = new GoAway(GoAway.SERVICE_RESTART, NodeTunnels.REBALANCE, 0);
        seen(BINARY_UP, BINARY_UP.length);
        assertEquals(GoAway.QUEUED, goAway.closeTowardsNode(pipe, frames, pool));
        assertTrue(goAway.sentUp());
        assertFalse(goAway.sentDown());
        final FrameTracker peer = queuedFrame();
        assertEquals(1, peer.closeFrames());
        assertEquals(1012, peer.closeCode());
        assertEquals(8, peer.bytes(), "masked: client to server (RFC 6455 §5.3)");
    }

    @Test
    void waitsWhileEarlierBytesOfTheDirectionAreUnwritten()
    {
        final GoAway goAway = new GoAway(GoAway.GOING_AWAY, NodeTunnels.NONE, 0);
        final Chunk earlier = pool.acquire();
        earlier.byteBuffer().limit(1);
        pipe.offer(earlier);
        assertEquals(GoAway.NOT_NOW, goAway.closeTowardsClient(pipe, frames, pool));
        assertFalse(goAway.sentDown());
    }

    @Test
    void sendsItsCloseOncePerDirection()
    {
        final GoAway goAway = new GoAway(GoAway.GOING_AWAY, NodeTunnels.NONE, 0);
        assertEquals(GoAway.QUEUED, goAway.closeTowardsClient(pipe, frames, pool));
        pipe.discard();
        assertEquals(GoAway.NOT_NOW, goAway.closeTowardsClient(pipe, frames, pool));
        assertTrue(pipe.isEmpty());
    }

    @Test
    void reportsAnExhaustedPoolWithoutMarkingTheCloseSent()
    {
        final GoAway goAway = new GoAway(GoAway.GOING_AWAY, NodeTunnels.NONE, 0);
        for (int i = 0; i < pool.maxChunks(); i++)
        {
            assertNotNull(pool.acquire());
        }
        assertEquals(GoAway.NO_CHUNK, goAway.closeTowardsNode(pipe, frames, pool));
        assertFalse(goAway.sentUp());
    }

    @Test
    void findsNoBoundaryInABrokenStream()
    {
        final FrameTracker broken = new FrameTracker();
        broken.onBytes(new UnsafeBuffer(new byte[] {(byte)0x83, 0x00}), 0, 2); // opcode 3 is reserved (RFC 6455 §5.2)
        assertTrue(GoAway.noBoundary(frames, broken));
        assertTrue(GoAway.noBoundary(broken, frames));
        assertFalse(GoAway.noBoundary(frames, new FrameTracker()));
    }

    @Test
    void givesThePeersTheGraceTimeToFinishTheHandshake()
    {
        assertEquals(1_000 + ProxyLoop.GOING_AWAY_GRACE_NS,
            new GoAway(GoAway.GOING_AWAY, NodeTunnels.NONE, 1_000).deadlineNs());
    }

    @Test
    void namesTheEndOfTheTunnelByWhyItMoved()
    {
        assertEquals(AccessLog.END_DRAIN, new GoAway(GoAway.GOING_AWAY, NodeTunnels.NONE, 0).accessLogEnd());
        assertEquals(AccessLog.END_NODE_DRAIN,
            new GoAway(GoAway.SERVICE_RESTART, NodeTunnels.DRAIN, 0).accessLogEnd());
        assertEquals(AccessLog.END_REBALANCE,
            new GoAway(GoAway.SERVICE_RESTART, NodeTunnels.REBALANCE, 0).accessLogEnd());
    }
}
