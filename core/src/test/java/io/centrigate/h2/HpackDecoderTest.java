package io.centrigate.h2;

import static io.centrigate.h2.Bytes.hex;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

/** RFC 7541 Appendix C, byte for byte, with the dynamic table checked after each block; then the error rules. */
final class HpackDecoderTest
{
    private static List<String> decode(final HpackDecoder decoder, final String hex)
    {
        final UnsafeBuffer block = hex(hex);
        final Bytes.Fields fields = new Bytes.Fields();
        final int result = decoder.decode(block, 0, block.capacity(), fields);
        assertEquals(HpackDecoder.OK, result, decoder.errorReason());
        return fields.fields;
    }

    private static int decodeResult(final HpackDecoder decoder, final String hex)
    {
        final UnsafeBuffer block = hex(hex);
        return decoder.decode(block, 0, block.capacity(), new Bytes.Fields());
    }

    private static void assertTable(final HpackDecoder decoder, final int size, final String... entries)
    {
        final List<String> actual = new ArrayList<>();
        for (int i = 1; i <= decoder.tableCount(); i++)
        {
            actual.add(decoder.tableEntry(i));
        }
        assertEquals(List.of(entries), actual);
        assertEquals(size, decoder.tableSize());
    }

    @Test
    void decodesIntegerExamplesOfC1()
    {
        // C.1.1 and C.1.2 have a 5-bit prefix, as a table size update does: 001 01010, 001 11111 10011010 00001010
        final HpackDecoder decoder = new HpackDecoder(4096, 16384);
        assertEquals(List.of(), decode(decoder, "2a"));
        assertEquals(10, decoder.tableCapacity());
        assertEquals(List.of(), decode(decoder, "3f 9a 0a"));
        assertEquals(1337, decoder.tableCapacity());
    }

    @Test
    void decodesLiteralWithIndexingOfC21()
    {
        final HpackDecoder decoder = new HpackDecoder(4096, 16384);
        assertEquals(List.of("custom-key: custom-header"),
            decode(decoder, "400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572"));
        assertTable(decoder, 55, "custom-key: custom-header");
    }

    @Test
    void decodesLiteralWithoutIndexingOfC22()
    {
        final HpackDecoder decoder = new HpackDecoder(4096, 16384);
        assertEquals(List.of(":path: /sample/path"), decode(decoder, "040c 2f73 616d 706c 652f 7061 7468"));
        assertTable(decoder, 0);
    }

    @Test
    void decodesNeverIndexedLiteralOfC23()
    {
        final HpackDecoder decoder = new HpackDecoder(4096, 16384);
        final UnsafeBuffer block = hex("1008 7061 7373 776f 7264 0673 6563 7265 74");
        final boolean[] neverIndexed = new boolean[1];
        assertEquals(HpackDecoder.OK, decoder.decode(block, 0, block.capacity(),
            (buffer, no, nl, vo, vl, never) -> neverIndexed[0] = never));
        assertTrue(neverIndexed[0]);
        assertTable(decoder, 0);
    }

    @Test
    void decodesIndexedFieldOfC24()
    {
        final HpackDecoder decoder = new HpackDecoder(4096, 16384);
        assertEquals(List.of(":method: GET"), decode(decoder, "82"));
        assertTable(decoder, 0);
    }

    @Test
    void decodesRequestsWithoutHuffmanOfC3()
    {
        final HpackDecoder decoder = new HpackDecoder(4096, 16384);
        assertEquals(List.of(":method: GET", ":scheme: http", ":path: /", ":authority: www.example.com"),
            decode(decoder, "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d"));
        assertTable(decoder, 57, ":authority: www.example.com");

        assertEquals(List.of(":method: GET", ":scheme: http", ":path: /", ":authority: www.example.com",
            "cache-control: no-cache"), decode(decoder, "8286 84be 5808 6e6f 2d63 6163 6865"));
        assertTable(decoder, 110, "cache-control: no-cache", ":authority: www.example.com");

        assertEquals(List.of(":method: GET", ":scheme: https", ":path: /index.html", ":authority: www.example.com",
            "custom-key: custom-value"),
            decode(decoder, "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65"));
        assertTable(decoder, 164, "custom-key: custom-value", "cache-control: no-cache",
            ":authority: www.example.com");
    }

