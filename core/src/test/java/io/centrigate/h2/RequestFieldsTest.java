package io.centrigate.h2;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** RFC 9113 §8.2 and §8.3 over fields as the decoder reports them; fields are written "name: value" per line. */
final class RequestFieldsTest
{
    private static final String GET = ":method: GET\n:scheme: https\n:path: /connection/websocket\n" +
        ":authority: example.com\n";

    private static RequestFields check(final boolean trailers, final String lines)
    {
        final RequestFields fields = new RequestFields(16384, 128);
        fields.reset(trailers);
        for (final String line : lines.split("\n"))
        {
            if (line.isEmpty())
            {
                continue;
            }
            final int colon = line.indexOf(": ", 1);
            final String name = colon < 0 ? line : line.substring(0, colon);
            final String value = colon < 0 ? "" : line.substring(colon + 2);
            final UnsafeBuffer scratch = Bytes.offHeap((name + value).getBytes(StandardCharsets.ISO_8859_1));
            fields.onField(scratch, 0, name.length(), name.length(), value.length(), false);
        }
        fields.finish();
        return fields;
    }

    private static int result(final String lines)
    {
        return check(false, lines).result();
    }

    @Test
    void acceptsAnOrdinaryRequestAndKeepsItsFields()
    {
        final RequestFields fields = check(false, GET + "cookie: a=b\ncookie: c=d\nte: trailers\ncontent-length: 0\n" +
            "host: Example.COM\n");
        assertEquals(RequestFields.OK, fields.result(), fields.reason());
        assertEquals(9, fields.count());
        assertEquals(":path: /connection/websocket", fields.field(fields.path()));
        assertEquals(":authority: example.com", fields.field(fields.authority()));
        assertEquals("cookie: c=d", fields.field(5));
        assertEquals(0, fields.contentLength());
    }

    @Test
    void acceptsConnectAndExtendedConnect()
    {
        assertEquals(RequestFields.OK, result(":method: CONNECT\n:authority: example.com:443\n"));
        assertEquals(RequestFields.OK, result(":method: CONNECT\n:protocol: websocket\n:scheme: https\n" +
            ":path: /chat\n:authority: example.com\nsec-websocket-version: 13\n"));
        assertEquals(RequestFields.OK, result(":method: OPTIONS\n:scheme: https\n:path: *\n:authority: a\n"));
    }

    @ParameterizedTest
    @ValueSource(strings = {
        ":method: GET\n:scheme: https\n:authority: a\n",
        ":scheme: https\n:path: /\n:authority: a\n",
        ":method: GET\n:path: /\n:authority: a\n",
        ":method: GET\n:scheme: https\n:path: \n:authority: a\n",
        ":method: GET\n:scheme: https\n:path: index.html\n",
        ":method: GET\n:scheme: https\n:path: *\n",
        ":method: GET\n:scheme: https\n:path: /\n:method: GET\n",
        ":method: GET\n:scheme: https\n:path: /\n:status: 200\n",
        ":method: GET\n:scheme: https\n:path: /\n:foo: bar\n",
        ":method: GET\n:scheme: https\nx: y\n:path: /\n",
        ":method: GET\n:protocol: websocket\n:scheme: https\n:path: /\n:authority: a\n",
        ":method: CONNECT\n:authority: a\n:path: /\n",
        ":method: CONNECT\n:protocol: websocket\n:path: /\n:authority: a\n",
        ":method: CONNECT\n",
        ":method: GET\n:scheme: https\n:path: /\n:authority: user@a\n",
        ":method: GET\n:scheme: https\n:path: /\n:authority: a\nhost: b\n",
        ":method: GET\n:scheme: https\n:path: /\nhost: a\nhost: a\n",
        ":method: GET\n:scheme: https\n:path: /\nconnection: keep-alive\n",
        ":method: GET\n:scheme: https\n:path: /\nproxy-connection: keep-alive\n",
        ":method: GET\n:scheme: https\n:path: /\nkeep-alive: 5\n",
        ":method: GET\n:scheme: https\n:path: /\ntransfer-encoding: chunked\n",
        ":method: GET\n:scheme: https\n:path: /\nupgrade: websocket\n",
        ":method: GET\n:scheme: https\n:path: /\nte: gzip\n",
        ":method: GET\n:scheme: https\n:path: /\nUser-Agent: x\n",
        ":method: GET\n:scheme: https\n:path: /\nx y: z\n",
        ":method: GET\n:scheme: https\n:path: /\nx:y: z\n",
        ":method: GET\n:scheme: https\n:path: /\n:Path: /\n",
        ":method: GET\n:scheme: https\n:path: /\nx:  leading space\n",
        ":method: GET\n:scheme: https\n:path: /\nx: trailing tab\t\n",
        ":method: GET\n:scheme: https\n:path: /\nx: a\rb\n",
        ":method: GET\n:scheme: https\n:path: /\nx: a\u0000b\n",
        ":method: GET\n:scheme: https\n:path: /\ncontent-length: 1x\n",
        ":method: GET\n:scheme: https\n:path: /\ncontent-length: 1\ncontent-length: 2\n",
        ":method: GET\n:scheme: https\n:path: /\n\u00e9: x\n",
    })
    void refusesMalformedRequests(final String lines)
    {
        assertEquals(RequestFields.MALFORMED, result(lines), lines);
    }

    @Test
    void emptyNamesAreMalformed()
    {
        final RequestFields fields = new RequestFields(1024, 16);
        final UnsafeBuffer scratch = Bytes.offHeap("x".getBytes(StandardCharsets.US_ASCII));
        fields.onField(scratch, 0, 0, 0, 1, false);
        assertEquals(RequestFields.MALFORMED, fields.finish());
    }

    @Test
    void trailersHaveNoPseudoFields()
    {
        assertEquals(RequestFields.OK, check(true, "grpc-status: 0\n").result());
        assertEquals(RequestFields.MALFORMED, check(true, ":path: /\n").result());
    }

    @Test
    void beyondCapacityIsTooLargeNotACrash()
    {
        final RequestFields fields = new RequestFields(16, 2);
        final UnsafeBuffer scratch = Bytes.offHeap(":method".getBytes(StandardCharsets.US_ASCII));
        fields.onField(scratch, 0, 7, 0, 7, false);
        fields.onField(scratch, 0, 7, 0, 7, false);
        assertEquals(RequestFields.TOO_LARGE, fields.finish());
    }
}
