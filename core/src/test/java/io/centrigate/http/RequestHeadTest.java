package io.centrigate.http;

import static io.centrigate.http.Wire.head;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

final class RequestHeadTest
{
    static final int MAX_LINE = 256;
    static final int MAX_HEAD = 1024;
    static final int MAX_FIELDS = 16;
    private static final String VALID = "valid";

    private static final String H11 = "GET / HTTP/1.1";
    private static final String HOST = "Host: example.com";

    /** Every rule, as the raw bytes a client sends and the answer it must get ({@code null}: accepted). */
    static Stream<Arguments> requests()
    {
        final List<Arguments> cases = new ArrayList<>();
        // Typical requests.
        add(cases, "a Chrome WebSocket upgrade", Requests.CHROME_UPGRADE, null);
        add(cases, "a POST with Content-Length and its body", Requests.POST_WITH_BODY, null);
        add(cases, "a minimal HTTP/1.1 GET", head(H11, HOST), null);
        add(cases, "an HTTP/1.0 GET without Host", head("GET / HTTP/1.0"), null);
        add(cases, "an absolute-form target", head("GET http://example.com/a?b=c HTTP/1.1", HOST), null);
        add(cases, "an OPTIONS * request", head("OPTIONS * HTTP/1.1", HOST), null);
        add(cases, "a pipelined second request after the head", head(H11, HOST) + head(H11, HOST), null);

        // Line endings and the request line (RFC 9112 §2.2, §3).
        add(cases, "a bare LF ending the request line", "GET / HTTP/1.1\nHost: a\r\n\r\n", HttpError.BARE_LF);
        add(cases, "a bare LF ending a field line", "GET / HTTP/1.1\r\nHost: a\n\r\n", HttpError.BARE_LF);
        add(cases, "a bare LF ending the head", "GET / HTTP/1.1\r\nHost: a\r\n\n", HttpError.BARE_LF);
        add(cases, "a bare CR inside a field value", head(H11, "X: a\rb", HOST), HttpError.BARE_CR);
        add(cases, "a bare CR inside the request line", "GET /\r HTTP/1.1\r\nHost: a\r\n\r\n", HttpError.BARE_CR);
        add(cases, "a CR CR LF line end", "GET / HTTP/1.1\r\r\nHost: a\r\n\r\n", HttpError.BARE_CR);
        add(cases, "an empty line before the request line", "\r\n" + head(H11, HOST), HttpError.MALFORMED_REQUEST_LINE);
        add(cases, "two spaces after the method", head("GET  / HTTP/1.1", HOST), HttpError.MALFORMED_REQUEST_LINE);
        add(cases, "two spaces after the target", head("GET /  HTTP/1.1", HOST), HttpError.MALFORMED_REQUEST_LINE);
        add(cases, "a space after the version", head("GET / HTTP/1.1 ", HOST), HttpError.MALFORMED_REQUEST_LINE);
        add(cases, "a space before the method", head(" GET / HTTP/1.1", HOST), HttpError.MALFORMED_REQUEST_LINE);
        add(cases, "a tab instead of a space", head("GET\t/ HTTP/1.1", HOST), HttpError.MALFORMED_REQUEST_LINE);
        add(cases, "a method with a non-token character", head("G@T / HTTP/1.1", HOST), HttpError.MALFORMED_REQUEST_LINE);
        add(cases, "a target with a byte above 0x7F", head("GET /caf\u00e9 HTTP/1.1", HOST),
            HttpError.MALFORMED_REQUEST_LINE);
        add(cases, "a target with NUL", head("GET /a\0b HTTP/1.1", HOST), HttpError.MALFORMED_REQUEST_LINE);
        add(cases, "a target with DEL", head("GET /a\u007fb HTTP/1.1", HOST), HttpError.MALFORMED_REQUEST_LINE);
        add(cases, "a method alone", head("GET", HOST), HttpError.MALFORMED_REQUEST_LINE);
        add(cases, "a method and a space", head("GET ", HOST), HttpError.MALFORMED_REQUEST_LINE);
        add(cases, "no version (HTTP/0.9)", head("GET /", HOST), HttpError.UNSUPPORTED_VERSION);
        add(cases, "version HTTP/2.0", head("GET / HTTP/2.0", HOST), HttpError.UNSUPPORTED_VERSION);
        add(cases, "version HTTP/1.2", head("GET / HTTP/1.2", HOST), HttpError.UNSUPPORTED_VERSION);
        add(cases, "version HTTP/0.9", head("GET / HTTP/0.9", HOST), HttpError.UNSUPPORTED_VERSION);
        add(cases, "a lower-case version", head("GET / http/1.1", HOST), HttpError.MALFORMED_REQUEST_LINE);
        add(cases, "a non-digit minor version", head("GET / HTTP/1.x", HOST), HttpError.MALFORMED_REQUEST_LINE);
        add(cases, "a version without a dot", head("GET / HTTP/11", HOST), HttpError.MALFORMED_REQUEST_LINE);
        add(cases, "a version with three digits", head("GET / HTTP/1.10", HOST), HttpError.MALFORMED_REQUEST_LINE);
        add(cases, "a request line at the length limit",
            head("GET /" + "a".repeat(MAX_LINE - 14) + " HTTP/1.1", HOST), null);
        add(cases, "a request line one byte over the limit",
            head("GET /" + "a".repeat(MAX_LINE - 13) + " HTTP/1.1", HOST), HttpError.REQUEST_LINE_TOO_LONG);

        // Field lines (RFC 9112 §5, RFC 9110 §5.5).
        add(cases, "obs-fold with a space", head(H11, HOST, "X: a", " b"), HttpError.OBS_FOLD);
        add(cases, "obs-fold with a tab", head(H11, HOST, "X: a", "\tb"), HttpError.OBS_FOLD);
        add(cases, "a first field line starting with a space", head(H11, " Host: a"), HttpError.OBS_FOLD);
        add(cases, "a space before the colon", head(H11, "Host : a"), HttpError.SPACE_BEFORE_COLON);
        add(cases, "a tab before the colon", head(H11, HOST, "X-A\t: a"), HttpError.SPACE_BEFORE_COLON);
        add(cases, "a space inside the name", head(H11, HOST, "X A: a"), HttpError.INVALID_FIELD_NAME);
        add(cases, "a line without a colon", head(H11, HOST, "NoColon"), HttpError.INVALID_FIELD_NAME);
        add(cases, "an empty name", head(H11, HOST, ": a"), HttpError.INVALID_FIELD_NAME);
        add(cases, "a name with a separator", head(H11, HOST, "X(y): a"), HttpError.INVALID_FIELD_NAME);
        add(cases, "a name with a byte above 0x7F", head(H11, HOST, "X\u00e9: a"), HttpError.INVALID_FIELD_NAME);
        add(cases, "NUL in a name", head(H11, HOST, "X\0: a"), HttpError.NUL_OR_CTL);
        add(cases, "NUL in a value", head(H11, HOST, "X: a\0b"), HttpError.NUL_OR_CTL);
        add(cases, "a control character in a value", head(H11, HOST, "X: a\u0001b"), HttpError.NUL_OR_CTL);
        add(cases, "DEL in a value", head(H11, HOST, "X: a\u007f"), HttpError.NUL_OR_CTL);
        add(cases, "an escape character in a value", head(H11, HOST, "X: \u001b[31m"), HttpError.NUL_OR_CTL);
        add(cases, "obs-text and tabs in a value", head(H11, HOST, "X: caf\u00e9\tb\u00ff"), null);
        add(cases, "an empty value", head(H11, HOST, "X:"), null);
        add(cases, "a value of only whitespace", head(H11, HOST, "X: \t "), null);
        add(cases, "all token characters in a name", head(H11, HOST, "!#$%&'*+-.^_`|~09azAZ: a"), null);
        add(cases, "fields at the limit", head(H11, HOST, fields(MAX_FIELDS - 1)), null);
        add(cases, "one field over the limit", head(H11, HOST, fields(MAX_FIELDS)), HttpError.TOO_MANY_FIELDS);
        add(cases, "a head at the size limit", head(H11, HOST, "X: " + "v".repeat(MAX_HEAD - 42)), null);
        add(cases, "a head one byte over the size limit", head(H11, HOST, "X: " + "v".repeat(MAX_HEAD - 41)),
            HttpError.HEAD_TOO_LARGE);
        add(cases, "more Connection options than the field limit",
            head(H11, HOST, "Connection: " + "a,".repeat(MAX_FIELDS) + "b"), HttpError.TOO_MANY_CONNECTION_OPTIONS);

        // Host (RFC 9112 §3.2).
        add(cases, "HTTP/1.1 without Host", head(H11, "X: a"), HttpError.MISSING_HOST);
        add(cases, "two Host fields", head(H11, HOST, "Host: other.example"), HttpError.MULTIPLE_HOST);
        add(cases, "two Host fields in HTTP/1.0", head("GET / HTTP/1.0", HOST, "host: b"), HttpError.MULTIPLE_HOST);
        add(cases, "an empty Host", head(H11, "Host:"), null);
        // RFC 9112 §3.2, RFC 3986 §3.2.2: Host = uri-host [ ":" port ].
        add(cases, "a Host with a port", head(H11, "Host: example.com:8000"), null);
        add(cases, "a Host with an empty port", head(H11, "Host: example.com:"), null);
        add(cases, "a Host that is an IPv4 address", head(H11, "Host: 192.0.2.7:80"), null);
        add(cases, "a Host that is an IPv6 literal", head(H11, "Host: [2001:db8::1]:443"), null);
        add(cases, "a Host with sub-delims and pct-encoding", head(H11, "Host: a-b_c~d!$&'()*+,;=%41"), null);
        add(cases, "a Host with a space", head(H11, "Host: a b"), HttpError.INVALID_HOST);
        add(cases, "a Host with a slash", head(H11, "Host: a/b"), HttpError.INVALID_HOST);
        add(cases, "a Host with userinfo", head(H11, "Host: u@a"), HttpError.INVALID_HOST);
        add(cases, "a Host with a query", head(H11, "Host: a?b"), HttpError.INVALID_HOST);
        add(cases, "a Host with a fragment", head(H11, "Host: a#b"), HttpError.INVALID_HOST);
        add(cases, "a Host with a short pct-encoding", head(H11, "Host: a%4"), HttpError.INVALID_HOST);
        add(cases, "a Host with a letter in the port", head(H11, "Host: a:8o"), HttpError.INVALID_HOST);
        add(cases, "a Host with two colons", head(H11, "Host: a:1:2"), HttpError.INVALID_HOST);
        add(cases, "a Host with an empty IP-literal", head(H11, "Host: []"), HttpError.INVALID_HOST);
        add(cases, "a Host with an unclosed IP-literal", head(H11, "Host: [::1"), HttpError.INVALID_HOST);
        add(cases, "a Host with text after an IP-literal", head(H11, "Host: [::1]x"), HttpError.INVALID_HOST);
        // RFC 9112 §3.2: the four forms of request-target.
        add(cases, "an https absolute-form target", head("GET HTTPS://Example.com:8443 HTTP/1.1", HOST), null);
        add(cases, "an absolute-form target with userinfo", head("GET http://u@example.com/ HTTP/1.1", HOST),
            HttpError.INVALID_TARGET);
        add(cases, "an absolute-form target without a host", head("GET http:///a HTTP/1.1", HOST),
            HttpError.INVALID_TARGET);
        add(cases, "an absolute-form target of another scheme", head("GET ftp://example.com/a HTTP/1.1", HOST),
            HttpError.INVALID_TARGET);
        add(cases, "a relative target", head("GET a/b HTTP/1.1", HOST), HttpError.INVALID_TARGET);
        add(cases, "an asterisk target for GET", head("GET * HTTP/1.1", HOST), HttpError.INVALID_TARGET);
        add(cases, "an authority-form target for CONNECT", head("CONNECT example.com:443 HTTP/1.1", HOST), null);
        // RFC 9112 §5.1: a line without a colon, judged when its CRLF arrives.
        add(cases, "a field line without a colon", head(H11, HOST, "no colon"), HttpError.INVALID_FIELD_NAME);
        add(cases, "a lower-case host name", head(H11, "hOsT: a"), null);

        // Content-Length (RFC 9112 §6.3, RFC 9110 §8.6).
        add(cases, "Content-Length 0", head(H11, HOST, "Content-Length: 0"), null);
        add(cases, "Content-Length 2^62", head(H11, HOST, "Content-Length: 4611686018427387904"), null);
        add(cases, "Content-Length over 2^62", head(H11, HOST, "Content-Length: 4611686018427387905"),
            HttpError.INVALID_CONTENT_LENGTH);
        add(cases, "Content-Length beyond a long", head(H11, HOST, "Content-Length: 99999999999999999999999"),
            HttpError.INVALID_CONTENT_LENGTH);
        add(cases, "Content-Length with a plus sign", head(H11, HOST, "Content-Length: +5"),
            HttpError.INVALID_CONTENT_LENGTH);
        add(cases, "Content-Length with a minus sign", head(H11, HOST, "Content-Length: -5"),
            HttpError.INVALID_CONTENT_LENGTH);
        add(cases, "Content-Length with a space inside", head(H11, HOST, "Content-Length: 1 2"),
            HttpError.INVALID_CONTENT_LENGTH);
        add(cases, "Content-Length in hex", head(H11, HOST, "Content-Length: 0x5"), HttpError.INVALID_CONTENT_LENGTH);
        add(cases, "an empty Content-Length", head(H11, HOST, "Content-Length:"), HttpError.INVALID_CONTENT_LENGTH);
        add(cases, "a Content-Length list with an empty element", head(H11, HOST, "Content-Length: 5,,5"),
            HttpError.INVALID_CONTENT_LENGTH);
        add(cases, "a Content-Length list of identical values", head(H11, HOST, "Content-Length: 5, 5,5"), null);
        add(cases, "two identical Content-Length fields", head(H11, HOST, "Content-Length: 5", "content-length: 5"),
            null);
        add(cases, "a Content-Length list of differing values", head(H11, HOST, "Content-Length: 5, 6"),
            HttpError.CONFLICTING_CONTENT_LENGTH);
        add(cases, "two differing Content-Length fields", head(H11, HOST, "Content-Length: 5", "Content-Length: 50"),
            HttpError.CONFLICTING_CONTENT_LENGTH);

        // Transfer-Encoding (RFC 9112 §6.1, §6.3).
        add(cases, "Transfer-Encoding chunked", head("POST / HTTP/1.1", HOST, "Transfer-Encoding: chunked"), null);
        add(cases, "Transfer-Encoding Chunked in any case", head("POST / HTTP/1.1", HOST, "transfer-encoding: CHUNKED"),
            null);
        add(cases, "Content-Length with Transfer-Encoding",
            head("POST / HTTP/1.1", HOST, "Content-Length: 5", "Transfer-Encoding: chunked"),
            HttpError.CONTENT_LENGTH_WITH_TRANSFER_ENCODING);
        add(cases, "Transfer-Encoding with Content-Length after it",
            head("POST / HTTP/1.1", HOST, "Transfer-Encoding: chunked", "Content-Length: 5"),
            HttpError.CONTENT_LENGTH_WITH_TRANSFER_ENCODING);
        add(cases, "Transfer-Encoding gzip", head("POST / HTTP/1.1", HOST, "Transfer-Encoding: gzip"),
            HttpError.UNSUPPORTED_TRANSFER_ENCODING);
        add(cases, "Transfer-Encoding gzip then chunked", head("POST / HTTP/1.1", HOST, "Transfer-Encoding: gzip, chunked"),
            HttpError.UNSUPPORTED_TRANSFER_ENCODING);
        add(cases, "chunked not last", head("POST / HTTP/1.1", HOST, "Transfer-Encoding: chunked, gzip"),
            HttpError.UNSUPPORTED_TRANSFER_ENCODING);
        add(cases, "chunked twice in one field", head("POST / HTTP/1.1", HOST, "Transfer-Encoding: chunked, chunked"),
            HttpError.UNSUPPORTED_TRANSFER_ENCODING);
        add(cases, "chunked in two fields",
            head("POST / HTTP/1.1", HOST, "Transfer-Encoding: chunked", "Transfer-Encoding: chunked"),
            HttpError.UNSUPPORTED_TRANSFER_ENCODING);
        add(cases, "an empty Transfer-Encoding", head("POST / HTTP/1.1", HOST, "Transfer-Encoding:"),
            HttpError.UNSUPPORTED_TRANSFER_ENCODING);
        add(cases, "chunked with a parameter", head("POST / HTTP/1.1", HOST, "Transfer-Encoding: chunked;q=1"),
            HttpError.UNSUPPORTED_TRANSFER_ENCODING);
        add(cases, "Transfer-Encoding in HTTP/1.0", head("POST / HTTP/1.0", "Transfer-Encoding: chunked"),
            HttpError.TRANSFER_ENCODING_IN_HTTP10);

        // WebSocket opening handshake (RFC 6455 §4.2.1).
        add(cases, "an upgrade with the minimal fields", Requests.upgrade(Requests.VERSION_13 + Requests.KEY), null);
        add(cases, "an upgrade with mixed-case tokens among others",
            head(H11, HOST, "Connection: keep-alive, UPGRADE", "Upgrade: h2c, WebSocket", "Sec-WebSocket-Version: 13",
                "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA=="), null);
        add(cases, "an upgrade with Content-Length 0",
            Requests.upgrade(Requests.VERSION_13 + Requests.KEY + "Content-Length: 0\r\n"), null);
        add(cases, "an upgrade by POST",
            "POST" + Requests.upgrade(Requests.VERSION_13 + Requests.KEY).substring(3), HttpError.BAD_WEBSOCKET_UPGRADE);
        add(cases, "an upgrade in HTTP/1.0",
            head("GET / HTTP/1.0", "Upgrade: websocket", "Connection: upgrade", "Sec-WebSocket-Version: 13",
                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="), HttpError.BAD_WEBSOCKET_UPGRADE);
        add(cases, "an upgrade with a body",
            Requests.upgrade(Requests.VERSION_13 + Requests.KEY + "Content-Length: 5\r\n"), HttpError.BAD_WEBSOCKET_UPGRADE);
        add(cases, "an upgrade with a chunked body",
            Requests.upgrade(Requests.VERSION_13 + Requests.KEY + "Transfer-Encoding: chunked\r\n"),
            HttpError.BAD_WEBSOCKET_UPGRADE);
        add(cases, "an upgrade without a version", Requests.upgrade(Requests.KEY), HttpError.WEBSOCKET_VERSION);
        add(cases, "an upgrade with version 8", Requests.upgrade("Sec-WebSocket-Version: 8\r\n" + Requests.KEY),
            HttpError.WEBSOCKET_VERSION);
        add(cases, "an upgrade with two versions",
            Requests.upgrade(Requests.VERSION_13 + Requests.VERSION_13 + Requests.KEY),
            HttpError.REPEATED_WEBSOCKET_FIELD); // RFC 6455 §11.3.5: not more than once in a request
        add(cases, "an upgrade with the version field repeated with a different value",
            Requests.upgrade(Requests.VERSION_13 + "Sec-WebSocket-Version: 8\r\n" + Requests.KEY),
            HttpError.REPEATED_WEBSOCKET_FIELD);
        add(cases, "an upgrade with a version list", Requests.upgrade("Sec-WebSocket-Version: 13, 8\r\n" + Requests.KEY),
            HttpError.REPEATED_WEBSOCKET_FIELD);
        add(cases, "an upgrade without a key", Requests.upgrade(Requests.VERSION_13), HttpError.INVALID_WEBSOCKET_KEY);
        add(cases, "an upgrade with two keys", Requests.upgrade(Requests.VERSION_13 + Requests.KEY + Requests.KEY),
            HttpError.REPEATED_WEBSOCKET_FIELD); // RFC 6455 §11.3.1: not more than once in a request
        add(cases, "a key one character short",
            Requests.upgrade(Requests.VERSION_13 + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZ==\r\n"),
            HttpError.INVALID_WEBSOCKET_KEY);
        add(cases, "a key of 17 bytes",
            Requests.upgrade(Requests.VERSION_13 + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQA=\r\n"),
            HttpError.INVALID_WEBSOCKET_KEY);
        add(cases, "a key with a character outside base64",
            Requests.upgrade(Requests.VERSION_13 + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25-ZQ==\r\n"),
            HttpError.INVALID_WEBSOCKET_KEY);
        add(cases, "a key whose last character has bits beyond 16 bytes",
            Requests.upgrade(Requests.VERSION_13 + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZR==\r\n"),
            HttpError.INVALID_WEBSOCKET_KEY);
        add(cases, "Upgrade websocket without Connection upgrade is a plain request",
            head(H11, HOST, "Upgrade: websocket"), null);
        add(cases, "a plain POST may carry an invalid key",
            head("POST / HTTP/1.1", HOST, "Sec-WebSocket-Key: nonsense", "Content-Length: 0"), null);
        return cases.stream();
    }

    private static void add(final List<Arguments> cases, final String name, final String raw, final HttpError expected)
    {
        cases.add(Arguments.of(Named.of(name, raw), expected == null ? VALID : expected.name()));
    }

    private static String fields(final int count)
    {
        final StringBuilder fields = new StringBuilder();
        for (int i = 0; i < count; i++)
        {
            fields.append(i == 0 ? "" : "\r\n").append("X-F").append(i).append(": v");
        }
        return fields.toString();
    }

    /** Scans the head as it arrives read by read, then parses it: "valid" or the error's name. */
    static String outcome(final byte[] raw, final int[] readEnds)
    {
        final HeadScanner scanner = new HeadScanner(MAX_LINE, MAX_HEAD, MAX_FIELDS, true);
        final RequestHead head = new RequestHead(MAX_FIELDS);
        // Bytes not yet "received" are LFs: a scanner that looked past the limit would see a bare LF or an end of head.
        final UnsafeBuffer buffer = new UnsafeBuffer(ByteBuffer.allocateDirect(raw.length));
        buffer.setMemory(0, raw.length, (byte)'\n');
        int received = 0;
        int result = HeadScanner.NEED_MORE;
        for (final int end : readEnds)
        {
            buffer.putBytes(received, raw, received, end - received);
            received = end;
            result = scanner.scan(buffer, received);
            if (result != HeadScanner.NEED_MORE)
            {
                break;
            }
        }
        if (result == HeadScanner.NEED_MORE)
        {
            return "incomplete";
        }
        if (result == HeadScanner.ERROR)
        {
            return scanner.error().name();
        }
        return head.parse(buffer, result) ? VALID : head.error().name();
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("requests")
    void answersEveryRequestByTheRules(final String raw, final String expected)
    {
        final byte[] bytes = Wire.bytes(raw);
        assertEquals(expected, outcome(bytes, new int[]{bytes.length}));
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("requests")
    void answersTheSameHoweverTheRequestIsSplitAcrossReads(final String raw, final String expected)
    {
        final byte[] bytes = Wire.bytes(raw);
        for (final int[] split : Wire.splits(bytes.length, 32))
        {
            assertEquals(expected, outcome(bytes, split), () -> "split at " + java.util.Arrays.toString(split));
        }
    }

    @Test
    void exposesEveryPartOfAChromeWebSocketUpgrade()
    {
        final UnsafeBuffer buffer = Wire.offHeap(Requests.CHROME_UPGRADE);
        final RequestHead head = new RequestHead(MAX_FIELDS);
        assertTrue(head.parse(buffer, Requests.CHROME_UPGRADE.length()), () -> String.valueOf(head.error()));

        assertEquals("GET", Wire.text(buffer, head.methodOffset(), head.methodLength()));
        assertTrue(head.isGet());
        assertFalse(head.isHead());
        assertEquals("/connection/websocket", Wire.text(buffer, head.targetOffset(), head.targetLength()));
        assertEquals("/connection/websocket", head.target());
        assertEquals(11, head.version());
        assertEquals(13, head.fieldCount());
        assertEquals("Host", head.name(0));
        assertEquals("centrifugo.example.com", head.value(head.hostField()));
        assertEquals(0, head.hostField());
        assertEquals("User-Agent", head.name(4));
        assertTrue(head.nameEquals(6, "origin"));
        assertEquals("https://app.example.com", Wire.text(buffer, head.valueOffset(6), head.valueLength(6)));
        assertEquals("Sec-WebSocket-Extensions", head.name(12));
        assertEquals("permessage-deflate; client_max_window_bits", head.value(12));
        assertEquals(-1, head.contentLength());
        assertFalse(head.isChunked());
        assertFalse(head.hasBody());
        assertTrue(head.connectionUpgrade());
        assertFalse(head.connectionClose());
        assertFalse(head.connectionKeepAlive());
        assertTrue(head.isWebSocketUpgrade());
        assertEquals(11, head.webSocketKeyField());
        assertEquals("dGhlIHNhbXBsZSBub25jZQ==", head.value(head.webSocketKeyField()));
        assertEquals(13, head.webSocketVersion());
        assertEquals(Requests.CHROME_UPGRADE.indexOf('\r'), head.requestLineEnd());
        assertEquals(Requests.CHROME_UPGRADE.length(), head.headLength());
    }

    @Test
    void splitsAnAbsoluteFormTargetIntoAuthorityAndPath()
    {
        final byte[] raw = Wire.bytes(head("GET http://Other.example:8080/a?b HTTP/1.1", "Host: example.com"));
        final RequestHead head = new RequestHead(MAX_FIELDS);
        final UnsafeBuffer buffer = Wire.offHeap(raw);
        assertTrue(head.parse(buffer, raw.length));
        assertTrue(head.isAbsoluteForm());
        assertEquals("Other.example:8080", Wire.text(buffer, head.routingHostOffset(), head.routingHostLength()));
        assertEquals("/a?b", Wire.text(buffer, head.pathOffset(), head.pathLength()));
    }

    @Test
    void reportsThePostBodyLength()
    {
        final byte[] raw = Wire.bytes(Requests.POST_WITH_BODY);
        final HeadScanner scanner = new HeadScanner(MAX_LINE, MAX_HEAD, MAX_FIELDS, true);
        final UnsafeBuffer buffer = Wire.offHeap(raw);
        final int headLength = scanner.scan(buffer, raw.length);
        final RequestHead head = new RequestHead(MAX_FIELDS);
        assertTrue(head.parse(buffer, headLength));
        assertFalse(head.isGet());
        assertEquals(27, head.contentLength());
        assertEquals(raw.length - 27, headLength);
        assertTrue(head.hasBody());
        assertFalse(head.isWebSocketUpgrade());
        assertEquals(-1, head.webSocketKeyField());
        assertEquals(-1, head.webSocketVersion());
    }

    @Test
    void trimsOptionalWhitespaceAroundValues()
    {
        final String raw = head(H11, "Host:   a.example \t", "X-Empty: \t", "X-Inner:  a  b ");
        final RequestHead head = new RequestHead(MAX_FIELDS);
        assertTrue(head.parse(Wire.offHeap(raw), raw.length()));
        assertEquals("a.example", head.value(0));
        assertEquals("", head.value(1));
        assertEquals("a  b", head.value(2));
    }

    @Test
    void recordsConnectionOptionsAcrossSeveralFields()
    {
        final String raw = head("GET / HTTP/1.0", "Connection: , Keep-Alive,", "connection: CLOSE");
        final RequestHead head = new RequestHead(MAX_FIELDS);
        assertTrue(head.parse(Wire.offHeap(raw), raw.length()));
        assertTrue(head.connectionKeepAlive());
        assertTrue(head.connectionClose());
        assertFalse(head.connectionUpgrade());
        assertEquals(-1, head.hostField());
        assertEquals(10, head.version());
    }

    @Test
    void readsContentLengthListsAsOneValue()
    {
        final String raw = head("POST / HTTP/1.1", HOST, "Content-Length: 42 , 42", "Content-Length: 42");
        final RequestHead head = new RequestHead(MAX_FIELDS);
        assertTrue(head.parse(Wire.offHeap(raw), raw.length()));
        assertEquals(42, head.contentLength());
        assertTrue(head.hasBody());
    }

    @Test
    void recognisesHeadRequestsAndChunkedBodies()
    {
        final String headRequest = head("HEAD /x HTTP/1.1", HOST);
        final RequestHead head = new RequestHead(MAX_FIELDS);
        assertTrue(head.parse(Wire.offHeap(headRequest), headRequest.length()));
        assertTrue(head.isHead());
        assertFalse(head.isGet());

        final String chunked = head("POST / HTTP/1.1", HOST, "Transfer-Encoding: chunked");
        assertTrue(head.parse(Wire.offHeap(chunked), chunked.length()));
        assertTrue(head.isChunked());
        assertTrue(head.hasBody());
        assertEquals(-1, head.contentLength());
    }

    @Test
    void rejectsAHeadThatDoesNotEndWhereItIsSaidTo()
    {
        final String raw = head(H11, HOST);
        final RequestHead head = new RequestHead(MAX_FIELDS);
        assertFalse(head.parse(Wire.offHeap(raw), raw.length() - 1));
        assertEquals(HttpError.MALFORMED_HEAD, head.error());
        final String longer = raw + "X";
        assertFalse(head.parse(Wire.offHeap(longer), longer.length()));
        assertEquals(HttpError.MALFORMED_HEAD, head.error());
    }

    @Test
    void isReusableAfterARejectedRequest()
    {
        final RequestHead head = new RequestHead(MAX_FIELDS);
        final String bad = head(H11, HOST, HOST);
        assertFalse(head.parse(Wire.offHeap(bad), bad.length()));
        assertTrue(head.parse(Wire.offHeap(Requests.CHROME_UPGRADE), Requests.CHROME_UPGRADE.length()));
        assertEquals(null, head.error());
        assertTrue(head.isWebSocketUpgrade());
        final String plain = head(H11, HOST);
        assertTrue(head.parse(Wire.offHeap(plain), plain.length()));
        assertFalse(head.isWebSocketUpgrade());
        assertEquals(-1, head.webSocketKeyField());
        assertEquals(1, head.fieldCount());
    }
}
