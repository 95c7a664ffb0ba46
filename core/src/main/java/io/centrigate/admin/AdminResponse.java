package io.centrigate.admin;

import java.nio.charset.StandardCharsets;

/** A complete admin answer; every one closes the connection. {@code headers}: extra header lines, or null. */
record AdminResponse(int status, String reason, String contentType, byte[] body, String allow, String headers)
{
    /** What the stats page may load: its own inline script and style, and fetches to this listener. */
    static final String PAGE_POLICY = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; " +
        "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    AdminResponse(final int status, final String reason, final String contentType, final byte[] body, final String allow)
    {
        this(status, reason, contentType, body, allow, null);
    }

    /** The stats page: HTML under a strict Content-Security-Policy. */
    static AdminResponse page(final byte[] html)
    {
        return new AdminResponse(200, "OK", "text/html; charset=utf-8", html, null,
            "Content-Security-Policy: " + PAGE_POLICY + "\r\nX-Content-Type-Options: nosniff\r\n");
    }

    static AdminResponse text(final int status, final String reason, final String body)
    {
        return new AdminResponse(status, reason, "text/plain; charset=utf-8", body.getBytes(StandardCharsets.UTF_8), null);
    }

    static AdminResponse json(final String body)
    {
        return new AdminResponse(200, "OK", "application/json", body.getBytes(StandardCharsets.UTF_8), null);
    }

    static AdminResponse methodNotAllowed()
    {
        return new AdminResponse(405, "Method Not Allowed", "text/plain; charset=utf-8",
            "method not allowed: only GET and HEAD\n".getBytes(StandardCharsets.UTF_8), "GET, HEAD");
    }

    /** Status line, head and (unless {@code headOnly}, for HEAD) the body. */
    byte[] bytes(final boolean headOnly)
    {
        final String head = "HTTP/1.1 " + status + " " + reason + "\r\n" +
            "Content-Type: " + contentType + "\r\n" +
            "Content-Length: " + body.length + "\r\n" +
            (allow == null ? "" : "Allow: " + allow + "\r\n") +
            (headers == null ? "" : headers) +
            "Cache-Control: no-store\r\n" +
            "Connection: close\r\n\r\n";
        final byte[] h = head.getBytes(StandardCharsets.ISO_8859_1);
        if (headOnly)
        {
            return h;
        }
        final byte[] all = new byte[h.length + body.length];
        System.arraycopy(h, 0, all, 0, h.length);
        System.arraycopy(body, 0, all, h.length, body.length);
        return all;
    }
}
