package io.centrigate.http;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * A complete upstream response head, parsed and validated in one pass: a flyweight like {@link RequestHead}.
 * Any violation makes {@link #parse} return false and the caller answer the client
 * {@link HttpError#BAD_UPSTREAM_RESPONSE}; {@link #violation()} names the rule for the log.
 * <p>
 * Rules:
 * <ul>
 * <li>status-line = HTTP-version SP status-code SP [ reason-phrase ] CRLF (RFC 9112 §4), version
 * {@code HTTP/1.1} or {@code HTTP/1.0}, status 100-599 (RFC 9110 §15), reason of HTAB / SP / VCHAR / obs-text.
 * A status line without the second SP and reason ({@code HTTP/1.1 200\r\n}) is accepted: we are the client here,
 * the reason carries no meaning (§4), and the framing is not in doubt.</li>
 * <li>field lines as strict as for requests ({@link FieldLines}).</li>
 * <li>framing: differing Content-Length values, Content-Length with Transfer-Encoding (RFC 9112 §6.3 item 3 lets a
 * client pick TE, but a proxy relaying the ambiguity is how responses get split), Transfer-Encoding in HTTP/1.0
 * (§6.1) or chunked applied twice (§7) are invalid.</li>
 * <li>at most one Sec-WebSocket-Accept (RFC 6455 §4.1 expects exactly one in a 101).</li>
 * </ul>
 */
public final class ResponseHead
{
    /** How the end of the response body is found (RFC 9112 §6.3). */
    public enum BodyKind
    {
        /** 1xx, 204, 304, or an answer to HEAD: the head is the whole message. */
        NONE,
        CONTENT_LENGTH,
        CHUNKED,
        /** No framing fields (or a final coding other than chunked): the body ends when the upstream closes. */
        UNTIL_CLOSE
    }

    private static final byte[] CONNECTION_CLOSE = Ascii.bytes("Connection: close\r\n\r\n");
    private static final byte[] END_OF_HEAD = Ascii.bytes("\r\n");

    private final FieldLines fields;
    private DirectBuffer buffer;
    private int headLength;
    private int statusLineEnd;
    private int status;
    private int version;
    private HttpError violation;

    public ResponseHead(final int maxFields)
    {
        this.fields = new FieldLines(maxFields);
    }

    /** Parses {@code buf[0, headLength)}, exactly one response head ending with its empty line. */
    public boolean parse(final DirectBuffer buf, final int headLength)
    {
        this.buffer = buf;
        this.headLength = headLength;
        this.violation = null;
        this.status = 0;
        this.version = 0;
        fields.reset();

        final int lineEnd = statusLine(buf, headLength);
        if (lineEnd < 0)
        {
            return fail(HttpError.MALFORMED_STATUS_LINE);
        }
        statusLineEnd = lineEnd;
        final HttpError fieldError = fields.parse(buf, lineEnd + 2, headLength);
        if (fieldError != null)
        {
            return fail(fieldError);
        }
        if (fields.transferEncodingFields > 0)
        {
            if (version == 10)
            {
                return fail(HttpError.TRANSFER_ENCODING_IN_HTTP10);
            }
            if (fields.contentLength >= 0)
            {
                return fail(HttpError.CONTENT_LENGTH_WITH_TRANSFER_ENCODING);
            }
            if (fields.chunkedCodings > 1)
            {
                return fail(HttpError.UNSUPPORTED_TRANSFER_ENCODING);
            }
        }
        if (fields.webSocketAcceptCount > 1)
        {
            return fail(HttpError.INVALID_UPGRADE_RESPONSE);
        }
        return true;
    }

    /** @return the index of the CR ending the status line, or -1. */
    private int statusLine(final DirectBuffer buf, final int end)
    {
        // "HTTP/1.x SP ddd" is 12 bytes, then SP reason CRLF or CRLF.
        if (end < 14 || buf.getByte(0) != 'H' || buf.getByte(1) != 'T' || buf.getByte(2) != 'T' ||
            buf.getByte(3) != 'P' || buf.getByte(4) != '/' || buf.getByte(5) != '1' || buf.getByte(6) != '.' ||
            buf.getByte(8) != Ascii.SP)
        {
            return -1;
        }
        final byte minor = buf.getByte(7);
        if (minor != '0' && minor != '1')
        {
            return -1;
        }
        version = minor == '0' ? 10 : 11;
        int code = 0;
        for (int i = 9; i < 12; i++)
        {
            final int d = Ascii.at(buf, i) - '0';
            if (d < 0 || d > 9)
            {
                return -1;
            }
            code = code * 10 + d;
        }
        if (code < 100 || code > 599)
        {
            return -1;
        }
        status = code;
        int p = 12;
        if (buf.getByte(p) == Ascii.SP)
        {
            p++;
            while (p < end)
            {
                final int b = Ascii.at(buf, p);
                if (b == Ascii.CR || (Ascii.isCtl(b) && b != Ascii.HTAB))
                {
                    break;
                }
                p++;
            }
        }
        if (p + 1 >= end || buf.getByte(p) != Ascii.CR || buf.getByte(p + 1) != Ascii.LF)
        {
            return -1;
        }
        return p;
    }

    private boolean fail(final HttpError violation)
    {
        this.violation = violation;
        return false;
    }

    /**
     * The rule the last rejected head broke, for logs (the client always gets
     * {@link HttpError#BAD_UPSTREAM_RESPONSE}); a status-line problem is
     * {@link HttpError#MALFORMED_STATUS_LINE}. {@code null} after a successful parse.
     */
    public HttpError violation()
    {
        return violation;
    }

    public BodyKind bodyKind(final boolean requestWasHead)
    {
        // RFC 9112 §6.3 items 1-2: no body for HEAD, 1xx, 204 and 304, whatever the fields say.
        if (requestWasHead || status < 200 || status == 204 || status == 304)
        {
            return BodyKind.NONE;
        }
        if (fields.transferEncodingFields > 0)
        {
            return fields.lastCodingChunked ? BodyKind.CHUNKED : BodyKind.UNTIL_CLOSE;
        }
        return fields.contentLength >= 0 ? BodyKind.CONTENT_LENGTH : BodyKind.UNTIL_CLOSE;
    }

    /**
     * Writes this head for the client with the hop-by-hop fields (Connection, the fields it names, Keep-Alive,
     * Proxy-Connection, TE, Upgrade; RFC 9110 §7.6.1) removed and {@code Connection: close} appended, into
     * {@code dst[dstOffset, dstOffset + capacity)}. Used to relay a non-101 answer to an upgrade, then close.
     *
     * @return bytes written, or -1 when it does not fit.
     */
    public int writeForClient(final DirectBuffer src, final MutableDirectBuffer dst, final int dstOffset, final int capacity)
    {
        return writeForClient(src, dst, dstOffset, capacity, true);
    }

    /**
     * As above; without {@code close} no Connection field is added, so an HTTP/1.1 client keeps the connection
     * (the proxy regenerates the hop-by-hop fields for its own connection, RFC 9110 §7.6.1).
     */
    public int writeForClient(
        final DirectBuffer src, final MutableDirectBuffer dst, final int dstOffset, final int capacity, final boolean close)
    {
        final int limit = dstOffset + capacity;
        int p = UpstreamRequestWriter.copy(src, 0, statusLineEnd + 2, dst, dstOffset, limit);
        final int count = fields.count;
        for (int i = 0; i < count && p >= 0; i++)
        {
            switch (fields.kind(i))
            {
                case FieldLines.CONNECTION:
                case FieldLines.KEEP_ALIVE:
                case FieldLines.PROXY_CONNECTION:
                case FieldLines.TE:
                case FieldLines.UPGRADE:
                    continue;
                default:
                    if (!fields.nominated(i))
                    {
                        final int start = fields.nameOffset(i);
                        p = UpstreamRequestWriter.copy(src, start, fields.lineEnd(i) + 2 - start, dst, p, limit);
                    }
            }
        }
        p = UpstreamRequestWriter.put(close ? CONNECTION_CLOSE : END_OF_HEAD, dst, p, limit);
        return p < 0 ? -1 : p - dstOffset;
    }

    public DirectBuffer buffer()
    {
        return buffer;
    }

    public int headLength()
    {
        return headLength;
    }

    public int status()
    {
        return status;
    }

    /** 10 for HTTP/1.0, 11 for HTTP/1.1. */
    public int version()
    {
        return version;
    }

    /** Index of the CR ending the status line. */
    public int statusLineEnd()
    {
        return statusLineEnd;
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

    public int valueOffset(final int field)
    {
        return fields.valueOffset(field);
    }

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

    public boolean connectionClose()
    {
        return fields.connectionClose;
    }

    public boolean connectionUpgrade()
    {
        return fields.connectionUpgrade;
    }

    public boolean upgradeWebSocket()
    {
        return fields.upgradeWebSocket;
    }

    /** Index of the single Sec-WebSocket-Accept field, or -1. */
    public int webSocketAcceptField()
    {
        return fields.webSocketAcceptField;
    }

    /** Cold path: the name of {@code field} as a String. */
    public String name(final int field)
    {
        return buffer.getStringWithoutLengthAscii(fields.nameOffset(field), fields.nameLength(field));
    }

    /** Cold path: the trimmed value of {@code field} as a String. */
    public String value(final int field)
    {
        return buffer.getStringWithoutLengthAscii(fields.valueOffset(field), fields.valueLength(field));
    }

    @Override
    public String toString()
    {
        return "ResponseHead{status=" + status + ", version=" + version + ", fields=" + fields.count +
            ", contentLength=" + fields.contentLength + ", chunked=" + isChunked() +
            (violation != null ? ", violation=" + violation : "") + "}";
    }
}
