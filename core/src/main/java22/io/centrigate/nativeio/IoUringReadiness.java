package io.centrigate.nativeio;

import static io.centrigate.nativeio.IoUring.CQE_FLAGS;
import static io.centrigate.nativeio.IoUring.CQE_RES;
import static io.centrigate.nativeio.IoUring.CQE_USER_DATA;
import static io.centrigate.nativeio.IoUring.IORING_ACCEPT_MULTISHOT;
import static io.centrigate.nativeio.IoUring.IORING_CQE_F_MORE;
import static io.centrigate.nativeio.IoUring.IORING_ENTER_EXT_ARG;
import static io.centrigate.nativeio.IoUring.IORING_ENTER_GETEVENTS;
import static io.centrigate.nativeio.IoUring.IORING_OP_ACCEPT;
import static io.centrigate.nativeio.IoUring.IORING_OP_ASYNC_CANCEL;
import static io.centrigate.nativeio.IoUring.IORING_OP_POLL_ADD;
import static io.centrigate.nativeio.IoUring.IORING_POLL_ADD_MULTI;
import static io.centrigate.nativeio.IoUring.SQE_ADDR;
import static io.centrigate.nativeio.IoUring.SQE_FD;
import static io.centrigate.nativeio.IoUring.SQE_IOPRIO;
import static io.centrigate.nativeio.IoUring.SQE_LEN;
import static io.centrigate.nativeio.IoUring.SQE_OPCODE;
import static io.centrigate.nativeio.IoUring.SQE_OP_FLAGS;
import static io.centrigate.nativeio.IoUring.SQE_USER_DATA;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Readiness from an io_uring: a multishot IORING_OP_POLL_ADD per descriptor posts a completion with the poll
 * mask (the same bits as epoll's) at each wake-up of the socket, edge-triggered as EPOLLET is, so the poller's
 * latches work unchanged. Registrations and removals are queued as submission entries and go to the kernel with
 * the one io_uring_enter of the next wait, which also reaps: one system call per loop iteration however many
 * sockets came and went.
 * <p>
 * Two things differ from epoll. A poll request holds a reference to the socket's file, so close(2) alone would
 * neither end the request nor send the FIN: {@link #remove} queues a cancel of the request, which the next
 * enter submits (the descriptor number is free at once; a new socket reusing it is told apart by its data). And a
 * multishot request can end on its own (a completion without IORING_CQE_F_MORE: the completion queue was full,
 * or an error): the poller arms it again if its socket is still there.
 * <p>
 * Listeners are not polled: a multishot IORING_OP_ACCEPT accepts as connections come and posts each descriptor,
 * which the listener queues for its accept(). Per connection that is a completion and a getpeername (the address
 * a multishot accept cannot give) instead of a poll completion and an accept4, and no accept4 that finds the
 * backlog empty at the end of each burst.
 */
final class IoUringReadiness extends Readiness
{
    /** Submission queue entries: the most registrations and removals between two waits before an early submit. */
    static final int SQ_ENTRIES = 1024;
    /** Completions the queue holds; beyond it the kernel keeps them aside (IORING_FEAT_NODROP) and ends multishots. */
    static final int CQ_ENTRIES = 8192;

    /** The user data of the removals' own completions, which say nothing we act on. */
    private static final long REMOVE_DATA = -2L;
    /**
     * Set in the user data of an accept request, so that its completions (descriptors, not poll masks) are told
     * apart even when their listener is gone: the bit of the slot half no slot uses.
     */
    private static final long ACCEPT_BIT = 1L << 31;
    private static final int NO_EDGE_FLAG = ~Syscalls.EPOLLET;
    // struct io_uring_getevents_arg {u64 sigmask; u32 sigmask_sz; u32 pad; u64 ts;} and a struct __kernel_timespec
    private static final long GETEVENTS_ARG_SIZE = 24;
    private static final long ARG_TS = 16;

    private final Arena arena = Arena.ofShared();
    private final IoUring ring;
    private final MemorySegment sqes;
    private final MemorySegment cq;
    private final MemorySegment waitArg;
    private final MemorySegment timespec;
    private final long waitArgAddress;

    IoUringReadiness(final Syscalls sys)
    {
        this(sys, SQ_ENTRIES, CQ_ENTRIES);
    }

    /** With rings of other sizes: tiny ones let a test overflow them. */
    IoUringReadiness(final Syscalls sys, final int sqEntries, final int cqEntries)
    {
        try
        {
            this.ring = new IoUring(sys, sqEntries, cqEntries);
        }
        catch (final RuntimeException e)
        {
            arena.close();
            throw e;
        }
        this.sqes = ring.sqes();
        this.cq = ring.ring();
        this.waitArg = arena.allocate(GETEVENTS_ARG_SIZE, 8);
        this.timespec = arena.allocate(16, 8);
        this.waitArg.set(JAVA_LONG, ARG_TS, timespec.address());
        this.waitArgAddress = waitArg.address();
    }

    @Override
    String name()
    {
        return "io_uring";
    }

    @Override
    int add(final int fd, final int events, final long data)
    {
        final long sqe = ring.nextSqe();
        sqes.set(JAVA_BYTE, sqe + SQE_OPCODE, IORING_OP_POLL_ADD);
        sqes.set(JAVA_INT, sqe + SQE_FD, fd);
        sqes.set(JAVA_INT, sqe + SQE_LEN, IORING_POLL_ADD_MULTI);
        // Multishot poll is edge-triggered unless IORING_POLL_ADD_LEVEL is asked; EPOLLET itself is not a poll bit.
        sqes.set(JAVA_INT, sqe + SQE_OP_FLAGS, events & NO_EDGE_FLAG);
        sqes.set(JAVA_LONG, sqe + SQE_USER_DATA, data);
        return 0;
    }

    @Override
    void remove(final int fd, final long data)
    {
        cancel(data);
    }

    /**
     * IORING_OP_ASYNC_CANCEL rather than IORING_OP_POLL_REMOVE: a poll removal fails with EALREADY while the
     * request is posting a completion (a wake-up just came, say the peer's FIN), which would leave it armed and
     * the socket's file open for good; a cancel marks the request and it ends when that completion is done.
     */
    private void cancel(final long userData)
    {
        final long sqe = ring.nextSqe();
        sqes.set(JAVA_BYTE, sqe + SQE_OPCODE, IORING_OP_ASYNC_CANCEL);
        sqes.set(JAVA_INT, sqe + SQE_FD, -1);
        sqes.set(JAVA_LONG, sqe + SQE_ADDR, userData);
        sqes.set(JAVA_LONG, sqe + SQE_USER_DATA, REMOVE_DATA);
    }

    @Override
    boolean acceptsItself()
    {
        return true;
    }

    @Override
    void armAccept(final int fd, final long data)
    {
        final long sqe = ring.nextSqe();
        sqes.set(JAVA_BYTE, sqe + SQE_OPCODE, IORING_OP_ACCEPT);
        sqes.set(JAVA_SHORT, sqe + SQE_IOPRIO, IORING_ACCEPT_MULTISHOT);
        sqes.set(JAVA_INT, sqe + SQE_FD, fd);
        // No address: one buffer would be overwritten by every connection of the batch (getpeername instead).
        sqes.set(JAVA_INT, sqe + SQE_OP_FLAGS, Syscalls.SOCK_NONBLOCK | Syscalls.SOCK_CLOEXEC);
        sqes.set(JAVA_LONG, sqe + SQE_USER_DATA, data | ACCEPT_BIT);
    }

    @Override
    void cancelAccept(final long data)
    {
        cancel(data | ACCEPT_BIT);
    }

    @Override
    int await(final int timeoutMillis, final NativePoller poller)
    {
        final int r;
        if (timeoutMillis == 0)
        {
            // min_complete 0: submits, runs the completions the kernel has pending for us, returns at once. When
            // there is none of that, what is there is in the completion queue already: no system call, which is
            // what the spin, yield and backoff idle strategies do all the time while idle.
            r = ring.needsEnter() ? ring.enter(0, IORING_ENTER_GETEVENTS, 0, 0) : 0;
        }
        else if (timeoutMillis < 0)
        {
            r = ring.enter(1, IORING_ENTER_GETEVENTS, 0, 0);
        }
        else
        {
            timespec.set(JAVA_LONG, 0, timeoutMillis / 1000);
            timespec.set(JAVA_LONG, 8, (timeoutMillis % 1000) * 1_000_000L);
            r = ring.enter(1, IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG, waitArgAddress, GETEVENTS_ARG_SIZE);
        }
        // A timeout or a signal still leaves what completed meanwhile to reap, and a ring short of memory for the
        // moment (EAGAIN, EBUSY: the entries stay queued) is tried again next time; anything else is the ring's fault.
        if (r < 0 && r != -Errno.ETIME && r != -Errno.EINTR && r != -Errno.EBUSY && r != -Errno.EAGAIN)
        {
            return r;
        }
        return reap(poller);
    }

    private int reap(final NativePoller poller)
    {
        final int tail = ring.completionTail();
        int head = ring.completionHead();
        int events = 0;
        while (head != tail)
        {
            final long cqe = ring.cqe(head++);
            final long data = cq.get(JAVA_LONG, cqe + CQE_USER_DATA);
            if (data == REMOVE_DATA)
            {
                continue;
            }
            final int res = cq.get(JAVA_INT, cqe + CQE_RES);
            if (data != -1L && (data & ACCEPT_BIT) != 0)
            {
                poller.acceptCompletion(data & ~ACCEPT_BIT, res,
                    (cq.get(JAVA_INT, cqe + CQE_FLAGS) & IORING_CQE_F_MORE) != 0);
                events++;
                continue;
            }
            if (res > 0)
            {
                poller.event(data, res);
                events++;
            }
            if ((cq.get(JAVA_INT, cqe + CQE_FLAGS) & IORING_CQE_F_MORE) == 0)
            {
                // Ended: cancelled by a removal (its socket is gone, so nothing is armed), or on its own.
                poller.rearm(data);
            }
        }
        ring.completionHead(head);
        return events;
    }

    /** io_uring_enter calls so far, for tests. */
    long enters()
    {
        return ring.enters;
    }

    @Override
    public void close()
    {
        ring.close();
        arena.close();
    }
}
