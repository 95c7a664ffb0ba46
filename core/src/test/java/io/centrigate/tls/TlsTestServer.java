package io.centrigate.tls;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

import javax.net.ssl.SSLContext;

import io.centrigate.loop.Connection;
import io.centrigate.loop.Listener;
import io.centrigate.loop.Poller;
import io.centrigate.loop.Transports;

/**
 * A one-thread loop (a {@link Poller} of the transport under test) serving TLS with {@link TlsChannel} the way the proxy's loops will: one pool, no
 * thread per connection, interest from {@link TlsChannel#interestOps(int)}. What happens to connections is
 * reported as text events the test thread takes with bounded waits.
 */
final class TlsTestServer implements AutoCloseable
{
    /** The application side of one connection. */
    interface Handler
    {
        int CLOSE = -1;

        /** Called on any readiness; returns the app's interest (OP_READ, OP_WRITE) or {@link #CLOSE}. */
        int onReady(TlsChannel tls, TlsTestServer server) throws IOException;
    }

    private final SSLContext context;
    private final Supplier<Handler> handlers;
    private final Poller poller;
    private final Listener acceptor;
    private final TlsBufferPool pool = new TlsBufferPool();
    private final Thread thread;
    private final BlockingQueue<String> events = new LinkedBlockingQueue<>();
    private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private final List<Served> served = new ArrayList<>();
    private final AtomicLong readyCalls = new AtomicLong();
    private volatile boolean running = true;

    TlsTestServer(final SSLContext context, final Supplier<Handler> handlers) throws IOException
    {
        this.context = context;
        this.handlers = handlers;
        this.poller = Transports.openDefault();
        this.acceptor = poller.listen(new InetSocketAddress("127.0.0.1", 0), 50, false, l -> accept());
        this.thread = new Thread(this::run, "tls-test-loop");
        thread.setDaemon(true);
        thread.start();
    }

    int port()
    {
        return acceptor.localAddress().getPort();
    }

    void event(final String event)
    {
        events.add(event);
    }

    /** The next event, waiting at most 10 s. */
    String nextEvent() throws InterruptedException
    {
        final String event = events.poll(10, TimeUnit.SECONDS);
        if (event == null)
        {
            throw new AssertionError("no server event within 10 s");
        }
        return event;
    }

    /** Waits for an event starting with {@code prefix}, skipping others. */
    String awaitEvent(final String prefix) throws InterruptedException
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline)
        {
            final String event = events.poll(100, TimeUnit.MILLISECONDS);
            if (event != null && event.startsWith(prefix))
            {
                return event;
            }
        }
        throw new AssertionError("no server event " + prefix + " within 10 s");
    }

    /** Every event not taken yet, for a failure message (a reset's reason is among them). */
    String pendingEvents()
    {
        final List<String> pending = new ArrayList<>();
        events.drainTo(pending);
        return pending.toString();
    }

    long readyCalls()
    {
        return readyCalls.get();
    }

    /** Runs {@code task} on the loop thread (where connections may be inspected). */
    <T> T onLoop(final Callable<T> task) throws Exception
    {
        final CompletableFuture<T> result = new CompletableFuture<>();
        tasks.add(() ->
        {
            try
            {
                result.complete(task.call());
            }
            catch (final Throwable t)
            {
                result.completeExceptionally(t);
            }
        });
        poller.wakeup();
        return result.get(10, TimeUnit.SECONDS);
    }

    /** Loop thread only. */
    List<TlsChannel> connections()
    {
        final List<TlsChannel> open = new ArrayList<>();
        for (final Served s : served)
        {
            if (s.tls.isOpen())
            {
                open.add(s.tls);
            }
        }
        return open;
    }

    /** Loop thread only: runs every connection as if it were ready (a "run again" from the loop). */
    void readyAll()
    {
        for (final Served s : new ArrayList<>(served))
        {
            if (s.tls.isOpen())
            {
                s.ready();
            }
        }
    }

    /** Loop thread only. */
    TlsBufferPool pool()
    {
        return pool;
    }

    private void run()
    {
        try
        {
            while (running)
            {
                Runnable task;
                while ((task = tasks.poll()) != null)
                {
                    task.run();
                }
                poller.poll(100);
            }
        }
        catch (final IOException e)
        {
            events.add("loop failed: " + e);
        }
    }


    private void accept()
    {
        try
        {
            Object accepted;
            while ((accepted = acceptor.accept()) != null)
            {
                final Connection connection = poller.adopt(accepted, null);
                final TlsChannel tls = new TlsChannel(connection, TlsContexts.newServerEngine(context), pool);
                final Served s = new Served(tls, handlers.get());
                connection.handler(s);
                connection.interest(tls.interestOps(Connection.OP_READ));
                served.add(s);
            }
        }
        catch (final IOException e)
        {
            events.add("accept failed: " + e);
        }
    }

    private final class Served implements Connection.Handler
    {
        private final TlsChannel tls;
        private final Handler handler;

        Served(final TlsChannel tls, final Handler handler)
        {
            this.tls = tls;
            this.handler = handler;
        }

        @Override
        public void onReady(final Connection connection, final int readyOps)
        {
            ready();
        }

        void ready()
        {
            readyCalls.incrementAndGet();
            try
            {
                int app;
                do
                {
                    app = handler.onReady(tls, TlsTestServer.this);
                }
                // The selector cannot see records the channel already holds: run again while the app wants them.
                while (app != Handler.CLOSE && (app & Connection.OP_READ) != 0 && tls.hasBufferedInput());
                if (app == Handler.CLOSE)
                {
                    tls.close();
                    events.add("closed");
                    return;
                }
                tls.socket().interest(tls.interestOps(app));
            }
            catch (final IOException | RuntimeException e)
            {
                events.add("error " + e);
                try
                {
                    tls.close();
                }
                catch (final IOException ignored)
                {
                    // already failing
                }
            }
        }
    }

    @Override
    public void close() throws Exception
    {
        running = false;
        poller.wakeup();
        thread.join(5000);
        for (final Served s : served)
        {
            s.tls.socket().close();
        }
        acceptor.close();
        poller.close();
    }
}
