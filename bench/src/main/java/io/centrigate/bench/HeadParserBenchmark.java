package io.centrigate.bench;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import org.agrona.concurrent.UnsafeBuffer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

import io.centrigate.config.ProxyContext;
import io.centrigate.http.HeadScanner;
import io.centrigate.http.RequestHead;
import io.centrigate.http.UpstreamRequestWriter;

/**
 * The per-request work on a WebSocket upgrade as a loop does it: find the end of the head, parse and validate
 * it, and (second benchmark) write the head the upstream sees. The request is what Chrome sends to a
 * Centrifugo endpoint, field order included, held off-heap as it would be in a pooled chunk. The scanner is
 * reset each time, so every byte is scanned once per operation, as for a head that arrived in one read.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(jvmArgsAppend = BenchmarkJvm.AGRONA_EXPORTS)
public class HeadParserBenchmark
{
    /** Chrome 131 opening a WebSocket, fields in Chrome's order (its Pragma and Cache-Control left out); 522 bytes. */
    static final String CHROME_UPGRADE =
        "GET /connection/websocket HTTP/1.1\r\n" +
        "Host: chat.example.com\r\n" +
        "Connection: Upgrade\r\n" +
        "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) " +
        "Chrome/131.0.0.0 Safari/537.36\r\n" +
        "Upgrade: websocket\r\n" +
        "Origin: https://chat.example.com\r\n" +
        "Sec-WebSocket-Version: 13\r\n" +
        "Accept-Encoding: gzip, deflate, br, zstd\r\n" +
        "Accept-Language: en-US,en;q=0.9\r\n" +
        "Cookie: session_id=3f2a9c1e7b4d4e0a9f6b; theme=dark\r\n" +
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
        "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n" +
        "\r\n";

    /** centrifuge-js opening an HTTP-streaming session from a browser: a POST with its connect command. */
    static final String HTTP_STREAM_POST =
        "POST /connection/http_stream HTTP/1.1\r\n" +
        "Host: chat.example.com\r\n" +
        "Connection: keep-alive\r\n" +
        "Content-Length: 74\r\n" +
        "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) " +
        "Chrome/131.0.0.0 Safari/537.36\r\n" +
        "Content-Type: application/octet-stream\r\n" +
        "Accept: */*\r\n" +
        "Origin: https://chat.example.com\r\n" +
        "Referer: https://chat.example.com/\r\n" +
        "Accept-Encoding: gzip, deflate, br, zstd\r\n" +
        "Accept-Language: en-US,en;q=0.9\r\n" +
        "Cookie: session_id=3f2a9c1e7b4d4e0a9f6b; theme=dark\r\n" +
        "\r\n";

    /** A backend calling Centrifugo's server API. */
    static final String API_INFO =
        "POST /api/info HTTP/1.1\r\n" +
        "Host: centrifugo:8000\r\n" +
        "User-Agent: Go-http-client/1.1\r\n" +
        "Content-Length: 2\r\n" +
        "Content-Type: application/json\r\n" +
        "X-Api-Key: 8f3c2a1b-4d5e-6f70-8192-a3b4c5d6e7f8\r\n" +
        "Accept-Encoding: gzip\r\n" +
        "\r\n";

    /** Which request: the WebSocket upgrade (default), an http_stream POST, or a server API call. */
    @Param({"upgrade", "http_stream", "api_info"})
    public String kind;

    private static final byte[] CLIENT_ADDRESS = "192.0.2.7".getBytes(StandardCharsets.US_ASCII);

    private final HeadScanner scanner = new HeadScanner(
        ProxyContext.DEFAULT_MAX_REQUEST_LINE, ProxyContext.DEFAULT_MAX_HEAD_BYTES, ProxyContext.DEFAULT_MAX_FIELDS, true);
    private final RequestHead head = new RequestHead(ProxyContext.DEFAULT_MAX_FIELDS);
    private final UpstreamRequestWriter writer = new UpstreamRequestWriter();

    private UnsafeBuffer request;
    private int requestLength;
    private UnsafeBuffer upstream;

    @Setup
    public void setup()
    {
        final String text = switch (kind)
        {
            case "http_stream" -> HTTP_STREAM_POST;
            case "api_info" -> API_INFO;
            default -> CHROME_UPGRADE;
        };
        final byte[] bytes = text.getBytes(StandardCharsets.US_ASCII);
        requestLength = bytes.length;
        // A whole default chunk, as in the proxy: the head sits at the start of a chunk the client read into.
        request = new UnsafeBuffer(ByteBuffer.allocateDirect(ProxyContext.DEFAULT_CHUNK_SIZE));
        request.putBytes(0, bytes);
        upstream = new UnsafeBuffer(ByteBuffer.allocateDirect(ProxyContext.DEFAULT_CHUNK_SIZE));

        // Fail at setup, not silently measure an error path.
        final int written = scanParseRewrite();
        if (written <= 0 || head.isWebSocketUpgrade() != kind.equals("upgrade") || head.headLength() != requestLength)
        {
            throw new IllegalStateException("the benchmark request does not parse: " + head + " error=" +
                head.error() + " scanner=" + scanner.error() + " written=" + written);
        }
    }

    @Benchmark
    public int scanAndParse()
    {
        scanner.reset();
        final int headLength = scanner.scan(request, requestLength);
        if (!head.parse(request, headLength))
        {
            return -1;
        }
        return head.fieldCount();
    }

    @Benchmark
    public int scanParseRewrite()
    {
        scanner.reset();
        final int headLength = scanner.scan(request, requestLength);
        if (!head.parse(request, headLength))
        {
            return -1;
        }
        return writer.write(head, request, upstream, 0, upstream.capacity(), CLIENT_ADDRESS, CLIENT_ADDRESS.length,
            false, true);
    }
}
