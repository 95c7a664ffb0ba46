package io.centrigate.tls;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;

/**
 * Echoes what it reads through a buffer of the given size (small sizes force the channel's overflow path),
 * stops reading while the buffer is full, and shuts its output (close_notify) after the peer's input ended and
 * everything was echoed. Reports "handshake PROTOCOL ALPN" once, then "eof closeNotify=..." at the end of input.
 */
final class EchoHandler implements TlsTestServer.Handler
{
    private final ByteBuffer buffer;
    private boolean handshakeReported;
    private boolean ended;
    private boolean shut;

    EchoHandler(final int bufferSize)
    {
        buffer = ByteBuffer.allocateDirect(bufferSize);
    }

    @Override
    public int onReady(final TlsChannel tls, final TlsTestServer server) throws IOException
    {
        tls.flushPending();
        while (true)
        {
            reportHandshake(tls, server);
            if (buffer.position() > 0)
            {
                buffer.flip();
                tls.write(buffer);
                buffer.compact();
            }
            if (ended || !buffer.hasRemaining())
            {
                break;
            }
            final int n = tls.read(buffer);
            if (n < 0)
            {
                ended = true;
                server.event("eof closeNotify=" + tls.closeNotifyReceived());
                continue;
            }
            if (n == 0)
            {
                break;
            }
        }
        reportHandshake(tls, server);
        if (ended && buffer.position() == 0)
        {
            if (!shut)
            {
                shut = true;
                tls.shutdownOutput();
            }
            if (!tls.hasPendingOutput())
            {
                return CLOSE;
            }
        }
        return (!ended && buffer.hasRemaining() ? SelectionKey.OP_READ : 0) |
            (buffer.position() > 0 ? SelectionKey.OP_WRITE : 0);
    }

    private void reportHandshake(final TlsChannel tls, final TlsTestServer server)
    {
        if (!handshakeReported && tls.isHandshakeComplete())
        {
            handshakeReported = true;
            server.event("handshake " + tls.engine().getSession().getProtocol() + " " +
                tls.engine().getApplicationProtocol());
        }
    }
}
