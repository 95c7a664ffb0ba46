package io.centrigate.http;

import org.agrona.DirectBuffer;

/**
 * Follows a chunked body (RFC 9112 §7.1) as it streams through, without copying or decoding it, to know where
 * it ends: the bytes are forwarded as they are, this only decides how many of them belong to the body.
 * <pre>
 *   chunked-body   = *chunk last-chunk trailer-section CRLF
 *   chunk          = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
 *   chunk-size     = 1*HEXDIG                  ; at most 2^62 here
 *   last-chunk     = 1*("0") [ chunk-ext ] CRLF
 *   chunk-ext      = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
 *   chunk-ext-val  = token / quoted-string
 *   trailer-section = *( field-line CRLF )
 * </pre>
 * Strict where a lenient reading could disagree with the upstream about where the body ends: bare LF,
 * whitespace before CRLF, and a missing CRLF after chunk data are errors. Extensions are bounded to
 * {@value #MAX_EXTENSION_BYTES} bytes per chunk line and the trailer section to {@value #MAX_TRAILER_BYTES}
 * bytes, so a peer cannot keep us reading a line forever.
 * <p>
 * One per streamed body, reused through {@link #reset()}; a few primitive fields.
 */
public final class ChunkedBodyTracker
{
    public static final int MAX_EXTENSION_BYTES = 4096;
    public static final int MAX_TRAILER_BYTES = 8192;

    private static final int SIZE_FIRST = 0;
    private static final int SIZE = 1;
    private static final int EXT_BWS_BEFORE_SEMI = 2;
    private static final int EXT_NAME_START = 3;
    private static final int EXT_NAME = 4;
    private static final int EXT_BWS_BEFORE_EQ = 5;
    private static final int EXT_VALUE_START = 6;
    private static final int EXT_TOKEN = 7;
    private static final int EXT_QUOTED = 8;
    private static final int EXT_QUOTED_ESCAPE = 9;
    private static final int EXT_AFTER_QUOTED = 10;
    private static final int LINE_LF = 11;
    private static final int DATA = 12;
    private static final int DATA_CR = 13;
    private static final int DATA_LF = 14;
    private static final int TRAILER_LINE_START = 15;
    private static final int TRAILER_NAME = 16;
    private static final int TRAILER_VALUE = 17;
    private static final int TRAILER_LF = 18;
    private static final int FINAL_LF = 19;
    private static final int COMPLETE = 20;
    private static final int ERROR = 21;

    private int state;
    /** The chunk size while reading it, then the chunk-data bytes still to skip. */
    private long remaining;
    private int extensionBytes;
    private int trailerBytes;

    public ChunkedBodyTracker()
    {
        reset();
    }

    public void reset()
    {
        state = SIZE_FIRST;
        remaining = 0;
        extensionBytes = 0;
        trailerBytes = 0;
    }

    /**
     * Consumes body bytes from {@code buf[offset, offset + length)}.
     *
     * @return how many of them belong to the body (fewer than {@code length} only when the body ended inside
     * the range: the rest belongs to the next message), 0 once complete, or -1 if the body is malformed.
     */
    public int consume(final DirectBuffer buf, final int offset, final int length)
    {
        if (state == ERROR)
        {
            return -1;
        }
        final int end = offset + length;
        int p = offset;
        while (p < end)
        {
            if (state == DATA)
            {
                final long skip = Math.min(remaining, end - p);
                p += (int)skip;
                remaining -= skip;
                if (remaining == 0)
                {
                    state = DATA_CR;
                }
                continue;
            }
            if (state == COMPLETE)
            {
                break;
            }
            final int b = Ascii.at(buf, p++);
            if (!step(b))
            {
                state = ERROR;
                return -1;
            }
        }
        return p - offset;
    }

