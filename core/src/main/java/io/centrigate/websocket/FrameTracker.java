package io.centrigate.websocket;

import org.agrona.DirectBuffer;

/**
 * Follows WebSocket frame boundaries in one direction of a tunnel from the frame headers alone
 * (RFC 6455 §5.2), so the proxy knows when it stands between two frames (the only place it may inject a close
 * frame of its own when draining, §5.4 lets control frames sit between fragments) and counts frames.
 * <pre>
 *   byte 0: FIN RSV1 RSV2 RSV3 opcode(4)
 *   byte 1: MASK payload-len(7)    126: 16-bit length follows, 127: 64-bit length follows (MSB 0)
 *   [extended length] [4-byte masking key if MASK] payload
 * </pre>
 * Payload bytes are skipped, never read, unmasked or changed. Header bytes are parsed across reads, a byte at a
 * time when they arrive that way.
 * <p>
 * A 64-bit length with its most significant bit set (§5.2), a reserved opcode (3-7, 0xB-0xF), or a control
 * frame (opcode 8 and up) that is fragmented or longer than 125 bytes (§5.5) sets {@link #protocolError()}.
 * From then on the boundaries are unknowable: only {@link #bytes()} keeps counting, and
 * {@link #atFrameBoundary()} stays false. RSV bits are not checked, since an extension negotiated end to end
 * (permessage-deflate) uses them.
 * <p>
 * One per direction per tunnel; a handful of primitive fields.
 */
public final class FrameTracker
{
    public static final int OPCODE_CONTINUATION = 0x0;
    public static final int OPCODE_TEXT = 0x1;
    public static final int OPCODE_BINARY = 0x2;
    public static final int OPCODE_CLOSE = 0x8;
    public static final int OPCODE_PING = 0x9;
    public static final int OPCODE_PONG = 0xA;

    private static final int HEADER_0 = 0;
    private static final int HEADER_1 = 1;
    private static final int EXTENDED_LENGTH = 2;
    private static final int MASKING_KEY = 3;
    private static final int PAYLOAD = 4;
    private static final int BROKEN = 5;

    private int state;
    private int opcode;
    /** Bytes of extended length or masking key still to come in the current header. */
    private int headerRemaining;
    private boolean masked;
    private long payloadRemaining;
    private int lastOpcode;
    private long frames;
    private long closeFrames;
    private long bytes;
    /** Close frames: the first two masking key bytes, the status code bytes read so far, and the code. */
    private int mask01;
    private int codeBytes;
    private int code;
    private int lastCloseCode = -1;
    /** Status code of the first close frame (RFC 6455 §5.5.1), -1 while none or when it carried none. */
    private int firstCloseCode = -1;
    /** Counts of close frames by code slot (see {@link #closeCodeSlot}); null: not counted. Loop-owned. */
    private final long[] closeCodeCounts;
    /** Live totals this direction adds to as bytes pass (see {@link #countInto}); null: none. Loop-owned. */
    private long[] loopTotals;
    private int loopBytesIndex;
    private long[] nodeBytes;
    private int nodeSlot;

    public FrameTracker()
    {
        this(null);
    }

    /** {@code closeCodeCounts}: 5000 slots, one per close code (slot 0: no code, 1: out of range). */
    public FrameTracker(final long[] closeCodeCounts)
    {
        this.closeCodeCounts = closeCodeCounts;
        reset();
    }

    /**
     * Also adds every byte to {@code loopTotals[bytesIndex]} and {@code nodeBytes[nodeSlot]}, and every complete
     * frame to {@code loopTotals[bytesIndex + 1]}, as they pass: the loop's and the node's traffic then include open
     * tunnels, which live for hours, rather than only ended ones. Loop-owned arrays: plain adds, no sharing.
     */
    public FrameTracker countInto(final long[] loopTotals, final int bytesIndex, final long[] nodeBytes, final int nodeSlot)
    {
        this.loopTotals = loopTotals;
        this.loopBytesIndex = bytesIndex;
        this.nodeBytes = nodeBytes;
        this.nodeSlot = nodeSlot;
        return this;
    }

    public void reset()
    {
        state = HEADER_0;
        opcode = 0;
        headerRemaining = 0;
        masked = false;
        payloadRemaining = 0;
        lastOpcode = -1;
        frames = 0;
        closeFrames = 0;
        bytes = 0;
        mask01 = 0;
        codeBytes = 0;
        code = 0;
        lastCloseCode = -1;
        firstCloseCode = -1;
    }

