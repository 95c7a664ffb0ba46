package io.centrigate.nativeio;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * One io_uring instance: the submission and completion rings the kernel shares with us through mmap, written and
 * read in place. Layouts and constants follow include/uapi/linux/io_uring.h; only what the transport uses is here.
 * <p>
 * Ordering. The kernel and this thread share the rings' head and tail words and nothing else is synchronised:
 * the kernel publishes completions with a store-release of the CQ tail, so we read that tail with getAcquire
 * before reading the entries it covers, and hand entries back with a setRelease of the CQ head after reading them
 * (the kernel may then overwrite them). Symmetrically the SQ tail is stored with setRelease after the entries are
 * filled, and the SQ head (how far the kernel has consumed) is read with getAcquire. Without SQPOLL the kernel only
 * looks at the SQ inside io_uring_enter, a full barrier itself, but the acquire/release pairs cost nothing more than
 * plain accesses on x86_64 (and little on aarch64) and keep the code right if a polling kernel thread is added.
 * Hence {@code JAVA_INT.varHandle()} with getAcquire/setRelease rather than plain accesses plus fences.
 * <p>
 * Loop thread only. The ring's descriptor is close-on-exec by the kernel's default.
 */
final class IoUring implements AutoCloseable
{
    // struct io_uring_params
    private static final int PARAMS_SIZE = 120;
    private static final int P_SQ_ENTRIES = 0;
    private static final int P_CQ_ENTRIES = 4;
    private static final int P_FLAGS = 8;
    private static final int P_FEATURES = 20;
    private static final int P_SQ_OFF = 40;
    private static final int P_CQ_OFF = 80;
    // struct io_sqring_offsets / io_cqring_offsets (within the params at P_SQ_OFF / P_CQ_OFF)
    private static final int OFF_HEAD = 0;
    private static final int OFF_TAIL = 4;
    private static final int OFF_RING_MASK = 8;
    private static final int OFF_RING_ENTRIES = 12;
    private static final int SQ_OFF_FLAGS = 16;
    private static final int SQ_OFF_ARRAY = 24;
    private static final int CQ_OFF_CQES = 20;

    static final int IORING_SETUP_CQSIZE = 1 << 3;
    static final int IORING_SETUP_CLAMP = 1 << 4;
    static final int IORING_SETUP_SUBMIT_ALL = 1 << 7;
    static final int IORING_SETUP_COOP_TASKRUN = 1 << 8;
    static final int IORING_SETUP_TASKRUN_FLAG = 1 << 9;
    /** In the SQ ring's flags: completions overflowed, or are held back until we enter (IORING_SETUP_TASKRUN_FLAG). */
    static final int IORING_SQ_CQ_OVERFLOW = 1 << 1;
    static final int IORING_SQ_TASKRUN = 1 << 2;

    static final int IORING_FEAT_SINGLE_MMAP = 1;
    static final int IORING_FEAT_NODROP = 1 << 1;
    static final int IORING_FEAT_EXT_ARG = 1 << 8;
    /** Came with 5.13, as did multishot poll (IORING_POLL_ADD_MULTI), which has no feature bit of its own. */
    static final int IORING_FEAT_RSRC_TAGS = 1 << 10;
    static final int REQUIRED_FEATURES =
        IORING_FEAT_SINGLE_MMAP | IORING_FEAT_NODROP | IORING_FEAT_EXT_ARG | IORING_FEAT_RSRC_TAGS;

    static final int IORING_ENTER_GETEVENTS = 1;
    static final int IORING_ENTER_EXT_ARG = 1 << 3;

    private static final long IORING_OFF_SQ_RING = 0L;
    private static final long IORING_OFF_SQES = 0x10000000L;

    // struct io_uring_sqe (64 bytes)
    static final int SQE_SIZE = 64;
    static final int SQE_OPCODE = 0;
    static final int SQE_FD = 4;
    static final int SQE_OFF = 8;
    static final int SQE_ADDR = 16;
    static final int SQE_LEN = 24;
    /** The op's flags word: poll32_events, accept_flags, msg_flags... */
    static final int SQE_OP_FLAGS = 28;
    static final int SQE_USER_DATA = 32;
    // struct io_uring_cqe (16 bytes without IORING_SETUP_CQE32)
    static final int CQE_SIZE = 16;
    static final int CQE_USER_DATA = 0;
    static final int CQE_RES = 8;
    static final int CQE_FLAGS = 12;

    static final byte IORING_OP_POLL_ADD = 6;
    static final byte IORING_OP_ACCEPT = 13;
    static final byte IORING_OP_ASYNC_CANCEL = 14;
    /** In the SQE's ioprio of an accept (5.19+): accept on until cancelled, a completion per connection. */
    static final short IORING_ACCEPT_MULTISHOT = 1;
    static final int SQE_IOPRIO = 2;
    static final int IORING_POLL_ADD_MULTI = 1;
    /** On a CQE: the request stays armed and will post more; without it, a multishot request has ended. */
    static final int IORING_CQE_F_MORE = 1 << 1;

