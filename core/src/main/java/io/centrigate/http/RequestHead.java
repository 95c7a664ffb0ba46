package io.centrigate.http;

import java.nio.charset.StandardCharsets;

import org.agrona.DirectBuffer;

/**
 * A complete request head, parsed and validated in one pass: a flyweight over the buffer it was given, with
 * every part reported as offsets into that buffer. One per event loop, reused for every request; the buffer
 * must not change while the accessors are used.
 * <p>
 * Rejected with the first rule broken ({@link #error()}):
 * <ul>
 * <li>request-line = method SP request-target SP HTTP-version CRLF (RFC 9112 §3): method is 1*tchar, exactly one
 * SP on each side, the target is one or more visible ASCII bytes (0x21-0x7E; bytes 0x80 and up are refused,
 * RFC 3986 has no place for them): otherwise {@link HttpError#MALFORMED_REQUEST_LINE}.</li>
 * <li>version: exactly {@code HTTP/1.1} or {@code HTTP/1.0}. A well-formed other version ({@code HTTP/2.0},
 * {@code HTTP/1.2}) and a line without any version (HTTP/0.9) are {@link HttpError#UNSUPPORTED_VERSION}; anything
 * else, including lower-case {@code http/1.1} (HTTP-name is case-sensitive, RFC 9112 §2.3) is
 * {@link HttpError#MALFORMED_REQUEST_LINE}.</li>
 * <li>field lines as {@link FieldLines} describes.</li>
 * <li>request-target (RFC 9112 §3.2): origin-form, {@code http}/{@code https} absolute-form with a non-empty host
 * and no userinfo, {@code *} for OPTIONS, anything for CONNECT; otherwise {@link HttpError#INVALID_TARGET}.</li>
 * <li>Host (RFC 9112 §3.2): an HTTP/1.1 request needs one ({@link HttpError#MISSING_HOST}), no request may have two
 * ({@link HttpError#MULTIPLE_HOST}), its value must be {@code uri-host[:port]} ({@link HttpError#INVALID_HOST});
 * an empty value is allowed.</li>
 * <li>framing (RFC 9112 §6): Content-Length is 1*DIGIT up to 2^62, repeated only with identical values;
 * Transfer-Encoding is refused in HTTP/1.0 (§6.1), together with Content-Length (§6.3 item 3), and unless it is
 * exactly one {@code chunked} coding (the only coding a proxy can frame without decoding).</li>
 * <li>WebSocket opening handshake (RFC 6455 §4.2.1) when Upgrade names {@code websocket} and Connection names
 * {@code upgrade}: GET, HTTP/1.1 and no body ({@link HttpError#BAD_WEBSOCKET_UPGRADE}), neither
 * Sec-WebSocket-Key nor Sec-WebSocket-Version repeated or a list ({@link HttpError#REPEATED_WEBSOCKET_FIELD}), one
 * Sec-WebSocket-Version of exactly {@code 13} ({@link HttpError#WEBSOCKET_VERSION}, §4.2.2 answers 426), one
 * Sec-WebSocket-Key that is base64 of 16 bytes ({@link HttpError#INVALID_WEBSOCKET_KEY}).</li>
 * </ul>
 */
public final class RequestHead
{
    private static final byte[] GET = Ascii.bytes("GET");
    private static final byte[] HEAD = Ascii.bytes("HEAD");
    private static final byte[] OPTIONS = Ascii.bytes("OPTIONS");
    private static final byte[] CONNECT = Ascii.bytes("CONNECT");
    private static final byte[] HTTP_SCHEME = Ascii.bytes("http://");
    private static final byte[] HTTPS_SCHEME = Ascii.bytes("https://");

    private final FieldLines fields;
    private DirectBuffer buffer;
    private int headLength;
    private int methodLength;
    private int targetOffset;
    private int targetLength;
    private int pathOffset;
    private int pathLength;
    private int authorityOffset;
    private int authorityLength;
    private int requestLineEnd;
    private int version;
    private boolean webSocketUpgrade;
    private HttpError error;

