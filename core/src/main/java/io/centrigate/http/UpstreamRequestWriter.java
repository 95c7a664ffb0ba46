package io.centrigate.http;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * Writes the head the upstream sees for a parsed {@link RequestHead}: the request line and end-to-end fields
 * byte-exact (name case and order preserved), the hop-by-hop fields removed and the proxy's own fields added.
 * <p>
 * Removed:
 * <ul>
 * <li>the hop-by-hop fields of RFC 9110 §7.6.1: Connection, every field a Connection option names, Keep-Alive,
 * Proxy-Connection, TE, Trailer and Upgrade (regenerated below for a WebSocket upgrade). Transfer-Encoding is
 * hop-by-hop too but is kept, because the body is forwarded as received; Host, Content-Length and
 * Transfer-Encoding are kept even when a Connection option names them, since dropping them would change the
 * target or the framing the upstream sees.</li>
 * <li>X-Real-IP, X-Forwarded-Proto and X-Scheme from the client: the proxy is the only one that knows them,
 * a client value is never trusted (but a trusted forwarder's X-Forwarded-Proto is kept, see the last
 * {@code write}).</li>
 * <li>X-Forwarded-For, whose values are collected and re-emitted with the client address appended.</li>
 * </ul>
 * Normalised:
 * <ul>
 * <li>Content-Length given as a list of identical values or on several identical lines ({@code 5, 5}): one
 * {@code Content-Length: 5} in place of the first (RFC 9110 §8.6, RFC 9112 §6.3 item 5), so that the upstream
 * never has to make the same decision we made.</li>
 * <li>an absolute-form target (RFC 9112 §3.2.2): the request line carries only its path (origin-form) and Host
 * carries its authority, which the request is routed by; an HTTP/1.0 one without Host gets one after the
 * request line.</li>
 * </ul>
 * Appended, in this order: {@code X-Real-IP}, {@code X-Forwarded-For}, {@code X-Forwarded-Proto},
 * {@code X-Scheme}, then {@code Upgrade: websocket} and {@code Connection: Upgrade} for a WebSocket upgrade, or
 * {@code Connection: close} otherwise (one request per upstream connection for now), then the empty line.
 * <p>
 * Stateless apart from constants; one per event loop is plenty.
 */
public final class UpstreamRequestWriter
{
    private static final byte[] CRLF = Ascii.bytes("\r\n");
    private static final byte[] SLASH = Ascii.bytes("/");
    private static final byte[] COMMA_SP = Ascii.bytes(", ");
    private static final byte[] X_REAL_IP = Ascii.bytes("X-Real-IP: ");
    private static final byte[] X_FORWARDED_FOR = Ascii.bytes("X-Forwarded-For: ");
    private static final byte[] X_FORWARDED_PROTO_HTTP = Ascii.bytes("X-Forwarded-Proto: http\r\n");
    private static final byte[] X_FORWARDED_PROTO_HTTPS = Ascii.bytes("X-Forwarded-Proto: https\r\n");
    private static final byte[] X_SCHEME_HTTP = Ascii.bytes("X-Scheme: http\r\n");
    private static final byte[] X_SCHEME_HTTPS = Ascii.bytes("X-Scheme: https\r\n");
    private static final byte[] UPGRADE = Ascii.bytes("Upgrade: websocket\r\nConnection: Upgrade\r\n");
    private static final byte[] CLOSE = Ascii.bytes("Connection: close\r\n");
    private static final byte[] HOST = Ascii.bytes("Host: ");
    private static final byte[] CONTENT_LENGTH = Ascii.bytes("Content-Length: ");
    private static final byte[] HTTPS = Ascii.bytes("https");

    /**
     * Writes into {@code dst[dstOffset, dstOffset + dstCapacity)}.
     *
     * @param head                a successfully parsed head of {@code src}.
     * @param clientAddress       the client's address as ASCII text, e.g. {@code 192.0.2.7} or {@code 2001:db8::1}.
     * @return bytes written, or -1 when the head does not fit (the bytes written so far are garbage).
     */
    public int write(
        final RequestHead head,
        final DirectBuffer src,
        final MutableDirectBuffer dst,
        final int dstOffset,
        final int dstCapacity,
        final byte[] clientAddress,
        final int clientAddressLength,
        final boolean https)
    {
        return write(head, src, dst, dstOffset, dstCapacity, clientAddress, clientAddressLength, https, false);
    }

