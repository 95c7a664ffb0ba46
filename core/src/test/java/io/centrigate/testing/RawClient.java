package io.centrigate.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.concurrent.ThreadLocalRandom;

/** A client on a plain socket that sends exactly the bytes a test gives it; every read is bounded. */
public final class RawClient implements AutoCloseable
{
    private final Socket socket;

    public RawClient(final InetSocketAddress proxy) throws IOException
    {
        this(proxy, null);
    }

    public RawClient(final InetSocketAddress proxy, final String localAddress) throws IOException
    {
        socket = new Socket();
        if (localAddress != null)
        {
            socket.bind(new InetSocketAddress(InetAddress.getByName(localAddress), 0));
        }
        socket.connect(proxy, 5000);
        socket.setSoTimeout(10_000);
        socket.setTcpNoDelay(true);
    }

    public Socket socket()
    {
        return socket;
    }

    public RawClient send(final String text) throws IOException
    {
        return send(text.getBytes(StandardCharsets.ISO_8859_1));
    }

    public RawClient send(final byte[] bytes) throws IOException
    {
        socket.getOutputStream().write(bytes);
        socket.getOutputStream().flush();
        return this;
    }

    public String readHead() throws IOException
    {
        return RawUpstream.readHead(socket.getInputStream());
    }

    /** Everything until the peer closes (bounded by the socket timeout). */
    public String readAll() throws IOException
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final InputStream in = socket.getInputStream();
        final byte[] buf = new byte[8192];
        int n;
        try
        {
            while ((n = in.read(buf)) >= 0)
            {
                out.write(buf, 0, n);
            }
        }
        catch (final IOException e)
        {
            // A reset after the answer still leaves the answer readable here.
            if (out.size() == 0 || e instanceof SocketTimeoutException)
            {
                throw e;
            }
        }
        return out.toString(StandardCharsets.ISO_8859_1);
    }

    /** Reads exactly n bytes. */
    public byte[] readExactly(final int n) throws IOException
    {
        return socket.getInputStream().readNBytes(n);
    }

    /** True if the peer closed (EOF or reset) within the socket timeout. */
    public boolean closedByPeer() throws IOException
    {
        try
        {
            return socket.getInputStream().read() < 0;
        }
        catch (final SocketTimeoutException e)
        {
            return false;
        }
        catch (final IOException e)
        {
            return true;
        }
    }

    public static String newKey()
    {
        final byte[] key = new byte[16];
        ThreadLocalRandom.current().nextBytes(key);
        return Base64.getEncoder().encodeToString(key);
    }

    public static String upgradeRequest(final String key, final String extraHeaders)
    {
        return "GET /connection/websocket HTTP/1.1\r\nHost: centrifugo.example.com\r\nUpgrade: websocket\r\n" +
            "Connection: Upgrade\r\nSec-WebSocket-Key: " + key + "\r\nSec-WebSocket-Version: 13\r\n" +
            "Origin: https://example.com\r\n" + extraHeaders + "\r\n";
    }

    /** A masked client frame (RFC 6455 §5.3): clients must mask. */
    public static byte[] maskedFrame(final int opcode, final byte[] payload)
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(0x80 | opcode);
        if (payload.length < 126)
        {
            out.write(0x80 | payload.length);
        }
        else if (payload.length < 65536)
        {
            out.write(0x80 | 126);
            out.write(payload.length >> 8);
            out.write(payload.length);
        }
        else
        {
            out.write(0x80 | 127);
            for (int i = 7; i >= 0; i--)
            {
                out.write((int)((long)payload.length >> (8 * i)));
            }
        }
        final byte[] mask = {0x12, 0x34, 0x56, 0x78};
        out.write(mask, 0, 4);
        for (int i = 0; i < payload.length; i++)
        {
            out.write(payload[i] ^ mask[i & 3]);
        }
        return out.toByteArray();
    }

    @Override
    public void close() throws IOException
    {
        socket.close();
    }
}
