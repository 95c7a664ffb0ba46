package io.centrigate.bench.storm;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.Iterator;

/**
 * A minimal, fast WebSocket upstream for handshake storms: reads a request head up to CRLFCRLF, answers
 * 101 Switching Protocols with the right Sec-WebSocket-Accept, then echoes bytes back unchanged until the
 * peer closes. Plain java.nio; one selector thread per listener (SO_REUSEPORT when more than one).
 *
 * <pre>java -cp bench/target/benchmarks.jar io.centrigate.bench.storm.UpgradeResponder PORT [THREADS=1]</pre>
 */
public final class UpgradeResponder
{
    static final String GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    private static final int HEAD_MAX = 8192;
    private static final byte[] KEY_NAME = "sec-websocket-key:".getBytes(StandardCharsets.US_ASCII);

    private UpgradeResponder()
    {
    }

    public static void main(final String[] args) throws Exception
    {
        if (args.length < 1)
        {
            System.err.println("usage: UpgradeResponder PORT [THREADS]");
            System.exit(2);
        }
        final int port = Integer.parseInt(args[0]);
        final int threads = args.length > 1 ? Integer.parseInt(args[1]) : 1;
        final Thread[] workers = new Thread[threads];
        for (int i = 0; i < threads; i++)
        {
            final ServerSocketChannel server = ServerSocketChannel.open();
            server.setOption(StandardSocketOptions.SO_REUSEADDR, Boolean.TRUE);
            if (threads > 1)
            {
                server.setOption(StandardSocketOptions.SO_REUSEPORT, Boolean.TRUE);
            }
            server.bind(new InetSocketAddress("127.0.0.1", port), 4096);
            server.configureBlocking(false);
            final Worker worker = new Worker(server);
            workers[i] = new Thread(worker, "responder-" + i);
            workers[i].setDaemon(false);
            workers[i].start();
        }
        System.out.println("responder listening on 127.0.0.1:" + port + " threads " + threads);
        System.out.flush();
        for (final Thread t : workers)
        {
            t.join();
        }
    }

    private static final class Conn
    {
        final SocketChannel ch;
        final ByteBuffer buf = ByteBuffer.allocateDirect(HEAD_MAX);
        boolean upgraded;
        /** Bytes waiting to go out (the 101, or an echo the socket could not take at once). */
        ByteBuffer pending;

        Conn(final SocketChannel ch)
        {
            this.ch = ch;
        }
    }

    private static final class Worker implements Runnable
    {
        private final ServerSocketChannel server;
        private final MessageDigest sha1;
        private final byte[] head = new byte[HEAD_MAX];
        private long accepted;

        Worker(final ServerSocketChannel server) throws NoSuchAlgorithmException
        {
            this.server = server;
            this.sha1 = MessageDigest.getInstance("SHA-1");
        }

        @Override
        public void run()
        {
            try (Selector selector = Selector.open())
            {
                server.register(selector, SelectionKey.OP_ACCEPT);
                while (true)
                {
                    selector.select();
                    final Iterator<SelectionKey> it = selector.selectedKeys().iterator();
                    while (it.hasNext())
                    {
                        final SelectionKey key = it.next();
                        it.remove();
                        if (!key.isValid())
                        {
                            continue;
                        }
                        if (key.isAcceptable())
                        {
                            acceptAll(selector);
                            continue;
                        }
                        final Conn c = (Conn)key.attachment();
                        try
                        {
                            if (key.isWritable())
                            {
                                onWritable(key, c);
                            }
                            if (key.isValid() && key.isReadable())
                            {
                                onReadable(key, c);
                            }
                        }
                        catch (final IOException e)
                        {
                            close(key, c);
                        }
                    }
                }
            }
            catch (final IOException e)
            {
                e.printStackTrace();
            }
        }

        private void acceptAll(final Selector selector) throws IOException
        {
            for (int i = 0; i < 256; i++)
            {
                final SocketChannel ch;
                try
                {
                    ch = server.accept();
                }
                catch (final IOException e)
                {
                    System.err.println("responder: accept: " + e.getMessage());
                    return;
                }
                if (ch == null)
                {
                    return;
                }
                accepted++;
                ch.configureBlocking(false);
                ch.setOption(StandardSocketOptions.TCP_NODELAY, Boolean.TRUE);
                final Conn c = new Conn(ch);
                ch.register(selector, SelectionKey.OP_READ, c);
            }
        }

