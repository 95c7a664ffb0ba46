package io.centrigate.nativeio;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteOrder;

/**
 * struct sockaddr_in and sockaddr_in6 for bind and connect, written once per listener or upstream (cold path).
 * The family is in host order, port and address in network order, as <netinet/in.h> lays them out.
 */
public final class SocketAddresses
{
    /** Room for any address family we write: sizeof(struct sockaddr_storage). */
    public static final long SOCKADDR_STORAGE_SIZE = 128;
    public static final long SOCKADDR_IN_SIZE = 16;
    public static final long SOCKADDR_IN6_SIZE = 28;

    private static final ValueLayout.OfShort NETWORK_SHORT = JAVA_SHORT.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfInt NETWORK_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    private SocketAddresses()
    {
    }

    /**
     * @param sockaddr at least {@link #SOCKADDR_IN6_SIZE} bytes for an IPv6 address.
     * @return the struct, a slice of {@code sockaddr} of exactly its size: what bind and connect take.
     */
    public static MemorySegment write(final MemorySegment sockaddr, final InetSocketAddress address)
    {
        final InetAddress ip = address.getAddress();
        if (ip == null)
        {
            throw new IllegalArgumentException("unresolved: " + address);
        }
        final byte[] bytes = ip.getAddress();
        if (ip instanceof Inet4Address)
        {
            final MemorySegment in = sockaddr.asSlice(0, SOCKADDR_IN_SIZE).fill((byte)0);
            in.set(JAVA_SHORT, 0, (short)Syscalls.AF_INET);
            in.set(NETWORK_SHORT, 2, (short)address.getPort());
            MemorySegment.copy(bytes, 0, in, JAVA_BYTE, 4, 4);
            return in;
        }
        final MemorySegment in6 = sockaddr.asSlice(0, SOCKADDR_IN6_SIZE).fill((byte)0);
        in6.set(JAVA_SHORT, 0, (short)Syscalls.AF_INET6);
        in6.set(NETWORK_SHORT, 2, (short)address.getPort());
        MemorySegment.copy(bytes, 0, in6, JAVA_BYTE, 8, 16);
        in6.set(JAVA_INT, 24, ((Inet6Address)ip).getScopeId());
        return in6;
    }

    /**
     * An IPv4 socket address as one long (address in bits 16-47, port in 0-15), or -1 for another family. An accepted
     * client's address is kept this way: an InetSocketAddress and its holders are ~96 bytes per idle connection,
     * made only when somebody asks ({@link #unpackV4}).
     */
    public static long packV4(final MemorySegment sockaddr)
    {
        if (sockaddr.get(JAVA_SHORT, 0) != Syscalls.AF_INET)
        {
            return -1;
        }
        final long port = Short.toUnsignedInt(sockaddr.get(NETWORK_SHORT, 2));
        final long ip = Integer.toUnsignedLong(sockaddr.get(NETWORK_INT, 4));
        return ip << 16 | port;
    }

    public static InetSocketAddress unpackV4(final long packed)
    {
        final int ip = (int)(packed >>> 16);
        final byte[] bytes = {(byte)(ip >>> 24), (byte)(ip >>> 16), (byte)(ip >>> 8), (byte)ip};
        try
        {
            return new InetSocketAddress(InetAddress.getByAddress(bytes), (int)(packed & 0xFFFF));
        }
        catch (final UnknownHostException e)
        {
            throw new IllegalStateException(e); // four bytes: never
        }
    }

    /** Reads back what getsockname wrote, e.g. the port the kernel chose for a bind to port 0. */
    public static InetSocketAddress read(final MemorySegment sockaddr)
    {
        final int family = sockaddr.get(JAVA_SHORT, 0);
        final int port = Short.toUnsignedInt(sockaddr.get(NETWORK_SHORT, 2));
        final byte[] bytes;
        if (family == Syscalls.AF_INET)
        {
            bytes = sockaddr.asSlice(4, 4).toArray(JAVA_BYTE);
        }
        else if (family == Syscalls.AF_INET6)
        {
            bytes = sockaddr.asSlice(8, 16).toArray(JAVA_BYTE);
        }
        else
        {
            throw new IllegalArgumentException("address family " + family);
        }
        try
        {
            return new InetSocketAddress(InetAddress.getByAddress(bytes), port);
        }
        catch (final UnknownHostException e)
        {
            throw new IllegalStateException(e); // only for a wrong length, excluded above
        }
    }
}
