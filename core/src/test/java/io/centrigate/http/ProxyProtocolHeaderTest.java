package io.centrigate.http;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import java.util.zip.CRC32C;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The byte-level rules of HAProxy's proxy-protocol.txt, versions 1 and 2. */
final class ProxyProtocolHeaderTest
{
    private static final byte[] SIGNATURE = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

    private final ProxyProtocolHeader header = new ProxyProtocolHeader(1536);

    private int parse(final byte[] bytes)
    {
        return parse(bytes, bytes.length);
    }

    /** Parses at an offset inside a larger off-heap buffer, as the session's chunk is. */
    private int parse(final byte[] bytes, final int length)
    {
        final UnsafeBuffer buf = new UnsafeBuffer(ByteBuffer.allocateDirect(bytes.length + 8));
        buf.putBytes(3, bytes);
        return header.parse(buf, 3, length);
    }

    private static byte[] ascii(final String s)
    {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    private String source()
    {
        final byte[] text = new byte[IpText.MAX_TEXT];
        return new String(text, 0, IpText.format(header.source(), header.sourceLength(), text), StandardCharsets.US_ASCII);
    }

    /** A v2 header: signature, version/command, family, then the block (addresses, ports, TLVs). */
    static byte[] v2(final int versionCommand, final int family, final byte[] block)
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(SIGNATURE);
        out.write(versionCommand);
        out.write(family);
        out.write(block.length >>> 8);
        out.write(block.length);
        out.writeBytes(block);
        return out.toByteArray();
    }

    static byte[] tcp4Block(final String src, final String dst, final int sport, final int dport, final byte[] tlvs)
        throws Exception
    {
        final ByteBuffer b = ByteBuffer.allocate(12 + tlvs.length);
        b.put(InetAddress.getByName(src).getAddress()).put(InetAddress.getByName(dst).getAddress());
        b.putShort((short)sport).putShort((short)dport).put(tlvs);
        return b.array();
    }

    static byte[] tcp6Block(final String src, final String dst, final int sport, final int dport, final byte[] tlvs)
        throws Exception
    {
        final ByteBuffer b = ByteBuffer.allocate(36 + tlvs.length);
        b.put(InetAddress.getByName(src).getAddress()).put(InetAddress.getByName(dst).getAddress());
        b.putShort((short)sport).putShort((short)dport).put(tlvs);
        return b.array();
    }

    static byte[] tlv(final int type, final byte[] value)
    {
        final byte[] t = new byte[3 + value.length];
        t[0] = (byte)type;
        t[1] = (byte)(value.length >>> 8);
        t[2] = (byte)value.length;
        System.arraycopy(value, 0, t, 3, value.length);
        return t;
    }

