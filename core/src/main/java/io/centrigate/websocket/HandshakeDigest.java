package io.centrigate.websocket;

import java.nio.charset.StandardCharsets;
import java.security.DigestException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

import org.agrona.DirectBuffer;

/**
 * Checks Sec-WebSocket-Accept against Sec-WebSocket-Key (RFC 6455 §4.2.2 item 5.4, §4.1 client step 4):
 * accept = base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")), compared byte-exact.
 * <p>
 * The proxy checks the upstream's answer rather than trusting it, because a 101 without the right accept is
 * not a WebSocket handshake and the client would fail it anyway (RFC 6455 §4.1), after we had already given up
 * an upstream connection to a tunnel.
 * <p>
 * One per event loop: holds a SHA-1 instance and scratch arrays, so a check allocates nothing.
 */
public final class HandshakeDigest
{
    /** RFC 6455 §1.3. */
    private static final byte[] GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] BASE64 =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".getBytes(StandardCharsets.US_ASCII);
    /** A valid key is 24 characters (base64 of 16 bytes); anything much longer is not worth hashing. */
    private static final int MAX_KEY_LENGTH = 64;
    private static final int SHA1_LENGTH = 20;
    /** 20 bytes of SHA-1 are 28 base64 characters, the last one "=" padding. */
    public static final int ACCEPT_LENGTH = 28;

    private final MessageDigest sha1;
    private final byte[] key = new byte[MAX_KEY_LENGTH];
    private final byte[] digest = new byte[SHA1_LENGTH];
    private final byte[] accept = new byte[ACCEPT_LENGTH];

    public HandshakeDigest()
    {
        try
        {
            sha1 = MessageDigest.getInstance("SHA-1");
        }
        catch (final NoSuchAlgorithmException ex)
        {
            // Every Java platform must provide SHA-1 (MessageDigest Javadoc).
            throw new IllegalStateException("SHA-1 not available", ex);
        }
    }

    /**
     * Whether {@code resp[acceptOffset, acceptOffset + acceptLength)} is the accept value for the key at
     * {@code req[keyOffset, keyOffset + keyLength)}.
     */
    public boolean acceptMatches(
        final DirectBuffer req,
        final int keyOffset,
        final int keyLength,
        final DirectBuffer resp,
        final int acceptOffset,
        final int acceptLength)
    {
        if (acceptLength != ACCEPT_LENGTH || keyLength <= 0 || keyLength > MAX_KEY_LENGTH)
        {
            return false;
        }
        computeAccept(req, keyOffset, keyLength);
        for (int i = 0; i < ACCEPT_LENGTH; i++)
        {
            if (resp.getByte(acceptOffset + i) != accept[i])
            {
                return false;
            }
        }
        return true;
    }

    private void computeAccept(final DirectBuffer req, final int keyOffset, final int keyLength)
    {
        req.getBytes(keyOffset, key, 0, keyLength);
        sha1.reset();
        sha1.update(key, 0, keyLength);
        sha1.update(GUID, 0, GUID.length);
        try
        {
            sha1.digest(digest, 0, SHA1_LENGTH);
        }
        catch (final DigestException ex)
        {
            // Only thrown when the output array is too small, which it is not.
            throw new IllegalStateException(ex);
        }
        encode(digest, accept);
    }

    /** RFC 4648 §4 base64 of exactly 20 bytes: six 3-byte groups, then 2 bytes as 3 characters and one "=". */
    static void encode(final byte[] in, final byte[] out)
    {
        int o = 0;
        for (int i = 0; i < 18; i += 3)
        {
            final int v = (in[i] & 0xFF) << 16 | (in[i + 1] & 0xFF) << 8 | (in[i + 2] & 0xFF);
            out[o++] = BASE64[v >>> 18];
            out[o++] = BASE64[(v >>> 12) & 0x3F];
            out[o++] = BASE64[(v >>> 6) & 0x3F];
            out[o++] = BASE64[v & 0x3F];
        }
        final int v = (in[18] & 0xFF) << 16 | (in[19] & 0xFF) << 8;
        out[o++] = BASE64[v >>> 18];
        out[o++] = BASE64[(v >>> 12) & 0x3F];
        out[o++] = BASE64[(v >>> 6) & 0x3F];
        out[o] = '=';
    }

    /** Cold path: the accept value for {@code key}, for tests and diagnostics. */
    public String accept(final DirectBuffer req, final int keyOffset, final int keyLength)
    {
        if (keyLength <= 0 || keyLength > MAX_KEY_LENGTH)
        {
            throw new IllegalArgumentException("key length " + keyLength);
        }
        computeAccept(req, keyOffset, keyLength);
        return new String(accept, StandardCharsets.US_ASCII);
    }
}