    /** Plain int at (segment, offset), for the acquire/release accesses of the ring indices. */
    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();

    private final Syscalls sys;
    private final int ringFd;
    private final long ringAddress;
    private final long ringSize;
    private final long sqesAddress;
    private final long sqesSize;
    private final MemorySegment ring;
    private final MemorySegment sqes;
    private final int sqEntries;
    private final int sqMask;
    private final int cqMask;
    private final long sqHead;
    private final long sqTail;
    private final long sqFlags;
    private final long cqHead;
    private final long cqTail;
    private final long cqes;
    /** Our copy of the SQ tail: entries filled, published at {@link #enter}. */
    private int sqTailLocal;
    /** io_uring_enter calls made, for tests. */
    long enters;
    private boolean closed;

    /**
     * @param sys the loop's calls.
     * @throws UncheckedIOException io_uring_setup or the mappings failed, or the kernel lacks a feature we need
     *                              (the message names the errno or the feature).
     */
    IoUring(final Syscalls sys, final int sqEntries, final int cqEntries)
    {
        this.sys = sys;
        try (Arena arena = Arena.ofConfined())
        {
            final MemorySegment params = arena.allocate(PARAMS_SIZE, 8);
            // SUBMIT_ALL: an entry that fails (a descriptor closed meanwhile) does not hold back the rest of the batch.
            // COOP_TASKRUN: completions wait for the thread's next kernel entry instead of interrupting it, and
            // TASKRUN_FLAG says in the SQ flags when some wait, so an idle poll can skip the system call. All came
            // by 5.19, as did multishot accept: a kernel that refuses them (EINVAL) is too old for the transport.
            final int fd = setup(params, sqEntries, cqEntries, IORING_SETUP_CQSIZE | IORING_SETUP_CLAMP |
                IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG);
            if (fd < 0)
            {
                throw new UncheckedIOException(new IOException("io_uring_setup: " + Errno.name(fd) +
                    (fd == -Errno.EINVAL ? " (multishot accept and IORING_SETUP_COOP_TASKRUN need Linux 5.19+)" : "")));
            }
            this.ringFd = fd;
            final int features = params.get(JAVA_INT, P_FEATURES);
            if ((features & REQUIRED_FEATURES) != REQUIRED_FEATURES)
            {
                sys.close(fd);
                throw new UncheckedIOException(new IOException(String.format(
                    "io_uring lacks features 0x%x (single mmap, no drop, ext arg, multishot poll: Linux 5.13+)",
                    REQUIRED_FEATURES & ~features)));
            }
            this.sqEntries = params.get(JAVA_INT, P_SQ_ENTRIES);
            final int cqCount = params.get(JAVA_INT, P_CQ_ENTRIES);
            final long sqArray = params.get(JAVA_INT, P_SQ_OFF + SQ_OFF_ARRAY);
            this.cqes = params.get(JAVA_INT, P_CQ_OFF + CQ_OFF_CQES);
            // IORING_FEAT_SINGLE_MMAP: the SQ and CQ rings share one mapping, as large as the larger of the two.
            this.ringSize = Math.max(sqArray + 4L * sqEntries, cqes + (long)CQE_SIZE * cqCount);
            this.sqesSize = (long)SQE_SIZE * this.sqEntries;
            final int protection = Syscalls.PROT_READ | Syscalls.PROT_WRITE;
            final int flags = Syscalls.MAP_SHARED | Syscalls.MAP_POPULATE;
            final long ringAt = sys.mmap(ringSize, protection, flags, fd, IORING_OFF_SQ_RING);
            final long sqesAt = ringAt >= 0 ? sys.mmap(sqesSize, protection, flags, fd, IORING_OFF_SQES) : -1;
            if (ringAt < 0 || sqesAt < 0)
            {
                if (ringAt >= 0)
                {
                    sys.munmap(ringAt, ringSize);
                }
                sys.close(fd);
                throw new UncheckedIOException(new IOException("mmap of the io_uring: " +
                    Errno.name(ringAt < 0 ? ringAt : sqesAt)));
            }
            this.ringAddress = ringAt;
            this.sqesAddress = sqesAt;
            this.ring = segment(ringAt, ringSize);
            this.sqes = segment(sqesAt, sqesSize);
            this.sqHead = params.get(JAVA_INT, P_SQ_OFF + OFF_HEAD);
            this.sqTail = params.get(JAVA_INT, P_SQ_OFF + OFF_TAIL);
            this.sqFlags = params.get(JAVA_INT, P_SQ_OFF + SQ_OFF_FLAGS);
            this.sqMask = ring.get(JAVA_INT, params.get(JAVA_INT, P_SQ_OFF + OFF_RING_MASK));
            this.cqHead = params.get(JAVA_INT, P_CQ_OFF + OFF_HEAD);
            this.cqTail = params.get(JAVA_INT, P_CQ_OFF + OFF_TAIL);
            this.cqMask = ring.get(JAVA_INT, params.get(JAVA_INT, P_CQ_OFF + OFF_RING_MASK));
            // The SQ array maps ring positions to SQE indices; the identity, set once, lets entry i live at i.
            for (int i = 0; i < this.sqEntries; i++)
            {
                ring.set(JAVA_INT, sqArray + 4L * i, i);
            }
            this.sqTailLocal = (int)INT.getAcquire(ring, sqTail);
        }
    }