    public RequestHead(final int maxFields)
    {
        this.fields = new FieldLines(maxFields);
    }

    /**
     * Parses {@code buf[0, headLength)}, which must be exactly one head ending with its empty line (as found by
     * {@link HeadScanner}).
     *
     * @return whether the head is valid; if not, {@link #error()} says why and the other accessors are undefined.
     */
    public boolean parse(final DirectBuffer buf, final int headLength)
    {
        this.buffer = buf;
        this.headLength = headLength;
        this.error = null;
        this.version = 0;
        this.webSocketUpgrade = false;
        fields.reset();

        final int lineEnd = requestLine(buf, headLength);
        if (lineEnd < 0)
        {
            return false;
        }
        requestLineEnd = lineEnd;
        final HttpError targetError = targetForm(buf);
        if (targetError != null)
        {
            return fail(targetError);
        }
        final HttpError fieldError = fields.parse(buf, lineEnd + 2, headLength);
        if (fieldError != null)
        {
            return fail(fieldError);
        }

        if (version == 11 && fields.hostCount == 0)
        {
            return fail(HttpError.MISSING_HOST);
        }
        if (fields.hostField >= 0 &&
            !validHost(buf, fields.valueOffset(fields.hostField), fields.valueLength(fields.hostField), true))
        {
            // RFC 9112 §3.2: a Host field with an invalid value is a 400, even when absolute-form overrides it.
            return fail(HttpError.INVALID_HOST);
        }
        if (fields.transferEncodingFields > 0)
        {
            if (version == 10)
            {
                // RFC 9112 §6.1: Transfer-Encoding in HTTP/1.0 means the framing is faulty.
                return fail(HttpError.TRANSFER_ENCODING_IN_HTTP10);
            }
            if (fields.contentLength >= 0)
            {
                // RFC 9112 §6.3 item 3: a request with both is a smuggling attempt until proven otherwise.
                return fail(HttpError.CONTENT_LENGTH_WITH_TRANSFER_ENCODING);
            }
            if (fields.codings != 1 || !fields.lastCodingChunked)
            {
                // RFC 9112 §6.3 item 4: chunked must be final; we accept nothing but chunked alone.
                return fail(HttpError.UNSUPPORTED_TRANSFER_ENCODING);
            }
        }

        webSocketUpgrade = fields.upgradeWebSocket && fields.connectionUpgrade;
        if (webSocketUpgrade)
        {
            return webSocketHandshake(buf);
        }
        return true;
    }

    /** @return the index of the CR ending the request line, or -1 after recording the error. */
    private int requestLine(final DirectBuffer buf, final int end)
    {
        final int cr = checkRequestLine(buf, end);
        if (cr < 0)
        {
            fail(error(cr));
            return -1;
        }
        // The line is valid, so its parts are where the grammar puts them: method up to the first SP, the
        // version in the 8 bytes before the CR.
        int p = 0;
        while (buf.getByte(p) != Ascii.SP)
        {
            p++;
        }
        methodLength = p;
        targetOffset = p + 1;
        targetLength = cr - 9 - targetOffset;
        version = 10 + buf.getByte(cr - 1) - '0';
        return cr;
    }

    private static final HttpError[] ERRORS = HttpError.values();

