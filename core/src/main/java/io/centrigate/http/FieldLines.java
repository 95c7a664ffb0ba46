package io.centrigate.http;

import org.agrona.DirectBuffer;

/**
 * The field section of one head (RFC 9112 §5), parsed in one pass into preallocated arrays of offsets, with
 * the fields the proxy acts on classified as they are read. Shared by {@link RequestHead} and
 * {@link ResponseHead}, which add the rules of their start line and message kind.
 * <p>
 * Syntax (RFC 9112 §5.1, RFC 9110 §5.5), rejected at the first violation:
 * <pre>
 *   field-line = field-name ":" OWS field-value OWS CRLF
 *   field-name = 1*tchar          ; whitespace before ":" is an error (RFC 9112 §5.1)
 *   field-value = *( VCHAR / obs-text / SP / HTAB ) ; any other CTL, NUL included, is an error (RFC 9110 §5.5)
 * </pre>
 * A line starting with SP or HTAB is obsolete line folding and is refused (RFC 9112 §5.2).
 */
final class FieldLines
{
    static final int OTHER = 0;
    static final int HOST = 1;
    static final int CONTENT_LENGTH = 2;
    static final int TRANSFER_ENCODING = 3;
    static final int CONNECTION = 4;
    static final int UPGRADE = 5;
    static final int KEEP_ALIVE = 6;
    static final int PROXY_CONNECTION = 7;
    static final int TE = 8;
    static final int TRAILER = 9;
    static final int X_REAL_IP = 10;
    static final int X_FORWARDED_FOR = 11;
    static final int X_FORWARDED_PROTO = 12;
    static final int X_SCHEME = 13;
    static final int SEC_WEBSOCKET_KEY = 14;
    static final int SEC_WEBSOCKET_VERSION = 15;
    static final int SEC_WEBSOCKET_ACCEPT = 16;

    /** RFC 9112 §6.1 and §7.1: sizes and counts beyond 2^62 are treated as invalid rather than risk overflow. */
    static final long MAX_LENGTH = 1L << 62;

    private static final byte[] N_HOST = Ascii.bytes("host");
    private static final byte[] N_CONTENT_LENGTH = Ascii.bytes("content-length");
    private static final byte[] N_TRANSFER_ENCODING = Ascii.bytes("transfer-encoding");
    private static final byte[] N_CONNECTION = Ascii.bytes("connection");
    private static final byte[] N_UPGRADE = Ascii.bytes("upgrade");
    private static final byte[] N_KEEP_ALIVE = Ascii.bytes("keep-alive");
    private static final byte[] N_PROXY_CONNECTION = Ascii.bytes("proxy-connection");
    private static final byte[] N_TE = Ascii.bytes("te");
    private static final byte[] N_TRAILER = Ascii.bytes("trailer");
    private static final byte[] N_X_REAL_IP = Ascii.bytes("x-real-ip");
    private static final byte[] N_X_FORWARDED_FOR = Ascii.bytes("x-forwarded-for");
    private static final byte[] N_X_FORWARDED_PROTO = Ascii.bytes("x-forwarded-proto");
    private static final byte[] N_X_SCHEME = Ascii.bytes("x-scheme");
    private static final byte[] N_SEC_WEBSOCKET_KEY = Ascii.bytes("sec-websocket-key");
    private static final byte[] N_SEC_WEBSOCKET_VERSION = Ascii.bytes("sec-websocket-version");
    private static final byte[] N_SEC_WEBSOCKET_ACCEPT = Ascii.bytes("sec-websocket-accept");

    private static final byte[] T_CLOSE = Ascii.bytes("close");
    private static final byte[] T_KEEP_ALIVE = N_KEEP_ALIVE;
    private static final byte[] T_UPGRADE = N_UPGRADE;
    private static final byte[] T_CHUNKED = Ascii.bytes("chunked");
    private static final byte[] T_WEBSOCKET = Ascii.bytes("websocket");

