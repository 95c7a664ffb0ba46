package io.centrigate.h2;

import java.nio.ByteOrder;

import org.agrona.DirectBuffer;

/**
 * Server side of RFC 9113 framing: checks the client's connection preface (§3.4), then splits the bytes that follow
 * into frames and checks each against the rules of §4 and §6 that need no stream state (sizes, stream 0 or not,
 * padding, SETTINGS values, CONTINUATION sequencing), calling a {@link FrameListener} with offsets into the buffer.
 * Stream states, flow-control windows and flood counting belong to the session that owns the listener.
 * <p>
 * Incremental: {@link #read} consumes only whole frames and returns how many bytes it consumed; the caller keeps the
 * rest and offers it again with more bytes appended. A frame is only consumed once all of it is in the buffer, so
 * the caller's buffer must hold {@link FrameHeader#LENGTH} plus the SETTINGS_MAX_FRAME_SIZE we advertise (16,393
 * bytes with the default); a frame that announces more than that is refused from its header alone
 * (FRAME_SIZE_ERROR, §4.2) without waiting for its payload.
 * <p>
 * No allocation, no exceptions: a connection error is reported once through the listener, after which
 * {@link #read} returns {@link #ERROR} without looking at the bytes.
 */
public final class FrameReader
{
    public static final int ERROR = -1;

    /** RFC 9113 §3.4: "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n". */
    private static final byte[] PREFACE = {
        'P', 'R', 'I', ' ', '*', ' ', 'H', 'T', 'T', 'P', '/', '2', '.', '0', '\r', '\n', '\r', '\n',
        'S', 'M', '\r', '\n', '\r', '\n'};
    public static final int PREFACE_LENGTH = PREFACE.length;

    private static final int AWAIT_PREFACE = 0;
    private static final int AWAIT_SETTINGS = 1;
    private static final int FRAMES = 2;
    private static final int FAILED = 3;

    private final int maxHeaderBlockBytes;
    private int maxFrameSize;
    private int state;
    /** The stream whose field block continues in the next frame (§6.10), 0 when none. */
    private int continuationStream;
    private int headerBlockBytes;
    private int lastError = ErrorCode.NO_ERROR;

    /**
     * @param maxFrameSize        the SETTINGS_MAX_FRAME_SIZE we advertise (16,384 until the peer acknowledges more)
     * @param maxHeaderBlockBytes the largest field block, HEADERS plus its CONTINUATION frames, we buffer for HPACK;
     *                            beyond it the connection ends with ENHANCE_YOUR_CALM (CVE-2024-27316: endless
     *                            CONTINUATION frames)
     * @param awaitPreface        whether the client's connection preface comes first (false when a caller has
     *                            already consumed it, e.g. after sniffing prior knowledge)
     */
    public FrameReader(final int maxFrameSize, final int maxHeaderBlockBytes, final boolean awaitPreface)
    {
        maxFrameSize(maxFrameSize);
        if (maxHeaderBlockBytes <= 0)
        {
            throw new IllegalArgumentException("maxHeaderBlockBytes must be positive: " + maxHeaderBlockBytes);
        }
        this.maxHeaderBlockBytes = maxHeaderBlockBytes;
        this.state = awaitPreface ? AWAIT_PREFACE : AWAIT_SETTINGS;
    }

    /** Takes effect for the next frame: call it when the peer has acknowledged a new SETTINGS_MAX_FRAME_SIZE. */
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

    /** The code of the connection error reported, {@link ErrorCode#NO_ERROR} while there was none. */
    public int lastError()
    {
        return lastError;
    }

    /**
     * Ends reading for good from inside a listener call, when the session finds a reason of its own to end the
     * connection (a flood of resets, pings or settings): {@link #read} returns {@link #ERROR} after the current frame
     * instead of going on with the next one. The session sends the GOAWAY itself.
     */
    public void stop(final int errorCode)
    {
        state = FAILED;
        lastError = errorCode;
    }

    /** Whether a field block is open: its HEADERS came without END_HEADERS and CONTINUATION must follow. */
    public boolean inHeaderBlock()
    {
        return continuationStream != 0;
    }

