package io.centrigate.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import io.centrigate.buffer.Chunk;
import io.centrigate.config.ProxyContext;
import io.centrigate.http.BodyFraming;
import io.centrigate.http.HeadScanner;
import io.centrigate.http.HttpError;
import io.centrigate.metrics.ErrorLog;
import io.centrigate.metrics.NodeStats;
import io.centrigate.route.Router;
import io.centrigate.upstream.UpstreamGroup;

/** The request-head stage on its own: bytes in a buffer in, verdicts and the node's head out; no socket anywhere. */
final class RequestHeadStageTest
{
    private static final byte[] CLIENT = "203.0.113.9".getBytes(StandardCharsets.US_ASCII);
    private static final String UPGRADE = "GET /connection/websocket HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n" +
        "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";

    private ProxyLoop loop;
    private RequestHeadStage heads;
    private HeadScanner scanner;
    private UnsafeBuffer buf;
    private final List<Chunk> taken = new ArrayList<>();

    private void start(final ProxyContext ctx)
    {
        ctx.listen(new InetSocketAddress("127.0.0.1", 0)).upstream(new InetSocketAddress("127.0.0.1", 9)).conclude();
        final UpstreamGroup[] groups = ctx.groups().values().stream()
            .map(list -> new UpstreamGroup(list, ctx.balance(), ctx.failTimeoutNs()))
            .toArray(UpstreamGroup[]::new);
        loop = new ProxyLoop(0, ctx, groups, new Router(ctx), new AtomicInteger(), new ErrorLog(System.err), null,
            new Limits(ctx));
        heads = loop.requestHeads();
        scanner = loop.takeScanner();
        buf = new UnsafeBuffer(ByteBuffer.allocateDirect(ctx.chunkSize()));
    }

    @AfterEach
    void stop()
    {
        taken.forEach(loop.pool()::release);
        loop.loop().onClose();
    }

    /** Puts {@code raw} at offset 0 and returns its length, as the session's read leaves a head chunk. */
    private int put(final String raw)
    {
        final byte[] bytes = raw.getBytes(StandardCharsets.US_ASCII);
        buf.putBytes(0, bytes);
        return bytes.length;
    }

    private int parse(final String raw)
    {
        return heads.parse(scanner, buf, put(raw));
    }

    private static String text(final Chunk chunk)
    {
        final ByteBuffer bb = chunk.byteBuffer();
        return chunk.buffer().getStringWithoutLengthAscii(bb.position(), bb.remaining());
    }

    private Chunk headForNode(final boolean https)
    {
        final Chunk out = heads.headForNode(buf, CLIENT, https);
        assertNotNull(out);
        taken.add(out);
        return out;
    }

    private void takeEveryChunk()
    {
        Chunk chunk;
        while ((chunk = loop.pool().acquire()) != null)
        {
            taken.add(chunk);
        }
    }

    @Test
    void waitsForTheWholeHeadWhereverTheReadsSplitIt()
    {
        start(new ProxyContext());
        final String head = "GET /a HTTP/1.1\r\nHost: h\r\nAccept: */*\r\n\r\n";
        final int length = put(head + "GET /next HTTP/1.1\r\n");
        for (int filled = 1; filled < head.length(); filled++)
        {
            assertEquals(RequestHeadStage.INCOMPLETE, heads.parse(scanner, buf, filled), "after " + filled + " bytes");
        }
        assertEquals(RequestHeadStage.PARSED, heads.parse(scanner, buf, length));
        assertEquals(head.length(), heads.headLength(), "the pipelined request behind it is not part of it");
        assertEquals(6, heads.head().pathOffset() + heads.head().pathLength());
    }

    @Test
    void refusesAHeadTheScannerOrTheParserRejects()
    {
        start(new ProxyContext());
        assertEquals(RequestHeadStage.REJECT, parse("GET / HTTP/1.1\r\nHost : h\r\n\r\n"));
        assertEquals(HttpError.SPACE_BEFORE_COLON, heads.error());

        scanner.reset();
        assertEquals(RequestHeadStage.REJECT,
            parse("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"));
        assertEquals(HttpError.CONTENT_LENGTH_WITH_TRANSFER_ENCODING, heads.error());
        assertEquals(0, loop.stats().requests, "a refused head is not counted as a request");
    }

