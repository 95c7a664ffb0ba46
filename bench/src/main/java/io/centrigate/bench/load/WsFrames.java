package io.centrigate.bench.load;

import java.nio.ByteBuffer;

/** RFC 6455 §5.2 frame-length decoding shared by the bench's upstream and clients. */
final class WsFrames
{
    private WsFrames()
    {
    }

    /** Bytes of the header at {@code p} up to the masking key (2, 4 or 10), or 0 while too few bytes arrived. */
    static int lengthHeader(final ByteBuffer in, final int p)
    {
        final int length7 = in.get(p + 1) & 0x7f;
        final int header = length7 == 126 ? 4 : length7 == 127 ? 10 : 2;
        return in.limit() - p >= header ? header : 0;
    }

    static long payloadLength(final ByteBuffer in, final int p, final int header)
    {
        switch (header)
        {
            case 4: return in.getShort(p + 2) & 0xffff;
            case 10: return in.getLong(p + 2);
            default: return in.get(p + 1) & 0x7f;
        }
    }
}