    /**
     * Reads the whole frames in {@code [offset, offset + length)}.
     *
     * @return the bytes consumed (0 when not even one whole frame or the whole preface is there yet), or
     * {@link #ERROR} after a connection error was reported to the listener
     */
    public int read(final DirectBuffer buffer, final int offset, final int length, final FrameListener listener)
    {
        if (state == FAILED)
        {
            return ERROR;
        }
        int position = offset;
        final int end = offset + length;
        if (state == AWAIT_PREFACE)
        {
            final int available = Math.min(length, PREFACE_LENGTH);
            for (int i = 0; i < available; i++)
            {
                if (buffer.getByte(offset + i) != PREFACE[i])
                {
                    return fail(listener, ErrorCode.PROTOCOL_ERROR, "bad connection preface");
                }
            }
            if (available < PREFACE_LENGTH)
            {
                return 0;
            }
            position += PREFACE_LENGTH;
            state = AWAIT_SETTINGS;
        }
        while (end - position >= FrameHeader.LENGTH)
        {
            final int payloadLength = FrameHeader.length(buffer, position);
            if (payloadLength > maxFrameSize)
            {
                return fail(listener, ErrorCode.FRAME_SIZE_ERROR, "frame larger than SETTINGS_MAX_FRAME_SIZE");
            }
            if (end - position - FrameHeader.LENGTH < payloadLength)
            {
                break;
            }
            if (!frame(buffer, position, payloadLength, listener) || state == FAILED)
            {
                return ERROR;
            }
            position += FrameHeader.LENGTH + payloadLength;
        }
        return position - offset;
    }

    private boolean frame(final DirectBuffer buffer, final int at, final int length, final FrameListener listener)
    {
        final int type = FrameHeader.type(buffer, at);
        final int flags = FrameHeader.flags(buffer, at);
        final int streamId = FrameHeader.streamId(buffer, at);
        final int payload = at + FrameHeader.LENGTH;

        if (state == AWAIT_SETTINGS)
        {
            // §3.4: the preface's SETTINGS frame must be the client's first frame
            if (type != FrameType.SETTINGS || (flags & FrameType.FLAG_ACK) != 0)
            {
                return failed(listener, ErrorCode.PROTOCOL_ERROR, "first frame is not SETTINGS");
            }
            state = FRAMES;
        }
        if (continuationStream != 0 && (type != FrameType.CONTINUATION || streamId != continuationStream))
        {
            // §6.10: nothing may come between a field block's frames, not even a frame of unknown type
            return failed(listener, ErrorCode.PROTOCOL_ERROR, "field block interrupted before END_HEADERS");
        }
        switch (type)
        {
            case FrameType.DATA:
                return data(buffer, payload, length, flags, streamId, listener);
            case FrameType.HEADERS:
                return headers(buffer, payload, length, flags, streamId, listener);
            case FrameType.PRIORITY:
                return priority(buffer, payload, length, streamId, listener);
            case FrameType.RST_STREAM:
                if (streamId == 0)
                {
                    return failed(listener, ErrorCode.PROTOCOL_ERROR, "RST_STREAM on stream 0");
                }
                if (length != 4)
                {
                    return failed(listener, ErrorCode.FRAME_SIZE_ERROR, "RST_STREAM length is not 4");
                }
                listener.onRstStream(streamId, uint32(buffer, payload));
                return true;
            case FrameType.SETTINGS:
                return settings(buffer, payload, length, flags, streamId, listener);
            case FrameType.PUSH_PROMISE:
                // §8.4: a client cannot push
                return failed(listener, ErrorCode.PROTOCOL_ERROR, "PUSH_PROMISE from a client");
            case FrameType.PING:
                if (streamId != 0)
                {
                    return failed(listener, ErrorCode.PROTOCOL_ERROR, "PING on a stream");
                }
                if (length != 8)
                {
                    return failed(listener, ErrorCode.FRAME_SIZE_ERROR, "PING length is not 8");
                }
                listener.onPing((flags & FrameType.FLAG_ACK) != 0, buffer.getLong(payload, ByteOrder.BIG_ENDIAN));
                return true;
            case FrameType.GOAWAY:
                if (streamId != 0)
                {
                    return failed(listener, ErrorCode.PROTOCOL_ERROR, "GOAWAY on a stream");
                }
                if (length < 8)
                {
                    return failed(listener, ErrorCode.FRAME_SIZE_ERROR, "GOAWAY shorter than 8");
                }
                listener.onGoAway(buffer.getInt(payload, ByteOrder.BIG_ENDIAN) & 0x7fff_ffff,
                    uint32(buffer, payload + 4), buffer, payload + 8, length - 8);
                return true;
            case FrameType.WINDOW_UPDATE:
                return windowUpdate(buffer, payload, length, streamId, listener);
            case FrameType.CONTINUATION:
                return continuation(buffer, payload, length, flags, streamId, listener);
            default:
                listener.onUnknownFrame(type, streamId, length);
                return true;
        }
    }