    static byte[] concat(final byte[]... parts)
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (final byte[] p : parts)
        {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    // ---------------------------------------------------------------- version 1

    @Test
    void readsATcp4LineAndLeavesWhatFollows()
    {
        final byte[] line = ascii("PROXY TCP4 192.0.2.7 10.0.0.1 56324 443\r\nGET / HTTP/1.1\r\n");
        assertEquals(41, parse(line));
        assertEquals(1, header.version());
        assertTrue(header.hasSource());
        assertEquals("192.0.2.7", source());
        assertEquals(56324, header.sourcePort());
    }

    @Test
    void readsATcp6LineWithEveryTextForm()
    {
        assertEquals(44, parse(ascii("PROXY TCP6 2001:db8::7 2001:db8::1 65535 0\r\n")));
        assertEquals("2001:db8::7", source());
        assertEquals(65535, header.sourcePort());
        parse(ascii("PROXY TCP6 2001:0DB8:0000:0000:0000:0000:0000:0007 ::1 1 2\r\n"));
        assertEquals("2001:db8::7", source());
        parse(ascii("PROXY TCP6 ::ffff:192.0.2.7 ::ffff:10.0.0.1 1 2\r\n"));
        assertEquals("192.0.2.7", source(), "IPv4-mapped: the IPv4 address, as the JDK gives a dual-stack peer");
        assertEquals(4, header.sourceLength());
    }

    @Test
    void theLongestLinesOfTheSpecificationFit()
    {
        final String ip6 = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";
        final byte[] tcp6 = ascii("PROXY TCP6 " + ip6 + " " + ip6 + " 65535 65535\r\n");
        assertEquals(104, tcp6.length);
        assertEquals(104, parse(tcp6));
        final byte[] unknown = ascii("PROXY UNKNOWN " + ip6 + " " + ip6 + " 65535 65535\r\n");
        assertEquals(107, unknown.length);
        assertEquals(107, parse(unknown));
        assertFalse(header.hasSource());
    }

    @Test
    void unknownKeepsThePeerAndIgnoresTheRestOfItsLine()
    {
        assertEquals(15, parse(ascii("PROXY UNKNOWN\r\n")));
        assertFalse(header.hasSource());
        assertEquals(28, parse(ascii("PROXY UNKNOWN whatever xyz\r\n")));
        assertFalse(header.hasSource());
        assertEquals(ProxyProtocolHeader.MALFORMED, parse(ascii("PROXY UNKNOWNX\r\n")));
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "PROXY TCP4 192.0.2.7 10.0.0.1 56324 443\n",         // bare LF
        "PROXY TCP4 192.0.2.7 10.0.0.1 56324 443\rX",        // CR without LF
        "PROXY TCP4  192.0.2.7 10.0.0.1 56324 443\r\n",      // two spaces
        "PROXY TCP4 192.0.2.7 10.0.0.1 56324 443 \r\n",      // trailing space
        "PROXY TCP4 192.0.2.7 10.0.0.1 56324\r\n",           // a port missing
        "PROXY TCP4 192.0.2.7 10.0.0.1 56324 443 1\r\n",     // a field too many
        "PROXY TCP4 192.0.2.07 10.0.0.1 56324 443\r\n",      // leading zero (octal ambiguity)
        "PROXY TCP4 192.0.2.256 10.0.0.1 56324 443\r\n",     // octet out of range
        "PROXY TCP4 192.0.2 10.0.0.1 56324 443\r\n",         // three octets
        "PROXY TCP4 192.0.2.7 10.0.0.1 056324 443\r\n",      // leading zero in a port
        "PROXY TCP4 192.0.2.7 10.0.0.1 65536 443\r\n",       // port out of range
        "PROXY TCP4 192.0.2.7 10.0.0.1 -1 443\r\n",
        "PROXY TCP4 2001:db8::7 10.0.0.1 1 2\r\n",           // family mismatch
        "PROXY TCP6 192.0.2.7 ::1 1 2\r\n",                  // family mismatch
        "PROXY TCP6 2001:db8:::7 ::1 1 2\r\n",
        "PROXY TCP6 2001:db8::7::1 ::1 1 2\r\n",             // two "::"
        "PROXY TCP6 1:2:3:4:5:6:7:8:9 ::1 1 2\r\n",
        "PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n",               // a zone
        "PROXY TCP5 192.0.2.7 10.0.0.1 1 2\r\n",
        "PROXY tcp4 192.0.2.7 10.0.0.1 1 2\r\n",
        "PROXY \r\n",
    })
    void refusesLinesThatBreakTheFormat(final String line)
    {
        assertEquals(ProxyProtocolHeader.MALFORMED, parse(ascii(line)), line);
    }

    @Test
    void aLineWithoutItsCrlfIn107BytesIsOversized()
    {
        final byte[] line = ascii("PROXY UNKNOWN " + "a".repeat(91));
        assertEquals(105, line.length);
        assertEquals(ProxyProtocolHeader.INCOMPLETE, parse(line));
        assertEquals(107, parse(ascii("PROXY UNKNOWN " + "a".repeat(91) + "\r\n")));
        assertEquals(ProxyProtocolHeader.OVERSIZED, parse(ascii("PROXY UNKNOWN " + "a".repeat(92))),
            "no CR in the first 106 bytes: no CRLF can end by byte 107");
        assertEquals(ProxyProtocolHeader.OVERSIZED, parse(ascii("PROXY UNKNOWN " + "a".repeat(92) + "\r\n")));
        assertEquals(ProxyProtocolHeader.OVERSIZED, parse(ascii("PROXY UNKNOWN " + "a".repeat(93) + "\r")));
    }

