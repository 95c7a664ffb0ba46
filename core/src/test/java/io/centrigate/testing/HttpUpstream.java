package io.centrigate.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An HTTP/1.1 upstream written for the tests on blocking sockets: it reads whole requests (Content-Length or
 * chunked bodies, decoded), hands each to a handler that writes whatever raw bytes the test wants, and keeps
 * the connection for the next request unless the handler says otherwise. It counts connections, and can close
 * connections idle for a given time, like Centrifugo's read timeout.
 */
public final class HttpUpstream implements AutoCloseable
{
    public record Request(String head, byte[] body, int connection)
    {
        public String requestLine()
        {
            return head.substring(0, head.indexOf("\r\n"));
        }

        public String header(final String name)
        {
            return RawUpstream.header(head, name);
        }
    }

    /** Writes the answer; returns false to close the connection after it. */
    @FunctionalInterface
    public interface Handler
    {
        boolean handle(Request request, OutputStream out) throws Exception;
    }

    private final ServerSocket server;
    private final AtomicInteger connections = new AtomicInteger();
    private final AtomicInteger open = new AtomicInteger();
    private final List<Request> requests = new CopyOnWriteArrayList<>();
    private final List<Throwable> failures = new CopyOnWriteArrayList<>();
    private final List<InetAddress> peers = new CopyOnWriteArrayList<>();
    private volatile Handler handler = HttpUpstream::echo;
    private volatile int idleCloseMillis = 10_000;

    public HttpUpstream() throws IOException
    {
        server = new ServerSocket(0, 512, InetAddress.getLoopbackAddress());
        final Thread acceptor = new Thread(this::acceptLoop, "http-upstream");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    public InetSocketAddress address()
    {
        return new InetSocketAddress("127.0.0.1", server.getLocalPort());
    }

    public HttpUpstream handler(final Handler handler)
    {
        this.handler = handler;
        return this;
    }

    /** Connections idle longer than this are closed by the upstream. */
    public HttpUpstream idleClose(final int millis)
    {
        this.idleCloseMillis = millis;
        return this;
    }

    public int connections()
    {
        return connections.get();
    }

    public int openConnections()
    {
        return open.get();
    }

    /** The requests without centrigate's own health checks (User-Agent centrigate-health). */
    public List<Request> proxiedRequests()
    {
        return requests.stream().filter(r -> !"centrigate-health".equals(r.header("User-Agent"))).toList();
    }

    public List<Request> requests()
    {
        return requests;
    }

    /** The source address of each connection accepted, in the order they were accepted. */
    public List<InetAddress> peers()
    {
        return peers;
    }

    public List<Throwable> failures()
    {
        return failures;
    }

    /** Echoes the body with Content-Length; HEAD gets the length without a body. */
    public static boolean echo(final Request r, final OutputStream out) throws IOException
    {
        final String head = "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nX-Method: " +
            r.requestLine().split(" ")[0] + "\r\nContent-Length: " + r.body().length + "\r\n\r\n";
        out.write(head.getBytes(StandardCharsets.ISO_8859_1));
        if (!r.requestLine().startsWith("HEAD "))
        {
            out.write(r.body());
        }
        out.flush();
        return true;
    }

    private void acceptLoop()
    {
        while (!server.isClosed())
        {
            try
            {
                final Socket s = server.accept();
                s.setTcpNoDelay(true); // a head and a body in two writes must not wait for a delayed ACK
                peers.add(s.getInetAddress());
                final int id = connections.incrementAndGet();
                open.incrementAndGet();
                final Thread t = new Thread(() -> serve(s, id), "http-upstream-" + id);
                t.setDaemon(true);
                t.start();
            }
            catch (final IOException e)
            {
                return;
            }
        }
    }

    private void serve(final Socket s, final int id)
    {
        try (s)
        {
            final InputStream in = s.getInputStream();
            final OutputStream out = s.getOutputStream();
            while (true)
            {
                s.setSoTimeout(idleCloseMillis);
                final String head;
                try
                {
                    head = RawUpstream.readHead(in);
                }
                catch (final SocketTimeoutException e)
                {
                    return; // idle too long: close, as Centrifugo's server does
                }
                if (head == null || !head.endsWith("\r\n\r\n"))
                {
                    return;
                }
                s.setSoTimeout(10_000);
                final Request request = new Request(head, readBody(head, in), id);
                requests.add(request);
                if (!handler.handle(request, out))
                {
                    return;
                }
            }
        }
        catch (final Exception e)
        {
            failures.add(e);
        }
        finally
        {
            open.decrementAndGet();
        }
    }

    static byte[] readBody(final String head, final InputStream in) throws IOException
    {
        final String te = RawUpstream.header(head, "Transfer-Encoding");
        if (te != null && te.equalsIgnoreCase("chunked"))
        {
            final ByteArrayOutputStream body = new ByteArrayOutputStream();
            while (true)
            {
                final String sizeLine = readLine(in);
                final int size = Integer.parseInt(sizeLine.split(";")[0].trim(), 16);
                if (size == 0)
                {
                    while (!readLine(in).isEmpty())
                    {
                        // trailers
                    }
                    return body.toByteArray();
                }
                body.write(in.readNBytes(size));
                readLine(in);
            }
        }
        final String cl = RawUpstream.header(head, "Content-Length");
        return cl == null ? new byte[0] : in.readNBytes(Integer.parseInt(cl));
    }

    static String readLine(final InputStream in) throws IOException
    {
        final StringBuilder sb = new StringBuilder();
        int c;
        while ((c = in.read()) >= 0)
        {
            if (c == '\n')
            {
                break;
            }
            if (c != '\r')
            {
                sb.append((char)c);
            }
        }
        return sb.toString();
    }

    @Override
    public void close() throws IOException
    {
        server.close();
    }
}
