package io.centrigate.bench;

import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

import io.centrigate.buffer.Chunk;
import io.centrigate.buffer.ChunkPool;
import io.centrigate.config.ProxyContext;

/**
 * What every read in a tunnel pays for its buffer: one {@link ChunkPool#acquire()} (including the clear of the
 * chunk's byte buffer) and one {@link ChunkPool#release(Chunk)}. The pool has its first slab already, as a
 * running loop's pool does, so no slab is allocated in the measured code.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(jvmArgsAppend = BenchmarkJvm.AGRONA_EXPORTS)
public class ChunkPoolBenchmark
{
    private ChunkPool pool;

    @Setup
    public void setup()
    {
        pool = new ChunkPool(ProxyContext.DEFAULT_CHUNK_SIZE, ProxyContext.DEFAULT_CHUNKS_PER_SLAB,
            ProxyContext.DEFAULT_CHUNKS_PER_SLAB);
    }

    @Benchmark
    public Chunk acquireRelease()
    {
        final Chunk chunk = pool.acquire();
        pool.release(chunk);
        return chunk;
    }
}