    /**
     * As above; with {@code keepAlive} a request that is not an upgrade gets no Connection field at all, which for
     * HTTP/1.1 means the upstream connection persists (RFC 9112 §9.3) and can go back to the pool.
     */
    public int write(
        final RequestHead head,
        final DirectBuffer src,
        final MutableDirectBuffer dst,
        final int dstOffset,
        final int dstCapacity,
        final byte[] clientAddress,
        final int clientAddressLength,
        final boolean https,
        final boolean keepAlive)
    {
        return write(head, src, dst, dstOffset, dstCapacity, clientAddress, clientAddressLength, https, keepAlive, 0);
    }

    /**
     * As above, dropping the first {@code stripTarget} bytes of the request target (the embedded mode's prefix);
     * what remains always starts with {@code /} ({@code /centrifugo?x} becomes {@code /?x}).
     */
    public int write(
        final RequestHead head,
        final DirectBuffer src,
        final MutableDirectBuffer dst,
        final int dstOffset,
        final int dstCapacity,
        final byte[] clientAddress,
        final int clientAddressLength,
        final boolean https,
        final boolean keepAlive,
        final int stripTarget)
    {
        return write(head, src, dst, dstOffset, dstCapacity, clientAddress, clientAddressLength, clientAddress,
            clientAddressLength, https, keepAlive, stripTarget, false);
    }

    /**
     * As above, for a connection behind other proxies: {@code clientAddress} (X-Real-IP) is the client as far as it
     * is known (the PROXY protocol's source, or the rightmost untrusted X-Forwarded-For entry behind a trusted
     * forwarder), while {@code peerAddress} is what X-Forwarded-For gets appended: the hop this request came from
     * (each proxy appends its own peer, so the list stays a true path). With {@code trustedPeer} the peer's
     * X-Forwarded-Proto lines pass unchanged (the scheme the client used with the forwarder) and X-Scheme says the
     * same ({@code https} when the first X-Forwarded-Proto value is {@code https}, else {@code http}); without any,
     * the proxy's own values are written as for everyone else.
     */
    public int write(
        final RequestHead head,
        final DirectBuffer src,
        final MutableDirectBuffer dst,
        final int dstOffset,
        final int dstCapacity,
        final byte[] clientAddress,
        final int clientAddressLength,
        final byte[] peerAddress,
        final int peerAddressLength,
        final boolean https,
        final boolean keepAlive,
        final int stripTarget,
        final boolean trustedPeer)
    {
        final FieldLines fields = head.fields();
        final int limit = dstOffset + dstCapacity;
        final boolean absolute = head.isAbsoluteForm();
        int p;
        if (stripTarget == 0 && !absolute)
        {
            p = copy(src, 0, head.requestLineEnd() + 2, dst, dstOffset, limit);
        }
        else
        {
            final int rest = head.pathOffset() + stripTarget;
            p = copy(src, 0, head.targetOffset(), dst, dstOffset, limit);
            if (rest == head.targetOffset() + head.targetLength() || src.getByte(rest) != '/')
            {
                p = put(SLASH, dst, p, limit);
            }
            p = copy(src, rest, head.requestLineEnd() + 2 - rest, dst, p, limit);
            if (absolute && fields.hostField < 0)
            {
                p = host(head, src, dst, p, limit);
            }
        }
        if (p < 0)
        {
            return -1;
        }
        final boolean singleContentLength = fields.contentLengthValues > 1;
        final int count = fields.count;
        int forwardedFor = 0;
        int forwardedProto = -1;
        for (int i = 0; i < count; i++)
        {
            switch (fields.kind(i))
            {
                case FieldLines.X_FORWARDED_FOR:
                    if (fields.valueLength(i) > 0)
                    {
                        forwardedFor++;
                    }
                    continue;
                case FieldLines.X_FORWARDED_PROTO:
                    if (trustedPeer)
                    {
                        if (forwardedProto < 0)
                        {
                            forwardedProto = i;
                        }
                        p = copy(src, fields.nameOffset(i), fields.lineEnd(i) + 2 - fields.nameOffset(i), dst, p, limit);
                    }
                    continue;
                case FieldLines.X_REAL_IP:
                case FieldLines.X_SCHEME:
                case FieldLines.CONNECTION:
                case FieldLines.KEEP_ALIVE:
                case FieldLines.PROXY_CONNECTION:
                case FieldLines.TE:
                case FieldLines.TRAILER:
                case FieldLines.UPGRADE:
                    continue;
                case FieldLines.HOST:
                    if (absolute)
                    {
                        p = host(head, src, dst, p, limit);
                        continue;
                    }
                    p = copy(src, fields.nameOffset(i), fields.lineEnd(i) + 2 - fields.nameOffset(i), dst, p, limit);
                    continue;
                case FieldLines.CONTENT_LENGTH:
                    if (singleContentLength)
                    {
                        if (i == fields.contentLengthField)
                        {
                            p = put(CONTENT_LENGTH, dst, p, limit);
                            p = putDecimal(fields.contentLength, dst, p, limit);
                            p = put(CRLF, dst, p, limit);
                        }
                        continue;
                    }
                    p = copy(src, fields.nameOffset(i), fields.lineEnd(i) + 2 - fields.nameOffset(i), dst, p, limit);
                    continue;
                default:
                    if (fields.nominated(i))
                    {
                        continue;
                    }
                    final int start = fields.nameOffset(i);
                    p = copy(src, start, fields.lineEnd(i) + 2 - start, dst, p, limit);
                    if (p < 0)
                    {
                        return -1;
                    }
            }
        }

        p = put(X_REAL_IP, dst, p, limit);
        p = put(clientAddress, clientAddressLength, dst, p, limit);
        p = put(CRLF, dst, p, limit);
        p = put(X_FORWARDED_FOR, dst, p, limit);
        if (forwardedFor > 0)
        {
            // The de facto convention (nginx $proxy_add_x_forwarded_for): earlier hops first, then the client we saw.
            for (int i = 0; i < count && p >= 0; i++)
            {
                if (fields.kind(i) == FieldLines.X_FORWARDED_FOR && fields.valueLength(i) > 0)
                {
                    p = copy(src, fields.valueOffset(i), fields.valueLength(i), dst, p, limit);
                    p = put(COMMA_SP, dst, p, limit);
                }
            }
        }
        p = put(peerAddress, peerAddressLength, dst, p, limit);
        p = put(CRLF, dst, p, limit);
        if (forwardedProto >= 0)
        {
            p = put(firstElementIs(src, fields.valueOffset(forwardedProto), fields.valueLength(forwardedProto), HTTPS) ?
                X_SCHEME_HTTPS : X_SCHEME_HTTP, dst, p, limit);
        }
        else
        {
            p = put(https ? X_FORWARDED_PROTO_HTTPS : X_FORWARDED_PROTO_HTTP, dst, p, limit);
            p = put(https ? X_SCHEME_HTTPS : X_SCHEME_HTTP, dst, p, limit);
        }
        if (head.isWebSocketUpgrade())
        {
            p = put(UPGRADE, dst, p, limit);
        }
        else if (!keepAlive)
        {
            p = put(CLOSE, dst, p, limit);
        }
        p = put(CRLF, dst, p, limit);
        return p < 0 ? -1 : p - dstOffset;
    }

