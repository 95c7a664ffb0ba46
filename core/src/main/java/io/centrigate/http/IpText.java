package io.centrigate.http;

import org.agrona.DirectBuffer;

/**
 * IP addresses as text, read from and written to bytes without a {@link String} or an {@link java.net.InetAddress}:
 * PROXY protocol v1 lines and {@code X-Forwarded-For} entries are parsed with it, and the client address the node
 * sees is written with it.
 * <p>
 * Parsing is strict, as the PROXY protocol asks (section 2.1) and as {@code inet_pton} is: IPv4 is exactly four
 * decimal numbers 0..255 without leading zeros (no octal ambiguity, no shortened forms); IPv6 is RFC 4291 §2.2 text
 * (1 to 4 hex digits per group, at most one {@code ::}, an optional dotted IPv4 tail) without a zone. Writing follows
 * RFC 5952 (lower case, no leading zeros, the longest run of two or more zero groups as {@code ::}, IPv4-mapped
 * addresses as {@code ::ffff:192.0.2.1}).
 */
public final class IpText
{
    /** Longest text {@link #format} writes: {@code ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255} is 45. */
    public static final int MAX_TEXT = 46;

    private static final byte[] HEX = Ascii.bytes("0123456789abcdef");
    private static final byte[] MAPPED_PREFIX = Ascii.bytes("::ffff:");

    private IpText()
    {
    }

    /**
     * Parses {@code buf[offset, offset + length)} as an IPv4 or IPv6 address into {@code out} (at least 16 bytes).
     *
     * @return 4 or 16 (the address's length in {@code out}), or -1 when the text is not exactly one address.
     */
    public static int parse(final DirectBuffer buf, final int offset, final int length, final byte[] out)
    {
        if (length <= 0 || length > MAX_TEXT)
        {
            return -1;
        }
        for (int i = offset; i < offset + length; i++)
        {
            if (buf.getByte(i) == ':')
            {
                return parseV6(buf, offset, length, out) ? 16 : -1;
            }
        }
        return parseV4(buf, offset, length, out, 0) ? 4 : -1;
    }

    /** Four decimal parts 0..255 without leading zeros, into {@code out[at, at + 4)}. */
    static boolean parseV4(final DirectBuffer buf, final int offset, final int length, final byte[] out, final int at)
    {
        final int end = offset + length;
        int i = offset;
        for (int part = 0; part < 4; part++)
        {
            if (part > 0)
            {
                if (i >= end || buf.getByte(i) != '.')
                {
                    return false;
                }
                i++;
            }
            final int start = i;
            int value = 0;
            while (i < end && i - start < 3)
            {
                final byte b = buf.getByte(i);
                if (b < '0' || b > '9')
                {
                    break;
                }
                value = value * 10 + (b - '0');
                i++;
            }
            final int digits = i - start;
            if (digits == 0 || value > 255 || (digits > 1 && buf.getByte(start) == '0'))
            {
                return false;
            }
            out[at + part] = (byte)value;
        }
        return i == end;
    }

    private static boolean parseV6(final DirectBuffer buf, final int offset, final int length, final byte[] out)
    {
        final int end = offset + length;
        // Groups before the "::" go to the front, those after it are collected and moved to the back at the end.
        int groups = 0;
        int gap = -1;
        int i = offset;
        if (buf.getByte(i) == ':')
        {
            if (length < 2 || buf.getByte(i + 1) != ':')
            {
                return false;
            }
            gap = 0;
            i += 2;
        }
        while (i < end)
        {
            final int start = i;
            int value = 0;
            while (i < end && i - start < 5)
            {
                final int h = hexValue(buf.getByte(i));
                if (h < 0)
                {
                    break;
                }
                value = (value << 4) | h;
                i++;
            }
            final int digits = i - start;
            if (i < end && buf.getByte(i) == '.')
            {
                // A dotted IPv4 tail: the last 32 bits, and the end of the text.
                if (groups > 6 || !parseV4(buf, start, end - start, out, groups * 2))
                {
                    return false;
                }
                groups += 2;
                i = end;
                break;
            }
            if (digits == 0 || digits > 4 || groups == 8)
            {
                return false;
            }
            out[groups * 2] = (byte)(value >>> 8);
            out[groups * 2 + 1] = (byte)value;
            groups++;
            if (i == end)
            {
                break;
            }
            if (buf.getByte(i) != ':')
            {
                return false;
            }
            i++;
            if (i < end && buf.getByte(i) == ':')
            {
                if (gap >= 0)
                {
                    return false; // a second "::"
                }
                gap = groups;
                i++;
            }
            else if (i == end)
            {
                return false; // a single trailing colon
            }
        }
        if (gap < 0)
        {
            return groups == 8;
        }
        if (groups > 7)
        {
            return false; // "::" stands for at least one group
        }
        final int shift = 8 - groups;
        for (int g = groups - 1; g >= gap; g--)
        {
            out[(g + shift) * 2] = out[g * 2];
            out[(g + shift) * 2 + 1] = out[g * 2 + 1];
        }
        for (int g = gap; g < gap + shift; g++)
        {
            out[g * 2] = 0;
            out[g * 2 + 1] = 0;
        }
        return true;
    }