    private int setup(final MemorySegment params, final int sqEntries, final int cqEntries, final int flags)
    {
        params.fill((byte)0);
        params.set(JAVA_INT, P_CQ_ENTRIES, cqEntries);
        params.set(JAVA_INT, P_FLAGS, flags);
        return sys.ioUringSetup(sqEntries, params);
    }

    @SuppressWarnings("restricted")
    private static MemorySegment segment(final long address, final long size)
    {
        // The kernel's mapping, alive until close() unmaps it; nothing else holds it.
        return MemorySegment.ofAddress(address).reinterpret(size);
    }

    /**
     * The byte offset in {@link #sqes()} of a zeroed submission entry to fill; it goes to the kernel with the next
     * {@link #enter}. A full queue is submitted first.
     *
     * @throws UncheckedIOException the queue is full and the kernel would not take it.
     */
    long nextSqe()
    {
        if (sqTailLocal - (int)INT.getAcquire(ring, sqHead) == sqEntries)
        {
            final int r = enter(0, 0, 0, 0);
            if (sqTailLocal - (int)INT.getAcquire(ring, sqHead) == sqEntries)
            {
                throw new UncheckedIOException(new IOException("io_uring submission queue full: " + Errno.name(r)));
            }
        }
        final long offset = (long)(sqTailLocal & sqMask) * SQE_SIZE;
        for (int i = 0; i < SQE_SIZE; i += 8)
        {
            sqes.set(JAVA_LONG, offset + i, 0L);
        }
        sqTailLocal++;
        return offset;
    }

    MemorySegment sqes()
    {
        return sqes;
    }

    /**
     * Publishes the filled entries and calls io_uring_enter once: submits them all and, with
     * {@link #IORING_ENTER_GETEVENTS}, waits for {@code minComplete} completions.
     *
     * @return entries submitted, or -errno (-ETIME: the wait's timeout passed; -EINTR: a signal).
     */
    int enter(final int minComplete, final int flags, final long arg, final long argSize)
    {
        enters++;
        INT.setRelease(ring, sqTail, sqTailLocal);
        final int toSubmit = sqTailLocal - (int)INT.getAcquire(ring, sqHead);
        return sys.ioUringEnter(ringFd, toSubmit, minComplete, flags, arg, argSize);
    }

    /**
     * Whether an io_uring_enter would do anything a look at the completion queue does not: entries to submit,
     * completions the kernel holds back until we enter (IORING_SQ_TASKRUN), or an overflow to flush.
     */
    boolean needsEnter()
    {
        return sqTailLocal != (int)INT.getAcquire(ring, sqHead) ||
            ((int)INT.getAcquire(ring, sqFlags) & (IORING_SQ_TASKRUN | IORING_SQ_CQ_OVERFLOW)) != 0;
    }

    /** Where the completions start: read up to {@link #completionTail()} from {@link #completionHead()}. */
    int completionHead()
    {
        return (int)INT.get(ring, cqHead);
    }

    int completionTail()
    {
        return (int)INT.getAcquire(ring, cqTail);
    }

    /** The offset in {@link #ring()} of completion {@code index} (a head value, not yet masked). */
    long cqe(final int index)
    {
        return cqes + (long)(index & cqMask) * CQE_SIZE;
    }

    /** Hands the completions before {@code head} back to the kernel. */
    void completionHead(final int head)
    {
        INT.setRelease(ring, cqHead, head);
    }

    MemorySegment ring()
    {
        return ring;
    }

    /** Unmaps the rings and closes the ring: the kernel cancels what is still armed. Idempotent, never throws. */
    @Override
    public void close()
    {
        if (closed)
        {
            return;
        }
        closed = true;
        sys.munmap(sqesAddress, sqesSize);
        sys.munmap(ringAddress, ringSize);
        sys.close(ringFd);
    }
}
