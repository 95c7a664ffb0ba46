package io.centrigate.bench.load;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.concurrent.ThreadLocalRandom;

/** RFC 6455 §4.2.2 keys: a random {@code Sec-WebSocket-Key} and the {@code Sec-WebSocket-Accept} it expects. */
final class WebSocketKeys
{
    private static final byte[] GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11".getBytes(StandardCharsets.US_ASCII);

    private final MessageDigest sha1;
    private final byte[] nonce = new byte[16];

    WebSocketKeys()
    {
        try
        {
            sha1 = MessageDigest.getInstance("SHA-1");
        }
        catch (final NoSuchAlgorithmException e)
        {
            throw new IllegalStateException(e);
        }
    }

    String newKey()
    {
        ThreadLocalRandom.current().nextBytes(nonce);
        return Base64.getEncoder().encodeToString(nonce);
    }

    String accept(final String key)
    {
        sha1.reset();
        sha1.update(key.getBytes(StandardCharsets.US_ASCII));
        sha1.update(GUID);
        return Base64.getEncoder().encodeToString(sha1.digest());
    }
}
