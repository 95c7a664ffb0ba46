package io.centrigate.http;

import static io.centrigate.http.Wire.head;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import io.centrigate.config.AddressRanges;

/** Nginx's {@code real_ip_recursive on} over X-Forwarded-For, for a connection from a trusted forwarder. */
final class ForwardedForTest
{
    private static final AddressRanges TRUSTED = new AddressRanges(List.of("10.0.0.0/8", "2001:db8:ff::/48"));

    private final RequestHead head = new RequestHead(32);
    private final ForwardedFor forwardedFor = new ForwardedFor();

    /** The client the fields name, or "" when the peer stays the client. */
    private String client(final String... fields)
    {
        final String[] lines = new String[fields.length + 2];
        lines[0] = "GET / HTTP/1.1";
        lines[1] = "Host: example.com";
        System.arraycopy(fields, 0, lines, 2, fields.length);
        final String request = head(lines);
        final UnsafeBuffer src = Wire.offHeap(request);
        assertTrue(head.parse(src, request.length()), () -> String.valueOf(head.error()));
        final byte[] text = new byte[IpText.MAX_TEXT];
        final int n = forwardedFor.resolve(head, src, TRUSTED, text);
        return new String(text, 0, n, StandardCharsets.US_ASCII);
    }

    @Test
    void takesTheRightmostEntryThatIsNotTrusted()
    {
        assertEquals("203.0.113.9", client("X-Forwarded-For: 198.51.100.1, 203.0.113.9, 10.0.0.2, 10.0.0.3"));
        assertEquals("203.0.113.9", client("X-Forwarded-For: 203.0.113.9"));
    }

    @Test
    void readsSeveralLinesAsOneListLastLineFirst()
    {
        assertEquals("203.0.113.9", client("X-Forwarded-For: 198.51.100.1", "Cookie: a=b",
            "x-forwarded-for: 203.0.113.9, 10.0.0.2", "X-Forwarded-For: 10.1.1.1"));
        assertEquals("198.51.100.1", client("X-Forwarded-For: 198.51.100.1", "X-Forwarded-For: 10.0.0.2,10.1.1.1"));
    }

    @Test
    void whenEveryEntryIsTrustedTheLeftmostIsTheClient()
    {
        assertEquals("10.0.0.1", client("X-Forwarded-For: 10.0.0.1, 10.0.0.2"));
    }

    @Test
    void withoutTheFieldThePeerStays()
    {
        assertEquals("", client("Cookie: a=b"));
        assertEquals("", client("X-Forwarded-For: "));
    }

    @Test
    void anEntryThatIsNotAnAddressEndsTheWalk()
    {
        assertEquals("", client("X-Forwarded-For: 203.0.113.9, unknown"));
        assertEquals("10.0.0.2", client("X-Forwarded-For: 203.0.113.9, _hidden, 10.0.0.2"));
        assertEquals("", client("X-Forwarded-For: 203.0.113.9, 10.0.0.0/8"));
        assertEquals("", client("X-Forwarded-For: 203.0.113.09"));
    }

    @Test
    void acceptsPortsBracketsIpv6AndEmptyElements()
    {
        assertEquals("203.0.113.9", client("X-Forwarded-For: 203.0.113.9:4711, 10.0.0.2:80"));
        assertEquals("2001:db8::7", client("X-Forwarded-For: [2001:DB8::7]:4711, [2001:db8:ff::1]"));
        assertEquals("2001:db8::7", client("X-Forwarded-For: 2001:db8:0:0:0:0:0:7 ,, 2001:db8:ff::1,"));
        assertEquals("", client("X-Forwarded-For: 203.0.113.9:"));
        assertEquals("", client("X-Forwarded-For: [2001:db8::7"));
        assertEquals("", client("X-Forwarded-For: [203.0.113.9]"));
        assertEquals("", client("X-Forwarded-For: 203.0.113.9:123456"));
    }

    @Test
    void anIpv4MappedEntryIsItsIpv4Address()
    {
        // As the JDK gives a dual-stack socket's IPv4 peer: ::ffff:10.0.0.2 is 10.0.0.2, a trusted forwarder.
        assertEquals("203.0.113.9", client("X-Forwarded-For: 203.0.113.9, ::ffff:10.0.0.2"));
        assertEquals("198.51.100.4", client("X-Forwarded-For: ::ffff:198.51.100.4"));
    }
}
