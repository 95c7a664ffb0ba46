package io.centrigate.config;

import java.net.InetAddress;
import java.util.List;

/**
 * A set of {@link Cidr} ranges matched against raw address bytes (4 or 16), so a loop can test an address it parsed
 * itself (a PROXY protocol source, an {@code X-Forwarded-For} entry) without making an {@link InetAddress}.
 * Immutable: shared by the loops.
 */
public final class AddressRanges
{
    public static final AddressRanges NONE = new AddressRanges(List.of());

    private final Cidr[] ranges;

    public AddressRanges(final List<String> cidrs)
    {
        ranges = cidrs.stream().map(Cidr::parse).toArray(Cidr[]::new);
    }

    public boolean isEmpty()
    {
        return ranges.length == 0;
    }

    public boolean contains(final InetAddress address)
    {
        final byte[] bytes = address.getAddress();
        return contains(bytes, bytes.length);
    }

    /** Whether {@code address[0, length)} (4 bytes IPv4, 16 IPv6; the two never match each other) is in a range. */
    public boolean contains(final byte[] address, final int length)
    {
        for (final Cidr range : ranges)
        {
            if (range.contains(address, length))
            {
                return true;
            }
        }
        return false;
    }
}