    /**
     * How many bytes may be read next without crossing a frame boundary: the rest of the payload once the header
     * is known, 1 inside a header (near a boundary headers are read byte by byte), 0 at a boundary, -1 when the
     * stream is broken and no boundary will come. This is what lets a close frame be injected between frames.
     */
    public long bytesToBoundary()
    {
        switch (state)
        {
            case HEADER_0: return 0;
            case PAYLOAD: return payloadRemaining;
            case BROKEN: return -1;
            default: return 1;
        }
    }

    /**
     * The payload length of a data frame (text, binary, continuation) whose header starts at {@code buf[offset]},
     * from the {@code length} bytes there: -1 when they do not hold the whole header, or it is not a data frame.
     * For a caller that peeks at the next header to decide how to read the frame; it does not move the tracker.
     */
    public static long dataPayloadLength(final DirectBuffer buf, final int offset, final int length)
    {
        if (length < 2 || (buf.getByte(offset) & 0x0F) >= 0x3)
        {
            return -1;
        }
        final int length7 = buf.getByte(offset + 1) & 0x7F;
        if (length7 < 126)
        {
            return length7;
        }
        if (length7 == 126)
        {
            return length < 4 ? -1 : (buf.getByte(offset + 2) & 0xFF) << 8 | (buf.getByte(offset + 3) & 0xFF);
        }
        if (length < 10 || buf.getByte(offset + 2) < 0)
        {
            return -1; // incomplete, or a length with its top bit set (a protocol error the tracker will see)
        }
        long n = 0;
        for (int i = 2; i < 10; i++)
        {
            n = n << 8 | (buf.getByte(offset + i) & 0xFF);
        }
        return n;
    }

    /** How long the frame header starting at {@code buf[offset]} is (2 to 14 bytes); at least 2 bytes must be there. */
    public static int headerLength(final DirectBuffer buf, final int offset)
    {
        final int b1 = buf.getByte(offset + 1) & 0xFF;
        final int length7 = b1 & 0x7F;
        return 2 + (length7 == 126 ? 2 : length7 == 127 ? 8 : 0) + ((b1 & 0x80) != 0 ? 4 : 0);
    }

    /**
     * Payload bytes of the current data frame still to come: 0 outside a payload and in control frames (whose close
     * code is read). What a caller may move past the tracker unseen, then count with {@link #skipPayload}.
     */
    public long dataPayloadRemaining()
    {
        return state == PAYLOAD && opcode < OPCODE_CLOSE ? payloadRemaining : 0;
    }

    /**
     * Counts {@code length} payload bytes that passed without being looked at (spliced in the kernel), at most
     * {@link #dataPayloadRemaining()}: bytes and frames are counted as by {@link #onBytes}.
     */
    public void skipPayload(final long length)
    {
        if (length <= 0 || length > dataPayloadRemaining())
        {
            throw new IllegalArgumentException("skip " + length + " of " + dataPayloadRemaining());
        }
        bytes += length;
        if (loopTotals != null)
        {
            loopTotals[loopBytesIndex] += length;
            nodeBytes[nodeSlot] += length;
        }
        payloadRemaining -= length;
        if (payloadRemaining == 0)
        {
            frameComplete();
        }
    }

