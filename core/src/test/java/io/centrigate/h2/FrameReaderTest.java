package io.centrigate.h2;

import static io.centrigate.h2.Bytes.hex;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** RFC 9113 §3.4, §4 and §6 as the reader applies them: one frame per case, as hex, and what the listener saw. */
final class FrameReaderTest
{
    private static final String PREFACE_HEX = "505249202a20485454502f322e300d0a0d0a534d0d0a0d0a";
    private static final String EMPTY_SETTINGS = "000000 04 00 00000000";

    /** Reads one frame after an empty SETTINGS (the required first frame) and returns the last event. */
    private static String readOne(final String frameHex)
    {
        final Recorder recorder = new Recorder();
        final UnsafeBuffer bytes = hex(EMPTY_SETTINGS + frameHex);
        final FrameReader reader = new FrameReader(16384, 65536, false);
        reader.read(bytes, 0, bytes.capacity(), recorder);
        return recorder.last();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        // what                                       | frame                                         | event
        "DATA                                         | 000005 00 01 00000001 68656c6c6f              | DATA 1 END_STREAM 'hello' flow=5",
        "padded DATA counts padding for flow control | 000006 00 08 00000003 02 616263 0000          | DATA 3 'abc' flow=6",
        "DATA with all padding and no data           | 000003 00 08 00000003 02 0000                 | DATA 3 '' flow=3",
        "DATA on stream 0                            | 000001 00 00 00000000 61                      | CONNECTION ERROR PROTOCOL_ERROR",
        "DATA padding equal to payload               | 000003 00 08 00000001 03 0000                 | CONNECTION ERROR PROTOCOL_ERROR",
        "DATA padding longer than payload            | 000002 00 08 00000001 09 00                   | CONNECTION ERROR PROTOCOL_ERROR",
        "padded DATA without a pad length            | 000000 00 08 00000001                         | CONNECTION ERROR FRAME_SIZE_ERROR",
        "HEADERS                                     | 000001 01 05 00000001 82                      | HEADERS 1 END_STREAM END_HEADERS 82",
        "HEADERS with padding and priority           | 000009 01 2c 00000003 02 00000001 10 82 0000  | HEADERS 3 END_HEADERS 82",
        "HEADERS on stream 0                         | 000001 01 04 00000000 82                      | CONNECTION ERROR PROTOCOL_ERROR",
        "HEADERS on an even stream                   | 000001 01 04 00000002 82                      | CONNECTION ERROR PROTOCOL_ERROR",
        "HEADERS padding beyond the block            | 000003 01 0c 00000001 03 8200                 | CONNECTION ERROR PROTOCOL_ERROR",
        "HEADERS too short for its priority          | 000003 01 24 00000001 000000                  | CONNECTION ERROR FRAME_SIZE_ERROR",
        "HEADERS depending on itself                 | 000006 01 24 00000001 00000001 10 82          | CONNECTION ERROR PROTOCOL_ERROR",
        "PRIORITY is ignored                         | 000005 02 00 00000003 00000001 10             | PRIORITY 3",
        "PRIORITY on stream 0                        | 000005 02 00 00000000 00000001 10             | CONNECTION ERROR PROTOCOL_ERROR",
        "PRIORITY of length 4                        | 000004 02 00 00000003 00000001                | STREAM ERROR 3 FRAME_SIZE_ERROR",
        "PRIORITY depending on itself                | 000005 02 00 00000003 00000003 10             | STREAM ERROR 3 PROTOCOL_ERROR",
        "RST_STREAM                                  | 000004 03 00 00000001 00000008                | RST_STREAM 1 CANCEL",
        "RST_STREAM on stream 0                      | 000004 03 00 00000000 00000008                | CONNECTION ERROR PROTOCOL_ERROR",
        "RST_STREAM of length 3                      | 000003 03 00 00000001 000008                  | CONNECTION ERROR FRAME_SIZE_ERROR",
        "SETTINGS                                    | 00000c 04 00 00000000 0003 00000064 0008 00000001 | SETTINGS END",
        "SETTINGS ACK                                | 000000 04 01 00000000                         | SETTINGS ACK",
        "SETTINGS ACK with a payload                 | 000006 04 01 00000000 0003 00000064           | CONNECTION ERROR FRAME_SIZE_ERROR",
        "SETTINGS on a stream                        | 000000 04 00 00000001                         | CONNECTION ERROR PROTOCOL_ERROR",
        "SETTINGS of length 5                        | 000005 04 00 00000000 0003 000064             | CONNECTION ERROR FRAME_SIZE_ERROR",
        "SETTINGS_ENABLE_PUSH of 2                   | 000006 04 00 00000000 0002 00000002           | CONNECTION ERROR PROTOCOL_ERROR",
        "SETTINGS_INITIAL_WINDOW_SIZE of 2^31        | 000006 04 00 00000000 0004 80000000           | CONNECTION ERROR FLOW_CONTROL_ERROR",
        "SETTINGS_INITIAL_WINDOW_SIZE of 2^31-1      | 000006 04 00 00000000 0004 7fffffff           | SETTINGS END",
        "SETTINGS_MAX_FRAME_SIZE of 16383            | 000006 04 00 00000000 0005 00003fff           | CONNECTION ERROR PROTOCOL_ERROR",
        "SETTINGS_MAX_FRAME_SIZE of 2^24             | 000006 04 00 00000000 0005 01000000           | CONNECTION ERROR PROTOCOL_ERROR",
        "SETTINGS_MAX_FRAME_SIZE of 2^24-1           | 000006 04 00 00000000 0005 00ffffff           | SETTINGS END",
        "SETTINGS_ENABLE_CONNECT_PROTOCOL of 2       | 000006 04 00 00000000 0008 00000002           | CONNECTION ERROR PROTOCOL_ERROR",
        "SETTINGS of an unknown id                   | 000006 04 00 00000000 00ff 00000002           | SETTINGS END",
        "PUSH_PROMISE from a client                  | 000004 05 04 00000001 00000002                | CONNECTION ERROR PROTOCOL_ERROR",
        "PING                                        | 000008 06 00 00000000 0102030405060708        | PING 102030405060708",
        "PING ACK                                    | 000008 06 01 00000000 0102030405060708        | PING ACK 102030405060708",
        "PING on a stream                            | 000008 06 00 00000001 0102030405060708        | CONNECTION ERROR PROTOCOL_ERROR",
        "PING of length 7                            | 000007 06 00 00000000 01020304050607          | CONNECTION ERROR FRAME_SIZE_ERROR",
        "GOAWAY                                      | 00000b 07 00 00000000 80000005 0000000b 626f6f | GOAWAY 5 ENHANCE_YOUR_CALM 'boo'",
        "GOAWAY on a stream                          | 000008 07 00 00000001 00000005 00000000       | CONNECTION ERROR PROTOCOL_ERROR",
        "GOAWAY of length 7                          | 000007 07 00 00000000 00000005 000000         | CONNECTION ERROR FRAME_SIZE_ERROR",
        "WINDOW_UPDATE ignores the reserved bit      | 000004 08 00 00000001 80000100                | WINDOW_UPDATE 1 256",
        "WINDOW_UPDATE of 0 on a stream              | 000004 08 00 00000001 00000000                | STREAM ERROR 1 PROTOCOL_ERROR",
        "WINDOW_UPDATE of 0 on the connection        | 000004 08 00 00000000 00000000                | CONNECTION ERROR PROTOCOL_ERROR",
        "WINDOW_UPDATE of length 5                   | 000005 08 00 00000001 0000010000              | CONNECTION ERROR FRAME_SIZE_ERROR",
        "CONTINUATION without HEADERS                | 000001 09 04 00000001 82                      | CONNECTION ERROR PROTOCOL_ERROR",
        "CONTINUATION on stream 0                    | 000001 09 04 00000000 82                      | CONNECTION ERROR PROTOCOL_ERROR",
        "unknown frame types are ignored             | 000003 fa 07 00000005 010203                  | UNKNOWN 250 5 3",
        "frame above SETTINGS_MAX_FRAME_SIZE         | 004001 00 00 00000001                         | CONNECTION ERROR FRAME_SIZE_ERROR",
    })
    void appliesTheFrameRules(final String what, final String frame, final String event)
    {
        assertEquals(event, readOne(frame));
    }

    @Test
    void reportsSettingsOnlyOnceTheWholeFrameIsValid()
    {
        final Recorder recorder = new Recorder();
        final UnsafeBuffer bytes = hex(EMPTY_SETTINGS + "00000c 04 00 00000000 0003 00000064 0002 00000005");
        new FrameReader(16384, 65536, false).read(bytes, 0, bytes.capacity(), recorder);
        assertEquals(List.of("SETTINGS END", "CONNECTION ERROR PROTOCOL_ERROR"), recorder.events);

        final Recorder valid = new Recorder();
        final UnsafeBuffer ok = hex(EMPTY_SETTINGS + "00000c 04 00 00000000 0003 00000064 0004 00010000");
        new FrameReader(16384, 65536, false).read(ok, 0, ok.capacity(), valid);
        assertEquals(List.of("SETTINGS END", "SETTING 3=100", "SETTING 4=65536", "SETTINGS END"), valid.events);
    }

    @Test
    void checksThePrefaceThenRequiresSettingsFirst()
    {
        final Recorder recorder = new Recorder();
        final FrameReader reader = new FrameReader(16384, 65536, true);
        final UnsafeBuffer bytes = hex(PREFACE_HEX + EMPTY_SETTINGS);
        assertEquals(bytes.capacity(), reader.read(bytes, 0, bytes.capacity(), recorder));
        assertEquals(List.of("SETTINGS END"), recorder.events);

        final Recorder http1 = new Recorder();
        final UnsafeBuffer get = Bytes.offHeap("GET / HTTP/1.1\r\n".getBytes(StandardCharsets.US_ASCII));
        assertEquals(FrameReader.ERROR, new FrameReader(16384, 65536, true).read(get, 0, 3, http1));
        assertEquals(List.of("CONNECTION ERROR PROTOCOL_ERROR"), http1.events);

        final Recorder ping = new Recorder();
        final UnsafeBuffer pingFirst = hex(PREFACE_HEX + "000008 06 00 00000000 0102030405060708");
        new FrameReader(16384, 65536, true).read(pingFirst, 0, pingFirst.capacity(), ping);
        assertEquals(List.of("CONNECTION ERROR PROTOCOL_ERROR"), ping.events);
    }

    @Test
    void aFieldBlockMayNotBeInterrupted()
    {
        assertEquals(List.of("SETTINGS END", "HEADERS 1 82", "CONNECTION ERROR PROTOCOL_ERROR"),
            events("000001 01 00 00000001 82" + "000008 06 00 00000000 0102030405060708"));
        assertEquals(List.of("SETTINGS END", "HEADERS 1 82", "CONNECTION ERROR PROTOCOL_ERROR"),
            events("000001 01 00 00000001 82" + "000001 09 04 00000003 84"));
        assertEquals(List.of("SETTINGS END", "HEADERS 1 82", "CONNECTION ERROR PROTOCOL_ERROR"),
            events("000001 01 00 00000001 82" + "000000 fa 00 00000001"));
        assertEquals(List.of("SETTINGS END", "HEADERS 1 82", "CONTINUATION 1 84", "CONTINUATION 1 END_HEADERS 86",
            "PING 102030405060708"), events("000001 01 00 00000001 82" + "000001 09 00 00000001 84" +
            "000001 09 04 00000001 86" + "000008 06 00 00000000 0102030405060708"));
    }

    @Test
    void endsAnEndlessContinuationAtTheFieldBlockLimit()
    {
        final StringBuilder hex = new StringBuilder(EMPTY_SETTINGS + "000001 01 00 00000001 82");
        for (int i = 0; i < 200; i++)
        {
            hex.append("000000 09 00 00000001");
            hex.append("000004 09 00 00000001 82828282");
        }
        final Recorder recorder = new Recorder();
        final UnsafeBuffer bytes = hex(hex.toString());
        final FrameReader reader = new FrameReader(16384, 256, false);
        assertEquals(FrameReader.ERROR, reader.read(bytes, 0, bytes.capacity(), recorder));
        assertEquals("CONNECTION ERROR ENHANCE_YOUR_CALM", recorder.last());
        assertEquals(ErrorCode.ENHANCE_YOUR_CALM, reader.lastError());
        // 1 byte of HEADERS and 4 per CONTINUATION pair: the block passes 256 in the 64th pair
        assertEquals(1 + 1 + 2 * 63 + 1 + 1, recorder.events.size());
    }

    @Test
    void consumesOnlyWholeFramesAndStopsAfterAConnectionError()
    {
        final FrameReader reader = new FrameReader(16384, 65536, false);
        final Recorder recorder = new Recorder();
        final UnsafeBuffer bytes = hex(EMPTY_SETTINGS + "000005 00 01 00000001 68656c6c6f");
        assertEquals(9, reader.read(bytes, 0, 9 + 9 + 4, recorder));
        assertEquals(0, reader.read(bytes, 9, 9 + 4, recorder));
        assertEquals(14, reader.read(bytes, 9, 14, recorder));
        assertEquals(List.of("SETTINGS END", "DATA 1 END_STREAM 'hello' flow=5"), recorder.events);

        final UnsafeBuffer bad = hex("000000 04 00 00000001");
        assertEquals(FrameReader.ERROR, reader.read(bad, 0, bad.capacity(), recorder));
        assertEquals(FrameReader.ERROR, reader.read(bytes, 9, 14, recorder));
        assertEquals("CONNECTION ERROR PROTOCOL_ERROR", recorder.last());
        assertEquals(3, recorder.events.size());
    }

    @Test
    void goesOnAfterAStreamError()
    {
        assertEquals(List.of("SETTINGS END", "STREAM ERROR 1 PROTOCOL_ERROR", "STREAM ERROR 3 FRAME_SIZE_ERROR",
            "PING 102030405060708"), events("000004 08 00 00000001 00000000" + "000004 02 00 00000003 00000001" +
            "000008 06 00 00000000 0102030405060708"));
    }

    @Test
    void aListenerCanStopTheReaderInsideACall()
    {
        final FrameReader reader = new FrameReader(16384, 65536, false);
        final Recorder recorder = new Recorder()
        {
            @Override
            public void onRstStream(final int streamId, final long errorCode)
            {
                super.onRstStream(streamId, errorCode);
                reader.stop(ErrorCode.ENHANCE_YOUR_CALM);
            }
        };
        final UnsafeBuffer bytes = hex(EMPTY_SETTINGS + "000004 03 00 00000001 00000008" +
            "000004 03 00 00000003 00000008");
        assertEquals(FrameReader.ERROR, reader.read(bytes, 0, bytes.capacity(), recorder));
        assertEquals(List.of("SETTINGS END", "RST_STREAM 1 CANCEL"), recorder.events);
        assertEquals(ErrorCode.ENHANCE_YOUR_CALM, reader.lastError());
        assertEquals(FrameReader.ERROR, reader.read(bytes, 0, bytes.capacity(), recorder));
    }

    @Test
    void paddingMayTakeAllOfAFieldBlocksRoom()
    {
        assertEquals(List.of("SETTINGS END", "HEADERS 1 ", "CONTINUATION 1 END_HEADERS 82"),
            events("000003 01 08 00000001 02 0000" + "000001 09 04 00000001 82"));
    }

    @Test
    void refusesAnOversizedFrameFromItsHeaderAlone()
    {
        final Recorder recorder = new Recorder();
        final UnsafeBuffer header = hex(EMPTY_SETTINGS + "004001 00 00 00000001");
        assertEquals(FrameReader.ERROR, new FrameReader(16384, 65536, false).read(header, 0, header.capacity(),
            recorder));
        assertEquals("CONNECTION ERROR FRAME_SIZE_ERROR", recorder.last());

        final FrameReader larger = new FrameReader(16384, 65536, false);
        larger.maxFrameSize(16385);
        final Recorder fits = new Recorder();
        final UnsafeBuffer frame = new UnsafeBuffer(ByteBuffer.allocateDirect(9 + 9 + 16385));
        frame.putBytes(0, hex(EMPTY_SETTINGS), 0, 9);
        FrameHeader.write(frame, 9, 16385, FrameType.DATA, 0, 1);
        assertEquals(frame.capacity(), larger.read(frame, 0, frame.capacity(), fits));
        assertEquals(2, fits.events.size());
    }

    @Test
    void readingOneByteAtATimeSeesWhatReadingAllAtOnceSees()
    {
        final String stream = PREFACE_HEX + "00000c 04 00 00000000 0003 00000064 0004 00010000" +
            "000007 01 20 00000001 00000000 10 8286" + "000002 09 04 00000001 8441" +
            "000006 00 09 00000001 02 616263 0000" + "000004 08 00 00000000 00001000" +
            "000008 06 00 00000000 0102030405060708" + "000003 fa 00 00000000 010203" +
            "000004 03 00 00000001 00000008" + "00000b 07 00 00000000 00000001 00000000 626f6f";
        final UnsafeBuffer all = hex(stream);
        final Recorder whole = new Recorder();
        assertEquals(all.capacity(), new FrameReader(16384, 65536, true).read(all, 0, all.capacity(), whole),
            whole.events::toString);

        // the caller's way: bytes arrive one at a time, are appended after what the reader left, and offered again
        final Recorder trickled = new Recorder();
        final FrameReader reader = new FrameReader(16384, 65536, true);
        final UnsafeBuffer window = new UnsafeBuffer(ByteBuffer.allocateDirect(all.capacity()));
        int start = 0;
        int filled = 0;
        for (int i = 0; i < all.capacity(); i++)
        {
            window.putByte(filled++, all.getByte(i));
            final int consumed = reader.read(window, start, filled - start, trickled);
            assertEquals(true, consumed >= 0);
            start += consumed;
        }
        assertEquals(filled, start);
        assertEquals(whole.events, trickled.events);
        assertEquals(11, whole.events.size());
    }

    private static List<String> events(final String framesHex)
    {
        final Recorder recorder = new Recorder();
        final UnsafeBuffer bytes = hex(EMPTY_SETTINGS + framesHex);
        new FrameReader(16384, 65536, false).read(bytes, 0, bytes.capacity(), recorder);
        return recorder.events;
    }
}
