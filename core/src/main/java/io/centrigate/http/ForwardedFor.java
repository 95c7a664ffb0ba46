package io.centrigate.http;

import org.agrona.DirectBuffer;

import io.centrigate.config.AddressRanges;

/**
 * The client address behind trusted forwarders (a CDN, an HTTP load balancer): when the connection comes from an
 * address in {@code --trusted-proxies}, the client is the rightmost {@code X-Forwarded-For} entry that is not itself
 * trusted, as Nginx's {@code real_ip_recursive on} decides. Entries are read right to left over every
 * {@code X-Forwarded-For} line, the last line first (RFC 9110 §5.3: several lines are one comma-separated list).
 * <ul>
 * <li>An entry is an IPv4 or IPv6 address, optionally with a port ({@code 192.0.2.1:4711}, {@code [2001:db8::1]:4711},
 * as some load balancers write it) or in brackets; empty list elements are skipped (RFC 9110 §5.6.1).</li>
 * <li>An entry that is not an address ({@code unknown}, an obfuscated identifier, garbage) ends the walk: the client
 * is the last address walked over, or the peer itself when that was the rightmost entry. Nothing left of an entry
 * no trusted hop vouched for can be believed.</li>
 * <li>When every entry is trusted, the leftmost is the client (as Nginx does).</li>
 * <li>An IPv4-mapped IPv6 entry is its IPv4 address ({@link IpText#unmap}).</li>
 * </ul>
 * Works on the parsed head's offsets and writes the address, in RFC 5952 text, into a caller's array: no allocation.
 * One per loop.
 */
public final class ForwardedFor
{
    private final byte[] address = new byte[16];
    private int addressLength;

    /**
     * @param head    a parsed head of {@code src}.
     * @param trusted the trusted forwarders.
     * @param text    receives the client's address as text (at least {@link IpText#MAX_TEXT} bytes).
     * @return the length of the text written, or 0 when the peer stays the client (no usable entry).
     */
    public int resolve(final RequestHead head, final DirectBuffer src, final AddressRanges trusted, final byte[] text)
    {
        final FieldLines fields = head.fields();
        int found = 0;
        for (int i = fields.count - 1; i >= 0; i--)
        {
            if (fields.kind(i) != FieldLines.X_FORWARDED_FOR)
            {
                continue;
            }
            final int from = fields.valueOffset(i);
            int p = from + fields.valueLength(i);
            while (p > from)
            {
                int end = p;
                int start = end;
                while (start > from && src.getByte(start - 1) != ',')
                {
                    start--;
                }
                p = start > from ? start - 1 : from;
                while (start < end && isOws(src.getByte(start)))
                {
                    start++;
                }
                while (end > start && isOws(src.getByte(end - 1)))
                {
                    end--;
                }
                if (start == end)
                {
                    continue;
                }
                final int length = IpText.unmap(address, entry(src, start, end));
                if (length < 0)
                {
                    return found;
                }
                addressLength = length;
                found = IpText.format(address, length, text);
                if (!trusted.contains(address, length))
                {
                    return found;
                }
            }
        }
        return found;
    }

    /** The address of the last {@link #resolve} that found one: its bytes, {@link #addressLength()} of them. */
    public byte[] address()
    {
        return address;
    }

    public int addressLength()
    {
        return addressLength;
    }

    /** One list element as an address (a port or brackets allowed) into {@link #address}: 4, 16, or -1. */
    private int entry(final DirectBuffer src, final int start, final int end)
    {
        if (src.getByte(start) == '[')
        {
            int close = start + 1;
            while (close < end && src.getByte(close) != ']')
            {
                close++;
            }
            if (close == end || (close + 1 < end && !isPort(src, close + 1, end)))
            {
                return -1;
            }
            final int n = IpText.parse(src, start + 1, close - start - 1, address);
            return n == 16 ? n : -1;
        }
        int colons = 0;
        int lastColon = -1;
        for (int i = start; i < end; i++)
        {
            if (src.getByte(i) == ':')
            {
                colons++;
                lastColon = i;
            }
        }
        if (colons == 1)
        {
            // IPv4 with a port; a bare IPv6 address has at least two colons.
            if (!isPort(src, lastColon, end))
            {
                return -1;
            }
            final int n = IpText.parse(src, start, lastColon - start, address);
            return n == 4 ? n : -1;
        }
        return IpText.parse(src, start, end - start, address);
    }

    /** {@code :} followed by 1 to 5 digits. */
    private static boolean isPort(final DirectBuffer src, final int colon, final int end)
    {
        if (src.getByte(colon) != ':' || end - colon < 2 || end - colon > 6)
        {
            return false;
        }
        for (int i = colon + 1; i < end; i++)
        {
            final byte b = src.getByte(i);
            if (b < '0' || b > '9')
            {
                return false;
            }
        }
        return true;
    }

    private static boolean isOws(final byte b)
    {
        return b == ' ' || b == '\t';
    }
}
