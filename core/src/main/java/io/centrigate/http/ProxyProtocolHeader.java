package io.centrigate.http;

import org.agrona.DirectBuffer;

/**
 * The PROXY protocol header (HAProxy's {@code proxy-protocol.txt}, versions 1 and 2) a load balancer sends before
 * anything else on a connection, parsed strictly from the bytes received so far. A listener that requires it takes
 * nothing else until it is whole; the source address it carries becomes the connection's client address.
 * <p>
 * {@link #parse} looks at the bytes from the start of the connection each time more arrive (a header is at most
 * {@code maxLength} bytes and nearly always arrives in one segment, so rescanning costs less than keeping state) and
 * rejects at the first byte that cannot begin a valid header:
 * <ul>
 * <li>{@link #MISSING}: the first bytes are neither {@code "PROXY "} (v1) nor the 12-byte v2 signature
 * {@code \r\n\r\n\0\r\nQUIT\n}: a client that connected without a load balancer, or one that does not send it.</li>
 * <li>{@link #MALFORMED}: v1: not exactly {@code PROXY TCP4|TCP6 src dst sport dport\r\n} with single spaces,
 * addresses of the announced family (IPv4 without leading zeros), ports 0..65535 without leading zeros, a CR or LF
 * that is not a CRLF; or {@code PROXY UNKNOWN} not followed by a space or the CRLF. v2: a version other than 2, a
 * command other than LOCAL or PROXY, a family/protocol byte outside the specification's list, a length shorter than
 * the announced addresses, a TLV that runs past the header, or a CRC32C TLV whose checksum does not match.</li>
 * <li>{@link #OVERSIZED}: v1 without its CRLF in the first 107 bytes (the specification's longest line); v2 whose
 * 16 + length exceeds {@code maxLength}.</li>
 * </ul>
 * Accepted, with the direct peer as the client ({@link #hasSource()} false): v2 {@code LOCAL} (a load balancer's
 * own health check), v1 {@code UNKNOWN}, and v2 {@code PROXY} for families that are not TCP over IPv4/IPv6 (UNSPEC,
 * UDP, UNIX: the specification lets a receiver fall back to the real endpoints for those). TLVs are walked to check
 * that they tile the rest of the header exactly, and otherwise skipped.
 * <p>
 * An IPv4-mapped source ({@code ::ffff:192.0.2.7}) is taken as the IPv4 address ({@link IpText#unmap}).
 * <p>
 * One per loop; what it says about a header holds until the next call. Allocates nothing.
 */
public final class ProxyProtocolHeader
{
    /** The header is not complete yet: read on. */
    public static final int INCOMPLETE = 0;
    public static final int MISSING = -1;
    public static final int MALFORMED = -2;
    public static final int OVERSIZED = -3;

    /** Section 2.1: {@code "PROXY UNKNOWN ffff:f...f:ffff ffff:f...f:ffff 65535 65535\r\n"}. */
    public static final int V1_MAX_LENGTH = 107;
    public static final int V2_FIXED_LENGTH = 16;
    /** The largest v2 address block (two UNIX paths of 108 bytes): a bound below it would refuse valid headers. */
    public static final int MIN_MAX_LENGTH = V2_FIXED_LENGTH + 216;

    private static final byte[] V1_PREFIX = Ascii.bytes("PROXY ");
    private static final byte[] V2_SIGNATURE = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
    private static final byte[] TCP4 = Ascii.bytes("TCP4 ");
    private static final byte[] TCP6 = Ascii.bytes("TCP6 ");
    private static final byte[] UNKNOWN = Ascii.bytes("UNKNOWN");
    private static final int PP2_TYPE_CRC32C = 0x03;
    private static final int[] CRC32C_TABLE = crc32cTable();

    private final int maxLength;
    private final byte[] scratch = new byte[16];
    private final byte[] source = new byte[16];
    private int sourceLength;
    private int sourcePort;
    private int version;
    private boolean local;

    /** @param maxLength the largest v2 header (16 bytes + its length field) accepted, at least {@link #MIN_MAX_LENGTH}. */
    public ProxyProtocolHeader(final int maxLength)
    {
        if (maxLength < MIN_MAX_LENGTH)
        {
            throw new IllegalArgumentException("a PROXY header bound below " + MIN_MAX_LENGTH + " bytes refuses valid headers");
        }
        this.maxLength = maxLength;
    }

    /**
     * Looks at the first {@code length} bytes of a connection, {@code buf[offset, offset + length)}.
     *
     * @return the header's length once it is whole and valid (what follows it is the connection's data),
     * {@link #INCOMPLETE}, or {@link #MISSING}, {@link #MALFORMED}, {@link #OVERSIZED}.
     */
    public int parse(final DirectBuffer buf, final int offset, final int length)
    {
        sourceLength = 0;
        sourcePort = -1;
        local = false;
        version = 0;
        if (length <= 0)
        {
            return INCOMPLETE;
        }
        final byte first = buf.getByte(offset);
        if (first == 'P')
        {
            if (!startsAs(buf, offset, length, V1_PREFIX))
            {
                return MISSING;
            }
            return length < V1_PREFIX.length ? INCOMPLETE : parseV1(buf, offset, length);
        }
        if (first == V2_SIGNATURE[0])
        {
            if (!startsAs(buf, offset, length, V2_SIGNATURE))
            {
                return MISSING;
            }
            return parseV2(buf, offset, length);
        }
        return MISSING;
    }

