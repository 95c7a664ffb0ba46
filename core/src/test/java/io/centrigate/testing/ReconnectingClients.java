package io.centrigate.testing;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * N WebSocket clients of the JDK's client library that behave like Centrifugo SDKs: each reconnects as soon as its
 * connection closes, whatever the code, and sends a message now and then, so closes injected by the proxy meet
 * frames in flight. Every close code with its time, every library error (a protocol error: a close injected
 * inside a frame) and every failed handshake is recorded.
 */
public final class ReconnectingClients implements AutoCloseable
{
    /** A close the client library reported: the code and when (System.nanoTime). */
    public record Close(int code, long atNs) {}

    private final URI uri;
    private final int count;
    private final HttpClient http;
    private final ExecutorService callbacks = Executors.newFixedThreadPool(2, daemon("ws-client-callbacks"));
    private final ScheduledExecutorService traffic = Executors.newSingleThreadScheduledExecutor(daemon("ws-client-traffic"));
    private final AtomicReferenceArray<WebSocket> sockets;
    private final AtomicInteger open = new AtomicInteger();
    private final AtomicLong handshakeFailures = new AtomicLong();
    private final ConcurrentLinkedQueue<Long> handshakeFailureTimes = new ConcurrentLinkedQueue<>();
    /** Why handshakes failed, by exception and message (an answer status, a timeout, a refused connect...). */
    private final java.util.concurrent.ConcurrentHashMap<String, AtomicLong> handshakeFailureReasons =
        new java.util.concurrent.ConcurrentHashMap<>();
    private final ConcurrentLinkedQueue<Close> closes = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
    private final AtomicLong echoes = new AtomicLong();
    private volatile boolean running = true;
    private final String payload;
    private volatile int streaming;
    private volatile String big = "";

    public ReconnectingClients(final URI uri, final int count)
    {
        this.uri = uri;
        this.count = count;
        this.sockets = new AtomicReferenceArray<>(count);
        this.http = HttpClient.newBuilder().executor(callbacks).connectTimeout(Duration.ofSeconds(10)).build();
        this.payload = "x".repeat(3000); // larger than one read at times, so a frame is often split across reads
    }

    private static java.util.concurrent.ThreadFactory daemon(final String name)
    {
        return r ->
        {
            final Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        };
    }

    /** Connects every client, at most {@code parallel} handshakes at a time, and starts the traffic. */
    public void start(final int parallel, final long sendEveryMs) throws Exception
    {
        start(parallel, sendEveryMs, 0, 0);
    }

    /**
     * The same, and the first {@code streaming} clients keep one {@code streamBytes} message in flight at all times
     * (the next one goes as its echo arrives): a message that large crosses the proxy in many reads, so a close
     * injected anywhere but at a frame boundary would land inside it and the library would fail on it.
     */
    public void start(final int parallel, final long sendEveryMs, final int streaming, final int streamBytes)
        throws Exception
    {
        this.streaming = streaming;
        this.big = "y".repeat(streamBytes);
        final java.util.concurrent.Semaphore slots = new java.util.concurrent.Semaphore(parallel);
        for (int i = 0; i < count; i++)
        {
            if (!slots.tryAcquire(30, TimeUnit.SECONDS))
            {
                throw new IllegalStateException("handshakes stalled");
            }
            connect(i).whenComplete((ws, e) -> slots.release());
        }
        final AtomicInteger next = new AtomicInteger();
        final int perTick = Math.max(1, count / 20);
        traffic.scheduleAtFixedRate(() ->
        {
            for (int k = 0; k < perTick; k++)
            {
                final int i = Math.floorMod(next.getAndIncrement(), count);
                final WebSocket ws = i < this.streaming ? null : sockets.get(i);
                if (ws != null && !ws.isOutputClosed())
                {
                    ws.sendText(payload, true).exceptionally(e -> null); // a close may race the send
                }
            }
        }, sendEveryMs / 20, Math.max(1, sendEveryMs / 20), TimeUnit.MILLISECONDS);
    }