    private final int maxFields;
    private final int[] nameOffset;
    private final int[] nameLength;
    private final int[] valueOffset;
    private final int[] valueLength;
    private final int[] lineEnd;
    private final int[] kind;
    /** Named by a Connection option, so hop-by-hop (RFC 9110 §7.6.1). */
    private final boolean[] nominated;
    private final int[] optionOffset;
    private final int[] optionLength;

    int count;
    int optionCount;
    boolean connectionClose;
    boolean connectionKeepAlive;
    boolean connectionUpgrade;
    boolean upgradeWebSocket;
    long contentLength;
    /** The first Content-Length field line, or -1. */
    int contentLengthField;
    /** Values over all Content-Length lines: more than one means a forwarded head must carry a single one. */
    int contentLengthValues;
    int transferEncodingFields;
    int codings;
    int chunkedCodings;
    boolean lastCodingChunked;
    int hostField;
    int hostCount;
    int webSocketKeyField;
    int webSocketKeyCount;
    int webSocketVersionField;
    int webSocketVersionCount;
    int webSocketAcceptField;
    int webSocketAcceptCount;

    /** Set by {@link #element}: the trimmed bounds of the list element just read. */
    private int elementStart;
    private int elementEnd;

    FieldLines(final int maxFields)
    {
        if (maxFields < 0)
        {
            throw new IllegalArgumentException("maxFields must not be negative: " + maxFields);
        }
        this.maxFields = maxFields;
        nameOffset = new int[maxFields];
        nameLength = new int[maxFields];
        valueOffset = new int[maxFields];
        valueLength = new int[maxFields];
        lineEnd = new int[maxFields];
        kind = new int[maxFields];
        nominated = new boolean[maxFields];
        // Connection options name fields, so the field limit bounds them too.
        optionOffset = new int[Math.max(maxFields, 1)];
        optionLength = new int[Math.max(maxFields, 1)];
        reset();
    }

    void reset()
    {
        count = 0;
        optionCount = 0;
        connectionClose = false;
        connectionKeepAlive = false;
        connectionUpgrade = false;
        upgradeWebSocket = false;
        contentLength = -1;
        contentLengthField = -1;
        contentLengthValues = 0;
        transferEncodingFields = 0;
        codings = 0;
        chunkedCodings = 0;
        lastCodingChunked = false;
        hostField = -1;
        hostCount = 0;
        webSocketKeyField = -1;
        webSocketKeyCount = 0;
        webSocketVersionField = -1;
        webSocketVersionCount = 0;
        webSocketAcceptField = -1;
        webSocketAcceptCount = 0;
    }