    /** Whether the bytes there so far agree with {@code prefix} (all of them, or as many as arrived). */
    private static boolean startsAs(final DirectBuffer buf, final int offset, final int length, final byte[] prefix)
    {
        final int n = Math.min(length, prefix.length);
        for (int i = 0; i < n; i++)
        {
            if (buf.getByte(offset + i) != prefix[i])
            {
                return false;
            }
        }
        return true;
    }

    // ---------------------------------------------------------------- version 1

    private int parseV1(final DirectBuffer buf, final int offset, final int length)
    {
        // Section 2.1: wait for the CRLF before decoding; no single CR or LF may end the line.
        // The LF is byte 107 at the latest, so the CR is byte 106 at the latest.
        final int scan = Math.min(length, V1_MAX_LENGTH - 1);
        int cr = -1;
        for (int i = V1_PREFIX.length; i < scan; i++)
        {
            final byte b = buf.getByte(offset + i);
            if (b == '\n')
            {
                return MALFORMED;
            }
            if (b == '\r')
            {
                cr = i;
                break;
            }
        }
        if (cr < 0)
        {
            return length >= V1_MAX_LENGTH - 1 ? OVERSIZED : INCOMPLETE;
        }
        if (cr + 1 >= length)
        {
            return INCOMPLETE;
        }
        if (buf.getByte(offset + cr + 1) != '\n')
        {
            return MALFORMED;
        }
        version = 1;
        final int headerLength = cr + 2;
        int p = offset + V1_PREFIX.length;
        final int end = offset + cr;
        if (matches(buf, p, end, UNKNOWN))
        {
            // "the receiver must ignore anything presented before the CRLF"; UNKNOWNX is not UNKNOWN.
            p += UNKNOWN.length;
            return p == end || buf.getByte(p) == ' ' ? headerLength : MALFORMED;
        }
        final boolean v4;
        if (matches(buf, p, end, TCP4))
        {
            v4 = true;
        }
        else if (matches(buf, p, end, TCP6))
        {
            v4 = false;
        }
        else
        {
            return MALFORMED;
        }
        p += TCP4.length;
        final int srcEnd = nextSpace(buf, p, end);
        if (srcEnd < 0 || !address(buf, p, srcEnd, v4, source))
        {
            return MALFORMED;
        }
        p = srcEnd + 1;
        final int dstEnd = nextSpace(buf, p, end);
        if (dstEnd < 0 || !address(buf, p, dstEnd, v4, scratch))
        {
            return MALFORMED;
        }
        p = dstEnd + 1;
        final int sportEnd = nextSpace(buf, p, end);
        if (sportEnd < 0)
        {
            return MALFORMED;
        }
        final int sport = port(buf, p, sportEnd);
        final int dport = port(buf, sportEnd + 1, end);
        if (sport < 0 || dport < 0)
        {
            return MALFORMED;
        }
        sourceLength = IpText.unmap(source, v4 ? 4 : 16);
        sourcePort = sport;
        return headerLength;
    }

    private static boolean matches(final DirectBuffer buf, final int p, final int end, final byte[] token)
    {
        if (end - p < token.length)
        {
            return false;
        }
        for (int i = 0; i < token.length; i++)
        {
            if (buf.getByte(p + i) != token[i])
            {
                return false;
            }
        }
        return true;
    }

    /** The next single space at or after {@code p} that ends a non-empty token, or -1. */
    private static int nextSpace(final DirectBuffer buf, final int p, final int end)
    {
        for (int i = p; i < end; i++)
        {
            if (buf.getByte(i) == ' ')
            {
                return i > p ? i : -1;
            }
        }
        return -1;
    }

    private static boolean address(final DirectBuffer buf, final int from, final int to, final boolean v4,
        final byte[] out)
    {
        final int parsed = IpText.parse(buf, from, to - from, out);
        return v4 ? parsed == 4 : parsed == 16;
    }

    /** A decimal port 0..65535 without leading zeros, or -1. */
    private static int port(final DirectBuffer buf, final int from, final int to)
    {
        final int digits = to - from;
        if (digits < 1 || digits > 5 || (digits > 1 && buf.getByte(from) == '0'))
        {
            return -1;
        }
        int value = 0;
        for (int i = from; i < to; i++)
        {
            final byte b = buf.getByte(i);
            if (b < '0' || b > '9')
            {
                return -1;
            }
            value = value * 10 + (b - '0');
        }
        return value <= 65535 ? value : -1;
    }

    // ---------------------------------------------------------------- version 2

