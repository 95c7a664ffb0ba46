package io.centrigate.proxy;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.ThreadLocalRandom;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * WebSocket over HTTP/2 (RFC 8441): what turns an extended CONNECT into the HTTP/1.1 upgrade its node sees, so the
 * stream's {@link ClientSession} handles it as any other upgrade (routes, node choice, limits and admission, the
 * 101 check, the tunnel, idle timeout, close 1001 on drain). The node gets
 * {@code GET :path HTTP/1.1}, {@code Host} from {@code :authority}, the client's end-to-end fields (its
 * sec-websocket-version, -protocol, -extensions, origin...) and {@code Upgrade: websocket},
 * {@code Connection: Upgrade} and a fresh {@code Sec-WebSocket-Key} of our own (RFC 8441 §5: the HTTP/2 side has
 * no key), against which the session checks the node's {@code Sec-WebSocket-Accept}. The node's 101 goes back
 * as {@code :status 200} (§5) without its accept key; then the stream's DATA are the WebSocket bytes both ways.
 * Loop thread only.
 */
final class H2WebSocket
{
    /** {@code :protocol} values we tunnel: websocket only (RFC 8441 §4 leaves others to their own specs). */
    private static final byte[] WEBSOCKET = "websocket".getBytes(StandardCharsets.US_ASCII);
    static final UnsafeBuffer GET = ascii("GET");
    static final UnsafeBuffer UPGRADE_FIELDS = ascii("Upgrade: websocket\r\nConnection: Upgrade\r\n" +
        "Sec-WebSocket-Key: ");
    static final UnsafeBuffer END_OF_HEAD = ascii("\r\n\r\n");
    private static final byte[] BASE64 =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".getBytes(StandardCharsets.US_ASCII);

    /** The key of the upgrade being built: 16 random bytes in base64 (RFC 6455 §4.1), reused for every stream. */
    private final UnsafeBuffer key = new UnsafeBuffer(new byte[24]);

    /** Whether a :protocol value names the WebSocket protocol (RFC 8441 §4: the token of the Upgrade registry). */
    static boolean isWebSocket(final DirectBuffer b, final int offset, final int length)
    {
        if (length != WEBSOCKET.length)
        {
            return false;
        }
        for (int i = 0; i < length; i++)
        {
            int c = b.getByte(offset + i);
            if (c >= 'A' && c <= 'Z')
            {
                c += 'a' - 'A';
            }
            if (c != WEBSOCKET[i])
            {
                return false;
            }
        }
        return true;
    }

    /** A fresh Sec-WebSocket-Key, valid until the next call. */
    UnsafeBuffer freshKey()
    {
        final ThreadLocalRandom random = ThreadLocalRandom.current();
        final long a = random.nextLong();
        final long b = random.nextLong();
        int p = 0;
        // 16 bytes: five groups of three, then one byte padded with "==".
        for (int i = 0; i < 15; i += 3)
        {
            final int group = (byteAt(a, b, i) << 16) | (byteAt(a, b, i + 1) << 8) | byteAt(a, b, i + 2);
            key.putByte(p++, BASE64[(group >>> 18) & 0x3f]);
            key.putByte(p++, BASE64[(group >>> 12) & 0x3f]);
            key.putByte(p++, BASE64[(group >>> 6) & 0x3f]);
            key.putByte(p++, BASE64[group & 0x3f]);
        }
        final int last = byteAt(a, b, 15);
        key.putByte(p++, BASE64[last >>> 2]);
        key.putByte(p++, BASE64[(last & 0x3) << 4]);
        key.putByte(p++, (byte)'=');
        key.putByte(p, (byte)'=');
        return key;
    }

    private static int byteAt(final long a, final long b, final int i)
    {
        return (int)((i < 8 ? a >>> (8 * i) : b >>> (8 * (i - 8))) & 0xff);
    }

    private static UnsafeBuffer ascii(final String s)
    {
        return new UnsafeBuffer(s.getBytes(StandardCharsets.US_ASCII));
    }
}
