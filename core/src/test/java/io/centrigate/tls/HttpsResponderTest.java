package io.centrigate.tls;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The JDK's HttpClient over https (TLS 1.3, ALPN, keep-alive) to a tiny HTTP/1.1 responder on {@link TlsChannel}. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
final class HttpsResponderTest
{
    /** Answers each request with its body (or "hello" when it has none); keep-alive, Content-Length only. */
    private static final class Responder implements TlsTestServer.Handler
    {
        private final ByteBuffer in = ByteBuffer.allocate(512 * 1024);
        private ByteBuffer out;
        private boolean ended;

        @Override
        public int onReady(final TlsChannel tls, final TlsTestServer server) throws IOException
        {
            tls.flushPending();
            while (true)
            {
                if (out != null)
                {
                    tls.write(out);
                    if (out.hasRemaining())
                    {
                        return SelectionKey.OP_WRITE;
                    }
                    out = null;
                }
                if (answer(server))
                {
                    continue;
                }
                if (ended)
                {
                    return CLOSE;
                }
                final int n = tls.read(in);
                if (n < 0)
                {
                    ended = true;
                }
                else if (n == 0)
                {
                    return SelectionKey.OP_READ;
                }
            }
        }

        private boolean answer(final TlsTestServer server)
        {
            final String text = new String(in.array(), 0, in.position(), StandardCharsets.ISO_8859_1);
            final int headEnd = text.indexOf("\r\n\r\n");
            if (headEnd < 0)
            {
                return false;
            }
            int length = 0;
            for (final String line : text.substring(0, headEnd).split("\r\n"))
            {
                if (line.toLowerCase(Locale.ROOT).startsWith("content-length:"))
                {
                    length = Integer.parseInt(line.substring(15).trim());
                }
            }
            final int total = headEnd + 4 + length;
            if (in.position() < total)
            {
                return false;
            }
            server.event("request " + text.substring(0, text.indexOf("\r\n")));
            final byte[] body = length == 0 ? "hello".getBytes(StandardCharsets.US_ASCII) : new byte[length];
            if (length > 0)
            {
                System.arraycopy(in.array(), headEnd + 4, body, 0, length);
            }
            final byte[] head = ("HTTP/1.1 200 OK\r\nContent-Length: " + body.length + "\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII);
            out = ByteBuffer.allocate(head.length + body.length).put(head).put(body).flip();
            in.flip().position(total);
            in.compact();
            return true;
        }
    }

    @Test
    void jdkHttpClientTalksHttpsToTheLoop() throws Exception
    {
        final TestCertificates certificates = TestCertificates.ec();
        try (TlsTestServer server = new TlsTestServer(certificates.serverContext(), Responder::new))
        {
            final HttpClient client = HttpClient.newBuilder()
                .sslContext(certificates.clientContext())
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5))
                .build();
            final URI uri = URI.create("https://127.0.0.1:" + server.port() + "/");

            final HttpResponse<String> get = client.send(HttpRequest.newBuilder(uri).build(),
                HttpResponse.BodyHandlers.ofString());
            assertEquals(200, get.statusCode());
            assertEquals("hello", get.body());
            assertEquals("TLSv1.3", get.sslSession().orElseThrow().getProtocol());

            final byte[] body = new byte[300_000];
            new Random(5).nextBytes(body);
            final HttpResponse<byte[]> post = client.send(
                HttpRequest.newBuilder(uri).POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
                HttpResponse.BodyHandlers.ofByteArray());
            assertEquals(200, post.statusCode());
            assertArrayEquals(body, post.body());

            assertEquals("request GET / HTTP/1.1", server.awaitEvent("request"));
            assertEquals("request POST / HTTP/1.1", server.awaitEvent("request"));
        }
    }
}