    /**
     * Parses the field lines from {@code start} up to and including the empty line that must end exactly at
     * {@code end}.
     *
     * @return {@code null} when valid, else the first rule broken.
     */
    HttpError parse(final DirectBuffer buf, final int start, final int end)
    {
        reset();
        int p = start;
        while (true)
        {
            if (p >= end)
            {
                return HttpError.MALFORMED_HEAD;
            }
            int b = Ascii.at(buf, p);
            if (b == Ascii.CR)
            {
                if (p + 1 >= end)
                {
                    return HttpError.MALFORMED_HEAD;
                }
                if (buf.getByte(p + 1) != Ascii.LF)
                {
                    return HttpError.BARE_CR;
                }
                if (p + 2 != end)
                {
                    return HttpError.MALFORMED_HEAD;
                }
                markNominated(buf);
                return null;
            }
            if (b == Ascii.LF)
            {
                return HttpError.BARE_LF;
            }
            if (Ascii.isOws(b))
            {
                return HttpError.OBS_FOLD;
            }
            if (count == maxFields)
            {
                return HttpError.TOO_MANY_FIELDS;
            }

            final int nameStart = p;
            while (p < end && Ascii.isTchar(b = Ascii.at(buf, p)))
            {
                p++;
            }
            if (p >= end)
            {
                return HttpError.MALFORMED_HEAD;
            }
            if (b != ':')
            {
                return nameError(buf, p, end, b, p == nameStart);
            }
            if (p == nameStart)
            {
                return HttpError.INVALID_FIELD_NAME;
            }
            final int nameEnd = p;
            p++;
            while (p < end && Ascii.isOws(Ascii.at(buf, p)))
            {
                p++;
            }
            final int valueStart = p;
            int valueEnd = p;
            while (true)
            {
                if (p >= end)
                {
                    return HttpError.MALFORMED_HEAD;
                }
                b = Ascii.at(buf, p);
                if (b == Ascii.CR)
                {
                    if (p + 1 >= end)
                    {
                        return HttpError.MALFORMED_HEAD;
                    }
                    if (buf.getByte(p + 1) != Ascii.LF)
                    {
                        return HttpError.BARE_CR;
                    }
                    break;
                }
                if (b == Ascii.LF)
                {
                    return HttpError.BARE_LF;
                }
                p++;
                if (!Ascii.isOws(b))
                {
                    if (Ascii.isCtl(b))
                    {
                        return HttpError.NUL_OR_CTL;
                    }
                    valueEnd = p;
                }
            }

            final int i = count++;
            nameOffset[i] = nameStart;
            nameLength[i] = nameEnd - nameStart;
            valueOffset[i] = valueStart;
            valueLength[i] = valueEnd - valueStart;
            lineEnd[i] = p;
            nominated[i] = false;
            final HttpError error = classify(buf, i);
            if (error != null)
            {
                return error;
            }
            p += 2;
        }
    }

    private static HttpError nameError(
        final DirectBuffer buf, final int p, final int end, final int b, final boolean emptyName)
    {
        if (b == Ascii.LF)
        {
            return HttpError.BARE_LF;
        }
        if (b == Ascii.CR)
        {
            return p + 1 < end && buf.getByte(p + 1) != Ascii.LF ? HttpError.BARE_CR : HttpError.INVALID_FIELD_NAME;
        }
        if (Ascii.isOws(b) && !emptyName)
        {
            int q = p;
            while (q < end && Ascii.isOws(Ascii.at(buf, q)))
            {
                q++;
            }
            // RFC 9112 §5.1: no whitespace is allowed between the field name and colon; a server MUST reject.
            return q < end && buf.getByte(q) == ':' ? HttpError.SPACE_BEFORE_COLON : HttpError.INVALID_FIELD_NAME;
        }
        if (Ascii.isCtl(b))
        {
            return HttpError.NUL_OR_CTL;
        }
        return HttpError.INVALID_FIELD_NAME;
    }