    private int parseV2(final DirectBuffer buf, final int offset, final int length)
    {
        if (length < V2_FIXED_LENGTH)
        {
            return INCOMPLETE;
        }
        final int versionCommand = buf.getByte(offset + 12) & 0xFF;
        if ((versionCommand >>> 4) != 2 || (versionCommand & 0x0F) > 1)
        {
            return MALFORMED;
        }
        final int family = buf.getByte(offset + 13) & 0xFF;
        final int blockLength = ((buf.getByte(offset + 14) & 0xFF) << 8) | (buf.getByte(offset + 15) & 0xFF);
        final int headerLength = V2_FIXED_LENGTH + blockLength;
        if (headerLength > maxLength)
        {
            return OVERSIZED;
        }
        if (length < headerLength)
        {
            return INCOMPLETE;
        }
        version = 2;
        if ((versionCommand & 0x0F) == 0)
        {
            // LOCAL: "discard the protocol block including the family which is ignored".
            local = true;
            return headerLength;
        }
        final int addressLength;
        switch (family)
        {
            case 0x00: return headerLength; // UNSPEC: the receiver "should ignore address information"
            case 0x11: case 0x12: addressLength = 12; break;
            case 0x21: case 0x22: addressLength = 36; break;
            case 0x31: case 0x32: addressLength = 216; break;
            default: return MALFORMED;
        }
        if (blockLength < addressLength)
        {
            return MALFORMED;
        }
        if (!tlvsValid(buf, offset, V2_FIXED_LENGTH + addressLength, headerLength))
        {
            return MALFORMED;
        }
        if (family == 0x11)
        {
            buf.getBytes(offset + V2_FIXED_LENGTH, source, 0, 4);
            sourceLength = 4;
            sourcePort = ((buf.getByte(offset + 24) & 0xFF) << 8) | (buf.getByte(offset + 25) & 0xFF);
        }
        else if (family == 0x21)
        {
            buf.getBytes(offset + V2_FIXED_LENGTH, source, 0, 16);
            sourceLength = IpText.unmap(source, 16);
            sourcePort = ((buf.getByte(offset + 48) & 0xFF) << 8) | (buf.getByte(offset + 49) & 0xFF);
        }
        // UDP and UNIX: valid, but not what reached us over TCP; the real endpoints stand (section 2.2).
        return headerLength;
    }

    /** TLVs from {@code from} must tile {@code [from, end)} exactly; a CRC32C one must match the header. */
    private static boolean tlvsValid(final DirectBuffer buf, final int offset, final int from, final int end)
    {
        int p = from;
        while (p < end)
        {
            if (end - p < 3)
            {
                return false;
            }
            final int type = buf.getByte(offset + p) & 0xFF;
            final int valueLength = ((buf.getByte(offset + p + 1) & 0xFF) << 8) | (buf.getByte(offset + p + 2) & 0xFF);
            if (valueLength > end - p - 3)
            {
                return false;
            }
            if (type == PP2_TYPE_CRC32C &&
                (valueLength != 4 || buf.getInt(offset + p + 3, java.nio.ByteOrder.BIG_ENDIAN) !=
                    crc32c(buf, offset, end, p + 3)))
            {
                return false;
            }
            p += 3 + valueLength;
        }
        return true;
    }

    /** Section 2.2.3: CRC32c (RFC 4960 Appendix B) of the whole header with the checksum's 4 bytes as zeros. */
    static int crc32c(final DirectBuffer buf, final int offset, final int length, final int checksumAt)
    {
        int crc = 0xFFFFFFFF;
        for (int i = 0; i < length; i++)
        {
            final int b = i >= checksumAt && i < checksumAt + 4 ? 0 : buf.getByte(offset + i) & 0xFF;
            crc = CRC32C_TABLE[(crc ^ b) & 0xFF] ^ (crc >>> 8);
        }
        return ~crc;
    }

    private static int[] crc32cTable()
    {
        final int[] table = new int[256];
        for (int n = 0; n < 256; n++)
        {
            int c = n;
            for (int k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0x82F63B78 ^ (c >>> 1) : c >>> 1;
            }
            table[n] = c;
        }
        return table;
    }

    // ---------------------------------------------------------------- what the last header said

    /** 1 or 2 for the last header accepted. */
    public int version()
    {
        return version;
    }

    /** A v2 LOCAL command: the load balancer's own connection (a health check). */
    public boolean local()
    {
        return local;
    }

    /** Whether the header named a TCP source to use as the client address; false for LOCAL, UNKNOWN and others. */
    public boolean hasSource()
    {
        return sourceLength != 0;
    }

    /** The source address's bytes, {@link #sourceLength()} of them (valid while {@link #hasSource()}). */
    public byte[] source()
    {
        return source;
    }

    /** 4 or 16; 0 without a source. */
    public int sourceLength()
    {
        return sourceLength;
    }

    public int sourcePort()
    {
        return sourcePort;
    }

    /** The bound given at construction: the most a reader must take before the header's end is known. */
    public int maxLength()
    {
        return maxLength;
    }
}