    private boolean data(
        final DirectBuffer buffer,
        final int payload,
        final int length,
        final int flags,
        final int streamId,
        final FrameListener listener)
    {
        if (streamId == 0)
        {
            return failed(listener, ErrorCode.PROTOCOL_ERROR, "DATA on stream 0");
        }
        int dataOffset = payload;
        int dataLength = length;
        if ((flags & FrameType.FLAG_PADDED) != 0)
        {
            if (length < 1)
            {
                return failed(listener, ErrorCode.FRAME_SIZE_ERROR, "padded DATA without a pad length");
            }
            final int padLength = buffer.getByte(payload) & 0xff;
            if (padLength >= length)
            {
                return failed(listener, ErrorCode.PROTOCOL_ERROR, "DATA padding not shorter than its payload");
            }
            dataOffset = payload + 1;
            dataLength = length - 1 - padLength;
        }
        listener.onData(streamId, (flags & FrameType.FLAG_END_STREAM) != 0, buffer, dataOffset, dataLength, length);
        return true;
    }

    private boolean headers(
        final DirectBuffer buffer,
        final int payload,
        final int length,
        final int flags,
        final int streamId,
        final FrameListener listener)
    {
        if (streamId == 0)
        {
            return failed(listener, ErrorCode.PROTOCOL_ERROR, "HEADERS on stream 0");
        }
        if ((streamId & 1) == 0)
        {
            // §5.1.1: streams a client opens are odd
            return failed(listener, ErrorCode.PROTOCOL_ERROR, "HEADERS on an even stream from a client");
        }
        final boolean padded = (flags & FrameType.FLAG_PADDED) != 0;
        final boolean priority = (flags & FrameType.FLAG_PRIORITY) != 0;
        final int prefix = (padded ? 1 : 0) + (priority ? 5 : 0);
        if (length < prefix)
        {
            return failed(listener, ErrorCode.FRAME_SIZE_ERROR, "HEADERS shorter than its padding and priority");
        }
        final int padLength = padded ? buffer.getByte(payload) & 0xff : 0;
        if (padLength > length - prefix)
        {
            return failed(listener, ErrorCode.PROTOCOL_ERROR, "HEADERS padding longer than its payload");
        }
        if (priority && (buffer.getInt(payload + (padded ? 1 : 0), ByteOrder.BIG_ENDIAN) & 0x7fff_ffff) == streamId)
        {
            // §5.3.1 makes this a stream error; the block it carries still has to go through HPACK to keep the
            // tables in step, so the connection ends instead (§5.4.1 allows treating a stream error as one)
            return failed(listener, ErrorCode.PROTOCOL_ERROR, "HEADERS stream depends on itself");
        }
        final int blockLength = length - prefix - padLength;
        headerBlockBytes = blockLength;
        if (headerBlockBytes > maxHeaderBlockBytes)
        {
            return failed(listener, ErrorCode.ENHANCE_YOUR_CALM, "field block larger than the limit");
        }
        final boolean endHeaders = (flags & FrameType.FLAG_END_HEADERS) != 0;
        continuationStream = endHeaders ? 0 : streamId;
        listener.onHeaders(streamId, (flags & FrameType.FLAG_END_STREAM) != 0, endHeaders, buffer, payload + prefix,
            blockLength);
        return true;
    }

    private boolean continuation(
        final DirectBuffer buffer,
        final int payload,
        final int length,
        final int flags,
        final int streamId,
        final FrameListener listener)
    {
        if (streamId == 0)
        {
            return failed(listener, ErrorCode.PROTOCOL_ERROR, "CONTINUATION on stream 0");
        }
        if (continuationStream == 0)
        {
            return failed(listener, ErrorCode.PROTOCOL_ERROR, "CONTINUATION without an open field block");
        }
        headerBlockBytes += length;
        if (headerBlockBytes > maxHeaderBlockBytes)
        {
            return failed(listener, ErrorCode.ENHANCE_YOUR_CALM, "field block larger than the limit");
        }
        final boolean endHeaders = (flags & FrameType.FLAG_END_HEADERS) != 0;
        if (endHeaders)
        {
            continuationStream = 0;
        }
        listener.onContinuation(streamId, endHeaders, buffer, payload, length);
        return true;
    }