    @ParameterizedTest
    @ValueSource(strings = {"GET / HTTP/1.1\r\n\r\n", "POST /x HTTP/1.1\r\n", "PROXX TCP4", "\u0016\u0003\u0001\u0002\u0000",
        "proxy TCP4 1.2.3.4 1.2.3.4 1 2\r\n", "\r\n\r\nX\r\nQUIT\n!"})
    void aConnectionThatStartsOtherwiseHasNoHeader(final String start)
    {
        assertEquals(ProxyProtocolHeader.MISSING, parse(ascii(start)));
        // Decided from the first byte that differs: no waiting for more.
        assertEquals(ProxyProtocolHeader.MISSING, parse(ascii(start), Math.min(start.length(), 5)));
    }

    @Test
    void aSignatureWrongInItsLastByteIsNoHeaderEither()
    {
        assertEquals(ProxyProtocolHeader.INCOMPLETE, parse(ascii("\r\n\r\n\u0000\r\nQUI")));
        assertEquals(ProxyProtocolHeader.MISSING, parse(ascii("\r\n\r\n\u0000\r\nQUIZ\n!")));
        assertEquals(ProxyProtocolHeader.INCOMPLETE, parse(ascii("PROXY")));
        assertEquals(ProxyProtocolHeader.MISSING, parse(ascii("PROXY\r\n")));
    }

    // ---------------------------------------------------------------- version 2

    @Test
    void readsTcp4AndLeavesWhatFollows() throws Exception
    {
        final byte[] h = v2(0x21, 0x11, tcp4Block("192.0.2.7", "10.0.0.1", 56324, 443, new byte[0]));
        assertEquals(28, h.length);
        assertEquals(28, parse(concat(h, ascii("GET / HTTP/1.1\r\n"))));
        assertEquals(2, header.version());
        assertFalse(header.local());
        assertEquals("192.0.2.7", source());
        assertEquals(56324, header.sourcePort());
    }

    @Test
    void readsTcp6() throws Exception
    {
        final byte[] h = v2(0x21, 0x21, tcp6Block("2001:db8::7", "2001:db8::1", 1234, 443, new byte[0]));
        assertEquals(52, parse(h));
        assertEquals("2001:db8::7", source());
        assertEquals(1234, header.sourcePort());
    }

    @Test
    void skipsTlvsOfEveryKind() throws Exception
    {
        final byte[] tlvs = concat(tlv(0x01, ascii("http/1.1")), tlv(0x02, ascii("example.com")), tlv(0x04, new byte[0]),
            tlv(0x05, new byte[128]), tlv(0x20, concat(new byte[] {1, 0, 0, 0, 0}, tlv(0x21, ascii("TLSv1.3")))),
            tlv(0xEA, concat(new byte[] {1}, ascii("vpce-0123456789abcdef"))), tlv(0xF8, new byte[300]));
        final byte[] h = v2(0x21, 0x11, tcp4Block("192.0.2.7", "10.0.0.1", 1, 2, tlvs));
        assertEquals(h.length, parse(concat(h, new byte[] {0x16, 0x03})));
        assertEquals("192.0.2.7", source());
    }

