package io.centrigate.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;

class SourceAddressesTest
{
    private static String parsed(final String... specs)
    {
        return SourceAddresses.parse(List.of(specs), "upstream-source").stream()
            .map(InetAddress::getHostAddress).collect(Collectors.joining(","));
    }

    private static String error(final String... specs)
    {
        return assertThrows(IllegalArgumentException.class,
            () -> SourceAddresses.parse(List.of(specs), "upstream-source")).getMessage();
    }

    @Test
    void rangesListsAndSingleAddresses()
    {
        assertEquals("127.0.0.2,127.0.0.3,127.0.0.4", parsed("127.0.0.2-127.0.0.4"));
        assertEquals(16, SourceAddresses.parse(List.of("127.0.0.2-127.0.0.17"), "x").size());
        assertEquals("10.0.0.5,10.0.0.9,10.0.0.10", parsed("10.0.0.5, 10.0.0.9-10.0.0.10"));
        assertEquals("10.0.0.255,10.0.1.0", parsed("10.0.0.255-10.0.1.0"), "a range crosses an octet");
        assertEquals("10.0.0.1,10.0.0.2", parsed("10.0.0.1-10.0.0.2", "10.0.0.2,10.0.0.1"), "repeats dropped, lists add up");
        assertEquals("10.0.0.7", parsed("10.0.0.7-10.0.0.7"));
        assertEquals("fd00:0:0:0:0:0:0:1,fd00:0:0:0:0:0:0:2", parsed("fd00::1,[fd00::2]"));
        assertEquals("", parsed());
    }

    @Test
    void theLargestRangeIsAcceptedAndOneMoreIsNot()
    {
        assertEquals(SourceAddresses.MAX_ADDRESSES, SourceAddresses.parse(List.of("10.1.0.0-10.1.15.255"), "x").size());
        assertTrue(error("10.1.0.0-10.1.16.0").contains("4097 addresses, at most 4096"), error("10.1.0.0-10.1.16.0"));
        assertTrue(error("10.0.0.0-10.255.255.255").contains("at most 4096"));
        assertTrue(error("10.1.0.0-10.1.15.255", "10.2.0.0").contains("more than 4096"));
    }

    @Test
    void badInputIsNamedAndExplained()
    {
        assertTrue(error("127.0.0.4-127.0.0.2").contains("range goes down"));
        assertTrue(error("fd00::1-fd00::5").contains("IPv4 only"));
        assertTrue(error("127.0.0.1,fd00::1").contains("mixes IPv4 and IPv6"));
        assertTrue(error("localhost").contains("expected an IP address"), "no DNS for source addresses");
        assertTrue(error("127.0.0.300").contains("expected an IP address"));
        assertTrue(error("127.0.0.1,").contains("empty address"));
        assertTrue(error("0.0.0.0").contains("cannot be a source address"));
        assertTrue(error("224.0.0.1").contains("cannot be a source address"));
        assertTrue(error("::ffff:10.0.0.1").contains("IPv4-mapped"));
        for (final String e : new String[] {error("x"), error("1.2.3.4-")})
        {
            assertTrue(e.startsWith("upstream-source: "), e);
        }
    }

    @Test
    void theContextParsesThemWhenItConcludes()
    {
        final ProxyContext ctx = new ProxyContext().upstreamSource("127.0.0.2-127.0.0.3").upstreamSource("127.0.0.9")
            .listen(new InetSocketAddress("127.0.0.1", 0));
        assertEquals(3, ctx.conclude().upstreamSources().size());
        assertTrue(new ProxyContext().conclude().upstreamSources().isEmpty());
        assertThrows(IllegalArgumentException.class, () -> new ProxyContext().upstreamSource("nope").conclude());
    }
}
