package io.centrigate.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.centrigate.metrics.LoopSnapshot;
import io.centrigate.testing.HttpUpstream;
import io.centrigate.testing.RawClient;
import io.centrigate.testing.WsEchoUpstream;

/** Issue 12, the access log: a line per HTTP exchange and per tunnel, and a blocked writer never stalls traffic. */
class AccessLogTest
{
    @TempDir
    Path dir;

    private static final String SITE = "site.test";

    /** 200s from the node, its 404, and the node's echo of a body; anything else is echoed. */
    private static boolean site(final HttpUpstream.Request r, final java.io.OutputStream out) throws IOException
    {
        if (r.requestLine().startsWith("GET /missing"))
        {
            out.write("HTTP/1.1 404 Not Found\r\nContent-Length: 4\r\n\r\nnope".getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            return true;
        }
        return HttpUpstream.echo(r, out);
    }

    @Test
    void everyRequestAndEveryTunnelGivesOneLineWithItsFields() throws Exception
    {
        final Path logFile = dir.resolve("access.log");
        try (HttpUpstream http = new HttpUpstream().handler(AccessLogTest::site);
            WsEchoUpstream ws = WsEchoUpstream.start(0))
        {
            final Proxy proxy = Proxy.start(TestProxies.context(ws.address()).groupUpstream("site", http.address(), 1)
                .virtualHost(SITE, "site").accessLog(logFile.toString()));
            final InetSocketAddress address = TestProxies.address(proxy);
            final String httpNode = "127.0.0.1:" + http.address().getPort();
            final String wsNode = "127.0.0.1:" + ws.address().getPort();
            try
            {
                // Three exchanges on one keep-alive connection: 200 (query dropped from the log), 200 with a body, 404.
                try (RawClient c = new RawClient(address))
                {
                    c.send("GET /a/b?token=secret HTTP/1.1\r\nHost: " + SITE + "\r\n\r\n");
                    assertTrue(readResponse(c).startsWith("HTTP/1.1 200"));
                    c.send("POST /echo HTTP/1.1\r\nHost: " + SITE + "\r\nContent-Length: 5\r\n\r\nhello");
                    assertTrue(readResponse(c).startsWith("HTTP/1.1 200"));
                    c.send("GET /missing HTTP/1.1\r\nHost: " + SITE + "\r\n\r\n");
                    assertTrue(readResponse(c).startsWith("HTTP/1.1 404"));
                }
                // The proxy's own 400: not a request line.
                try (RawClient c = new RawClient(address))
                {
                    c.send("NOT HTTP AT ALL\r\n\r\n");
                    assertTrue(c.readAll().startsWith("HTTP/1.1 400"));
                }
                // A tunnel the client closes (1000), and one the node closes (4001).
                try (RawClient c = openTunnel(address))
                {
                    c.send(RawClient.maskedFrame(0x1, "hi".getBytes(StandardCharsets.US_ASCII)));
                    assertEquals("hi", new String(readFrame(c), StandardCharsets.US_ASCII));
                    c.send(RawClient.maskedFrame(0x8, new byte[] {0x03, (byte)0xE8}));
                    readFrame(c); // the node's answering close
                    assertTrue(c.closedByPeer());
                }
                try (RawClient c = openTunnel(address))
                {
                    c.send(RawClient.maskedFrame(0x1, "close:4001".getBytes(StandardCharsets.US_ASCII)));
                    final byte[] close = readFrame(c);
                    assertEquals(4001, ((close[0] & 0xFF) << 8) | (close[1] & 0xFF));
                    c.send(RawClient.maskedFrame(0x8, close));
                    assertTrue(c.closedByPeer());
                }
                TestProxies.awaitIdle(proxy, 10_000);
            }
            finally
            {
                proxy.close(); // the writer writes what the ring holds before it stops
            }

            final List<Map<String, Object>> lines = inSendingOrder(lines(logFile));
            assertEquals(6, lines.size(), "4 requests and 2 tunnels: " + lines);
            final Map<String, Object> first = lines.get(0);
            assertEquals("http", first.get("type"));
            assertEquals("127.0.0.1", first.get("client"));
            assertEquals("GET", first.get("method"));
            assertEquals("/a/b", first.get("path"), "no query without --access-log-query");
            assertEquals(200L, first.get("status"));
            assertEquals(httpNode, first.get("node"));
            assertTrue(((String)first.get("time")).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z"),
                "ISO-8601 UTC with ms: " + first.get("time"));
            assertTrue(first.get("duration_ms") instanceof Double && first.get("upstream_ms") instanceof Double);
            assertTrue((Long)first.get("bytes_out") > 0);

            final Map<String, Object> post = lines.get(1);
            assertEquals("POST", post.get("method"));
            final long postHead = ("POST /echo HTTP/1.1\r\nHost: " + SITE + "\r\nContent-Length: 5\r\n\r\n").length();
            assertEquals(postHead + 5, post.get("bytes_in"), "head and body as the client sent them");

            final Map<String, Object> missing = lines.get(2);
            assertEquals("/missing", missing.get("path"));
            assertEquals(404L, missing.get("status"));
            assertEquals(httpNode, missing.get("node"));

            final Map<String, Object> bad = lines.get(3);
            assertEquals(400L, bad.get("status"));
            assertNull(bad.get("node"), "the proxy answered, no node");
            assertNull(bad.get("upstream_ms"));
            assertTrue(bad.containsKey("method"));
            assertEquals((long)"NOT HTTP AT ALL\r\n\r\n".length(), bad.get("bytes_in"), "what was read of the head");

            final Map<String, Object> byClient = lines.get(4);
            assertEquals("ws", byClient.get("type"));
            assertEquals("/connection/websocket", byClient.get("path"));
            assertEquals(wsNode, byClient.get("node"));
            assertEquals("client_close", byClient.get("end"));
            assertEquals(Map.of("code", 1000L, "by", "client"), byClient.get("close_up"));
            assertEquals("node", ((Map<?, ?>)byClient.get("close_down")).get("by"));
            assertEquals(2L, byClient.get("frames_up"), "a text frame and a close");
            assertTrue((Long)byClient.get("frames_down") >= 2);
            assertTrue((Long)byClient.get("bytes_up") > 0 && (Long)byClient.get("bytes_down") > 0);
            assertTrue(byClient.get("handshake_ms") instanceof Double && byClient.get("lifetime_s") instanceof Double);

            final Map<String, Object> byNode = lines.get(5);
            assertEquals("node_close", byNode.get("end"));
            assertEquals(Map.of("code", 4001L, "by", "node"), byNode.get("close_down"));
            assertEquals(Map.of("code", 4001L, "by", "client"), byNode.get("close_up"));
        }
    }

    @Test
    void aTunnelClosedByADrainSaysSo() throws Exception
    {
        final Path logFile = dir.resolve("drain.log");
        try (WsEchoUpstream ws = WsEchoUpstream.start(0))
        {
            final Proxy proxy = Proxy.start(TestProxies.context(ws.address()).accessLog(logFile.toString()));
            try (RawClient c = openTunnel(TestProxies.address(proxy)))
            {
                c.send(RawClient.maskedFrame(0x1, "hi".getBytes(StandardCharsets.US_ASCII)));
                assertEquals("hi", new String(readFrame(c), StandardCharsets.US_ASCII));
                final CompletableFuture<Void> shutdown = CompletableFuture.runAsync(() -> proxy.shutdown(0),
                    r -> new Thread(r, "test-shutdown").start()); // not the common pool: it blocks for the grace
                final byte[] close = readFrame(c);
                assertEquals(1001, ((close[0] & 0xFF) << 8) | (close[1] & 0xFF));
                c.send(RawClient.maskedFrame(0x8, close));
                shutdown.get(30, TimeUnit.SECONDS);
            }
            final List<Map<String, Object>> lines = lines(logFile);
            assertEquals(1, lines.size(), joined(lines));
            assertEquals("drain", lines.get(0).get("end"));
            assertEquals(Map.of("code", 1001L, "by", "proxy"), lines.get(0).get("close_down"));
        }
    }

    @Test
    void theQueryStringIsKeptOnlyWhenAskedFor() throws Exception
    {
        final Path logFile = dir.resolve("query.log");
        try (HttpUpstream http = new HttpUpstream())
        {
            final Proxy proxy = Proxy.start(TestProxies.context(http.address()).accessLog(logFile.toString())
                .accessLogQuery(true));
            try (RawClient c = new RawClient(TestProxies.address(proxy)))
            {
                c.send("GET /x?a=1&b=%22 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
                assertTrue(c.readAll().startsWith("HTTP/1.1 200"));
            }
            finally
            {
                TestProxies.awaitIdle(proxy, 10_000);
                proxy.close();
            }
            final List<Map<String, Object>> lines = lines(logFile);
            assertEquals(1, lines.size());
            assertEquals("/x?a=1&b=%22", lines.get(0).get("path"));
        }
    }

    /**
     * The writer is stuck in a write to a pipe nobody reads: the loops drop lines (and count them) instead of
     * waiting, so every request is still served.
     */
    @Test
    void aBlockedWriterNeverStallsTrafficAndDroppedLinesAreCounted() throws Exception
    {
        final Path fifo = dir.resolve("blocked.fifo");
        final Process mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start();
        assertTrue(mkfifo.waitFor(10, TimeUnit.SECONDS) && mkfifo.exitValue() == 0, "mkfifo failed");
        // Opening a FIFO for writing waits for a reader: this one opens it and never reads.
        final CompletableFuture<InputStream> reader = CompletableFuture.supplyAsync(() ->
        {
            try
            {
                return new FileInputStream(fifo.toFile());
            }
            catch (final IOException e)
            {
                throw new java.io.UncheckedIOException(e);
            }
        });
        try (HttpUpstream http = new HttpUpstream())
        {
            final Proxy proxy = Proxy.start(TestProxies.context(http.address()).accessLog(fifo.toString())
                .accessLogBuffer(8 * 1024));
            final InputStream neverRead = reader.get(10, TimeUnit.SECONDS);
            try
            {
                final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                    .connectTimeout(Duration.ofSeconds(5)).build();
                final URI uri = URI.create("http://127.0.0.1:" + TestProxies.address(proxy).getPort() +
                    "/connection/http_stream/with/a/rather/long/path/so/lines/fill/the/pipe/sooner");
                final int requests = 3000;
                final List<CompletableFuture<Void>> workers = new ArrayList<>();
                for (int w = 0; w < 4; w++)
                {
                    workers.add(CompletableFuture.runAsync(() ->
                    {
                        for (int i = 0; i < requests / 4; i++)
                        {
                            try
                            {
                                final HttpResponse<String> r = client.send(HttpRequest.newBuilder(uri)
                                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
                                assertEquals(200, r.statusCode());
                            }
                            catch (final IOException | InterruptedException e)
                            {
                                throw new AssertionError(e);
                            }
                        }
                    }));
                }
                CompletableFuture.allOf(workers.toArray(CompletableFuture[]::new)).get(120, TimeUnit.SECONDS);
                final List<LoopSnapshot> snap = proxy.snapshot(5, TimeUnit.SECONDS);
                final long dropped = snap.stream().mapToLong(LoopSnapshot::accessLogDropped).sum();
                assertTrue(dropped > 0, "lines must have been dropped: " + snap);
                assertEquals((double)dropped, io.centrigate.admin.MetricsExportAccess.counterSum(proxy, snap,
                    "centrigate_access_log_dropped"), "exported as centrigate_access_log_dropped_total");
            }
            finally
            {
                neverRead.close(); // the writer's pending write fails (EPIPE) and it can stop
                proxy.close();
            }
        }
    }

    // ---------------------------------------------------------------- helpers

    private static RawClient openTunnel(final InetSocketAddress address) throws IOException
    {
        final RawClient c = new RawClient(address);
        c.send(RawClient.upgradeRequest(RawClient.newKey(), ""));
        final String head = c.readHead();
        assertTrue(head.startsWith("HTTP/1.1 101"), head);
        return c;
    }

    /** One unmasked frame from the proxy: its payload. */
    private static byte[] readFrame(final RawClient c) throws IOException
    {
        final byte[] h = c.readExactly(2);
        int length = h[1] & 0x7F;
        if (length == 126)
        {
            final byte[] ext = c.readExactly(2);
            length = ((ext[0] & 0xFF) << 8) | (ext[1] & 0xFF);
        }
        return c.readExactly(length);
    }

    /** A keep-alive answer with Content-Length: head and body. */
    private static String readResponse(final RawClient c) throws IOException
    {
        final String head = c.readHead();
        final java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?i)content-length: *(\\d+)").matcher(head);
        final int length = m.find() ? Integer.parseInt(m.group(1)) : 0;
        return head + new String(c.readExactly(length), StandardCharsets.ISO_8859_1);
    }

    /**
     * Two loops write to one log, each when its exchange ends, so lines of requests made one after the other may
     * come in either order: HTTP lines by the order the test sent them (GET /a/b, POST /echo, GET /missing, the
     * refused one without a path), then the tunnels' lines as written.
     */
    private static List<Map<String, Object>> inSendingOrder(final List<Map<String, Object>> lines)
    {
        final List<String> order = java.util.Arrays.asList("/a/b", "/echo", "/missing", null);
        final List<Map<String, Object>> sorted = new ArrayList<>(lines);
        // Tunnels by the close code the client sent (1000 in the first, 4001 in the second): their lines can come
        // in either order, since the first tunnel's session may end after the second's (two loops, and the
        // client of the first leaves once the node's close arrived, before the proxy saw its FIN).
        sorted.sort(java.util.Comparator.comparingInt(l -> "http".equals(l.get("type")) ?
            order.indexOf(l.get("path")) : order.size() + closeUpCode(l)));
        return sorted;
    }

    private static int closeUpCode(final Map<String, Object> line)
    {
        final Object close = line.get("close_up");
        return close instanceof Map && ((Map<?, ?>)close).get("code") instanceof Long ?
            (int)(long)(Long)((Map<?, ?>)close).get("code") : 0;
    }

    static List<Map<String, Object>> lines(final Path file) throws IOException
    {
        final List<Map<String, Object>> lines = new ArrayList<>();
        for (final String line : Files.readAllLines(file, StandardCharsets.UTF_8))
        {
            lines.add(MiniJson.object(line));
        }
        return lines;
    }

    /** Just enough JSON for access log lines: objects, strings, numbers (Long or Double), null, booleans. */
    static final class MiniJson
    {
        private final String s;
        private int p;

        private MiniJson(final String s)
        {
            this.s = s;
        }

        static Map<String, Object> object(final String line)
        {
            final MiniJson json = new MiniJson(line);
            @SuppressWarnings("unchecked")
            final Map<String, Object> value = (Map<String, Object>)json.value();
            assertEquals(line.length(), json.p, "trailing text in " + line);
            return value;
        }

        private Object value()
        {
            final char c = s.charAt(p);
            if (c == '{')
            {
                p++;
                final Map<String, Object> map = new LinkedHashMap<>();
                while (s.charAt(p) != '}')
                {
                    final String key = string();
                    expect(':');
                    map.put(key, value());
                    if (s.charAt(p) == ',')
                    {
                        p++;
                    }
                }
                p++;
                return map;
            }
            if (c == '"')
            {
                return string();
            }
            for (final String word : new String[] {"null", "true", "false"})
            {
                if (s.startsWith(word, p))
                {
                    p += word.length();
                    return word.equals("null") ? null : Boolean.valueOf(word);
                }
            }
            final int start = p;
            while (p < s.length() && "-+.eE0123456789".indexOf(s.charAt(p)) >= 0)
            {
                p++;
            }
            final String number = s.substring(start, p);
            return number.contains(".") ? (Object)Double.valueOf(number) : (Object)Long.valueOf(number);
        }

        private String string()
        {
            expect('"');
            final StringBuilder b = new StringBuilder();
            while (s.charAt(p) != '"')
            {
                char c = s.charAt(p++);
                if (c == '\\')
                {
                    c = s.charAt(p++);
                    if (c == 'u')
                    {
                        c = (char)Integer.parseInt(s.substring(p, p + 4), 16);
                        p += 4;
                    }
                }
                assertTrue(c >= 0x20 || s.charAt(p - 1) != c, "raw control character in a string");
                b.append(c);
            }
            p++;
            return b.toString();
        }

        private void expect(final char c)
        {
            assertEquals(c, s.charAt(p), "at " + p + " of " + s);
            p++;
        }
    }

    static String joined(final List<Map<String, Object>> lines)
    {
        return lines.stream().map(Object::toString).collect(Collectors.joining("\n"));
    }
}