    @Test
    void decodesRequestsWithHuffmanOfC4()
    {
        final HpackDecoder decoder = new HpackDecoder(4096, 16384);
        assertEquals(List.of(":method: GET", ":scheme: http", ":path: /", ":authority: www.example.com"),
            decode(decoder, "8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff"));
        assertTable(decoder, 57, ":authority: www.example.com");

        assertEquals(List.of(":method: GET", ":scheme: http", ":path: /", ":authority: www.example.com",
            "cache-control: no-cache"), decode(decoder, "8286 84be 5886 a8eb 1064 9cbf"));
        assertTable(decoder, 110, "cache-control: no-cache", ":authority: www.example.com");

        assertEquals(List.of(":method: GET", ":scheme: https", ":path: /index.html", ":authority: www.example.com",
            "custom-key: custom-value"),
            decode(decoder, "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf"));
        assertTable(decoder, 164, "custom-key: custom-value", "cache-control: no-cache",
            ":authority: www.example.com");
    }

    @Test
    void decodesResponsesWithoutHuffmanWithEvictionsOfC5()
    {
        final HpackDecoder decoder = new HpackDecoder(256, 16384);
        assertEquals(List.of(":status: 302", "cache-control: private", "date: Mon, 21 Oct 2013 20:13:21 GMT",
            "location: https://www.example.com"), decode(decoder,
            "4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 " +
            "2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 6c65 2e63 6f6d"));
        assertTable(decoder, 222, "location: https://www.example.com", "date: Mon, 21 Oct 2013 20:13:21 GMT",
            "cache-control: private", ":status: 302");

        assertEquals(List.of(":status: 307", "cache-control: private", "date: Mon, 21 Oct 2013 20:13:21 GMT",
            "location: https://www.example.com"), decode(decoder, "4803 3330 37c1 c0bf"));
        assertTable(decoder, 222, ":status: 307", "location: https://www.example.com",
            "date: Mon, 21 Oct 2013 20:13:21 GMT", "cache-control: private");

        assertEquals(List.of(":status: 200", "cache-control: private", "date: Mon, 21 Oct 2013 20:13:22 GMT",
            "location: https://www.example.com", "content-encoding: gzip",
            "set-cookie: foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1"), decode(decoder,
            "88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d " +
            "54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049 " +
            "5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e 3d31"));
        assertTable(decoder, 215, "set-cookie: foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1",
            "content-encoding: gzip", "date: Mon, 21 Oct 2013 20:13:22 GMT");
    }

    @Test
    void decodesResponsesWithHuffmanWithEvictionsOfC6()
    {
        final HpackDecoder decoder = new HpackDecoder(256, 16384);
        assertEquals(List.of(":status: 302", "cache-control: private", "date: Mon, 21 Oct 2013 20:13:21 GMT",
            "location: https://www.example.com"), decode(decoder,
            "4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 " +
            "2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3"));
        assertTable(decoder, 222, "location: https://www.example.com", "date: Mon, 21 Oct 2013 20:13:21 GMT",
            "cache-control: private", ":status: 302");

        assertEquals(List.of(":status: 307", "cache-control: private", "date: Mon, 21 Oct 2013 20:13:21 GMT",
            "location: https://www.example.com"), decode(decoder, "4883 640e ffc1 c0bf"));
        assertTable(decoder, 222, ":status: 307", "location: https://www.example.com",
            "date: Mon, 21 Oct 2013 20:13:21 GMT", "cache-control: private");

        assertEquals(List.of(":status: 200", "cache-control: private", "date: Mon, 21 Oct 2013 20:13:22 GMT",
            "location: https://www.example.com", "content-encoding: gzip",
            "set-cookie: foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1"), decode(decoder,
            "88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab " +
            "77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f " +
            "9587 3160 65c0 03ed 4ee5 b106 3d50 07"));
        assertTable(decoder, 215, "set-cookie: foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1",
            "content-encoding: gzip", "date: Mon, 21 Oct 2013 20:13:22 GMT");
    }

