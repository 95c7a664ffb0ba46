package io.centrigate.config;

import java.net.InetAddress;
import java.net.UnknownHostException;

/** An address range like {@code 10.0.0.0/8} or {@code fc00::/7}; IPv4 and IPv6 never match each other. */
public record Cidr(byte[] network, int bits)
{
    public static Cidr parse(final String text)
    {
        final int slash = text.indexOf('/');
        final String host = slash < 0 ? text : text.substring(0, slash);
        if (!host.matches("[0-9a-fA-F:.]+"))
        {
            // Never resolve names here: an ACL must not depend on DNS.
            throw new IllegalArgumentException("not an address range: '" + text + "'");
        }
        final byte[] address;
        try
        {
            address = InetAddress.getByName(host).getAddress();
        }
        catch (final UnknownHostException e)
        {
            throw new IllegalArgumentException("not an address range: '" + text + "'");
        }
        final int bits;
        try
        {
            bits = slash < 0 ? address.length * 8 : Integer.parseInt(text.substring(slash + 1));
        }
        catch (final NumberFormatException e)
        {
            throw new IllegalArgumentException("bad prefix length in '" + text + "'");
        }
        if (bits < 0 || bits > address.length * 8)
        {
            throw new IllegalArgumentException("prefix length out of range in '" + text + "'");
        }
        return new Cidr(address, bits);
    }

    public boolean contains(final InetAddress candidate)
    {
        final byte[] a = candidate.getAddress();
        return contains(a, a.length);
    }

    /** {@code a[0, length)}: 4 bytes for IPv4, 16 for IPv6. */
    public boolean contains(final byte[] a, final int length)
    {
        if (length != network.length)
        {
            return false;
        }
        int remaining = bits;
        for (int i = 0; i < length && remaining > 0; i++, remaining -= 8)
        {
            final int mask = remaining >= 8 ? 0xFF : (0xFF << (8 - remaining)) & 0xFF;
            if ((a[i] & mask) != (network[i] & mask))
            {
                return false;
            }
        }
        return true;
    }
}
