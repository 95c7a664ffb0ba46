package io.centrigate.tunnel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

import io.centrigate.buffer.Chunk;
import io.centrigate.buffer.ChunkPool;

/**
 * The pipe's queue links through its chunks (no arrays per pipe): order, gathering writes, a retained chunk taken
 * out of the middle or the end, discard, a full queue and short writes, over a real loopback socket pair.
 */
class PipeTest
{
    private final ChunkPool pool = new ChunkPool(64, 8, 8);

    private Chunk chunk(final String text)
    {
        final Chunk c = pool.acquire();
        c.byteBuffer().put(text.getBytes(StandardCharsets.US_ASCII)).flip();
        return c;
    }

    private static String text(final Chunk c)
    {
        return StandardCharsets.US_ASCII.decode(c.byteBuffer().duplicate()).toString();
    }

    private static String readAll(final SocketChannel in, final int expected) throws IOException
    {
        final ByteArrayOutputStream got = new ByteArrayOutputStream();
        final byte[] buf = new byte[256];
        in.socket().setSoTimeout(5_000);
        while (got.size() < expected)
        {
            final int n = in.socket().getInputStream().read(buf);
            if (n < 0)
            {
                break;
            }
            got.write(buf, 0, n);
        }
        return got.toString(StandardCharsets.US_ASCII);
    }

    private interface PairUse
    {
        void use(SocketChannel out, SocketChannel in) throws IOException;
    }

    private static void withPair(final PairUse use) throws IOException
    {
        try (ServerSocketChannel server = ServerSocketChannel.open())
        {
            // Small buffers both ways, so that a few hundred KiB unread fill them and writes stop short.
            server.setOption(java.net.StandardSocketOptions.SO_RCVBUF, 32 * 1024);
            server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            try (SocketChannel out = SocketChannel.open())
            {
                out.setOption(java.net.StandardSocketOptions.SO_SNDBUF, 32 * 1024);
                out.connect(server.getLocalAddress());
                try (SocketChannel in = server.accept())
                {
                    use.use(out, in);
                }
            }
        }
    }

    @Test
    void writesQueuedChunksInOrderInOneGatheringWriteAndGivesThemBack() throws IOException
    {
        withPair((out, in) ->
        {
            final Pipe pipe = new Pipe(pool);
            final Chunk kept = chunk("B-kept;");
            pipe.offer(chunk("A;"));
            pipe.offerRetained(kept);
            pipe.offer(chunk("C;"));
            pipe.offer(chunk("D."));
            assertEquals("D.", text(pipe.last()));
            assertThrows(IllegalStateException.class, () -> pipe.offer(chunk("E")), "four is the most a pipe queues");
            assertTrue(pipe.flush(out));
            assertTrue(pipe.isEmpty());
            assertNull(pipe.last());
            assertEquals("A;B-kept;C;D.", readAll(in, 13));
            assertEquals(13, pipe.bytesOut());
            assertNull(kept.next());
            // Everything went back but the retained chunk (the refused one too: the pipe released it).
            assertEquals(1, pool.inUse());
            pool.release(kept);
            assertEquals(0, pool.inUse());
        });
    }

    @Test
    void aRetainedChunkTakenOutOfTheMiddleKeepsTheRestInOrder() throws IOException
    {
        withPair((out, in) ->
        {
            final Pipe pipe = new Pipe(pool);
            final Chunk middle = chunk("2;");
            final Chunk last = chunk("3.");
            pipe.offer(chunk("1;"));
            pipe.offerRetained(middle);
            pipe.offer(last);
            pipe.dropRetained(middle);
            assertNull(middle.next());
            assertFalse(middle.retained());
            assertSame(last, pipe.last());
            final Chunk stranger = chunk("not queued");
            pipe.dropRetained(stranger); // not in this pipe: nothing changes
            assertSame(last, pipe.last());
            assertTrue(pipe.flush(out));
            assertEquals("1;3.", readAll(in, 4));
            pool.release(middle);
            pool.release(stranger);
            assertEquals(0, pool.inUse());
        });
    }

    @Test
    void aRetainedLastChunkDroppedMakesItsPredecessorTheTail()
    {
        final Pipe pipe = new Pipe(pool);
        final Chunk a = chunk("a");
        final Chunk b = chunk("b");
        pipe.offer(a);
        pipe.offerRetained(b);
        pipe.dropRetained(b);
        assertSame(a, pipe.last());
        final Chunk c = chunk("c");
        pipe.offer(c);
        assertSame(c, pipe.last());
        assertSame(c, a.next());
        pipe.discard();
        pool.release(b);
        assertEquals(0, pool.inUse());
    }

    @Test
    void discardGivesBackAllButRetainedChunksAndLeavesThePipeUsable()
    {
        final Pipe pipe = new Pipe(pool);
        final Chunk kept = chunk("kept");
        pipe.offer(chunk("x"));
        pipe.offerRetained(kept);
        pipe.offer(chunk("y"));
        pipe.discard();
        assertTrue(pipe.isEmpty());
        assertNull(kept.next());
        assertFalse(kept.retained());
        assertEquals(1, pool.inUse());
        pipe.offer(chunk("z"));
        assertEquals("z", text(pipe.last()));
        pipe.discard();
        pool.release(kept);
        assertEquals(0, pool.inUse());
    }

    @Test
    void aShortWriteKeepsTheRestQueuedAndLaterWritesFinishIt() throws IOException
    {
        withPair((out, in) ->
        {
            out.configureBlocking(false);
            final ChunkPool big = new ChunkPool(1 << 20, 4, 4);
            final Pipe pipe = new Pipe(big);
            final byte[] sent = new byte[3 << 20];
            for (int i = 0; i < sent.length; i++)
            {
                sent[i] = (byte)(i * 31 + (i >>> 12));
            }
            for (int k = 0; k < 3; k++)
            {
                final Chunk c = big.acquire();
                c.byteBuffer().put(sent, k << 20, 1 << 20).flip();
                pipe.offer(c);
            }
            // Nothing has been read yet: the socket buffers fill and the write stops short.
            assertFalse(pipe.flush(out));
            assertFalse(pipe.isEmpty());
            final ByteArrayOutputStream got = new ByteArrayOutputStream();
            in.socket().setSoTimeout(5_000);
            final byte[] buf = new byte[65536];
            while (got.size() < sent.length)
            {
                pipe.flush(out);
                final int n = in.socket().getInputStream().read(buf);
                assertTrue(n > 0, "the pipe's bytes stopped coming");
                got.write(buf, 0, n);
            }
            assertTrue(pipe.flush(out));
            assertArrayEquals(sent, got.toByteArray());
            assertEquals(0, big.inUse());
        });
    }
}
