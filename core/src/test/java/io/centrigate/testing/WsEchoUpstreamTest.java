package io.centrigate.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.java_websocket.WebSocketAdapter;
import org.java_websocket.WebSocketImpl;
import org.java_websocket.WebSocketServerFactory;
import org.java_websocket.WrappedByteChannel;
import org.java_websocket.drafts.Draft;
import org.java_websocket.server.DefaultWebSocketServerFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The test node itself: what the proxy's tests rely on it for. */
class WsEchoUpstreamTest
{
    /**
     * The interleaving that lost echoes under load (see WsEchoUpstream): the selector thread's write pass finds
     * nothing queued, the echo is then queued and OP_WRITE asked for, and only then does the pass end by setting
     * the interest to OP_READ. The node's own socket channel holds the pass at that point (the library asks a
     * wrapped channel whether it has more to write just before it ends the pass) until the connection's interest
     * has OP_WRITE, or for 5 s. With the echo decoded and sent on a worker thread the pass sets OP_READ over it and
     * the echo is never written; decoded on the selector thread, it is queued before the pass looks.
     */
    @Test
    @Timeout(30)
    void anEchoQueuedWhileAWritePassEndsIsStillSent() throws Exception
    {
        final AtomicBoolean armed = new AtomicBoolean();
        final AtomicBoolean held = new AtomicBoolean();
        try (WsEchoUpstream node = WsEchoUpstream.start(new InetSocketAddress("127.0.0.1", 0),
            new HoldingFactory(armed, held));
            RawClient client = new RawClient(node.address()))
        {
            client.send(RawClient.upgradeRequest(RawClient.newKey(), ""));
            assertTrue(client.readHead().startsWith("HTTP/1.1 101 "));
            armed.set(true);
            final byte[] payload = "echo me".getBytes(StandardCharsets.UTF_8);
            client.send(RawClient.maskedFrame(1, payload));
            client.socket().setSoTimeout(10_000);
            final byte[] echo;
            try
            {
                echo = client.readExactly(2 + payload.length);
            }
            catch (final SocketTimeoutException e)
            {
                throw new AssertionError("no echo within 10 s (write pass held: " + held.get() + ")", e);
            }
            assertEquals((byte)0x81, echo[0]);
            final byte[] got = new byte[payload.length];
            System.arraycopy(echo, 2, got, 0, got.length);
            assertArrayEquals(payload, got);
        }
    }

    /** Makes the library's default connections over a {@link HoldingChannel}. */
    private static final class HoldingFactory implements WebSocketServerFactory
    {
        private final DefaultWebSocketServerFactory plain = new DefaultWebSocketServerFactory();
        private final AtomicBoolean armed;
        private final AtomicBoolean held;

        HoldingFactory(final AtomicBoolean armed, final AtomicBoolean held)
        {
            this.armed = armed;
            this.held = held;
        }

        @Override
        public WebSocketImpl createWebSocket(final WebSocketAdapter a, final Draft d)
        {
            return plain.createWebSocket(a, d);
        }

        @Override
        public WebSocketImpl createWebSocket(final WebSocketAdapter a, final List<Draft> drafts)
        {
            return plain.createWebSocket(a, drafts);
        }

        @Override
        public ByteChannel wrapChannel(final SocketChannel channel, final SelectionKey key)
        {
            return new HoldingChannel(channel, key, armed, held);
        }

        @Override
        public void close()
        {
            plain.close();
        }
    }

    /**
     * A socket channel that, once armed, holds the first write pass that found nothing to write (the library then
     * asks {@link #isNeedWrite()}) until its key's interest has OP_WRITE, bounded.
     */
    private static final class HoldingChannel implements WrappedByteChannel
    {
        private final SocketChannel channel;
        private final SelectionKey key;
        private final AtomicBoolean armed;
        private final AtomicBoolean held;

        HoldingChannel(final SocketChannel channel, final SelectionKey key, final AtomicBoolean armed,
            final AtomicBoolean held)
        {
            this.channel = channel;
            this.key = key;
            this.armed = armed;
            this.held = held;
        }

        @Override
        public boolean isNeedWrite()
        {
            if (armed.compareAndSet(true, false))
            {
                held.set(true);
                final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                while (key.isValid() && (key.interestOps() & SelectionKey.OP_WRITE) == 0 &&
                    System.nanoTime() - deadline < 0)
                {
                    Thread.onSpinWait();
                }
            }
            return false;
        }

        @Override
        public void writeMore()
        {
        }

        @Override
        public boolean isNeedRead()
        {
            return false;
        }

        @Override
        public int readMore(final ByteBuffer dst)
        {
            return 0;
        }

        @Override
        public boolean isBlocking()
        {
            return channel.isBlocking();
        }

        @Override
        public int read(final ByteBuffer dst) throws IOException
        {
            return channel.read(dst);
        }

        @Override
        public int write(final ByteBuffer src) throws IOException
        {
            return channel.write(src);
        }

        @Override
        public boolean isOpen()
        {
            return channel.isOpen();
        }

        @Override
        public void close() throws IOException
        {
            channel.close();
        }
    }
}