    private boolean step(final int b)
    {
        if (state >= EXT_BWS_BEFORE_SEMI && state <= EXT_AFTER_QUOTED && ++extensionBytes > MAX_EXTENSION_BYTES)
        {
            return false;
        }
        switch (state)
        {
            case SIZE_FIRST:
            {
                final int d = hex(b);
                if (d < 0)
                {
                    return false;
                }
                remaining = d;
                extensionBytes = 0;
                state = SIZE;
                return true;
            }
            case SIZE:
            {
                final int d = hex(b);
                if (d >= 0)
                {
                    if (remaining > (FieldLines.MAX_LENGTH - d) >> 4)
                    {
                        return false;
                    }
                    remaining = (remaining << 4) + d;
                    return true;
                }
                return afterToken(b);
            }
            case EXT_BWS_BEFORE_SEMI:
                if (Ascii.isOws(b))
                {
                    return true;
                }
                return to(b == ';', EXT_NAME_START);
            case EXT_NAME_START:
                if (Ascii.isOws(b))
                {
                    return true;
                }
                return to(Ascii.isTchar(b), EXT_NAME);
            case EXT_NAME:
                if (Ascii.isTchar(b))
                {
                    return true;
                }
                if (Ascii.isOws(b))
                {
                    state = EXT_BWS_BEFORE_EQ;
                    return true;
                }
                if (b == '=')
                {
                    state = EXT_VALUE_START;
                    return true;
                }
                return afterToken(b);
            case EXT_BWS_BEFORE_EQ:
                if (Ascii.isOws(b))
                {
                    return true;
                }
                if (b == '=')
                {
                    state = EXT_VALUE_START;
                    return true;
                }
                return to(b == ';', EXT_NAME_START);
            case EXT_VALUE_START:
                if (Ascii.isOws(b))
                {
                    return true;
                }
                if (b == '"')
                {
                    state = EXT_QUOTED;
                    return true;
                }
                return to(Ascii.isTchar(b), EXT_TOKEN);
            case EXT_TOKEN:
                if (Ascii.isTchar(b))
                {
                    return true;
                }
                return afterToken(b);
            case EXT_QUOTED:
                // RFC 9110 §5.6.4: qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
                if (b == '"')
                {
                    state = EXT_AFTER_QUOTED;
                    return true;
                }
                if (b == '\\')
                {
                    state = EXT_QUOTED_ESCAPE;
                    return true;
                }
                return b == Ascii.HTAB || !Ascii.isCtl(b);
            case EXT_QUOTED_ESCAPE:
                // quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )
                return to(b == Ascii.HTAB || !Ascii.isCtl(b), EXT_QUOTED);
            case EXT_AFTER_QUOTED:
                return afterToken(b);
            case LINE_LF:
                if (b != Ascii.LF)
                {
                    return false;
                }
                state = remaining == 0 ? TRAILER_LINE_START : DATA;
                return true;
            case DATA_CR:
                return to(b == Ascii.CR, DATA_LF);
            case DATA_LF:
                return to(b == Ascii.LF, SIZE_FIRST);
            case TRAILER_LINE_START:
                if (b == Ascii.CR)
                {
                    state = FINAL_LF;
                    return true;
                }
                // A leading SP/HTAB would be obs-fold (RFC 9112 §5.2): refused like in heads.
                return trailerByte() && to(Ascii.isTchar(b), TRAILER_NAME);
            case TRAILER_NAME:
                if (!trailerByte())
                {
                    return false;
                }
                if (Ascii.isTchar(b))
                {
                    return true;
                }
                return to(b == ':', TRAILER_VALUE);
            case TRAILER_VALUE:
                if (!trailerByte())
                {
                    return false;
                }
                if (b == Ascii.CR)
                {
                    state = TRAILER_LF;
                    return true;
                }
                return b == Ascii.HTAB || !Ascii.isCtl(b);
            case TRAILER_LF:
                return to(b == Ascii.LF, TRAILER_LINE_START);
            case FINAL_LF:
                return to(b == Ascii.LF, COMPLETE);
            default:
                return false;
        }
    }

    /** After a chunk size, extension name or value: another extension, the end of the line, or BWS before ";". */
    private boolean afterToken(final int b)
    {
        if (b == ';')
        {
            state = EXT_NAME_START;
            return true;
        }
        if (b == Ascii.CR)
        {
            state = LINE_LF;
            return true;
        }
        return to(Ascii.isOws(b), EXT_BWS_BEFORE_SEMI);
    }

    private boolean trailerByte()
    {
        return ++trailerBytes <= MAX_TRAILER_BYTES;
    }

    private boolean to(final boolean valid, final int next)
    {
        state = next;
        return valid;
    }

    private static int hex(final int b)
    {
        if (b >= '0' && b <= '9')
        {
            return b - '0';
        }
        final int lower = b | 0x20;
        if (lower >= 'a' && lower <= 'f')
        {
            return lower - 'a' + 10;
        }
        return -1;
    }

    public boolean isComplete()
    {
        return state == COMPLETE;
    }

    public boolean isMalformed()
    {
        return state == ERROR;
    }

    @Override
    public String toString()
    {
        return "ChunkedBodyTracker{state=" + state + ", remaining=" + remaining + "}";
    }
}