    /** Whether the first element of a comma-separated value is {@code token} (case-insensitive, OWS trimmed). */
    private static boolean firstElementIs(final DirectBuffer src, final int offset, final int length, final byte[] token)
    {
        int end = offset;
        while (end < offset + length && src.getByte(end) != ',')
        {
            end++;
        }
        while (end > offset && (src.getByte(end - 1) == ' ' || src.getByte(end - 1) == '\t'))
        {
            end--;
        }
        return Ascii.equalsIgnoreCase(src, offset, end - offset, token);
    }

    private static int host(
        final RequestHead head, final DirectBuffer src, final MutableDirectBuffer dst, final int p, final int limit)
    {
        int q = put(HOST, dst, p, limit);
        q = copy(src, head.authorityOffset(), head.authorityLength(), dst, q, limit);
        return put(CRLF, dst, q, limit);
    }

    /** Writes a non-negative value in decimal without building a String. */
    static int putDecimal(final long value, final MutableDirectBuffer dst, final int p, final int limit)
    {
        int digits = 1;
        for (long v = value / 10; v > 0; v /= 10)
        {
            digits++;
        }
        if (p < 0 || p + digits > limit)
        {
            return -1;
        }
        long v = value;
        for (int i = p + digits - 1; i >= p; i--)
        {
            dst.putByte(i, (byte)('0' + v % 10));
            v /= 10;
        }
        return p + digits;
    }

    static int copy(
        final DirectBuffer src, final int offset, final int length, final MutableDirectBuffer dst, final int p,
        final int limit)
    {
        if (p < 0 || p + length > limit)
        {
            return -1;
        }
        dst.putBytes(p, src, offset, length);
        return p + length;
    }

    static int put(final byte[] bytes, final MutableDirectBuffer dst, final int p, final int limit)
    {
        return put(bytes, bytes.length, dst, p, limit);
    }

    static int put(final byte[] bytes, final int length, final MutableDirectBuffer dst, final int p, final int limit)
    {
        if (p < 0 || p + length > limit)
        {
            return -1;
        }
        dst.putBytes(p, bytes, 0, length);
        return p + length;
    }
}
