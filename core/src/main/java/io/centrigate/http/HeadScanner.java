package io.centrigate.http;

import org.agrona.DirectBuffer;

/**
 * Finds the end of a message head (the empty line, RFC 9112 §2.1) while its bytes arrive in any number of
 * reads, looking at every byte exactly once: it keeps its position between calls, so a head that arrives one
 * byte per read still costs O(n) (a request scanner reads the request line once more, when its CRLF arrives:
 * still bounded by the line limit, once per head). On the way it enforces the line-ending rules and the size limits, because
 * those are the checks that must happen before the head is complete (a client must not be able to make us
 * buffer without bound).
 * <p>
 * Checks, in arrival order:
 * <ul>
 * <li>LF not preceded by CR: {@link HttpError#BARE_LF}; CR not followed by LF: {@link HttpError#BARE_CR},
 * decided when the byte after the CR arrives (RFC 9112 §2.2 allows a recipient to accept bare LF; a proxy
 * that did would read message boundaries differently from a stricter upstream, so we refuse).</li>
 * <li>an empty first line: {@link HttpError#MALFORMED_REQUEST_LINE}. RFC 9112 §2.2 lets a server skip
 * leading empty lines; we stay strict and simple.</li>
 * <li>a first line longer than {@code maxLineLength} bytes (CRLF excluded): {@link HttpError#REQUEST_LINE_TOO_LONG}.</li>
 * <li>a head longer than {@code maxHeadBytes} bytes (final CRLFCRLF included): {@link HttpError#HEAD_TOO_LARGE}.</li>
 * <li>more than {@code maxFields} field lines: {@link HttpError#TOO_MANY_FIELDS}, decided at the first byte of
 * the first line too many.</li>
 * </ul>
 * A scanner made for requests also judges each line as soon as its CRLF arrives, where the line alone decides:
 * the request line by {@link RequestHead}'s rules (so {@code GET /} of HTTP/0.9 is a 400 at once, not a wait
 * for the header timeout), a field line without a colon ({@link HttpError#INVALID_FIELD_NAME}), a field line
 * starting with whitespace ({@link HttpError#OBS_FOLD}, at its first byte). Everything else is left to the
 * parser at the end of the head.
 * <p>
 * The same scanner finds the end of upstream response heads ({@link #resetForResponse()}); the caller maps its
 * errors to {@link HttpError#BAD_UPSTREAM_RESPONSE}.
 * <p>
 * One per connection, reused through {@link #reset()}. Not thread-safe.
 */
public final class HeadScanner
{
    public static final int NEED_MORE = 0;
    public static final int ERROR = -1;

    private final int maxLineLength;
    private final int maxHeadBytes;
    private final int maxFields;
    /** Made for request heads: lines are judged at their CRLF (see above) unless reset for a response. */
    private final boolean requests;
    private boolean judgeLines;
    private boolean colonSeen;

    /** Index of the next byte to look at. */
    private int position;
    /** Index of the first byte of the current line. */
    private int lineStart;
    private int fieldLines;
    /** 0 while scanning, the head length once found, -1 after an error. */
    private int result;
    private HttpError error;

    /** A scanner that only finds the end of a head and enforces the limits, for requests or responses. */
    public HeadScanner(final int maxLineLength, final int maxHeadBytes, final int maxFields)
    {
        this(maxLineLength, maxHeadBytes, maxFields, false);
    }

    /** With {@code requests}, also judges request heads line by line as they arrive. */
    public HeadScanner(final int maxLineLength, final int maxHeadBytes, final int maxFields, final boolean requests)
    {
        if (maxLineLength <= 0 || maxHeadBytes < 4 || maxFields < 0)
        {
            throw new IllegalArgumentException("bad head limits: line=" + maxLineLength + " head=" + maxHeadBytes +
                " fields=" + maxFields);
        }
        this.maxLineLength = maxLineLength;
        this.maxHeadBytes = maxHeadBytes;
        this.maxFields = maxFields;
        this.requests = requests;
        reset();
    }

    /** Ready for the next request head (or any head, for a scanner not made for requests). */
    public void reset()
    {
        judgeLines = requests;
        colonSeen = false;
        position = 0;
        lineStart = 0;
        fieldLines = 0;
        result = NEED_MORE;
        error = null;
    }

    /** Ready for an upstream response head: its first line is a status line, so no request rules apply. */
    public void resetForResponse()
    {
        reset();
        judgeLines = false;
    }

    /**
     * Continues scanning {@code buf[0, limit)}, the head received so far starting at index 0; the bytes already
     * looked at must not have changed since the previous call.
     *
     * @return {@link #NEED_MORE}, the length of the complete head including its final CRLFCRLF (bytes after it
     * are never read), or {@link #ERROR} with {@link #error()} set. Once a head or an error is found, further
     * calls return the same result until {@link #reset()}.
     */
    private static final long ONES = 0x0101_0101_0101_0101L;
    private static final long HIGHS = 0x8080_8080_8080_8080L;
    private static final long CRS = ONES * Ascii.CR;
    private static final long LFS = ONES * Ascii.LF;
    private static final long COLONS = ONES * ':';

