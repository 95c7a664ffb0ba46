package io.centrigate.buffer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

class ChunkPoolTest
{
    @Test
    void growsBySlabsUpToItsLimitThenSaysNo()
    {
        final ChunkPool pool = new ChunkPool(1024, 4, 8);
        assertEquals(4, pool.allocated());
        final List<Chunk> held = new ArrayList<>();
        for (int i = 0; i < 8; i++)
        {
            final Chunk c = pool.acquire();
            assertTrue(c.byteBuffer().isDirect());
            assertEquals(1024, c.byteBuffer().remaining());
            held.add(c);
        }
        assertEquals(8, pool.allocated());
        assertNull(pool.acquire());
        assertEquals(1, pool.exhaustedCount());
        held.forEach(pool::release);
        assertEquals(8, pool.available());
        assertEquals(8, pool.highWater());
    }

    /**
     * canAcquire answers for acquire: true while a slab may still be added although none is free now (a head once
     * waited at every slab boundary for a chunk to come back), false only at the limit.
     */
    @Test
    void canAcquireCountsTheSlabsThePoolMayStillAdd()
    {
        final ChunkPool pool = new ChunkPool(1024, 4, 8);
        final List<Chunk> held = new ArrayList<>();
        for (int i = 0; i < 4; i++)
        {
            held.add(pool.acquire());
        }
        assertEquals(0, pool.available());
        assertTrue(pool.canAcquire(), "a second slab may be added");
        for (int i = 0; i < 4; i++)
        {
            assertTrue(pool.canAcquire());
            held.add(pool.acquire());
        }
        assertEquals(8, pool.allocated());
        assertFalse(pool.canAcquire(), "at the limit");
        assertNull(pool.acquire());
        pool.release(held.remove(0));
        assertTrue(pool.canAcquire());
    }

    @Test
    void handsOutTheMostRecentlyReleasedChunkClearedAndRejectsDoubleRelease()
    {
        final ChunkPool pool = new ChunkPool(64, 2, 2);
        final Chunk a = pool.acquire();
        final Chunk b = pool.acquire();
        assertNotSame(a, b);
        a.byteBuffer().position(10).limit(20);
        pool.release(a);
        final Chunk again = pool.acquire();
        assertSame(a, again);
        assertEquals(0, again.byteBuffer().position());
        assertEquals(64, again.byteBuffer().limit());
        pool.release(again);
        assertThrows(IllegalStateException.class, () -> pool.release(a));
        pool.release(b);
    }

    @Test
    void chunksOfOneSlabDoNotOverlap()
    {
        final ChunkPool pool = new ChunkPool(16, 4, 4);
        final List<Chunk> chunks = new ArrayList<>();
        for (int i = 0; i < 4; i++)
        {
            final Chunk c = pool.acquire();
            c.buffer().setMemory(0, 16, (byte)i);
            chunks.add(c);
        }
        for (int i = 0; i < 4; i++)
        {
            for (int j = 0; j < 16; j++)
            {
                assertEquals(i, chunks.get(i).buffer().getByte(j));
            }
        }
    }
}