    /**
     * Checks the request line starting at 0 (RFC 9112 §3) against {@code buf[0, end)}, which must hold the line
     * and its CRLF. {@link HeadScanner} calls this as soon as the first CRLF arrives, so that a line that can never
     * become a valid request (an HTTP/0.9 {@code GET /}) is answered at once rather than at the header timeout.
     *
     * @return the index of the CR ending the line, or {@code -(error.ordinal() + 1)}: an int, not an
     * {@link HttpError}, so that the valid path returns the position without a second lookup.
     */
    static int checkRequestLine(final DirectBuffer buf, final int end)
    {
        int p = 0;
        while (p < end && Ascii.isTchar(Ascii.at(buf, p)))
        {
            p++;
        }
        if (p == 0 || p >= end || buf.getByte(p) != Ascii.SP)
        {
            return lineError(buf, p, end);
        }
        p++;
        final int targetStart = p;
        while (p < end)
        {
            final int b = Ascii.at(buf, p);
            if (b < 0x21 || b > 0x7E)
            {
                break;
            }
            p++;
        }
        if (p == targetStart || p >= end)
        {
            return lineError(buf, p, end);
        }
        if (buf.getByte(p) == Ascii.CR && p + 1 < end && buf.getByte(p + 1) == Ascii.LF)
        {
            // "GET /" with no version is an HTTP/0.9 request.
            return code(HttpError.UNSUPPORTED_VERSION);
        }
        if (buf.getByte(p) != Ascii.SP)
        {
            return lineError(buf, p, end);
        }
        p++;
        // HTTP-version = "HTTP/" DIGIT "." DIGIT, followed by CRLF (RFC 9112 §2.3, §3).
        if (p + 10 > end || buf.getByte(p + 8) != Ascii.CR || buf.getByte(p + 9) != Ascii.LF ||
            buf.getByte(p) != 'H' || buf.getByte(p + 1) != 'T' || buf.getByte(p + 2) != 'T' ||
            buf.getByte(p + 3) != 'P' || buf.getByte(p + 4) != '/' || buf.getByte(p + 6) != '.')
        {
            int q = p;
            while (q < end && buf.getByte(q) != Ascii.CR && buf.getByte(q) != Ascii.LF)
            {
                q++;
            }
            return lineError(buf, q, end);
        }
        final int major = Ascii.at(buf, p + 5) - '0';
        final int minor = Ascii.at(buf, p + 7) - '0';
        if (major < 0 || major > 9 || minor < 0 || minor > 9)
        {
            return code(HttpError.MALFORMED_REQUEST_LINE);
        }
        if (major != 1 || minor > 1)
        {
            return code(HttpError.UNSUPPORTED_VERSION);
        }
        return p + 8;
    }

    /** The error a negative result of {@link #checkRequestLine} stands for. */
    static HttpError error(final int code)
    {
        return ERRORS[-code - 1];
    }

    private static int code(final HttpError error)
    {
        return -error.ordinal() - 1;
    }

    private static int lineError(final DirectBuffer buf, final int p, final int end)
    {
        if (p < end)
        {
            final byte b = buf.getByte(p);
            if (b == Ascii.LF)
            {
                return code(HttpError.BARE_LF);
            }
            if (b == Ascii.CR && (p + 1 >= end || buf.getByte(p + 1) != Ascii.LF))
            {
                return code(HttpError.BARE_CR);
            }
        }
        return code(HttpError.MALFORMED_REQUEST_LINE);
    }

    /**
     * RFC 9112 §3.2: origin-form, absolute-form, authority-form (CONNECT only) or asterisk-form (OPTIONS only).
     * For absolute-form (§3.2.2) the authority takes the place of Host and the rest is the path the request is
     * routed and forwarded by; any other scheme is refused, because an upstream that parses the target itself
     * (Go's net/http does) would serve its path while our guard of internal paths looked at something else.
     */
    private HttpError targetForm(final DirectBuffer buf)
    {
        pathOffset = targetOffset;
        pathLength = targetLength;
        authorityOffset = -1;
        authorityLength = 0;
        final byte first = buf.getByte(targetOffset);
        if (first == '/')
        {
            return null;
        }
        if (first == '*' && targetLength == 1)
        {
            return Ascii.equals(buf, 0, methodLength, OPTIONS) ? null : HttpError.INVALID_TARGET;
        }
        if (Ascii.equals(buf, 0, methodLength, CONNECT))
        {
            return null;
        }
        int schemeLength = 0;
        if (Ascii.equalsIgnoreCase(buf, targetOffset, Math.min(targetLength, HTTP_SCHEME.length), HTTP_SCHEME))
        {
            schemeLength = HTTP_SCHEME.length;
        }
        else if (Ascii.equalsIgnoreCase(buf, targetOffset, Math.min(targetLength, HTTPS_SCHEME.length), HTTPS_SCHEME))
        {
            schemeLength = HTTPS_SCHEME.length;
        }
        if (schemeLength == 0)
        {
            return HttpError.INVALID_TARGET;
        }
        final int end = targetOffset + targetLength;
        int p = targetOffset + schemeLength;
        while (p < end)
        {
            final byte b = buf.getByte(p);
            if (b == '/' || b == '?' || b == '#')
            {
                break;
            }
            p++;
        }
        authorityOffset = targetOffset + schemeLength;
        authorityLength = p - authorityOffset;
        pathOffset = p;
        pathLength = end - p;
        // RFC 9110 §4.2.1: an http URI with an empty host is invalid; §4.2.4: userinfo is refused with it ('@').
        return validHost(buf, authorityOffset, authorityLength, false) ? null : HttpError.INVALID_TARGET;
    }