    @Test
    void entriesWrapAroundTheRingIntact()
    {
        // a 100-byte table: each 4-byte-name, 40-byte-value entry (76) evicts the previous, and the ring wraps
        final HpackDecoder decoder = new HpackDecoder(100, 16384);
        for (int i = 0; i < 10; i++)
        {
            final String value = String.valueOf((char)('a' + i)).repeat(40);
            final StringBuilder hex = new StringBuilder("40 04 6e616d65 28");
            for (int k = 0; k < 40; k++)
            {
                hex.append(String.format("%02x", (int)value.charAt(k)));
            }
            assertEquals(List.of("name: " + value), decode(decoder, hex.toString()));
            assertTable(decoder, 76, "name: " + value);
            assertEquals(List.of("name: " + value), decode(decoder, "be"));
        }
    }

    @Test
    void aNewEntryMayNameTheEntryItsAdditionEvicts()
    {
        // §4.4: the name is read before eviction; here the only entry must go to make room for its namesake
        final HpackDecoder decoder = new HpackDecoder(100, 16384);
        decode(decoder, "400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572");
        final String value = "v".repeat(40);
        assertEquals(List.of("custom-key: " + value), decode(decoder, "7e 28" + "76".repeat(40)));
        assertTable(decoder, 82, "custom-key: " + value);
    }

    @Test
    void aFieldLargerThanTheListLimitIsCountedNotCopied()
    {
        final HpackDecoder decoder = new HpackDecoder(256, 512);
        // a literal value of 1,000 bytes, then a Huffman one decoding to 1,600 ('0' is 5 bits): neither reported
        final StringBuilder hex = new StringBuilder("04 7f e9 06").append("61".repeat(1000));
        hex.append("04 ff e9 06").append("00".repeat(1000));
        hex.append("82");
        final UnsafeBuffer block = hex(hex.toString());
        final Bytes.Fields fields = new Bytes.Fields();
        assertEquals(HpackDecoder.HEADER_LIST_TOO_LARGE, decoder.decode(block, 0, block.capacity(), fields));
        assertEquals(List.of(), fields.fields);
        // ...and an indexed literal of that size just empties the table (§4.4), keeping it in step
        decode(decoder, "40 01 61 01 62");
        assertEquals(HpackDecoder.HEADER_LIST_TOO_LARGE, decodeResult(decoder, "40 01 61 ff e9 06" + "00".repeat(1000)));
        assertTable(decoder, 0);
    }

    @Test
    void anEntryLargerThanTheTableEmptiesIt()
    {
        final HpackDecoder decoder = new HpackDecoder(64, 16384);
        decode(decoder, "40 01 61 01 62");
        assertTable(decoder, 34, "a: b");
        // 32 + 1 + 40 > 64: §4.4 says the table ends empty, without an error
        assertEquals(1, decode(decoder, "40 01 61 28" + "63".repeat(40)).size());
        assertTable(decoder, 0);
    }

    @Test
    void tableSizeUpdateEvictsAndAllowsOnlyAtTheStart()
    {
        final HpackDecoder decoder = new HpackDecoder(4096, 16384);
        decode(decoder, "400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572");
        assertEquals(List.of(":method: GET"), decode(decoder, "20 3f e1 1f 82"));
        assertEquals(4096, decoder.tableCapacity());
        assertTable(decoder, 0);
        assertEquals(HpackDecoder.COMPRESSION_ERROR, decodeResult(decoder, "82 20"));
        assertEquals("table size update after a field", decoder.errorReason());
    }

    @Test
    void refusesATableSizeAboveOurSetting()
    {
        final HpackDecoder decoder = new HpackDecoder(4096, 16384);
        // 4097 = 31 + 4066: 3f e2 1f
        assertEquals(HpackDecoder.COMPRESSION_ERROR, decodeResult(decoder, "3f e2 1f"));
    }