    @Test
    void waitsForAChunkInsteadOfRefusingWhenNoneIsFree()
    {
        start(new ProxyContext());
        takeEveryChunk();
        final String head = "GET / HTTP/1.1\r\nHost: h\r\n\r\n";
        assertEquals(RequestHeadStage.NO_CHUNK, parse(head));

        loop.pool().release(taken.remove(taken.size() - 1));
        assertEquals(RequestHeadStage.PARSED, heads.parse(scanner, buf, head.length()),
            "the same bytes looked at again once a chunk is free, as the session does");
        assertEquals(head.length(), heads.headLength());
    }

    /** Every chunk of the slabs so far in use, but the memory limit far: the head goes on (the pool grows). */
    @Test
    void doesNotWaitWhenThePoolMayStillGrow()
    {
        start(new ProxyContext());
        final int firstSlabs = loop.pool().allocated();
        for (int i = 0; i < firstSlabs; i++)
        {
            taken.add(loop.pool().acquire());
        }
        assertEquals(0, loop.pool().available());
        assertEquals(RequestHeadStage.PARSED, parse("GET / HTTP/1.1\r\nHost: h\r\n\r\n"));
    }

    @Test
    void settlesAPlainExchangeAndWritesItsHeadForTheNode()
    {
        start(new ProxyContext());
        assertEquals(RequestHeadStage.PARSED,
            parse("GET /connection/sse?x=1 HTTP/1.1\r\nHost: h\r\nConnection: keep-alive\r\n\r\n"));
        assertEquals(RequestHeadStage.EXCHANGE, heads.route(buf, false));
        assertFalse(heads.upgrade());
        assertFalse(heads.headRequest());
        assertEquals(0, heads.group());
        assertEquals(1, loop.stats().requests);

        final BodyFraming body = new BodyFraming();
        body.length(5);
        assertEquals(RequestHeadStage.EXCHANGE, heads.exchange(buf, body));
        assertEquals(BodyFraming.NONE, body.kind());
        assertTrue(heads.idempotent());
        assertEquals(NodeStats.METHOD_GET, heads.methodClass());
        assertFalse(heads.neverReplay());
        assertTrue(heads.clientKeepAlive());
        assertTrue(heads.upstreamKeepAlive());

        final String out = text(headForNode(false));
        assertTrue(out.startsWith("GET /connection/sse?x=1 HTTP/1.1\r\n"), out);
        assertTrue(out.contains("X-Real-IP: 203.0.113.9\r\n"), out);
        assertTrue(out.contains("X-Forwarded-Proto: http\r\n"), out);
        assertFalse(out.contains("Connection:"), "a kept-alive upstream request names no Connection option: " + out);
        assertTrue(out.endsWith("\r\n\r\n"), out);
    }

    @Test
    void keepsNeitherSideAliveForHttp10()
    {
        start(new ProxyContext());
        assertEquals(RequestHeadStage.PARSED, parse("HEAD / HTTP/1.0\r\n\r\n"));
        assertEquals(RequestHeadStage.EXCHANGE, heads.route(buf, false));
        assertTrue(heads.headRequest());
        assertEquals(RequestHeadStage.EXCHANGE, heads.exchange(buf, new BodyFraming()));
        assertEquals(NodeStats.METHOD_HEAD, heads.methodClass());
        assertFalse(heads.clientKeepAlive());
        assertFalse(heads.upstreamKeepAlive());
        assertTrue(text(headForNode(true)).contains("Connection: close\r\n"));
    }

    @Test
    void framesTheRequestBodyAndRefusesOneOverTheLimit()
    {
        start(new ProxyContext().maxBodySize(10));
        assertEquals(RequestHeadStage.PARSED,
            parse("POST /emulation HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n"));
        assertEquals(RequestHeadStage.EXCHANGE, heads.route(buf, false));
        final BodyFraming body = new BodyFraming();
        assertEquals(RequestHeadStage.EXCHANGE, heads.exchange(buf, body));
        assertEquals(BodyFraming.LENGTH, body.kind());
        assertEquals(10, body.readLimit());
        assertFalse(heads.idempotent());
        assertTrue(heads.neverReplay());

        scanner.reset();
        assertEquals(RequestHeadStage.PARSED,
            parse("POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"));
        assertEquals(RequestHeadStage.EXCHANGE, heads.route(buf, false));
        assertEquals(RequestHeadStage.EXCHANGE, heads.exchange(buf, body));
        assertEquals(BodyFraming.CHUNKED, body.kind());

        scanner.reset();
        assertEquals(RequestHeadStage.PARSED, parse("POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\n"));
        assertEquals(RequestHeadStage.EXCHANGE, heads.route(buf, false));
        assertEquals(RequestHeadStage.REJECT, heads.exchange(buf, body));
        assertEquals(HttpError.PAYLOAD_TOO_LARGE, heads.error());
    }

