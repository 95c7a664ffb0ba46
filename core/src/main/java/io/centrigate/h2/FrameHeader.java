package io.centrigate.h2;

import java.nio.ByteOrder;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * The frame layout of RFC 9113 §4.1: a 9-octet header (24-bit length, 8-bit type, 8-bit flags, a reserved bit and a
 * 31-bit stream identifier) before the payload. Static accessors over a buffer and an offset, so nothing is
 * allocated per frame.
 */
public final class FrameHeader
{
    public static final int LENGTH = 9;

    /** RFC 9113 §4.2: the initial SETTINGS_MAX_FRAME_SIZE and the smallest value a peer may advertise. */
    public static final int DEFAULT_MAX_FRAME_SIZE = 16_384;
    /** RFC 9113 §4.2: the largest frame payload the 24-bit length can carry. */
    public static final int MAX_FRAME_SIZE_LIMIT = (1 << 24) - 1;

    private FrameHeader()
    {
    }

    public static int length(final DirectBuffer buffer, final int offset)
    {
        return (buffer.getByte(offset) & 0xff) << 16 | (buffer.getByte(offset + 1) & 0xff) << 8 |
            buffer.getByte(offset + 2) & 0xff;
    }

    public static int type(final DirectBuffer buffer, final int offset)
    {
        return buffer.getByte(offset + 3) & 0xff;
    }

    public static int flags(final DirectBuffer buffer, final int offset)
    {
        return buffer.getByte(offset + 4) & 0xff;
    }

    /** RFC 9113 §4.1: the reserved bit is ignored on receipt. */
    public static int streamId(final DirectBuffer buffer, final int offset)
    {
        return buffer.getInt(offset + 5, ByteOrder.BIG_ENDIAN) & 0x7fff_ffff;
    }

    /** Writes a frame header (the reserved bit unset, as §4.1 requires of senders) and returns {@link #LENGTH}. */
    public static int write(
        final MutableDirectBuffer buffer,
        final int offset,
        final int length,
        final int type,
        final int flags,
        final int streamId)
    {
        buffer.putByte(offset, (byte)(length >>> 16));
        buffer.putByte(offset + 1, (byte)(length >>> 8));
        buffer.putByte(offset + 2, (byte)length);
        buffer.putByte(offset + 3, (byte)type);
        buffer.putByte(offset + 4, (byte)flags);
        buffer.putInt(offset + 5, streamId & 0x7fff_ffff, ByteOrder.BIG_ENDIAN);
        return LENGTH;
    }
}
