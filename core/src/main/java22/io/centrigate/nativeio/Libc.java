package io.centrigate.nativeio;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;

/**
 * The libc functions the native transport calls, linked once into static finals so the JIT can inline them, and
 * the few facts that differ between the two platforms we support. Each handle takes a capture-state segment
 * first: errno is only meaningful right after the failing call, before the JVM itself may call into libc again.
 */
final class Libc
{
    /** Null when this platform is supported; otherwise why not, and every handle below is null. */
    static final String PLATFORM_PROBLEM = platformProblem();

    /**
     * glibc declares struct epoll_event {@code __EPOLL_PACKED} on x86_64 only (the kernel's layout there predates
     * 64-bit alignment): 12 bytes with the u64 data at offset 4. Elsewhere, aarch64 included, it is naturally
     * aligned: 16 bytes, data at 8.
     */
    static final boolean PACKED_EPOLL_EVENT = isX86_64();
    static final long EPOLL_EVENT_SIZE = PACKED_EPOLL_EVENT ? 12 : 16;
    static final long EPOLL_EVENT_DATA_OFFSET = PACKED_EPOLL_EVENT ? 4 : 8;

    static final StructLayout CALL_STATE_LAYOUT = Linker.Option.captureStateLayout();
    static final long ERRNO_OFFSET = CALL_STATE_LAYOUT.byteOffset(MemoryLayout.PathElement.groupElement("errno"));

    // Buffers of the I/O calls are passed as a raw address (JAVA_LONG): a pointer and a long travel in the same
    // integer register on both x86_64 SysV and AAPCS64, and it spares slicing a segment (an allocation the JIT may
    // or may not remove) for every read and write at an offset into a chunk. Callers check bounds and liveness.
    static final MethodHandle SOCKET = link("socket", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
    static final MethodHandle BIND = link("bind", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    static final MethodHandle LISTEN = link("listen", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    static final MethodHandle ACCEPT4 = link(
        "accept4", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
    static final MethodHandle CONNECT = link("connect", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    static final MethodHandle GETSOCKNAME = link(
        "getsockname", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    static final MethodHandle GETPEERNAME = link(
        "getpeername", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    static final MethodHandle GETSOCKOPT = link(
        "getsockopt", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    static final MethodHandle SETSOCKOPT = link(
        "setsockopt", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    static final MethodHandle RECV = link("recv", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT));
    static final MethodHandle SEND = link("send", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT));
    static final MethodHandle WRITEV = link("writev", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT));
    static final MethodHandle READ = link("read", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    static final MethodHandle WRITE = link("write", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    static final MethodHandle SHUTDOWN = link("shutdown", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    static final MethodHandle CLOSE = link("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    static final MethodHandle EPOLL_CREATE1 = link("epoll_create1", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    static final MethodHandle EPOLL_CTL = link(
        "epoll_ctl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS));
    static final MethodHandle EPOLL_WAIT = link(
        "epoll_wait", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
    static final MethodHandle EVENTFD = link("eventfd", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    static final MethodHandle MMAP = link(
        "mmap", FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG));
    static final MethodHandle MUNMAP = link("munmap", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG));
    static final MethodHandle PIPE2 = link("pipe2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    /** splice(fd_in, NULL, fd_out, NULL, len, flags): both offsets are always NULL here (sockets and pipes). */
    static final MethodHandle SPLICE = link(
        "splice", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT));

    // glibc wraps none of the io_uring calls: they go through syscall(2), which is variadic (every argument after
    // the number is read as a long, so each is passed as one). Numbers from asm-generic/unistd.h, the same on
    // x86_64 and aarch64 since io_uring came after the tables were unified.
    static final long SYS_IO_URING_SETUP = 425;
    static final long SYS_IO_URING_ENTER = 426;
    static final long SYS_IO_URING_REGISTER = 427;
    static final MethodHandle SYSCALL2 = linkVariadic(
        "syscall", FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG));
    static final MethodHandle SYSCALL6 = linkVariadic("syscall",
        FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG));

    /** fcntl(fd, cmd, ...) is variadic: the int argument after cmd is passed as such. */
    static final MethodHandle FCNTL_INT = linkVariadicAt(
        "fcntl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT), 2);

    private Libc()
    {
    }

    static IllegalStateException unexpected(final Throwable t)
    {
        // invokeExact declares Throwable; a downcall whose types match throws nothing, so this is a bug here.
        return new IllegalStateException("libc downcall failed", t);
    }

    // Restricted: a wrong descriptor can crash the JVM. Each one above follows the libc prototype in its man page;
    // the JVM still asks for --enable-native-access (NativeIo reports a refusal instead of failing).
    @SuppressWarnings("restricted")
    private static MethodHandle link(final String name, final FunctionDescriptor descriptor)
    {
        if (PLATFORM_PROBLEM != null)
        {
            return null;
        }
        final Linker linker = Linker.nativeLinker();
        final SymbolLookup libc = linker.defaultLookup();
        return linker.downcallHandle(
            libc.find(name).orElseThrow(() -> new UnsatisfiedLinkError("libc has no " + name)),
            descriptor,
            Linker.Option.captureCallState("errno"));
    }

    @SuppressWarnings("restricted")
    private static MethodHandle linkVariadicAt(final String name, final FunctionDescriptor descriptor, final int first)
    {
        if (PLATFORM_PROBLEM != null)
        {
            return null;
        }
        final Linker linker = Linker.nativeLinker();
        return linker.downcallHandle(
            linker.defaultLookup().find(name).orElseThrow(() -> new UnsatisfiedLinkError("libc has no " + name)),
            descriptor,
            Linker.Option.firstVariadicArg(first),
            Linker.Option.captureCallState("errno"));
    }

    @SuppressWarnings("restricted")
    private static MethodHandle linkVariadic(final String name, final FunctionDescriptor descriptor)
    {
        if (PLATFORM_PROBLEM != null)
        {
            return null;
        }
        final Linker linker = Linker.nativeLinker();
        return linker.downcallHandle(
            linker.defaultLookup().find(name).orElseThrow(() -> new UnsatisfiedLinkError("libc has no " + name)),
            descriptor,
            Linker.Option.firstVariadicArg(1),
            Linker.Option.captureCallState("errno"));
    }

    private static boolean isX86_64()
    {
        final String arch = System.getProperty("os.arch");
        return "amd64".equals(arch) || "x86_64".equals(arch);
    }

    private static String platformProblem()
    {
        final String os = System.getProperty("os.name");
        final String arch = System.getProperty("os.arch");
        if (!"Linux".equals(os))
        {
            return "epoll and eventfd are Linux only, this is " + os;
        }
        // Other Linux ports differ in more than struct epoll_event (O_NONBLOCK, SO_* and errno values on mips,
        // sparc, alpha, parisc): refuse rather than guess.
        if (!isX86_64() && !"aarch64".equals(arch))
        {
            return "constants are known for Linux x86_64 and aarch64 only, this is " + arch;
        }
        return null;
    }
}