    /** Nonzero when a byte of {@code word} is zero (exact as to whether one is, not as to which). */
    private static long zeroByte(final long word)
    {
        return (word - ONES) & ~word & HIGHS;
    }

    /**
     * The index of the first CR, LF or ':' from {@code p}, looking at whole 8-byte words below {@code end} only:
     * where the words run out first, the index of the first byte not looked at.
     */
    private static int skipPlain(final DirectBuffer buf, final int p, final int end)
    {
        int i = p;
        while (i + Long.BYTES <= end)
        {
            final long word = buf.getLong(i, java.nio.ByteOrder.LITTLE_ENDIAN);
            final long found = zeroByte(word ^ CRS) | zeroByte(word ^ LFS) | zeroByte(word ^ COLONS);
            if (found != 0)
            {
                // little-endian: the lowest flag is the first match (a false flag can only sit above a true one)
                return i + (Long.numberOfTrailingZeros(found) >>> 3);
            }
            i += Long.BYTES;
        }
        return i;
    }

    public int scan(final DirectBuffer buf, final int limit)
    {
        if (result != NEED_MORE)
        {
            return result;
        }
        int p = position;
        while (p < limit)
        {
            // Inside a line, the bytes that are none of CR, LF and ':' only count towards the limits: they are
            // skipped eight at a time, short of where a limit could be crossed (the request line's, the head's).
            final boolean afterCr = p > lineStart && buf.getByte(p - 1) == Ascii.CR;
            if (p > lineStart && !afterCr)
            {
                final int end = Math.min(limit, lineStart == 0 ? Math.min(maxHeadBytes, maxLineLength) : maxHeadBytes);
                p = skipPlain(buf, p, end); // what it skips is no CR: afterCr stays false
                if (p >= limit)
                {
                    break;
                }
            }
            final byte b = buf.getByte(p);
            if (afterCr && b != Ascii.LF)
            {
                return fail(p, HttpError.BARE_CR);
            }
            if (!afterCr && b == Ascii.LF)
            {
                return fail(p, HttpError.BARE_LF);
            }
            if (lineStart == 0 && b != Ascii.CR && b != Ascii.LF && p >= maxLineLength)
            {
                return fail(p, HttpError.REQUEST_LINE_TOO_LONG);
            }
            if (p >= maxHeadBytes)
            {
                return fail(p, HttpError.HEAD_TOO_LARGE);
            }
            if (afterCr)
            {
                // CRLF at [p - 1, p]: the line [lineStart, p - 1) is complete.
                if (judgeLines && p - 1 != lineStart)
                {
                    final HttpError lineError = judgeLine(buf, p);
                    if (lineError != null)
                    {
                        return fail(p, lineError);
                    }
                }
                if (p - 1 == lineStart)
                {
                    if (lineStart == 0)
                    {
                        return fail(p, HttpError.MALFORMED_REQUEST_LINE);
                    }
                    position = p + 1;
                    result = p + 1;
                    return result;
                }
                lineStart = p + 1;
            }
            else if (p == lineStart && lineStart != 0 && b != Ascii.CR)
            {
                if (++fieldLines > maxFields)
                {
                    return fail(p, HttpError.TOO_MANY_FIELDS);
                }
                if (judgeLines && Ascii.isOws(b))
                {
                    // RFC 9112 §5.2: obs-fold in a request is rejected; nothing after it can make the head valid.
                    return fail(p, HttpError.OBS_FOLD);
                }
            }
            else if (b == ':')
            {
                colonSeen = true;
            }
            p++;
        }
        position = p;
        return NEED_MORE;
    }

    /** The line ending with the CRLF at {@code [lf - 1, lf]} is complete and not empty. */
    private HttpError judgeLine(final DirectBuffer buf, final int lf)
    {
        final boolean colon = colonSeen;
        colonSeen = false;
        if (lineStart == 0)
        {
            final int r = RequestHead.checkRequestLine(buf, lf + 1);
            return r < 0 ? RequestHead.error(r) : null;
        }
        // RFC 9112 §5.1: field-line = field-name ":" ...; a line without one can never be a field line.
        return colon ? null : HttpError.INVALID_FIELD_NAME;
    }

    public HttpError error()
    {
        return error;
    }

    /** How many bytes have been looked at; for diagnostics and tests. */
    public int position()
    {
        return position;
    }

    private int fail(final int p, final HttpError error)
    {
        this.position = p;
        this.error = error;
        this.result = ERROR;
        return ERROR;
    }
}