    private HttpError classify(final DirectBuffer buf, final int i)
    {
        final int k = kindOf(buf, nameOffset[i], nameLength[i]);
        kind[i] = k;
        final int vs = valueOffset[i];
        final int ve = vs + valueLength[i];
        switch (k)
        {
            case HOST:
                // RFC 9112 §3.2: more than one Host field line is a 400, whatever the version.
                if (++hostCount > 1)
                {
                    return HttpError.MULTIPLE_HOST;
                }
                hostField = i;
                return null;

            case CONTENT_LENGTH:
                if (contentLengthField < 0)
                {
                    contentLengthField = i;
                }
                return contentLength(buf, vs, ve);

            case TRANSFER_ENCODING:
                transferEncodingFields++;
                for (int p = vs; ; )
                {
                    final int comma = element(buf, p, ve);
                    if (elementEnd > elementStart)
                    {
                        codings++;
                        lastCodingChunked = Ascii.equalsIgnoreCase(buf, elementStart, elementEnd - elementStart, T_CHUNKED);
                        if (lastCodingChunked)
                        {
                            chunkedCodings++;
                        }
                    }
                    if (comma >= ve)
                    {
                        return null;
                    }
                    p = comma + 1;
                }

            case CONNECTION:
                for (int p = vs; ; )
                {
                    final int comma = element(buf, p, ve);
                    final int length = elementEnd - elementStart;
                    if (length > 0)
                    {
                        if (optionCount == optionOffset.length)
                        {
                            return HttpError.TOO_MANY_CONNECTION_OPTIONS;
                        }
                        optionOffset[optionCount] = elementStart;
                        optionLength[optionCount] = length;
                        optionCount++;
                        if (Ascii.equalsIgnoreCase(buf, elementStart, length, T_CLOSE))
                        {
                            connectionClose = true;
                        }
                        else if (Ascii.equalsIgnoreCase(buf, elementStart, length, T_KEEP_ALIVE))
                        {
                            connectionKeepAlive = true;
                        }
                        else if (Ascii.equalsIgnoreCase(buf, elementStart, length, T_UPGRADE))
                        {
                            connectionUpgrade = true;
                        }
                    }
                    if (comma >= ve)
                    {
                        return null;
                    }
                    p = comma + 1;
                }

            case UPGRADE:
                for (int p = vs; ; )
                {
                    final int comma = element(buf, p, ve);
                    if (Ascii.equalsIgnoreCase(buf, elementStart, elementEnd - elementStart, T_WEBSOCKET))
                    {
                        upgradeWebSocket = true;
                    }
                    if (comma >= ve)
                    {
                        return null;
                    }
                    p = comma + 1;
                }

            case SEC_WEBSOCKET_KEY:
                webSocketKeyCount++;
                webSocketKeyField = i;
                return null;

            case SEC_WEBSOCKET_VERSION:
                webSocketVersionCount++;
                webSocketVersionField = i;
                return null;

            case SEC_WEBSOCKET_ACCEPT:
                webSocketAcceptCount++;
                webSocketAcceptField = i;
                return null;

            default:
                return null;
        }
    }

    /**
     * RFC 9112 §6.3 item 5: Content-Length = 1*DIGIT; a list of identical values, or several field lines with
     * identical values, may be taken as that one value; anything else is unrecoverable.
     */
    private HttpError contentLength(final DirectBuffer buf, final int vs, final int ve)
    {
        for (int p = vs; ; )
        {
            final int comma = element(buf, p, ve);
            if (elementEnd == elementStart)
            {
                return HttpError.INVALID_CONTENT_LENGTH;
            }
            long value = 0;
            for (int q = elementStart; q < elementEnd; q++)
            {
                final int d = Ascii.at(buf, q) - '0';
                if (d < 0 || d > 9)
                {
                    return HttpError.INVALID_CONTENT_LENGTH;
                }
                value = value * 10 + d;
                if (value > MAX_LENGTH)
                {
                    return HttpError.INVALID_CONTENT_LENGTH;
                }
            }
            if (contentLength >= 0 && contentLength != value)
            {
                return HttpError.CONFLICTING_CONTENT_LENGTH;
            }
            contentLength = value;
            contentLengthValues++;
            if (comma >= ve)
            {
                return null;
            }
            p = comma + 1;
        }
    }

    /**
     * Reads one element of a comma-separated list (RFC 9110 §5.6.1) starting at {@code p}: sets
     * {@link #elementStart}/{@link #elementEnd} to it without surrounding OWS (empty for an empty element) and
     * returns the index of the comma that ends it, or {@code end}.
     */
    private int element(final DirectBuffer buf, final int start, final int end)
    {
        int p = start;
        while (p < end && Ascii.isOws(Ascii.at(buf, p)))
        {
            p++;
        }
        elementStart = p;
        int last = p;
        while (p < end)
        {
            final int b = Ascii.at(buf, p);
            if (b == ',')
            {
                break;
            }
            p++;
            if (!Ascii.isOws(b))
            {
                last = p;
            }
        }
        elementEnd = last;
        return p;
    }