    @Test
    void checksACrc32cTlv() throws Exception
    {
        final byte[] tlvs = concat(tlv(0x02, ascii("example.com")), tlv(0x03, new byte[4]));
        final byte[] h = v2(0x21, 0x11, tcp4Block("192.0.2.7", "10.0.0.1", 1, 2, tlvs));
        final CRC32C crc = new CRC32C();
        crc.update(h);
        final int value = (int)crc.getValue();
        final int at = h.length - 4;
        ByteBuffer.wrap(h).putInt(at, value);
        assertEquals(h.length, parse(h));
        h[at + 3] ^= 1;
        assertEquals(ProxyProtocolHeader.MALFORMED, parse(h));
        // The same checksum over other addresses does not match either.
        final byte[] other = v2(0x21, 0x11, tcp4Block("192.0.2.8", "10.0.0.1", 1, 2, tlvs));
        ByteBuffer.wrap(other).putInt(at, value);
        assertEquals(ProxyProtocolHeader.MALFORMED, parse(other));
        final byte[] shortCrc = v2(0x21, 0x11, tcp4Block("192.0.2.7", "10.0.0.1", 1, 2, tlv(0x03, new byte[3])));
        assertEquals(ProxyProtocolHeader.MALFORMED, parse(shortCrc));
    }

    @Test
    void localKeepsThePeerWhateverItsBlockSays() throws Exception
    {
        assertEquals(16, parse(v2(0x20, 0x00, new byte[0])));
        assertTrue(header.local());
        assertFalse(header.hasSource());
        final byte[] withAddresses = v2(0x20, 0x11, tcp4Block("192.0.2.7", "10.0.0.1", 1, 2, new byte[0]));
        assertEquals(28, parse(withAddresses));
        assertTrue(header.local());
        assertFalse(header.hasSource(), "LOCAL: the block is discarded");
    }

    @Test
    void otherFamiliesFallBackToThePeer() throws Exception
    {
        assertEquals(16, parse(v2(0x21, 0x00, new byte[0])));
        assertFalse(header.hasSource());
        assertEquals(28, parse(v2(0x21, 0x12, tcp4Block("192.0.2.7", "10.0.0.1", 1, 2, new byte[0]))));
        assertFalse(header.hasSource(), "UDP is not what reached us");
        assertEquals(16 + 216, parse(v2(0x21, 0x31, new byte[216])));
        assertFalse(header.hasSource());
    }

    @ParameterizedTest
    @ValueSource(ints = {0x11, 0x21, 0x31})
    void aBlockShorterThanItsAddressesIsMalformed(final int family)
    {
        final int need = family == 0x11 ? 12 : family == 0x21 ? 36 : 216;
        assertEquals(ProxyProtocolHeader.MALFORMED, parse(v2(0x21, family, new byte[need - 1])));
    }

    @ParameterizedTest
    @ValueSource(ints = {0x01, 0x02, 0x10, 0x13, 0x23, 0x41, 0xFF})
    void familiesOutsideTheSpecificationAreMalformed(final int family)
    {
        assertEquals(ProxyProtocolHeader.MALFORMED, parse(v2(0x21, family, new byte[36])));
    }

    @ParameterizedTest
    @ValueSource(ints = {0x11, 0x22, 0x2F, 0x31, 0x01, 0x00})
    void otherVersionsAndCommandsAreMalformed(final int versionCommand)
    {
        assertEquals(ProxyProtocolHeader.MALFORMED, parse(v2(versionCommand, 0x11, new byte[12])));
    }

    @Test
    void tlvsThatDoNotTileTheBlockAreMalformed() throws Exception
    {
        // Two bytes left: not even a TLV header.
        assertEquals(ProxyProtocolHeader.MALFORMED,
            parse(v2(0x21, 0x11, tcp4Block("192.0.2.7", "10.0.0.1", 1, 2, new byte[] {0x04, 0x00}))));
        // A TLV that claims more than the header holds.
        assertEquals(ProxyProtocolHeader.MALFORMED,
            parse(v2(0x21, 0x11, tcp4Block("192.0.2.7", "10.0.0.1", 1, 2, new byte[] {0x04, 0x00, 0x05, 1, 2}))));
        assertEquals(ProxyProtocolHeader.MALFORMED,
            parse(v2(0x21, 0x11, tcp4Block("192.0.2.7", "10.0.0.1", 1, 2, new byte[] {0x04, (byte)0xFF, (byte)0xFF}))));
    }