        private void onReadable(final SelectionKey key, final Conn c) throws IOException
        {
            if (c.pending != null)
            {
                return; // back-pressure: not reading until the echo is out
            }
            final ByteBuffer b = c.buf;
            final int n = c.ch.read(b);
            if (n < 0)
            {
                close(key, c);
                return;
            }
            if (n == 0)
            {
                return;
            }
            if (c.upgraded)
            {
                b.flip();
                c.ch.write(b);
                if (b.hasRemaining())
                {
                    c.pending = b;
                    key.interestOps(SelectionKey.OP_WRITE);
                }
                else
                {
                    b.clear();
                }
                return;
            }
            final int filled = b.position();
            // Search for CRLFCRLF in what we have so far (heads arrive whole in practice).
            int end = -1;
            for (int i = Math.max(0, filled - n - 3); i + 3 < filled; i++)
            {
                if (b.get(i) == '\r' && b.get(i + 1) == '\n' && b.get(i + 2) == '\r' && b.get(i + 3) == '\n')
                {
                    end = i + 4;
                    break;
                }
            }
            if (end < 0)
            {
                if (!b.hasRemaining())
                {
                    close(key, c); // head too large
                }
                return;
            }
            b.get(0, head, 0, end);
            final String accept = acceptFor(head, end);
            if (accept == null)
            {
                final byte[] bad = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII);
                c.ch.write(ByteBuffer.wrap(bad));
                close(key, c);
                return;
            }
            final byte[] resp = ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
                "Sec-WebSocket-Accept: " + accept + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
            c.upgraded = true;
            // Bytes behind the head are WebSocket frames: echo them after the 101.
            final int extra = filled - end;
            final ByteBuffer out = ByteBuffer.allocate(resp.length + extra);
            out.put(resp);
            for (int i = 0; i < extra; i++)
            {
                out.put(b.get(end + i));
            }
            out.flip();
            b.clear();
            c.ch.write(out);
            if (out.hasRemaining())
            {
                c.pending = out;
                key.interestOps(SelectionKey.OP_WRITE);
            }
        }

        private void onWritable(final SelectionKey key, final Conn c) throws IOException
        {
            final ByteBuffer p = c.pending;
            if (p == null)
            {
                key.interestOps(SelectionKey.OP_READ);
                return;
            }
            c.ch.write(p);
            if (!p.hasRemaining())
            {
                c.pending = null;
                c.buf.clear();
                key.interestOps(SelectionKey.OP_READ);
            }
        }

        private String acceptFor(final byte[] h, final int len)
        {
            // Find "sec-websocket-key:" at a line start, case-insensitively.
            for (int i = 0; i + KEY_NAME.length < len; i++)
            {
                if (i > 0 && h[i - 1] != '\n')
                {
                    continue;
                }
                boolean match = true;
                for (int j = 0; j < KEY_NAME.length; j++)
                {
                    int ch = h[i + j];
                    if (ch >= 'A' && ch <= 'Z')
                    {
                        ch += 32;
                    }
                    if (ch != KEY_NAME[j])
                    {
                        match = false;
                        break;
                    }
                }
                if (!match)
                {
                    continue;
                }
                int s = i + KEY_NAME.length;
                while (s < len && (h[s] == ' ' || h[s] == '\t'))
                {
                    s++;
                }
                int e = s;
                while (e < len && h[e] != '\r' && h[e] != '\n')
                {
                    e++;
                }
                while (e > s && (h[e - 1] == ' ' || h[e - 1] == '\t'))
                {
                    e--;
                }
                if (e == s)
                {
                    return null;
                }
                sha1.reset();
                sha1.update(h, s, e - s);
                sha1.update(GUID.getBytes(StandardCharsets.US_ASCII));
                return Base64.getEncoder().encodeToString(sha1.digest());
            }
            return null;
        }

        private static void close(final SelectionKey key, final Conn c)
        {
            key.cancel();
            try
            {
                c.ch.close();
            }
            catch (final IOException ignore)
            {
                // gone
            }
        }
    }
}