    /**
     * RFC 9110 §7.6.1: a field named by a Connection option is hop-by-hop. Host and the framing fields are never
     * taken as nominated: dropping Content-Length or Transfer-Encoding on the way to the upstream would make it
     * read the body as the next request (request smuggling), and dropping Host would change the target.
     */
    private void markNominated(final DirectBuffer buf)
    {
        if (optionCount == 0)
        {
            return;
        }
        for (int i = 0; i < count; i++)
        {
            final int k = kind[i];
            if (k == HOST || k == CONTENT_LENGTH || k == TRANSFER_ENCODING)
            {
                continue;
            }
            for (int t = 0; t < optionCount; t++)
            {
                if (Ascii.equalsIgnoreCase(buf, nameOffset[i], nameLength[i], optionOffset[t], optionLength[t]))
                {
                    nominated[i] = true;
                    break;
                }
            }
        }
    }

    static int kindOf(final DirectBuffer buf, final int offset, final int length)
    {
        switch (length)
        {
            case 2:
                return Ascii.equalsIgnoreCase(buf, offset, length, N_TE) ? TE : OTHER;
            case 4:
                return Ascii.equalsIgnoreCase(buf, offset, length, N_HOST) ? HOST : OTHER;
            case 7:
                if (Ascii.equalsIgnoreCase(buf, offset, length, N_UPGRADE))
                {
                    return UPGRADE;
                }
                return Ascii.equalsIgnoreCase(buf, offset, length, N_TRAILER) ? TRAILER : OTHER;
            case 8:
                return Ascii.equalsIgnoreCase(buf, offset, length, N_X_SCHEME) ? X_SCHEME : OTHER;
            case 9:
                return Ascii.equalsIgnoreCase(buf, offset, length, N_X_REAL_IP) ? X_REAL_IP : OTHER;
            case 10:
                if (Ascii.equalsIgnoreCase(buf, offset, length, N_CONNECTION))
                {
                    return CONNECTION;
                }
                return Ascii.equalsIgnoreCase(buf, offset, length, N_KEEP_ALIVE) ? KEEP_ALIVE : OTHER;
            case 14:
                return Ascii.equalsIgnoreCase(buf, offset, length, N_CONTENT_LENGTH) ? CONTENT_LENGTH : OTHER;
            case 15:
                return Ascii.equalsIgnoreCase(buf, offset, length, N_X_FORWARDED_FOR) ? X_FORWARDED_FOR : OTHER;
            case 16:
                return Ascii.equalsIgnoreCase(buf, offset, length, N_PROXY_CONNECTION) ? PROXY_CONNECTION : OTHER;
            case 17:
                if (Ascii.equalsIgnoreCase(buf, offset, length, N_TRANSFER_ENCODING))
                {
                    return TRANSFER_ENCODING;
                }
                if (Ascii.equalsIgnoreCase(buf, offset, length, N_SEC_WEBSOCKET_KEY))
                {
                    return SEC_WEBSOCKET_KEY;
                }
                return Ascii.equalsIgnoreCase(buf, offset, length, N_X_FORWARDED_PROTO) ? X_FORWARDED_PROTO : OTHER;
            case 20:
                return Ascii.equalsIgnoreCase(buf, offset, length, N_SEC_WEBSOCKET_ACCEPT) ? SEC_WEBSOCKET_ACCEPT : OTHER;
            case 21:
                return Ascii.equalsIgnoreCase(buf, offset, length, N_SEC_WEBSOCKET_VERSION) ? SEC_WEBSOCKET_VERSION : OTHER;
            default:
                return OTHER;
        }
    }

    int nameOffset(final int i)
    {
        return nameOffset[i];
    }

    int nameLength(final int i)
    {
        return nameLength[i];
    }

    int valueOffset(final int i)
    {
        return valueOffset[i];
    }

    int valueLength(final int i)
    {
        return valueLength[i];
    }

    /** Index of the CR that ends field line {@code i}. */
    int lineEnd(final int i)
    {
        return lineEnd[i];
    }

    int kind(final int i)
    {
        return kind[i];
    }

    boolean nominated(final int i)
    {
        return nominated[i];
    }
}
