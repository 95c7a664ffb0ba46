package io.centrigate.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

/** X-Real-IP's text: IPv4 digits are written by hand (no builder per connection), so every octet width is checked. */
class AddressTextTest
{
    private static String text(final String ip) throws Exception
    {
        return new String(ProxyLoop.addressText(new InetSocketAddress(InetAddress.getByName(ip), 4321)),
            StandardCharsets.US_ASCII);
    }

    @Test
    void ipv4AsItsDottedQuadForEveryOctetWidth() throws Exception
    {
        for (final String ip : new String[] {"0.0.0.0", "127.0.0.1", "10.1.22.255", "192.168.100.9", "255.255.255.255",
            "1.20.100.99", "9.99.199.200"})
        {
            assertEquals(ip, text(ip));
        }
        // Every octet value once, against the JDK's own text.
        for (int o = 0; o < 256; o++)
        {
            final String ip = o + "." + (255 - o) + "." + (o * 7 % 256) + "." + (o / 3);
            assertEquals(InetAddress.getByName(ip).getHostAddress(), text(ip));
        }
    }

    @Test
    void ipv6WithoutItsScopeAndUnknownWithoutAnAddress() throws Exception
    {
        assertEquals("0:0:0:0:0:0:0:1", text("::1"));
        assertEquals("fe80:0:0:0:0:0:0:1", text("fe80::1%1"));
        assertEquals("unknown", new String(ProxyLoop.addressText(null), StandardCharsets.US_ASCII));
    }
}
