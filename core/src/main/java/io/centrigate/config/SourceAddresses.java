package io.centrigate.config;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The {@code upstream-source} syntax: {@code ADDR[-ADDR][,...]}, e.g. {@code 127.0.0.2-127.0.0.17} or
 * {@code 10.0.0.5,10.0.0.6}. Ranges are IPv4 only (an IPv6 address is given one by one); every address of a
 * list is of one family; at most {@link #MAX_ADDRESSES} in all. Addresses only, never names: a source address
 * must not depend on DNS. Cold path.
 */
public final class SourceAddresses
{
    /**
     * More than any real box has configured: 4,096 addresses x 28,232 ports of the default range is over 115 million
     * tunnels to one node address, and the per-loop failure marks stay a small array.
     */
    public static final int MAX_ADDRESSES = 4096;

    private SourceAddresses()
    {
    }

    /**
     * @param specs the values as given, each {@code ADDR[-ADDR][,...]}; an empty list means no source binding.
     * @return the addresses in the order given (ranges ascending), duplicates dropped.
     * @throws IllegalArgumentException naming {@code what}, for a malformed address or range, a range from high
     *         to low, an IPv6 range, mixed families, or more than {@link #MAX_ADDRESSES} addresses.
     */
    public static List<InetAddress> parse(final List<String> specs, final String what)
    {
        final Set<InetAddress> addresses = new LinkedHashSet<>();
        for (final String spec : specs)
        {
            for (final String part : spec.split(",", -1))
            {
                final String item = part.trim();
                if (item.isEmpty())
                {
                    throw new IllegalArgumentException(what + ": empty address in '" + spec + "'");
                }
                final int dash = item.indexOf('-');
                if (dash < 0)
                {
                    addresses.add(address(item, what));
                    checkCount(addresses.size(), what);
                    continue;
                }
                final InetAddress first = address(item.substring(0, dash).trim(), what);
                final InetAddress last = address(item.substring(dash + 1).trim(), what);
                if (!(first instanceof Inet4Address) || !(last instanceof Inet4Address))
                {
                    throw new IllegalArgumentException(what + ": ranges are IPv4 only, got '" + item
                        + "' (list IPv6 addresses one by one)");
                }
                final long from = ipv4(first);
                final long to = ipv4(last);
                if (to < from)
                {
                    throw new IllegalArgumentException(what + ": range goes down in '" + item + "'");
                }
                if (to - from + 1 > MAX_ADDRESSES)
                {
                    throw new IllegalArgumentException(what + ": range '" + item + "' has " + (to - from + 1)
                        + " addresses, at most " + MAX_ADDRESSES);
                }
                for (long a = from; a <= to; a++)
                {
                    addresses.add(ipv4(a));
                    checkCount(addresses.size(), what);
                }
            }
        }
        final List<InetAddress> list = new ArrayList<>(addresses);
        for (final InetAddress a : list)
        {
            if (a.getClass() != list.get(0).getClass())
            {
                throw new IllegalArgumentException(what + ": mixes IPv4 and IPv6 addresses (" +
                    list.get(0).getHostAddress() + ", " + a.getHostAddress() + "); give one family");
            }
        }
        return List.copyOf(list);
    }

    private static void checkCount(final int count, final String what)
    {
        if (count > MAX_ADDRESSES)
        {
            throw new IllegalArgumentException(what + ": more than " + MAX_ADDRESSES + " addresses");
        }
    }

    private static InetAddress address(final String text, final String what)
    {
        final String literal = text.startsWith("[") && text.endsWith("]") ? text.substring(1, text.length() - 1) : text;
        final boolean v4 = literal.matches("[0-9]{1,3}(\\.[0-9]{1,3}){3}");
        final boolean v6 = literal.indexOf(':') >= 0 && literal.matches("[0-9a-fA-F:.]+");
        if (!v4 && !v6)
        {
            throw new IllegalArgumentException(what + ": expected an IP address, got '" + text + "'");
        }
        final InetAddress address;
        try
        {
            address = InetAddress.getByName(literal);
        }
        catch (final UnknownHostException e)
        {
            throw new IllegalArgumentException(what + ": expected an IP address, got '" + text + "'");
        }
        if (address.isAnyLocalAddress() || address.isMulticastAddress())
        {
            throw new IllegalArgumentException(what + ": '" + text + "' cannot be a source address");
        }
        if (v6 && !(address instanceof Inet6Address))
        {
            // ::ffff:a.b.c.d comes back as IPv4: say it plainly instead of mixing families silently.
            throw new IllegalArgumentException(what + ": write IPv4-mapped '" + text + "' as its IPv4 address");
        }
        return address;
    }

    private static long ipv4(final InetAddress a)
    {
        final byte[] b = a.getAddress();
        return (b[0] & 0xFFL) << 24 | (b[1] & 0xFFL) << 16 | (b[2] & 0xFFL) << 8 | (b[3] & 0xFFL);
    }

    private static InetAddress ipv4(final long v)
    {
        try
        {
            return InetAddress.getByAddress(new byte[] {(byte)(v >>> 24), (byte)(v >>> 16), (byte)(v >>> 8), (byte)v});
        }
        catch (final UnknownHostException e)
        {
            throw new IllegalStateException(e); // four bytes are always an address
        }
    }
}