    @Test
    void tellsAnUpgradeAndFindsItsKey()
    {
        start(new ProxyContext());
        assertEquals(RequestHeadStage.PARSED, parse(UPGRADE));
        assertEquals(RequestHeadStage.UPGRADE, heads.route(buf, false));
        assertTrue(heads.upgrade());
        assertEquals("dGhlIHNhbXBsZSBub25jZQ==", buf.getStringWithoutLengthAscii(heads.webSocketKeyOffset(), 24));
        final String out = text(headForNode(true));
        assertTrue(out.startsWith("GET /connection/websocket HTTP/1.1\r\n"), out);
        assertTrue(out.contains("Upgrade: websocket\r\nConnection: Upgrade\r\n"), out);
        assertTrue(out.contains("X-Forwarded-Proto: https\r\n"), out);
    }

    @Test
    void routesUnderThePrefixAndGuardsOperatorEndpoints()
    {
        start(new ProxyContext().prefix("/centrifugo"));
        assertEquals(RequestHeadStage.PARSED, parse(UPGRADE.replace("GET /", "GET /centrifugo/")));
        assertEquals(RequestHeadStage.UPGRADE, heads.route(buf, false));
        assertTrue(text(headForNode(false)).startsWith("GET /connection/websocket HTTP/1.1\r\n"), "prefix stripped");

        scanner.reset();
        assertEquals(RequestHeadStage.PARSED, parse(UPGRADE));
        assertEquals(RequestHeadStage.REJECT, heads.route(buf, false));
        assertEquals(HttpError.NOT_FOUND, heads.error());
        assertTrue(heads.upgrade(), "known even when refused: the session counts the handshake's outcome by it");

        scanner.reset();
        assertEquals(RequestHeadStage.PARSED, parse("GET /centrifugo/api HTTP/1.1\r\nHost: h\r\n\r\n"));
        assertEquals(RequestHeadStage.REJECT, heads.route(buf, false));
        assertEquals(HttpError.FORBIDDEN, heads.error());
        assertEquals(RequestHeadStage.EXCHANGE, heads.route(buf, true), "an internal client reaches it");
        assertEquals(4, loop.stats().requests, "every routed head counts, refused or not");
    }

    /** RFC 9110 §9.2.2: Centrifugo's emulation and http_stream POSTs are never sent twice, under a prefix too. */
    @Test
    void aStreamingPostUnderThePrefixIsNeverReplayed()
    {
        start(new ProxyContext().prefix("/centrifugo"));
        for (final String path : new String[] {"/centrifugo/emulation", "/centrifugo/connection/http_stream"})
        {
            scanner.reset();
            assertEquals(RequestHeadStage.PARSED,
                parse("POST " + path + " HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\n"));
            assertEquals(RequestHeadStage.EXCHANGE, heads.route(buf, false));
            assertEquals(RequestHeadStage.EXCHANGE, heads.exchange(buf, new BodyFraming()));
            assertTrue(heads.neverReplay(), path);
        }
        scanner.reset();
        assertEquals(RequestHeadStage.PARSED, parse("POST /centrifugo/x HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\n"));
        assertEquals(RequestHeadStage.EXCHANGE, heads.route(buf, false));
        assertEquals(RequestHeadStage.EXCHANGE, heads.exchange(buf, new BodyFraming()));
        assertFalse(heads.neverReplay(), "other POSTs may be replayed after a stale pooled connection");
    }

    @Test
    void refusesWhenTheNodesHeadHasNoChunkOrDoesNotFitOne()
    {
        start(new ProxyContext());
        assertEquals(RequestHeadStage.PARSED, parse("GET / HTTP/1.1\r\nHost: h\r\n\r\n"));
        assertEquals(RequestHeadStage.EXCHANGE, heads.route(buf, false));
        assertEquals(RequestHeadStage.EXCHANGE, heads.exchange(buf, new BodyFraming()));
        takeEveryChunk();
        assertNull(heads.headForNode(buf, CLIENT, false));
        assertEquals(HttpError.OVERLOADED, heads.error());

        loop.pool().release(taken.remove(taken.size() - 1));
        final byte[] hugeAddress = new byte[loop.context().chunkSize()];
        java.util.Arrays.fill(hugeAddress, (byte)'1');
        assertNull(heads.headForNode(buf, hugeAddress, false));
        assertEquals(HttpError.HEAD_TOO_LARGE, heads.error());
        assertEquals(1, loop.pool().available(), "the chunk goes back when the head does not fit");
    }
}