    private boolean priority(
        final DirectBuffer buffer,
        final int payload,
        final int length,
        final int streamId,
        final FrameListener listener)
    {
        if (streamId == 0)
        {
            return failed(listener, ErrorCode.PROTOCOL_ERROR, "PRIORITY on stream 0");
        }
        if (length != 5)
        {
            // §6.3: a stream error, as a PRIORITY frame changes no connection state
            listener.onStreamError(streamId, ErrorCode.FRAME_SIZE_ERROR, "PRIORITY length is not 5");
            return true;
        }
        if ((buffer.getInt(payload, ByteOrder.BIG_ENDIAN) & 0x7fff_ffff) == streamId)
        {
            listener.onStreamError(streamId, ErrorCode.PROTOCOL_ERROR, "PRIORITY stream depends on itself");
            return true;
        }
        listener.onPriority(streamId);
        return true;
    }

    private boolean settings(
        final DirectBuffer buffer,
        final int payload,
        final int length,
        final int flags,
        final int streamId,
        final FrameListener listener)
    {
        if (streamId != 0)
        {
            return failed(listener, ErrorCode.PROTOCOL_ERROR, "SETTINGS on a stream");
        }
        if ((flags & FrameType.FLAG_ACK) != 0)
        {
            if (length != 0)
            {
                return failed(listener, ErrorCode.FRAME_SIZE_ERROR, "SETTINGS ACK with a payload");
            }
            listener.onSettingsEnd(true);
            return true;
        }
        if (length % 6 != 0)
        {
            return failed(listener, ErrorCode.FRAME_SIZE_ERROR, "SETTINGS length not a multiple of 6");
        }
        final int end = payload + length;
        // validate the whole frame before reporting any entry, so a refused frame changes nothing
        for (int p = payload; p < end; p += 6)
        {
            final int id = buffer.getShort(p, ByteOrder.BIG_ENDIAN) & 0xffff;
            final long value = uint32(buffer, p + 2);
            switch (id)
            {
                case Setting.ENABLE_PUSH:
                    if (value > 1)
                    {
                        return failed(listener, ErrorCode.PROTOCOL_ERROR, "SETTINGS_ENABLE_PUSH not 0 or 1");
                    }
                    break;
                case Setting.INITIAL_WINDOW_SIZE:
                    if (value > Setting.MAX_WINDOW_SIZE)
                    {
                        return failed(listener, ErrorCode.FLOW_CONTROL_ERROR,
                            "SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1");
                    }
                    break;
                case Setting.MAX_FRAME_SIZE:
                    if (value < FrameHeader.DEFAULT_MAX_FRAME_SIZE || value > FrameHeader.MAX_FRAME_SIZE_LIMIT)
                    {
                        return failed(listener, ErrorCode.PROTOCOL_ERROR, "SETTINGS_MAX_FRAME_SIZE out of range");
                    }
                    break;
                case Setting.ENABLE_CONNECT_PROTOCOL:
                    if (value > 1)
                    {
                        return failed(listener, ErrorCode.PROTOCOL_ERROR,
                            "SETTINGS_ENABLE_CONNECT_PROTOCOL not 0 or 1");
                    }
                    break;
                default:
                    break;
            }
        }
        for (int p = payload; p < end; p += 6)
        {
            listener.onSetting(buffer.getShort(p, ByteOrder.BIG_ENDIAN) & 0xffff, uint32(buffer, p + 2));
        }
        listener.onSettingsEnd(false);
        return true;
    }

    private boolean windowUpdate(
        final DirectBuffer buffer,
        final int payload,
        final int length,
        final int streamId,
        final FrameListener listener)
    {
        if (length != 4)
        {
            return failed(listener, ErrorCode.FRAME_SIZE_ERROR, "WINDOW_UPDATE length is not 4");
        }
        final int increment = buffer.getInt(payload, ByteOrder.BIG_ENDIAN) & 0x7fff_ffff;
        if (increment == 0)
        {
            // §6.9: a stream error on a stream, a connection error on the connection's window
            if (streamId == 0)
            {
                return failed(listener, ErrorCode.PROTOCOL_ERROR, "WINDOW_UPDATE of 0 on the connection");
            }
            listener.onStreamError(streamId, ErrorCode.PROTOCOL_ERROR, "WINDOW_UPDATE of 0");
            return true;
        }
        listener.onWindowUpdate(streamId, increment);
        return true;
    }

    private static long uint32(final DirectBuffer buffer, final int offset)
    {
        return buffer.getInt(offset, ByteOrder.BIG_ENDIAN) & 0xffff_ffffL;
    }

    private boolean failed(final FrameListener listener, final int errorCode, final String reason)
    {
        fail(listener, errorCode, reason);
        return false;
    }

    private int fail(final FrameListener listener, final int errorCode, final String reason)
    {
        state = FAILED;
        lastError = errorCode;
        listener.onConnectionError(errorCode, reason);
        return ERROR;
    }
}
