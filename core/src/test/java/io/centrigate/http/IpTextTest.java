package io.centrigate.http;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.Random;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

final class IpTextTest
{
    private static int parse(final String text, final byte[] out)
    {
        final byte[] b = text.getBytes(StandardCharsets.ISO_8859_1);
        return IpText.parse(new UnsafeBuffer(b), 0, b.length, out);
    }

    private static String canonical(final String text)
    {
        final byte[] address = new byte[16];
        final int n = parse(text, address);
        final byte[] out = new byte[IpText.MAX_TEXT];
        return new String(out, 0, IpText.format(address, n, out), StandardCharsets.US_ASCII);
    }

    @ParameterizedTest
    @CsvSource({
        "192.0.2.7, 192.0.2.7",
        "0.0.0.0, 0.0.0.0",
        "255.255.255.255, 255.255.255.255",
        "::, ::",
        "::1, ::1",
        "1::, 1::",
        "2001:DB8::7, 2001:db8::7",
        "2001:0db8:0000:0000:0000:0000:0000:0007, 2001:db8::7",
        "2001:db8:0:0:1:0:0:1, 2001:db8::1:0:0:1",
        "2001:0:0:1:0:0:0:1, 2001:0:0:1::1",
        "2001:db8:0:1:1:1:1:1, 2001:db8:0:1:1:1:1:1",
        "1:2:3:4:5:6:7::, 1:2:3:4:5:6:7:0",
        "::ffff:192.0.2.7, ::ffff:192.0.2.7",
        "::ffff:c000:0207, ::ffff:192.0.2.7",
        "64:ff9b::192.0.2.7, 64:ff9b::c000:207",
        "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff, ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
    })
    void parsesAndWritesRfc5952(final String text, final String expected)
    {
        assertEquals(expected, canonical(text));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "1.2.3", "1.2.3.4.5", "01.2.3.4", "1.2.3.256", "1.2.3.-4", "1..2.3", " 1.2.3.4", "1.2.3.4 ",
        "a.b.c.d", ":", ":::", "1:2", "1:2:3:4:5:6:7:8:9", "1::2::3", ":1::", "1::2:", "12345::", "::g", "fe80::1%eth0",
        "1:2:3:4:5:6:7:8::", "::1.2.3", "1:2:3:4:5:6:7:1.2.3.4", "[::1]", "unknown"})
    void refusesWhatIsNotExactlyOneAddress(final String text)
    {
        assertEquals(-1, parse(text, new byte[16]), text);
    }

    @Test
    void agreesWithTheJdkOnRandomAddresses() throws Exception
    {
        final Random random = new Random(5952);
        final byte[] address = new byte[16];
        final byte[] text = new byte[IpText.MAX_TEXT];
        final byte[] back = new byte[16];
        for (int i = 0; i < 10_000; i++)
        {
            random.nextBytes(address);
            // Runs of zero groups, the case RFC 5952 is about.
            for (int g = random.nextInt(8), n = random.nextInt(5); n > 0 && g < 8; g++, n--)
            {
                address[g * 2] = 0;
                address[g * 2 + 1] = 0;
            }
            final int length = random.nextBoolean() ? 4 : 16;
            final int n = IpText.format(address, length, text);
            final String s = new String(text, 0, n, StandardCharsets.US_ASCII);
            assertEquals(length, IpText.parse(new UnsafeBuffer(text), 0, n, back), s);
            final byte[] expected = java.util.Arrays.copyOf(address, length);
            assertArrayEquals(expected, java.util.Arrays.copyOf(back, length), s);
            assertArrayEquals(expected, InetAddress.getByName(s).getAddress().length == length ?
                InetAddress.getByName(s).getAddress() : expected, s);
        }
    }

    @Test
    void unmapsOnlyIpv4MappedAddresses()
    {
        final byte[] a = new byte[16];
        assertEquals(4, IpText.unmap(a, parse("::ffff:192.0.2.7", a)));
        assertArrayEquals(new byte[] {(byte)192, 0, 2, 7}, java.util.Arrays.copyOf(a, 4));
        assertEquals(16, IpText.unmap(a, parse("::192.0.2.7", a)), "IPv4-compatible is not mapped");
        assertEquals(16, IpText.unmap(a, parse("64:ff9b::192.0.2.7", a)));
        assertEquals(4, IpText.unmap(a, parse("192.0.2.7", a)));
    }
}
