package io.centrigate.h2;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

final class HpackEncoderTest
{
    private final UnsafeBuffer out = new UnsafeBuffer(ByteBuffer.allocateDirect(8192));

    @Test
    void encodesTheIntegerExamplesOfC1()
    {
        assertEquals(1, HpackEncoder.integer(out, 0, 10, 5, 0));
        assertEquals("0a", Bytes.toHex(out, 0, 1));
        assertEquals(3, HpackEncoder.integer(out, 0, 1337, 5, 0));
        assertEquals("1f9a0a", Bytes.toHex(out, 0, 3));
        assertEquals(1, HpackEncoder.integer(out, 0, 42, 8, 0));
        assertEquals("2a", Bytes.toHex(out, 0, 1));
    }

    @Test
    void statusesInTheStaticTableAreOneByte()
    {
        final HpackEncoder encoder = new HpackEncoder(false);
        assertEquals(1, encoder.status(out, 0, 200));
        assertEquals("88", Bytes.toHex(out, 0, 1));
        assertEquals(1, encoder.status(out, 0, 404));
        assertEquals("8d", Bytes.toHex(out, 0, 1));
        assertEquals(5, encoder.status(out, 0, 302));
        assertEquals("0803333032", Bytes.toHex(out, 0, 5));
    }

    @Test
    void responsesRoundTripThroughTheDecoderWithAndWithoutHuffman()
    {
        for (final boolean huffman : new boolean[] {false, true})
        {
            final HpackEncoder encoder = new HpackEncoder(huffman);
            final HpackDecoder decoder = new HpackDecoder(4096, 65536);
            for (int round = 0; round < 3; round++)
            {
                int p = encoder.startBlock(out, 0);
                assertEquals(round == 0 ? 1 : 0, p);
                p += encoder.status(out, p, round == 0 ? 200 : 503);
                p += field(encoder, p, "Content-Type", "text/plain; charset=utf-8", false);
                p += field(encoder, p, "X-Centrifugo-Node", "node-" + round, false);
                p += field(encoder, p, "set-cookie", "session=secret", true);
                p += field(encoder, p, "Empty", "", false);

                final List<String> fields = new ArrayList<>();
                final List<Boolean> never = new ArrayList<>();
                assertEquals(HpackDecoder.OK, decoder.decode(out, 0, p, (b, no, nl, vo, vl, n) ->
                {
                    fields.add(Bytes.text(b, no, nl) + ": " + Bytes.text(b, vo, vl));
                    never.add(n);
                }));
                assertEquals(List.of(":status: " + (round == 0 ? 200 : 503), "content-type: text/plain; charset=utf-8",
                    "x-centrifugo-node: node-" + round, "set-cookie: session=secret", "empty: "), fields);
                assertEquals(List.of(false, false, false, true, false), never);
                assertEquals(0, decoder.tableCount());
                assertEquals(0, decoder.tableCapacity());
            }
        }
    }

    @Test
    void huffmanIsUsedOnlyWhenShorter()
    {
        final HpackEncoder plain = new HpackEncoder(false);
        final HpackEncoder huffman = new HpackEncoder(true);
        final int plainLength = field(plain, 0, "server", "centrigate", false);
        final int huffmanLength = field(huffman, 0, "server", "centrigate", false);
        assertTrue(huffmanLength < plainLength, huffmanLength + " vs " + plainLength);
        // bytes with 20+ bit codes would grow: sent as they are
        assertEquals(field(plain, 0, "x", "\u00fe\u00fe\u00fe", false), field(huffman, 0, "x", "\u00fe\u00fe\u00fe", false));
    }

    @Test
    void aLongValueUsesMultiByteLengths()
    {
        final HpackEncoder encoder = new HpackEncoder(false);
        final String value = "v".repeat(5000);
        final int length = field(encoder, 0, "x-long", value, false);
        assertTrue(length <= HpackEncoder.maxFieldLength(6, 5000));
        final Bytes.Fields fields = new Bytes.Fields();
        assertEquals(HpackDecoder.OK, new HpackDecoder(4096, 65536).decode(out, 0, length, fields));
        assertEquals(List.of("x-long: " + value), fields.fields);
    }

    private int field(final HpackEncoder encoder, final int offset, final String name, final String value,
        final boolean neverIndexed)
    {
        final UnsafeBuffer n = Bytes.offHeap(name.getBytes(StandardCharsets.ISO_8859_1));
        final UnsafeBuffer v = Bytes.offHeap(value.getBytes(StandardCharsets.ISO_8859_1));
        return encoder.field(out, offset, n, 0, name.length(), v, 0, value.length(), neverIndexed);
    }
}