    @Test
    void refusesIndexZeroAndIndexesBeyondTheTables()
    {
        assertEquals(HpackDecoder.COMPRESSION_ERROR, decodeResult(new HpackDecoder(4096, 16384), "80"));
        assertEquals(HpackDecoder.COMPRESSION_ERROR, decodeResult(new HpackDecoder(4096, 16384), "be"));
        assertEquals(HpackDecoder.COMPRESSION_ERROR, decodeResult(new HpackDecoder(4096, 16384), "7f 00 01 61"));
    }

    @Test
    void refusesIntegersThatOverflowOrRunOnOrStopShort()
    {
        // 2^31 as a 7-bit prefix integer
        assertEquals(HpackDecoder.COMPRESSION_ERROR, decodeResult(new HpackDecoder(4096, 16384), "ff 81 ff ff ff 07"));
        // endless continuation bytes of zero value
        assertEquals(HpackDecoder.COMPRESSION_ERROR,
            decodeResult(new HpackDecoder(4096, 16384), "ff 80 80 80 80 80 80 80 80 80 00"));
        assertEquals(HpackDecoder.COMPRESSION_ERROR, decodeResult(new HpackDecoder(4096, 16384), "ff 80"));
    }

    @Test
    void refusesStringsThatRunPastTheBlock()
    {
        assertEquals(HpackDecoder.COMPRESSION_ERROR, decodeResult(new HpackDecoder(4096, 16384), "04 05 2f 61"));
        assertEquals(HpackDecoder.COMPRESSION_ERROR, decodeResult(new HpackDecoder(4096, 16384), "00 01 61"));
        assertEquals(HpackDecoder.COMPRESSION_ERROR, decodeResult(new HpackDecoder(4096, 16384), "04"));
    }

    @Test
    void refusesHuffmanEosAndBadPadding()
    {
        // EOS (30 ones) inside a string: ff ff ff fc
        assertEquals(HpackDecoder.COMPRESSION_ERROR, decodeResult(new HpackDecoder(4096, 16384), "04 84 ff ff ff fc"));
        // 'a' is 00011 then 8 bits of ones: padding longer than 7 bits
        assertEquals(HpackDecoder.COMPRESSION_ERROR, decodeResult(new HpackDecoder(4096, 16384), "04 82 1f ff"));
        // 'a' then padding 000: not the EOS prefix
        assertEquals(HpackDecoder.COMPRESSION_ERROR, decodeResult(new HpackDecoder(4096, 16384), "04 81 18"));
        // 'a' then padding 111 is fine
        assertEquals(List.of(":path: a"), decode(new HpackDecoder(4096, 16384), "04 81 1f"));
    }

    @Test
    void stopsReportingPastTheHeaderListSizeButKeepsTheTableInStep()
    {
        final HpackDecoder decoder = new HpackDecoder(4096, 100);
        final UnsafeBuffer block = hex("82 86 84 400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572");
        final Bytes.Fields fields = new Bytes.Fields();
        assertEquals(HpackDecoder.HEADER_LIST_TOO_LARGE, decoder.decode(block, 0, block.capacity(), fields));
        // :method GET (42) + :scheme http (43) fit in 100; :path / (38) does not
        assertEquals(List.of(":method: GET", ":scheme: http"), fields.fields);
        assertTable(decoder, 55, "custom-key: custom-header");
        assertEquals(List.of("custom-key: custom-header"), decode(decoder, "be"));
    }

    @Test
    void aBombOfReferencesToALargeEntryCostsNoCopies()
    {
        final HpackDecoder decoder = new HpackDecoder(4096, 8192);
        // one 4,000-byte value in the table, then 10,000 one-byte references to it: 40 MB of fields
        final StringBuilder hex = new StringBuilder("40 01 61 7f a1 1e");
        hex.append("62".repeat(4000));
        final UnsafeBuffer first = hex(hex.toString());
        assertEquals(HpackDecoder.OK, decoder.decode(first, 0, first.capacity(), new Bytes.Fields()));
        final UnsafeBuffer bomb = hex("be".repeat(10_000));
        final int[] reported = new int[1];
        assertEquals(HpackDecoder.HEADER_LIST_TOO_LARGE,
            decoder.decode(bomb, 0, bomb.capacity(), (b, no, nl, vo, vl, never) -> reported[0]++));
        assertEquals(2, reported[0]);
    }
}
