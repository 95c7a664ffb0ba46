package io.centrigate.proxy;

import org.agrona.DirectBuffer;

/** Method and target checks that decide whether a request may be sent twice. Allocation-free. */
final class HttpMethods
{
    private static final byte[][] IDEMPOTENT = {
        bytes("GET"), bytes("HEAD"), bytes("PUT"), bytes("DELETE"), bytes("OPTIONS"), bytes("TRACE")};
    /** Centrifugo's bidirectional emulation: replaying one of these would duplicate a session or a command. */
    private static final byte[][] NEVER_REPLAY = {bytes("/connection/http_stream"), bytes("/emulation")};

    private HttpMethods()
    {
    }

    private static byte[] bytes(final String s)
    {
        return s.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    }

    private static final byte[] GET = bytes("GET");
    private static final byte[] HEAD = bytes("HEAD");
    private static final byte[] POST = bytes("POST");

    /** The method's class for the request counters: {@code NodeStats.METHOD_GET} .. {@code METHOD_OTHER}. */
    static int methodClass(final DirectBuffer buf, final int offset, final int length)
    {
        if (equals(buf, offset, length, GET))
        {
            return io.centrigate.metrics.NodeStats.METHOD_GET;
        }
        if (equals(buf, offset, length, POST))
        {
            return io.centrigate.metrics.NodeStats.METHOD_POST;
        }
        if (equals(buf, offset, length, HEAD))
        {
            return io.centrigate.metrics.NodeStats.METHOD_HEAD;
        }
        return io.centrigate.metrics.NodeStats.METHOD_OTHER;
    }

    /** RFC 9110 §9.2.2. */
    static boolean isIdempotent(final DirectBuffer buf, final int offset, final int length)
    {
        for (final byte[] m : IDEMPOTENT)
        {
            if (equals(buf, offset, length, m))
            {
                return true;
            }
        }
        return false;
    }

    static boolean neverReplay(final DirectBuffer buf, final int offset, final int length)
    {
        for (final byte[] prefix : NEVER_REPLAY)
        {
            if (length >= prefix.length && equals(buf, offset, prefix.length, prefix))
            {
                return true;
            }
        }
        return false;
    }

    private static boolean equals(final DirectBuffer buf, final int offset, final int length, final byte[] expected)
    {
        if (length != expected.length)
        {
            return false;
        }
        for (int i = 0; i < length; i++)
        {
            if (buf.getByte(offset + i) != expected[i])
            {
                return false;
            }
        }
        return true;
    }
}
