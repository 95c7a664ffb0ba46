package io.centrigate.http;

import org.agrona.DirectBuffer;

/**
 * Where one HTTP/1.1 message body ends (RFC 9112 §6.3): after Content-Length bytes, after the last chunk of a
 * chunked body, only at the connection's close, or at once when there is none. Given the bytes that follow a head
 * as they arrive, it says how many of them belong to this body; what comes after is the next pipelined request,
 * or, behind an answer, bytes the node should not have sent. The bytes themselves are forwarded as they are.
 * <p>
 * The proxy's request and response sides follow the same rules with one of these each (as HAProxy's {@code h1m}
 * does for both directions), reused for every message of the connection: three fields and a chunked-body tracker
 * made the first time a chunked body comes.
 */
public final class BodyFraming
{
    /** No body: a GET, a 204 or 304, an answer to HEAD, a Content-Length of 0. */
    public static final int NONE = 0;
    public static final int LENGTH = 1;
    public static final int CHUNKED = 2;
    /** An answer without a length that is not chunked: its body ends when the node closes (RFC 9112 §6.3 rule 8). */
    public static final int UNTIL_CLOSE = 3;

    private int kind = NONE;
    /** Content-Length bytes not seen yet. */
    private long remaining;
    private ChunkedBodyTracker chunked;

    public void none()
    {
        kind = NONE;
        remaining = 0;
    }

    public void length(final long contentLength)
    {
        kind = LENGTH;
        remaining = contentLength;
    }

    public void chunked()
    {
        kind = CHUNKED;
        if (chunked == null)
        {
            chunked = new ChunkedBodyTracker();
        }
        chunked.reset();
    }

    public void untilClose()
    {
        kind = UNTIL_CLOSE;
    }

    public int kind()
    {
        return kind;
    }

    /** How much may be read without reading past the body: only a Content-Length says so in advance. */
    public long readLimit()
    {
        return kind == LENGTH ? remaining : Long.MAX_VALUE;
    }

    /**
     * Counts {@code buf[offset, offset + length)}, the next bytes after the head, and returns how many belong to the
     * body (fewer than {@code length} only when the body ended inside the range), or -1 for a malformed chunked body.
     */
    public int take(final DirectBuffer buf, final int offset, final int length)
    {
        switch (kind)
        {
            case LENGTH:
                final int taken = (int)Math.min(length, remaining);
                remaining -= taken;
                return taken;
            case CHUNKED:
                return length == 0 ? 0 : chunked.consume(buf, offset, length);
            case UNTIL_CLOSE:
                return length;
            default:
                return 0;
        }
    }

    /** The whole body has been taken; never for {@link #UNTIL_CLOSE}, whose end only the connection's close shows. */
    public boolean isComplete()
    {
        switch (kind)
        {
            case LENGTH: return remaining == 0;
            case CHUNKED: return chunked.isComplete();
            case UNTIL_CLOSE: return false;
            default: return true;
        }
    }
}