    /**
     * uri-host [ ":" port ] (RFC 9110 §7.2, RFC 3986 §3.2.2): an IP-literal in brackets, or a reg-name (which
     * covers IPv4address) of unreserved, pct-encoded and sub-delims characters, then optionally ':' and digits
     * (an empty port is allowed by the grammar). Anything else, such as SP, '/', '?', '#', '@', is refused.
     */
    static boolean validHost(final DirectBuffer buf, final int offset, final int length, final boolean emptyHost)
    {
        final int end = offset + length;
        int p = offset;
        if (p < end && buf.getByte(p) == '[')
        {
            p++;
            final int start = p;
            while (p < end && buf.getByte(p) != ']')
            {
                final int c = Ascii.at(buf, p);
                if (c != ':' && !hostChar(c))
                {
                    return false;
                }
                p++;
            }
            if (p == end || p == start)
            {
                return false;
            }
            p++;
        }
        else
        {
            while (p < end)
            {
                final int c = Ascii.at(buf, p);
                if (c == ':')
                {
                    break;
                }
                if (c == '%')
                {
                    if (p + 2 >= end || !Ascii.isHexDigit(Ascii.at(buf, p + 1)) ||
                        !Ascii.isHexDigit(Ascii.at(buf, p + 2)))
                    {
                        return false;
                    }
                    p += 3;
                    continue;
                }
                if (!hostChar(c))
                {
                    return false;
                }
                p++;
            }
            if (p == offset && !emptyHost)
            {
                return false;
            }
        }
        if (p == end)
        {
            return true;
        }
        if (buf.getByte(p) != ':')
        {
            return false;
        }
        for (p++; p < end; p++)
        {
            final int c = Ascii.at(buf, p);
            if (c < '0' || c > '9')
            {
                return false;
            }
        }
        return true;
    }

    /** unreserved / sub-delims (RFC 3986 §2.2, §2.3). */
    private static boolean hostChar(final int c)
    {
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        {
            return true;
        }
        switch (c)
        {
            case '-': case '.': case '_': case '~':
            case '!': case '$': case '&': case '\'': case '(': case ')': case '*': case '+': case ',': case ';':
            case '=':
                return true;
            default:
                return false;
        }
    }

    private boolean webSocketHandshake(final DirectBuffer buf)
    {
        if (version != 11 || !isGet() || fields.transferEncodingFields > 0 || fields.contentLength > 0)
        {
            return fail(HttpError.BAD_WEBSOCKET_UPGRADE);
        }
        if (fields.webSocketKeyCount > 1 || fields.webSocketVersionCount > 1 ||
            hasComma(buf, fields.webSocketKeyField) || hasComma(buf, fields.webSocketVersionField))
        {
            // RFC 6455 §4.1, §11.3: single-valued fields; a repeat or a list is a malformed handshake (400), not
            // a version we might not speak (426).
            return fail(HttpError.REPEATED_WEBSOCKET_FIELD);
        }
        if (webSocketVersion() != 13)
        {
            return fail(HttpError.WEBSOCKET_VERSION);
        }
        if (fields.webSocketKeyCount != 1 || !validKey(buf, fields.valueOffset(fields.webSocketKeyField),
            fields.valueLength(fields.webSocketKeyField)))
        {
            return fail(HttpError.INVALID_WEBSOCKET_KEY);
        }
        return true;
    }

