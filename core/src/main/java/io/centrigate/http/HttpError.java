package io.centrigate.http;

import java.nio.charset.StandardCharsets;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Every way a request can be refused, with its complete HTTP/1.1 answer built once at class load.
 * <p>
 * Each answer closes the connection: after a framing error the proxy cannot know where the next request
 * would start (RFC 9112 §2.2, §6.3), so it never tries to read one. Bodies are one line of text that names
 * the rule, because the people reading them are developers pointing a client at the wrong thing.
 */
public enum HttpError
{
    MALFORMED_REQUEST_LINE(400, "Bad Request", "malformed request line"),
    UNSUPPORTED_VERSION(400, "Bad Request", "HTTP version not supported, only HTTP/1.0 and HTTP/1.1"),
    REQUEST_LINE_TOO_LONG(414, "URI Too Long", "request line is longer than the configured limit"),
    HEAD_TOO_LARGE(431, "Request Header Fields Too Large", "request head is larger than the configured limit"),
    TOO_MANY_FIELDS(431, "Request Header Fields Too Large", "request has more header fields than the configured limit"),
    MALFORMED_HEAD(400, "Bad Request", "request head does not end with exactly one empty line"),
    BARE_CR(400, "Bad Request", "CR not followed by LF"),
    BARE_LF(400, "Bad Request", "LF not preceded by CR"),
    NUL_OR_CTL(400, "Bad Request", "NUL or control character in the request head"),
    OBS_FOLD(400, "Bad Request", "obsolete line folding is not accepted"),
    SPACE_BEFORE_COLON(400, "Bad Request", "whitespace between header field name and colon"),
    INVALID_FIELD_NAME(400, "Bad Request", "invalid header field name"),
    INVALID_FIELD_VALUE(400, "Bad Request", "invalid header field value"),
    TOO_MANY_CONNECTION_OPTIONS(400, "Bad Request", "Connection header names more options than the header field limit"),
    MISSING_HOST(400, "Bad Request", "HTTP/1.1 request without a Host header"),
    MULTIPLE_HOST(400, "Bad Request", "more than one Host header"),
    INVALID_HOST(400, "Bad Request", "Host is not a valid host[:port]"),
    INVALID_TARGET(400, "Bad Request", "request target is not origin-form, http(s) absolute-form or *"),
    INVALID_CONTENT_LENGTH(400, "Bad Request", "invalid Content-Length"),
    CONFLICTING_CONTENT_LENGTH(400, "Bad Request", "differing Content-Length values"),
    CONTENT_LENGTH_WITH_TRANSFER_ENCODING(400, "Bad Request", "both Content-Length and Transfer-Encoding"),
    UNSUPPORTED_TRANSFER_ENCODING(400, "Bad Request", "only Transfer-Encoding: chunked is accepted"),
    TRANSFER_ENCODING_IN_HTTP10(400, "Bad Request", "Transfer-Encoding in an HTTP/1.0 message"),
    INVALID_CHUNKED_BODY(400, "Bad Request", "malformed chunked request body"),
    INVALID_WEBSOCKET_KEY(400, "Bad Request", "Sec-WebSocket-Key must be one base64-encoded 16-byte value"),
    REPEATED_WEBSOCKET_FIELD(400, "Bad Request", "Sec-WebSocket-Key and Sec-WebSocket-Version must each appear once"),
    BAD_WEBSOCKET_UPGRADE(400, "Bad Request", "a WebSocket upgrade must be an HTTP/1.1 GET without a body"),
    WEBSOCKET_VERSION(426, "Upgrade Required", "only WebSocket version 13 is supported",
        "Sec-WebSocket-Version: 13\r\n"),
    HEADER_TIMEOUT(408, "Request Timeout", "request head not received in time"),
    UPSTREAM_UNAVAILABLE(502, "Bad Gateway", "no upstream accepted the connection"),
    BAD_UPSTREAM_RESPONSE(502, "Bad Gateway", "upstream sent an invalid response"),
    /** Reported by {@link ResponseHead#violation()}; the client is answered {@link #BAD_UPSTREAM_RESPONSE}. */
    MALFORMED_STATUS_LINE(502, "Bad Gateway", "upstream sent a malformed status line"),
    INVALID_UPGRADE_RESPONSE(502, "Bad Gateway", "upstream answered 101 without a valid WebSocket handshake"),
    UPSTREAM_TIMEOUT(504, "Gateway Timeout", "upstream did not answer in time"),
    OVERLOADED(503, "Service Unavailable", "connection limit reached", "Retry-After: 1\r\n"),
    /** {@code max-connections-per-client}: the client's address holds its limit of connections. */
    CLIENT_CONNECTIONS(429, "Too Many Requests", "too many connections from this client address", "Retry-After: 1\r\n"),
    /** {@code handshake-rate-per-client}; the proxy writes the bucket's real wait over the {@code 1}. */
    CLIENT_HANDSHAKE_RATE(429, "Too Many Requests", "too many WebSocket handshakes from this client address",
        "Retry-After: 1\r\n"),
    /** {@code max-handshake-rate}: no slot within {@code admission-wait}; the proxy writes the real wait. */
    HANDSHAKE_ADMISSION(503, "Service Unavailable", "WebSocket handshakes are admitted at a limited rate; try again",
        "Retry-After: 1\r\n"),
    FORBIDDEN(403, "Forbidden", "this endpoint is internal and not reachable from this address"),
    NOT_FOUND(404, "Not Found", "no route for this request"),
    PAYLOAD_TOO_LARGE(413, "Content Too Large", "request body is larger than the configured limit"),
    UPSTREAM_CLOSED(502, "Bad Gateway", "upstream closed the connection before answering"),
    NOT_IMPLEMENTED(501, "Not Implemented", "not implemented");

    private final int status;
    private final String reason;
    private final String detail;
    private final byte[] response;
    private final UnsafeBuffer responseBuffer;

    HttpError(final int status, final String reason, final String detail)
    {
        this(status, reason, detail, "");
    }

    HttpError(final int status, final String reason, final String detail, final String extraHeaders)
    {
        this.status = status;
        this.reason = reason;
        this.detail = detail;
        final String body = status + " " + reason + ": " + detail + "\n";
        final byte[] bodyBytes = body.getBytes(StandardCharsets.UTF_8);
        final String head = "HTTP/1.1 " + status + " " + reason + "\r\n" +
            "Content-Type: text/plain; charset=utf-8\r\n" +
            "Content-Length: " + bodyBytes.length + "\r\n" +
            "Connection: close\r\n" +
            extraHeaders +
            "\r\n";
        final byte[] headBytes = head.getBytes(StandardCharsets.US_ASCII);
        this.response = new byte[headBytes.length + bodyBytes.length];
        System.arraycopy(headBytes, 0, response, 0, headBytes.length);
        System.arraycopy(bodyBytes, 0, response, headBytes.length, bodyBytes.length);
        this.responseBuffer = new UnsafeBuffer(response);
    }

    public int status()
    {
        return status;
    }

    public String reason()
    {
        return reason;
    }

    public String detail()
    {
        return detail;
    }

    /**
     * The complete answer, head and body. The array is shared by every connection: callers copy from it and
     * must never write to it.
     */
    public byte[] response()
    {
        return response;
    }

    /** The same bytes as {@link #response()} as a buffer, for copying into an off-heap chunk. Read only. */
    public DirectBuffer responseBuffer()
    {
        return responseBuffer;
    }

    public int responseLength()
    {
        return response.length;
    }
}
