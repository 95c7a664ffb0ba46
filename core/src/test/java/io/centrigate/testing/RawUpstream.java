package io.centrigate.testing;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * An upstream written for the tests, on plain blocking sockets: it reads a request head and answers whatever
 * the test asks (a proper 101, a broken one, a 403...), then hands the socket to the test, which can then
 * half-close it, reset it, or flood through it.
 */
public final class RawUpstream implements AutoCloseable
{
    private final ServerSocket server;
    private final Thread acceptor;
    private final BlockingQueue<Accepted> accepted = new LinkedBlockingQueue<>();
    private volatile Function<String, String> responder = RawUpstream::switchingProtocols;

    public record Accepted(Socket socket, String requestHead) {}

    public RawUpstream() throws IOException
    {
        server = new ServerSocket(0, 512, InetAddress.getLoopbackAddress());
        acceptor = new Thread(this::acceptLoop, "raw-upstream");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    public InetSocketAddress address()
    {
        return new InetSocketAddress("127.0.0.1", server.getLocalPort());
    }

    /** What to answer a request head with; null answers nothing. */
    public RawUpstream respondWith(final Function<String, String> responder)
    {
        this.responder = responder;
        return this;
    }

    public Accepted take() throws InterruptedException
    {
        final Accepted a = accepted.poll(10, TimeUnit.SECONDS);
        if (a == null)
        {
            throw new AssertionError("no connection reached the upstream within 10 s");
        }
        return a;
    }

    /** True if a connection reached the upstream (waits up to the given time). */
    public Accepted poll(final long millis) throws InterruptedException
    {
        return accepted.poll(millis, TimeUnit.MILLISECONDS);
    }

    private void acceptLoop()
    {
        while (!server.isClosed())
        {
            try
            {
                final Socket s = server.accept();
                s.setSoTimeout(10_000);
                s.setTcpNoDelay(true);
                final Thread t = new Thread(() -> serve(s), "raw-upstream-conn");
                t.setDaemon(true);
                t.start();
            }
            catch (final IOException e)
            {
                return;
            }
        }
    }

    private void serve(final Socket s)
    {
        try
        {
            final String head = readHead(s.getInputStream());
            final String response = head == null ? null : responder.apply(head);
            if (response != null)
            {
                s.getOutputStream().write(response.getBytes(StandardCharsets.ISO_8859_1));
                s.getOutputStream().flush();
            }
            accepted.add(new Accepted(s, head));
        }
        catch (final IOException e)
        {
            accepted.add(new Accepted(s, null));
        }
    }

    /** Reads up to and including CRLFCRLF, byte by byte so nothing after the head is consumed. */
    public static String readHead(final InputStream in) throws IOException
    {
        final StringBuilder sb = new StringBuilder();
        int c;
        while ((c = in.read()) >= 0)
        {
            sb.append((char)c);
            if (sb.length() >= 4 && sb.substring(sb.length() - 4).equals("\r\n\r\n"))
            {
                return sb.toString();
            }
        }
        return sb.length() == 0 ? null : sb.toString();
    }

    public static String header(final String head, final String name)
    {
        for (final String line : head.split("\r\n"))
        {
            final int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).equalsIgnoreCase(name))
            {
                return line.substring(colon + 1).trim();
            }
        }
        return null;
    }

    public static String acceptFor(final String key)
    {
        try
        {
            final MessageDigest sha1 = MessageDigest.getInstance("SHA-1");
            return Base64.getEncoder().encodeToString(
                sha1.digest((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").getBytes(StandardCharsets.ISO_8859_1)));
        }
        catch (final Exception e)
        {
            throw new IllegalStateException(e);
        }
    }

    public static String switchingProtocols(final String requestHead)
    {
        return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
            "Sec-WebSocket-Accept: " + acceptFor(header(requestHead, "Sec-WebSocket-Key")) + "\r\n\r\n";
    }

    @Override
    public void close() throws IOException
    {
        server.close();
        Accepted a;
        while ((a = accepted.poll()) != null)
        {
            a.socket().close();
        }
    }
}
