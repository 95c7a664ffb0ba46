package io.centrigate.admin;

import java.nio.charset.StandardCharsets;

/** A complete admin answer; every one closes the connection. */
record AdminResponse(int status, String reason, String contentType, byte[] body, String allow)
{
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