    private static int hexValue(final byte b)
    {
        if (b >= '0' && b <= '9')
        {
            return b - '0';
        }
        if (b >= 'a' && b <= 'f')
        {
            return b - 'a' + 10;
        }
        if (b >= 'A' && b <= 'F')
        {
            return b - 'A' + 10;
        }
        return -1;
    }

    /**
     * An IPv4-mapped IPv6 address ({@code ::ffff:192.0.2.1}, RFC 4291 §2.5.5.2) becomes the IPv4 address it maps, in
     * place, as the JDK does for the peer of a dual-stack socket: so the ranges of {@code --internal-allow} and
     * {@code --trusted-proxies} judge such a client by its IPv4 address, as they judge a direct one.
     *
     * @return the address's length now: 4 when it was mapped, else {@code length}.
     */
    public static int unmap(final byte[] address, final int length)
    {
        if (length != 16 || address[10] != (byte)0xFF || address[11] != (byte)0xFF)
        {
            return length;
        }
        for (int i = 0; i < 10; i++)
        {
            if (address[i] != 0)
            {
                return length;
            }
        }
        System.arraycopy(address, 12, address, 0, 4);
        return 4;
    }

    /**
     * Writes {@code address[0, length)} (4 or 16 bytes) as text into {@code out} (at least {@link #MAX_TEXT} bytes).
     *
     * @return the text's length.
     */
    public static int format(final byte[] address, final int length, final byte[] out)
    {
        if (length == 4)
        {
            return formatV4(address, 0, out, 0);
        }
        boolean mapped = true;
        for (int i = 0; i < 10 && mapped; i++)
        {
            mapped = address[i] == 0;
        }
        if (mapped && address[10] == (byte)0xFF && address[11] == (byte)0xFF)
        {
            System.arraycopy(MAPPED_PREFIX, 0, out, 0, MAPPED_PREFIX.length);
            return MAPPED_PREFIX.length + formatV4(address, 12, out, MAPPED_PREFIX.length);
        }
        // RFC 5952 §4.2: the longest run of at least two zero groups (the first of equal ones) becomes "::".
        int bestStart = -1;
        int bestLength = 1;
        for (int g = 0; g < 8; )
        {
            if (group(address, g) != 0)
            {
                g++;
                continue;
            }
            final int start = g;
            while (g < 8 && group(address, g) == 0)
            {
                g++;
            }
            if (g - start > bestLength)
            {
                bestStart = start;
                bestLength = g - start;
            }
        }
        int p = 0;
        for (int g = 0; g < 8; g++)
        {
            if (g == bestStart)
            {
                out[p++] = ':';
                if (g == 0)
                {
                    out[p++] = ':';
                }
                g += bestLength - 1;
                continue;
            }
            final int v = group(address, g);
            boolean started = false;
            for (int shift = 12; shift >= 0; shift -= 4)
            {
                final int nibble = (v >>> shift) & 0xF;
                if (nibble != 0 || started || shift == 0)
                {
                    out[p++] = HEX[nibble];
                    started = true;
                }
            }
            if (g < 7)
            {
                out[p++] = ':';
            }
        }
        return p;
    }

    private static int group(final byte[] address, final int g)
    {
        return ((address[g * 2] & 0xFF) << 8) | (address[g * 2 + 1] & 0xFF);
    }

    private static int formatV4(final byte[] address, final int from, final byte[] out, final int at)
    {
        int p = at;
        for (int i = 0; i < 4; i++)
        {
            if (i > 0)
            {
                out[p++] = '.';
            }
            final int v = address[from + i] & 0xFF;
            if (v >= 100)
            {
                out[p++] = (byte)('0' + v / 100);
            }
            if (v >= 10)
            {
                out[p++] = (byte)('0' + v / 10 % 10);
            }
            out[p++] = (byte)('0' + v % 10);
        }
        return p - at;
    }
}