    @Test
    void aHeaderOverTheBoundIsOversizedBeforeItArrives() throws Exception
    {
        final byte[] fits = v2(0x21, 0x11, tcp4Block("192.0.2.7", "10.0.0.1", 1, 2, tlv(0x04, new byte[1536 - 16 - 12 - 3])));
        assertEquals(1536, fits.length);
        assertEquals(1536, parse(fits));
        final byte[] over = v2(0x21, 0x11, tcp4Block("192.0.2.7", "10.0.0.1", 1, 2, tlv(0x04, new byte[1536 - 16 - 12 - 2])));
        assertEquals(ProxyProtocolHeader.OVERSIZED, parse(over, 16), "known from the fixed 16 bytes");
        assertEquals(ProxyProtocolHeader.OVERSIZED, parse(v2(0x21, 0x11, new byte[0xFFFF]), 16));
    }

    @Test
    void aBoundBelowTheLargestAddressBlockIsRefused()
    {
        assertThrows(IllegalArgumentException.class, () -> new ProxyProtocolHeader(231));
    }

    // ---------------------------------------------------------------- arriving in pieces

    /** Every prefix of a valid header is incomplete (never an error, never a false success); then the whole parses. */
    @Test
    void everyTruncationOfAValidHeaderIsIncomplete() throws Exception
    {
        final byte[][] headers = {
            ascii("PROXY TCP4 192.0.2.7 10.0.0.1 56324 443\r\n"),
            ascii("PROXY TCP6 2001:db8::7 2001:db8::1 65535 0\r\n"),
            ascii("PROXY UNKNOWN\r\n"),
            v2(0x21, 0x11, tcp4Block("192.0.2.7", "10.0.0.1", 1, 2, tlv(0x02, ascii("example.com")))),
            v2(0x21, 0x21, tcp6Block("2001:db8::7", "2001:db8::1", 1, 2, new byte[0])),
            v2(0x20, 0x00, new byte[0]),
        };
        for (final byte[] h : headers)
        {
            for (int n = 0; n < h.length; n++)
            {
                assertEquals(ProxyProtocolHeader.INCOMPLETE, parse(h, n), "prefix of " + n + " bytes");
            }
            assertEquals(h.length, parse(h));
        }
    }

    /** Seeded random corruption of valid headers: never a crash, never more than the header claimed. */
    @Test
    void corruptedHeadersAreRefusedOrStayWithinTheirBytes() throws Exception
    {
        final byte[][] headers = {
            ascii("PROXY TCP4 192.0.2.7 10.0.0.1 56324 443\r\n"),
            ascii("PROXY TCP6 2001:db8::7 2001:db8::1 65535 0\r\n"),
            v2(0x21, 0x11, tcp4Block("192.0.2.7", "10.0.0.1", 1, 2, tlv(0x02, ascii("example.com")))),
            v2(0x21, 0x21, tcp6Block("2001:db8::7", "2001:db8::1", 1, 2, tlv(0x03, new byte[4]))),
        };
        final Random random = new Random(15);
        for (int round = 0; round < 20_000; round++)
        {
            final byte[] h = headers[round % headers.length].clone();
            final int flips = 1 + random.nextInt(3);
            for (int f = 0; f < flips; f++)
            {
                h[random.nextInt(h.length)] = (byte)random.nextInt(256);
            }
            final int n = 1 + random.nextInt(h.length);
            final int result = parse(h, n);
            assertTrue(result <= n && result >= ProxyProtocolHeader.OVERSIZED, "result " + result + " of " + n);
        }
    }

    @Test
    void crc32cMatchesTheJdks()
    {
        final byte[] data = ascii("The quick brown fox jumps over the lazy dog");
        final CRC32C crc = new CRC32C();
        crc.update(data);
        final UnsafeBuffer buf = new UnsafeBuffer(data);
        assertEquals((int)crc.getValue(), ProxyProtocolHeader.crc32c(buf, 0, data.length, data.length));
        assertArrayEquals(new byte[0], new byte[0]);
    }
}
