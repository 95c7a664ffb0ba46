package io.centrigate.h2;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * HPACK encoding (RFC 7541) of the field blocks we send: response heads and trailers. It keeps no dynamic table:
 * the first block opens with a size update to 0 (§6.3), so no later SETTINGS_HEADER_TABLE_SIZE of the peer's can
 * require one, and every field is a static-table index (a {@code :status} the table holds) or a literal without
 * indexing (§6.2.2), or never indexed (§6.2.3) when asked, with the static table's name index where it has the
 * name. Values are Huffman-coded (Appendix B) when that is shorter and the encoder was built to; names are written
 * in lower case (RFC 9113 §8.2.1) as plain literals.
 * <p>
 * The caller leaves room: {@link #maxFieldLength} bounds what one field takes.
 */
public final class HpackEncoder
{
    private final boolean huffman;
    private boolean sizeUpdatePending = true;

    public HpackEncoder(final boolean huffman)
    {
        this.huffman = huffman;
    }

    /** An upper bound of the bytes one field takes (representation byte, two length integers, the strings). */
    public static int maxFieldLength(final int nameLength, final int valueLength)
    {
        return 1 + 5 + 5 + nameLength + 5 + valueLength;
    }

    /** Call at the start of every field block; writes the pending table size update, if any. */
    public int startBlock(final MutableDirectBuffer dst, final int offset)
    {
        if (!sizeUpdatePending)
        {
            return 0;
        }
        sizeUpdatePending = false;
        dst.putByte(offset, (byte)0x20);
        return 1;
    }

    /** {@code :status} as a static index when the table has it (§A: 200, 204, 206, 304, 400, 404, 500). */
    public int status(final MutableDirectBuffer dst, final int offset, final int status)
    {
        final int index;
        switch (status)
        {
            case 200: index = 8; break;
            case 204: index = 9; break;
            case 206: index = 10; break;
            case 304: index = 11; break;
            case 400: index = 12; break;
            case 404: index = 13; break;
            case 500: index = 14; break;
            default: index = 0; break;
        }
        if (index != 0)
        {
            dst.putByte(offset, (byte)(0x80 | index));
            return 1;
        }
        if (status < 100 || status > 999)
        {
            throw new IllegalArgumentException("status " + status);
        }
        dst.putByte(offset, (byte)StaticTable.STATUS);
        dst.putByte(offset + 1, (byte)3);
        dst.putByte(offset + 2, (byte)('0' + status / 100));
        dst.putByte(offset + 3, (byte)('0' + status / 10 % 10));
        dst.putByte(offset + 4, (byte)('0' + status % 10));
        return 5;
    }

    /** A field as a literal without indexing, or never indexed; the name is written in lower case. */
    public int field(
        final MutableDirectBuffer dst,
        final int offset,
        final DirectBuffer name,
        final int nameOffset,
        final int nameLength,
        final DirectBuffer value,
        final int valueOffset,
        final int valueLength,
        final boolean neverIndexed)
    {
        final int flags = neverIndexed ? 0x10 : 0x00;
        final int nameIndex = StaticTable.nameIndex(name, nameOffset, nameLength);
        int p = offset;
        if (nameIndex != 0)
        {
            p += integer(dst, p, nameIndex, 4, flags);
        }
        else
        {
            dst.putByte(p++, (byte)flags);
            p += integer(dst, p, nameLength, 7, 0);
            for (int i = 0; i < nameLength; i++)
            {
                int b = name.getByte(nameOffset + i);
                if (b >= 'A' && b <= 'Z')
                {
                    b += 'a' - 'A';
                }
                dst.putByte(p++, (byte)b);
            }
        }
        return p - offset + string(dst, p, value, valueOffset, valueLength);
    }

    private int string(
        final MutableDirectBuffer dst,
        final int offset,
        final DirectBuffer value,
        final int valueOffset,
        final int valueLength)
    {
        if (huffman)
        {
            final int coded = Huffman.encodedLength(value, valueOffset, valueLength);
            if (coded < valueLength)
            {
                final int p = offset + integer(dst, offset, coded, 7, 0x80);
                return p - offset + Huffman.encode(value, valueOffset, valueLength, dst, p);
            }
        }
        final int p = offset + integer(dst, offset, valueLength, 7, 0);
        if (valueLength > 0)
        {
            dst.putBytes(p, value, valueOffset, valueLength);
        }
        return p - offset + valueLength;
    }

    /** §5.1: {@code value} with an N-bit prefix, the first byte's other bits being {@code flags}. */
    static int integer(final MutableDirectBuffer dst, final int offset, final int value, final int prefixBits,
        final int flags)
    {
        final int prefixMax = (1 << prefixBits) - 1;
        if (value < prefixMax)
        {
            dst.putByte(offset, (byte)(flags | value));
            return 1;
        }
        dst.putByte(offset, (byte)(flags | prefixMax));
        int p = offset + 1;
        int rest = value - prefixMax;
        while (rest >= 0x80)
        {
            dst.putByte(p++, (byte)(rest & 0x7f | 0x80));
            rest >>>= 7;
        }
        dst.putByte(p++, (byte)rest);
        return p - offset;
    }
}
