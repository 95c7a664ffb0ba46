package io.centrigate.h2;

import java.nio.ByteOrder;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * Writes frames (RFC 9113 §6) into a buffer at an offset and returns the bytes written. The caller makes sure
 * there is room ({@link #headersLength} tells how much a field block needs once split); nothing is checked
 * against the destination's capacity beyond what the buffer itself bounds-checks. Frames are never padded and
 * carry no priority. The only state is the peer's SETTINGS_MAX_FRAME_SIZE, which decides where a field block is
 * split into CONTINUATION frames and how large a DATA frame may be.
 */
public final class FrameWriter
{
    private int maxFrameSize = FrameHeader.DEFAULT_MAX_FRAME_SIZE;

    /** The peer's SETTINGS_MAX_FRAME_SIZE, already validated by the reader. */
    public void maxFrameSize(final int size)
    {
        if (size < FrameHeader.DEFAULT_MAX_FRAME_SIZE || size > FrameHeader.MAX_FRAME_SIZE_LIMIT)
        {
            throw new IllegalArgumentException("max frame size out of [16384, 2^24-1]: " + size);
        }
        maxFrameSize = size;
    }

    public int maxFrameSize()
    {
        return maxFrameSize;
    }

    /** SETTINGS with {@code count} entries of ids and values (RFC 9113 §6.5.1). */
    public static int settings(
        final MutableDirectBuffer dst,
        final int offset,
        final int[] ids,
        final long[] values,
        final int count)
    {
        FrameHeader.write(dst, offset, 6 * count, FrameType.SETTINGS, 0, 0);
        int p = offset + FrameHeader.LENGTH;
        for (int i = 0; i < count; i++)
        {
            dst.putShort(p, (short)ids[i], ByteOrder.BIG_ENDIAN);
            dst.putInt(p + 2, (int)values[i], ByteOrder.BIG_ENDIAN);
            p += 6;
        }
        return p - offset;
    }

    public static int settingsAck(final MutableDirectBuffer dst, final int offset)
    {
        return FrameHeader.write(dst, offset, 0, FrameType.SETTINGS, FrameType.FLAG_ACK, 0);
    }

    public static int ping(final MutableDirectBuffer dst, final int offset, final boolean ack, final long opaqueData)
    {
        FrameHeader.write(dst, offset, 8, FrameType.PING, ack ? FrameType.FLAG_ACK : 0, 0);
        dst.putLong(offset + FrameHeader.LENGTH, opaqueData, ByteOrder.BIG_ENDIAN);
        return FrameHeader.LENGTH + 8;
    }

    /** GOAWAY (§6.8); {@code debug} may be null when {@code debugLength} is 0. */
    public static int goAway(
        final MutableDirectBuffer dst,
        final int offset,
        final int lastStreamId,
        final long errorCode,
        final DirectBuffer debug,
        final int debugOffset,
        final int debugLength)
    {
        FrameHeader.write(dst, offset, 8 + debugLength, FrameType.GOAWAY, 0, 0);
        final int p = offset + FrameHeader.LENGTH;
        dst.putInt(p, lastStreamId & 0x7fff_ffff, ByteOrder.BIG_ENDIAN);
        dst.putInt(p + 4, (int)errorCode, ByteOrder.BIG_ENDIAN);
        if (debugLength > 0)
        {
            dst.putBytes(p + 8, debug, debugOffset, debugLength);
        }
        return FrameHeader.LENGTH + 8 + debugLength;
    }

    public static int rstStream(
        final MutableDirectBuffer dst,
        final int offset,
        final int streamId,
        final long errorCode)
    {
        FrameHeader.write(dst, offset, 4, FrameType.RST_STREAM, 0, streamId);
        dst.putInt(offset + FrameHeader.LENGTH, (int)errorCode, ByteOrder.BIG_ENDIAN);
        return FrameHeader.LENGTH + 4;
    }

    /** WINDOW_UPDATE (§6.9) on a stream, or on the connection with stream 0; the increment is 1..2^31-1. */
    public static int windowUpdate(
        final MutableDirectBuffer dst,
        final int offset,
        final int streamId,
        final int increment)
    {
        FrameHeader.write(dst, offset, 4, FrameType.WINDOW_UPDATE, 0, streamId);
        dst.putInt(offset + FrameHeader.LENGTH, increment & 0x7fff_ffff, ByteOrder.BIG_ENDIAN);
        return FrameHeader.LENGTH + 4;
    }

    /**
     * Only the header of a DATA frame, for a caller that has placed (or will place) the payload right after it, so
     * body bytes are not copied twice.
     */
    public int dataHeader(
        final MutableDirectBuffer dst,
        final int offset,
        final int streamId,
        final int length,
        final boolean endStream)
    {
        if (length > maxFrameSize)
        {
            throw new IllegalArgumentException("DATA payload " + length + " above max frame size " + maxFrameSize);
        }
        return FrameHeader.write(dst, offset, length, FrameType.DATA, endStream ? FrameType.FLAG_END_STREAM : 0,
            streamId);
    }

    /** One DATA frame; the caller has cut the body to the flow-control windows and {@link #maxFrameSize()}. */
    public int data(
        final MutableDirectBuffer dst,
        final int offset,
        final int streamId,
        final DirectBuffer src,
        final int srcOffset,
        final int length,
        final boolean endStream)
    {
        dataHeader(dst, offset, streamId, length, endStream);
        if (length > 0)
        {
            dst.putBytes(offset + FrameHeader.LENGTH, src, srcOffset, length);
        }
        return FrameHeader.LENGTH + length;
    }

    /** The bytes {@link #headers} writes for a field block of {@code blockLength}: one frame header per piece. */
    public int headersLength(final int blockLength)
    {
        final int frames = blockLength == 0 ? 1 : (blockLength + maxFrameSize - 1) / maxFrameSize;
        return frames * FrameHeader.LENGTH + blockLength;
    }

    /**
     * A field block as HEADERS followed by as many CONTINUATION frames as the peer's max frame size requires
     * (§4.3, §6.10): END_STREAM on the HEADERS frame, END_HEADERS on the last frame.
     */
    public int headers(
        final MutableDirectBuffer dst,
        final int offset,
        final int streamId,
        final DirectBuffer block,
        final int blockOffset,
        final int blockLength,
        final boolean endStream)
    {
        int p = offset;
        int done = 0;
        int type = FrameType.HEADERS;
        int flags = endStream ? FrameType.FLAG_END_STREAM : 0;
        do
        {
            final int piece = Math.min(maxFrameSize, blockLength - done);
            final boolean last = done + piece == blockLength;
            FrameHeader.write(dst, p, piece, type, last ? flags | FrameType.FLAG_END_HEADERS : flags, streamId);
            p += FrameHeader.LENGTH;
            if (piece > 0)
            {
                dst.putBytes(p, block, blockOffset + done, piece);
            }
            p += piece;
            done += piece;
            type = FrameType.CONTINUATION;
            flags = 0;
        }
        while (done < blockLength);
        return p - offset;
    }
}