    /**
     * RFC 6455 §4.1: the key is a random 16-byte value, base64-encoded (RFC 4648 §4): 22 alphabet characters and
     * "==". The last character carries only 2 bits of the 16th byte, so its low 4 bits must be zero.
     */
    static boolean validKey(final DirectBuffer buf, final int offset, final int length)
    {
        if (length != 24 || buf.getByte(offset + 22) != '=' || buf.getByte(offset + 23) != '=')
        {
            return false;
        }
        int value = 0;
        for (int i = 0; i < 22; i++)
        {
            value = base64Value(Ascii.at(buf, offset + i));
            if (value < 0)
            {
                return false;
            }
        }
        return (value & 0x0F) == 0;
    }

    private static int base64Value(final int c)
    {
        if (c >= 'A' && c <= 'Z')
        {
            return c - 'A';
        }
        if (c >= 'a' && c <= 'z')
        {
            return c - 'a' + 26;
        }
        if (c >= '0' && c <= '9')
        {
            return c - '0' + 52;
        }
        if (c == '+')
        {
            return 62;
        }
        return c == '/' ? 63 : -1;
    }

    private boolean hasComma(final DirectBuffer buf, final int field)
    {
        if (field < 0)
        {
            return false;
        }
        final int end = fields.valueOffset(field) + fields.valueLength(field);
        for (int p = fields.valueOffset(field); p < end; p++)
        {
            if (buf.getByte(p) == ',')
            {
                return true;
            }
        }
        return false;
    }

    private boolean fail(final HttpError error)
    {
        this.error = error;
        return false;
    }

    public HttpError error()
    {
        return error;
    }

    public DirectBuffer buffer()
    {
        return buffer;
    }

    public int headLength()
    {
        return headLength;
    }

    public int methodOffset()
    {
        return 0;
    }

    public int methodLength()
    {
        return methodLength;
    }

    /** Methods are case-sensitive (RFC 9110 §9.1). */
    public boolean isGet()
    {
        return Ascii.equals(buffer, 0, methodLength, GET);
    }

    public boolean isHead()
    {
        return Ascii.equals(buffer, 0, methodLength, HEAD);
    }

    public int targetOffset()
    {
        return targetOffset;
    }

    public int targetLength()
    {
        return targetLength;
    }

    /** The target's path and query: the whole target, except after the authority of an absolute-form one. */
    public int pathOffset()
    {
        return pathOffset;
    }

    public int pathLength()
    {
        return pathLength;
    }

    /** Whether the target is absolute-form, whose authority replaces Host (RFC 9112 §3.2.2). */
    public boolean isAbsoluteForm()
    {
        return authorityOffset >= 0;
    }

    /** The authority of an absolute-form target (host[:port]), or -1. */
    public int authorityOffset()
    {
        return authorityOffset;
    }

    public int authorityLength()
    {
        return authorityLength;
    }

    /** Where the host to route by is: the absolute-form authority, else the Host value, else -1 (HTTP/1.0). */
    public int routingHostOffset()
    {
        if (authorityOffset >= 0)
        {
            return authorityOffset;
        }
        return fields.hostField < 0 ? -1 : fields.valueOffset(fields.hostField);
    }

    public int routingHostLength()
    {
        if (authorityOffset >= 0)
        {
            return authorityLength;
        }
        return fields.hostField < 0 ? 0 : fields.valueLength(fields.hostField);
    }

    /** Index of the CR ending the request line; the line with its CRLF is {@code [0, requestLineEnd() + 2)}. */
    public int requestLineEnd()
    {
        return requestLineEnd;
    }

