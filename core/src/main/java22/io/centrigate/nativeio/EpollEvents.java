package io.centrigate.nativeio;

import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The off-heap array epoll_wait fills, read in place: one per event loop, sized to the most events it will
 * handle per wake-up. Accessors are unaligned because x86_64 packs the struct (data at offset 4 of 12 bytes).
 */
public final class EpollEvents implements AutoCloseable
{
    private final Arena arena = Arena.ofShared();
    private final int capacity;
    private final MemorySegment segment;

    public EpollEvents(final int capacity)
    {
        if (capacity <= 0)
        {
            throw new IllegalArgumentException("capacity must be positive: " + capacity);
        }
        this.capacity = capacity;
        this.segment = arena.allocate(capacity * Libc.EPOLL_EVENT_SIZE, 8);
    }

    public int capacity()
    {
        return capacity;
    }

    /** @return the ready mask of event {@code index}: EPOLLIN, EPOLLOUT, EPOLLRDHUP, EPOLLHUP, EPOLLERR bits. */
    public int events(final int index)
    {
        return segment.get(JAVA_INT_UNALIGNED, index * Libc.EPOLL_EVENT_SIZE);
    }

    /** @return the data registered with epoll_ctl for the descriptor of event {@code index}. */
    public long data(final int index)
    {
        return segment.get(JAVA_LONG_UNALIGNED, index * Libc.EPOLL_EVENT_SIZE + Libc.EPOLL_EVENT_DATA_OFFSET);
    }

    MemorySegment segment()
    {
        return segment;
    }

    @Override
    public void close()
    {
        arena.close();
    }
}