    /** Walks {@code buf[offset, offset + length)}, the next bytes of this direction of the stream. */
    public void onBytes(final DirectBuffer buf, final int offset, final int length)
    {
        bytes += length;
        if (loopTotals != null)
        {
            loopTotals[loopBytesIndex] += length;
            nodeBytes[nodeSlot] += length;
        }
        final int end = offset + length;
        int p = offset;
        while (p < end)
        {
            switch (state)
            {
                case HEADER_0:
                {
                    final int b = buf.getByte(p++) & 0xFF;
                    opcode = b & 0x0F;
                    final boolean fin = (b & 0x80) != 0;
                    if ((opcode >= 0x3 && opcode <= 0x7) || opcode >= 0xB || (opcode >= 0x8 && !fin))
                    {
                        state = BROKEN;
                        break;
                    }
                    state = HEADER_1;
                    break;
                }
                case HEADER_1:
                {
                    final int b = buf.getByte(p++) & 0xFF;
                    masked = (b & 0x80) != 0;
                    final int length7 = b & 0x7F;
                    mask01 = 0;
                    codeBytes = 0;
                    code = 0;
                    if (opcode >= 0x8 && length7 > 125)
                    {
                        state = BROKEN;
                        break;
                    }
                    if (length7 == 126)
                    {
                        payloadRemaining = 0;
                        headerRemaining = 2;
                        state = EXTENDED_LENGTH;
                    }
                    else if (length7 == 127)
                    {
                        payloadRemaining = 0;
                        headerRemaining = 8;
                        state = EXTENDED_LENGTH;
                    }
                    else
                    {
                        payloadRemaining = length7;
                        afterLength();
                    }
                    break;
                }
                case EXTENDED_LENGTH:
                {
                    final int b = buf.getByte(p++) & 0xFF;
                    if (headerRemaining == 8 && (b & 0x80) != 0)
                    {
                        // RFC 6455 §5.2: the most significant bit of a 64-bit length MUST be 0.
                        state = BROKEN;
                        break;
                    }
                    payloadRemaining = (payloadRemaining << 8) | b;
                    if (--headerRemaining == 0)
                    {
                        afterLength();
                    }
                    break;
                }
                case MASKING_KEY:
                {
                    if (opcode == OPCODE_CLOSE)
                    {
                        // A close frame's status code is masked: keep the first two key bytes.
                        final int b = buf.getByte(p++) & 0xFF;
                        if (headerRemaining > 2)
                        {
                            mask01 = (mask01 << 8) | b;
                        }
                        if (--headerRemaining == 0)
                        {
                            afterMaskingKey();
                        }
                        break;
                    }
                    final int skip = Math.min(headerRemaining, end - p);
                    p += skip;
                    headerRemaining -= skip;
                    if (headerRemaining == 0)
                    {
                        afterMaskingKey();
                    }
                    break;
                }
                case PAYLOAD:
                {
                    if (opcode == OPCODE_CLOSE && codeBytes < 2)
                    {
                        // The 2-byte status code at the start of a close frame's payload (RFC 6455 §5.5.1),
                        // read a byte at a time so it may straddle reads.
                        final int keyByte = masked ? (mask01 >>> (8 * (1 - codeBytes))) & 0xFF : 0;
                        code = (code << 8) | ((buf.getByte(p++) & 0xFF) ^ keyByte);
                        codeBytes++;
                        if (--payloadRemaining == 0)
                        {
                            frameComplete();
                        }
                        break;
                    }
                    final long skip = Math.min(payloadRemaining, end - p);
                    p += (int)skip;
                    payloadRemaining -= skip;
                    if (payloadRemaining == 0)
                    {
                        frameComplete();
                    }
                    break;
                }
                default:
                    return;
            }
        }
    }

    private void afterLength()
    {
        if (masked)
        {
            headerRemaining = 4;
            state = MASKING_KEY;
        }
        else
        {
            afterMaskingKey();
        }
    }

    private void afterMaskingKey()
    {
        if (payloadRemaining == 0)
        {
            frameComplete();
        }
        else
        {
            state = PAYLOAD;
        }
    }

    private void frameComplete()
    {
        frames++;
        if (loopTotals != null)
        {
            loopTotals[loopBytesIndex + 1]++;
        }
        lastOpcode = opcode;
        if (opcode == OPCODE_CLOSE)
        {
            if (closeFrames == 0 && codeBytes == 2)
            {
                firstCloseCode = code;
            }
            closeFrames++;
            lastCloseCode = codeBytes == 0 ? 0 : codeBytes == 1 ? 1 : closeCodeSlot(code);
            if (closeCodeCounts != null)
            {
                closeCodeCounts[lastCloseCode]++;
            }
        }
        state = HEADER_0;
    }

    /** Completed frames, header and payload. */
    public long frames()
    {
        return frames;
    }

    /** Every byte given to {@link #onBytes}. */
    public long bytes()
    {
        return bytes;
    }

    /** True when the next byte would start a new frame (and no protocol error was seen). */
    public boolean atFrameBoundary()
    {
        return state == HEADER_0;
    }

    /** Opcode of the last completed frame, -1 before the first. */
    public int lastOpcode()
    {
        return lastOpcode;
    }

    /**
     * Status code of the first close frame this direction carried (1000, 1001, 3001 ...), -1 when there was none
     * or it carried no code. Only the two code bytes of close frames are read; other payload is skipped.
     */
    public int closeCode()
    {
        return firstCloseCode;
    }

    /** 0 when the frame had no status code, 1 for one out of 1000..4999, else the code itself. */
    static int closeCodeSlot(final int code)
    {
        return code >= 1000 && code < 5000 ? code : 1;
    }

    /**
     * The code slot of the last close frame completed in this direction ({@code 0}: no code, {@code 1}: out of
     * range or a 1-byte payload, else the code), or -1 before any.
     */
    public int lastCloseCode()
    {
        return lastCloseCode;
    }

    public long closeFrames()
    {
        return closeFrames;
    }

    public boolean protocolError()
    {
        return state == BROKEN;
    }

    @Override
    public String toString()
    {
        return "FrameTracker{frames=" + frames + ", bytes=" + bytes + ", state=" + state +
            ", payloadRemaining=" + payloadRemaining + ", protocolError=" + protocolError() + "}";
    }
}