    private CompletableFuture<WebSocket> connect(final int i)
    {
        return http.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(10)).buildAsync(uri, new Client(i))
            .whenComplete((ws, e) ->
            {
                if (e != null && running)
                {
                    handshakeFailures.incrementAndGet();
                    final Throwable cause = e instanceof java.util.concurrent.CompletionException && e.getCause() != null
                        ? e.getCause() : e;
                    handshakeFailureReasons.computeIfAbsent(cause.getClass().getSimpleName() + ": " + cause.getMessage(),
                        k -> new AtomicLong()).incrementAndGet();
                    handshakeFailureTimes.add(System.nanoTime());
                    // An SDK backs off and tries again; a short pause keeps a dead proxy from spinning us.
                    CompletableFuture.delayedExecutor(200, TimeUnit.MILLISECONDS).execute(() -> connect(i));
                }
            });
    }

    private final class Client implements WebSocket.Listener
    {
        private final int index;
        private final StringBuilder text = new StringBuilder();

        Client(final int index)
        {
            this.index = index;
        }

        @Override
        public void onOpen(final WebSocket ws)
        {
            sockets.set(index, ws);
            open.incrementAndGet();
            ws.request(1);
            if (index < streaming)
            {
                ws.sendText(big, true).exceptionally(e -> null);
            }
        }

        @Override
        public CompletionStage<?> onText(final WebSocket ws, final CharSequence data, final boolean last)
        {
            text.append(data);
            if (last)
            {
                final boolean streamed = index < streaming;
                if (!text.toString().equals(streamed ? big : payload))
                {
                    errors.add(new AssertionError("echo corrupted: " + text.length() + " chars"));
                }
                text.setLength(0);
                echoes.incrementAndGet();
                if (streamed)
                {
                    ws.sendText(big, true).exceptionally(e -> null);
                }
            }
            ws.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(final WebSocket ws, final int statusCode, final String reason)
        {
            closes.add(new Close(statusCode, System.nanoTime()));
            gone(ws);
            return null; // the library answers the close frame, as an SDK does
        }

        @Override
        public void onError(final WebSocket ws, final Throwable error)
        {
            errors.add(error);
            gone(ws);
        }

        private void gone(final WebSocket ws)
        {
            if (sockets.compareAndSet(index, ws, null))
            {
                open.decrementAndGet();
            }
            if (running)
            {
                connect(index); // reconnect at once, like an SDK after a 1001/1012 close
            }
        }
    }

    public int open()
    {
        return open.get();
    }

    public long echoes()
    {
        return echoes.get();
    }

    public long handshakeFailures()
    {
        return handshakeFailures.get();
    }

    /** The failed handshakes by reason, for failure messages. */
    public String handshakeFailureReasons()
    {
        return new java.util.TreeMap<>(handshakeFailureReasons).toString();
    }

    /** Failed handshakes at or after {@code sinceNs}. */
    public long handshakeFailuresSince(final long sinceNs)
    {
        return handshakeFailureTimes.stream().filter(t -> t - sinceNs >= 0).count();
    }

    public List<Close> closes()
    {
        return List.copyOf(closes);
    }

    public List<Throwable> errors()
    {
        return List.copyOf(errors);
    }

    /** The most closes with {@code code} at or after {@code sinceNs} within any window of {@code windowNs}. */
    public int maxClosesInWindow(final int code, final long sinceNs, final long windowNs)
    {
        final long[] times = closes.stream().filter(c -> c.code() == code && c.atNs() - sinceNs >= 0)
            .mapToLong(Close::atNs).sorted().toArray();
        int max = 0;
        int from = 0;
        for (int to = 0; to < times.length; to++)
        {
            while (times[to] - times[from] >= windowNs)
            {
                from++;
            }
            max = Math.max(max, to - from + 1);
        }
        return max;
    }

    @Override
    public void close()
    {
        running = false;
        traffic.shutdownNow();
        for (int i = 0; i < count; i++)
        {
            final WebSocket ws = sockets.get(i);
            if (ws != null)
            {
                ws.abort();
            }
        }
        callbacks.shutdownNow();
    }
}
