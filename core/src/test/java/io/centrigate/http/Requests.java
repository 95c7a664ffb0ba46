package io.centrigate.http;

/** Typical requests the proxy sees, shared by the parser, writer and allocation tests. */
final class Requests
{
    static final String CHROME_UPGRADE = Wire.head(
        "GET /connection/websocket HTTP/1.1",
        "Host: centrifugo.example.com",
        "Connection: Upgrade",
        "Pragma: no-cache",
        "Cache-Control: no-cache",
        "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 " +
            "Safari/537.36",
        "Upgrade: websocket",
        "Origin: https://app.example.com",
        "Sec-WebSocket-Version: 13",
        "Accept-Encoding: gzip, deflate, br, zstd",
        "Accept-Language: en-US,en;q=0.9",
        "Cookie: session=abc123; theme=dark",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits");

    static final String POST_WITH_BODY = Wire.head(
        "POST /api/publish HTTP/1.1",
        "Host: centrifugo.example.com",
        "Content-Type: application/json",
        "Authorization: apikey secret",
        "Content-Length: 27") + "{\"channel\":\"news\",\"data\":1}";

    static final String UPGRADE_PREFIX = "GET /connection/websocket HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n" +
        "Connection: Upgrade\r\n";
    static final String VERSION_13 = "Sec-WebSocket-Version: 13\r\n";
    static final String KEY = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";

    private Requests()
    {
    }

    /** A WebSocket upgrade with the given extra field lines (each ending in CRLF). */
    static String upgrade(final String fields)
    {
        return UPGRADE_PREFIX + fields + "\r\n";
    }
}
