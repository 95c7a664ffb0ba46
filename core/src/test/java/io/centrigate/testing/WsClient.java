package io.centrigate.testing;

import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** The JDK's own WebSocket client, collecting whole messages (the JDK hands them over in parts). */
public final class WsClient implements WebSocket.Listener
{
    private final BlockingQueue<Object> messages = new LinkedBlockingQueue<>();
    private final StringBuilder text = new StringBuilder();
    private final ByteArrayOutputStream binary = new ByteArrayOutputStream();
    private final CompletableFuture<Integer> closed = new CompletableFuture<>();
    private WebSocket socket;

    public static WsClient connect(final HttpClient http, final InetSocketAddress proxy, final String path)
        throws Exception
    {
        final WsClient client = new WsClient();
        client.socket = http.newWebSocketBuilder()
            .connectTimeout(java.time.Duration.ofSeconds(10))
            .buildAsync(URI.create("ws://127.0.0.1:" + proxy.getPort() + path), client)
            .get(20, TimeUnit.SECONDS);
        return client;
    }

    /** For sockets built elsewhere (e.g. wss:// with a custom client) with this object as the listener. */
    public void attach(final WebSocket socket)
    {
        this.socket = socket;
    }

    public WebSocket socket()
    {
        return socket;
    }

    public String echoText(final String message) throws Exception
    {
        socket.sendText(message, true).get(20, TimeUnit.SECONDS);
        return (String)next();
    }

    public byte[] echoBinary(final byte[] message) throws Exception
    {
        socket.sendBinary(ByteBuffer.wrap(message), true).get(20, TimeUnit.SECONDS);
        return (byte[])next();
    }

    private Object next() throws Exception
    {
        final Object m = messages.poll(30, TimeUnit.SECONDS);
        if (m == null)
        {
            throw new AssertionError("no echo within 30 s");
        }
        if (m instanceof Throwable)
        {
            throw new AssertionError("websocket failed", (Throwable)m);
        }
        return m;
    }

    public CompletableFuture<Integer> closed()
    {
        return closed;
    }

    @Override
    public CompletionStage<?> onText(final WebSocket ws, final CharSequence data, final boolean last)
    {
        text.append(data);
        if (last)
        {
            messages.add(text.toString());
            text.setLength(0);
        }
        ws.request(1);
        return null;
    }

    @Override
    public CompletionStage<?> onBinary(final WebSocket ws, final ByteBuffer data, final boolean last)
    {
        final byte[] bytes = new byte[data.remaining()];
        data.get(bytes);
        binary.writeBytes(bytes);
        if (last)
        {
            messages.add(binary.toByteArray());
            binary.reset();
        }
        ws.request(1);
        return null;
    }

    @Override
    public CompletionStage<?> onClose(final WebSocket ws, final int statusCode, final String reason)
    {
        closed.complete(statusCode);
        return null;
    }

    @Override
    public void onError(final WebSocket ws, final Throwable error)
    {
        messages.add(error);
        closed.complete(-1);
    }
}
