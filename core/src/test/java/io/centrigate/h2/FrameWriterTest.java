package io.centrigate.h2;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

/** What the writer writes, the reader reads back the same. */
final class FrameWriterTest
{
    private final UnsafeBuffer out = new UnsafeBuffer(ByteBuffer.allocateDirect(1 << 17));

    private List<String> readBack(final int length)
    {
        final Recorder recorder = new Recorder();
        final FrameReader reader = new FrameReader(16384, 1 << 20, false);
        assertEquals(length, reader.read(out, 0, length, recorder), recorder.events::toString);
        return recorder.events;
    }

    @Test
    void controlFramesRoundTrip()
    {
        int p = FrameWriter.settings(out, 0, new int[] {Setting.MAX_CONCURRENT_STREAMS, Setting.INITIAL_WINDOW_SIZE,
            Setting.ENABLE_CONNECT_PROTOCOL}, new long[] {100, Setting.MAX_WINDOW_SIZE, 1}, 3);
        assertEquals(9 + 18, p);
        p += FrameWriter.settingsAck(out, p);
        p += FrameWriter.ping(out, p, true, 0x0102030405060708L);
        p += FrameWriter.windowUpdate(out, p, 0, Integer.MAX_VALUE);
        p += FrameWriter.rstStream(out, p, 7, ErrorCode.REFUSED_STREAM);
        final UnsafeBuffer debug = Bytes.offHeap("too many resets".getBytes(StandardCharsets.US_ASCII));
        p += FrameWriter.goAway(out, p, 9, ErrorCode.ENHANCE_YOUR_CALM, debug, 4, 11);
        p += FrameWriter.goAway(out, p, 0, ErrorCode.NO_ERROR, null, 0, 0);
        assertEquals(List.of("SETTING 3=100", "SETTING 4=2147483647", "SETTING 8=1", "SETTINGS END", "SETTINGS ACK",
            "PING ACK 102030405060708", "WINDOW_UPDATE 0 2147483647", "RST_STREAM 7 REFUSED_STREAM",
            "GOAWAY 9 ENHANCE_YOUR_CALM 'many resets'", "GOAWAY 0 NO_ERROR ''"), readBack(p));
    }

    @Test
    void dataRoundTripsWithAndWithoutEndStream()
    {
        final FrameWriter writer = new FrameWriter();
        final UnsafeBuffer body = Bytes.offHeap("hello world".getBytes(StandardCharsets.US_ASCII));
        int p = FrameWriter.settings(out, 0, new int[0], new long[0], 0);
        p += writer.data(out, p, 1, body, 0, 5, false);
        p += writer.data(out, p, 1, body, 6, 5, true);
        p += writer.data(out, p, 3, body, 0, 0, true);
        assertEquals(List.of("SETTINGS END", "DATA 1 'hello' flow=5", "DATA 1 END_STREAM 'world' flow=5",
            "DATA 3 END_STREAM '' flow=0"), readBack(p));
    }

    @Test
    void splitsAFieldBlockIntoContinuationsAtThePeersFrameSize()
    {
        final FrameWriter writer = new FrameWriter();
        final int blockLength = 40_000;
        final UnsafeBuffer block = new UnsafeBuffer(ByteBuffer.allocateDirect(blockLength));
        for (int i = 0; i < blockLength; i++)
        {
            block.putByte(i, (byte)i);
        }
        final int start = FrameWriter.settings(out, 0, new int[0], new long[0], 0);
        final int written = writer.headers(out, start, 5, block, 0, blockLength, true);
        assertEquals(writer.headersLength(blockLength), written);
        assertEquals(3 * 9 + blockLength, written);

        final List<String> events = readBack(start + written);
        assertEquals(4, events.size());
        assertTrue(events.get(1).startsWith("HEADERS 5 END_STREAM "), events.get(1));
        assertTrue(events.get(2).startsWith("CONTINUATION 5 "), events.get(2));
        assertTrue(events.get(3).startsWith("CONTINUATION 5 END_HEADERS "), events.get(3));
        final String joined = events.get(1).substring("HEADERS 5 END_STREAM ".length()) +
            events.get(2).substring("CONTINUATION 5 ".length()) +
            events.get(3).substring("CONTINUATION 5 END_HEADERS ".length());
        assertEquals(Bytes.toHex(block, 0, blockLength), joined);
    }

    @Test
    void aBlockThatFitsIsOneHeadersFrame()
    {
        final FrameWriter writer = new FrameWriter();
        writer.maxFrameSize(20_000);
        final UnsafeBuffer block = Bytes.hex("8286");
        final int p = FrameWriter.settings(out, 0, new int[0], new long[0], 0);
        final int written = writer.headers(out, p, 1, block, 0, 2, false);
        assertEquals(11, written);
        assertEquals(List.of("SETTINGS END", "HEADERS 1 END_HEADERS 8286"), readBack(p + written));
        assertEquals(9, writer.headersLength(0));
    }
}