    /** 10 for HTTP/1.0, 11 for HTTP/1.1. */
    public int version()
    {
        return version;
    }

    public int fieldCount()
    {
        return fields.count;
    }

    public int nameOffset(final int field)
    {
        return fields.nameOffset(field);
    }

    public int nameLength(final int field)
    {
        return fields.nameLength(field);
    }

    /** Start of the value without leading OWS. */
    public int valueOffset(final int field)
    {
        return fields.valueOffset(field);
    }

    /** Length of the value without leading or trailing OWS. */
    public int valueLength(final int field)
    {
        return fields.valueLength(field);
    }

    /** The Content-Length value, or -1 when there is none. */
    public long contentLength()
    {
        return fields.contentLength;
    }

    public boolean isChunked()
    {
        return fields.transferEncodingFields > 0 && fields.lastCodingChunked;
    }

    public boolean hasBody()
    {
        return fields.contentLength > 0 || fields.transferEncodingFields > 0;
    }

    /** Index of the Host field, or -1. */
    public int hostField()
    {
        return fields.hostField;
    }

    public boolean connectionClose()
    {
        return fields.connectionClose;
    }

    public boolean connectionKeepAlive()
    {
        return fields.connectionKeepAlive;
    }

    public boolean connectionUpgrade()
    {
        return fields.connectionUpgrade;
    }

    public boolean isWebSocketUpgrade()
    {
        return webSocketUpgrade;
    }

    /** Index of the Sec-WebSocket-Key field (the last one if repeated), or -1. */
    public int webSocketKeyField()
    {
        return fields.webSocketKeyField;
    }

    /**
     * The value of the single Sec-WebSocket-Version field as a number, or -1 when it is absent, repeated, or not
     * 1 to 3 digits.
     */
    public int webSocketVersion()
    {
        if (fields.webSocketVersionCount != 1)
        {
            return -1;
        }
        final int offset = fields.valueOffset(fields.webSocketVersionField);
        final int length = fields.valueLength(fields.webSocketVersionField);
        if (length < 1 || length > 3)
        {
            return -1;
        }
        int value = 0;
        for (int i = 0; i < length; i++)
        {
            final int d = Ascii.at(buffer, offset + i) - '0';
            if (d < 0 || d > 9)
            {
                return -1;
            }
            value = value * 10 + d;
        }
        return value;
    }

    /** Whether the name of {@code field} equals {@code name}, ignoring case. Cold path: for tests and logs. */
    public boolean nameEquals(final int field, final String name)
    {
        return Ascii.equalsIgnoreCase(buffer, fields.nameOffset(field), fields.nameLength(field),
            Ascii.bytes(name.toLowerCase(java.util.Locale.ROOT)));
    }

    /** Cold path: the name of {@code field} as a String. */
    public String name(final int field)
    {
        return buffer.getStringWithoutLengthAscii(fields.nameOffset(field), fields.nameLength(field));
    }

    /** Cold path: the trimmed value of {@code field} as a String (bytes 0x80 and up decoded as ISO-8859-1). */
    public String value(final int field)
    {
        final byte[] bytes = new byte[fields.valueLength(field)];
        buffer.getBytes(fields.valueOffset(field), bytes);
        return new String(bytes, StandardCharsets.ISO_8859_1);
    }

    /** Cold path: the request target as a String. */
    public String target()
    {
        return buffer.getStringWithoutLengthAscii(targetOffset, targetLength);
    }

    FieldLines fields()
    {
        return fields;
    }

    @Override
    public String toString()
    {
        if (buffer == null || version == 0)
        {
            return "RequestHead{}";
        }
        return "RequestHead{" + buffer.getStringWithoutLengthAscii(0, methodLength) + " " + target() +
            " HTTP/1." + (version - 10) + ", fields=" + fields.count + ", contentLength=" + contentLength() +
            ", chunked=" + isChunked() + ", webSocket=" + webSocketUpgrade + (error != null ? ", error=" + error : "") +
            "}";
    }
}
