package io.centrigate.h2;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.Random;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Random and mutated input never throws, never loops and always ends in a documented state: the reader consumes
 * whole frames or reports ERROR once, the decoder returns one of its three results and keeps its table within
 * bounds. Seeded, so a failure repeats.
 */
@Timeout(60)
final class H2FuzzTest
{
    private static final String VALID_STREAM = "505249202a20485454502f322e300d0a0d0a534d0d0a0d0a" +
        "00000c 04 00 00000000 0003 00000064 0004 00010000" +
        "000011 01 24 00000001 00000000 10 8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff" +
        "000006 00 09 00000001 02 616263 0000" + "000004 08 00 00000000 00001000" +
        "000008 06 00 00000000 0102030405060708" + "000004 03 00 00000001 00000008" +
        "00000b 07 00 00000000 00000001 00000000 626f6f";

    private static final String[] VALID_BLOCKS = {
        "8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff",
        "8286 84be 5886 a8eb 1064 9cbf",
        "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf",
        "4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 " +
            "2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3",
        "88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab " +
            "77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f " +
            "9587 3160 65c0 03ed 4ee5 b106 3d50 07",
        "3fe11f 400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572 be be be",
    };

    @Test
    void theReaderSurvivesRandomAndMutatedStreams()
    {
        final Random random = new Random(9113);
        final UnsafeBuffer valid = Bytes.hex(VALID_STREAM);
        final UnsafeBuffer input = new UnsafeBuffer(ByteBuffer.allocateDirect(4096));
        for (int round = 0; round < 20_000; round++)
        {
            final int length;
            if (round % 2 == 0)
            {
                length = valid.capacity();
                input.putBytes(0, valid, 0, length);
                for (int flips = 1 + random.nextInt(4); flips > 0; flips--)
                {
                    final int at = random.nextInt(length);
                    input.putByte(at, (byte)(input.getByte(at) ^ 1 << random.nextInt(8)));
                }
            }
            else
            {
                length = random.nextInt(input.capacity());
                for (int i = 0; i < length; i++)
                {
                    input.putByte(i, (byte)random.nextInt(256));
                }
            }
            feed(input, length, random, round % 4 < 2);
        }
    }

    private static void feed(final DirectBuffer input, final int length, final Random random, final boolean preface)
    {
        final FrameReader reader = new FrameReader(16384, 4096, preface);
        final CountingListener listener = new CountingListener();
        int start = 0;
        int available = 0;
        // bytes arrive in random pieces; every call either consumes, waits for more, or fails for good
        for (int calls = 0; calls < 2 * length + 2; calls++)
        {
            available = Math.min(length, available + 1 + random.nextInt(64));
            final int consumed = reader.read(input, start, available - start, listener);
            if (consumed == FrameReader.ERROR)
            {
                assertTrue(listener.connectionErrors == 1);
                assertTrue(reader.lastError() != ErrorCode.NO_ERROR);
                return;
            }
            assertTrue(consumed >= 0 && consumed <= available - start);
            start += consumed;
            if (available == length)
            {
                break;
            }
        }
        assertTrue(listener.connectionErrors == 0);
        assertTrue(length - start < FrameHeader.LENGTH + 16384 + FrameReader.PREFACE_LENGTH);
    }

    @Test
    void theDecoderSurvivesRandomAndMutatedBlocks()
    {
        final Random random = new Random(7541);
        final UnsafeBuffer block = new UnsafeBuffer(ByteBuffer.allocateDirect(1024));
        final RequestFields fields = new RequestFields(8192, 256);
        for (int round = 0; round < 20_000; round++)
        {
            final HpackDecoder decoder = new HpackDecoder(random.nextBoolean() ? 4096 : 256, 8192);
            for (int blocks = 0; blocks < 4; blocks++)
            {
                int length;
                if (random.nextBoolean())
                {
                    final UnsafeBuffer valid = Bytes.hex(VALID_BLOCKS[random.nextInt(VALID_BLOCKS.length)]);
                    length = valid.capacity();
                    block.putBytes(0, valid, 0, length);
                    for (int flips = random.nextInt(3); flips > 0; flips--)
                    {
                        final int at = random.nextInt(length);
                        block.putByte(at, (byte)(block.getByte(at) ^ 1 << random.nextInt(8)));
                    }
                    if (random.nextInt(4) == 0)
                    {
                        length = random.nextInt(length + 1);
                    }
                }
                else
                {
                    length = random.nextInt(block.capacity());
                    for (int i = 0; i < length; i++)
                    {
                        block.putByte(i, (byte)random.nextInt(256));
                    }
                }
                fields.reset(false);
                final int result = decoder.decode(block, 0, length, fields);
                assertTrue(result == HpackDecoder.OK || result == HpackDecoder.HEADER_LIST_TOO_LARGE ||
                    result == HpackDecoder.COMPRESSION_ERROR);
                assertTrue(decoder.tableSize() <= decoder.tableCapacity());
                fields.finish();
                if (result == HpackDecoder.COMPRESSION_ERROR)
                {
                    break;
                }
            }
        }
    }

    /** Counts calls without keeping anything. */
    static final class CountingListener implements FrameListener
    {
        long frames;
        long bytes;
        int connectionErrors;
        int streamErrors;

        @Override
        public void onData(final int streamId, final boolean endStream, final DirectBuffer buffer, final int offset,
            final int length, final int flowControlled)
        {
            frames++;
            bytes += length;
        }

        @Override
        public void onHeaders(final int streamId, final boolean endStream, final boolean endHeaders,
            final DirectBuffer buffer, final int offset, final int length)
        {
            frames++;
            bytes += length;
        }

        @Override
        public void onContinuation(final int streamId, final boolean endHeaders, final DirectBuffer buffer,
            final int offset, final int length)
        {
            frames++;
            bytes += length;
        }

        @Override
        public void onRstStream(final int streamId, final long errorCode)
        {
            frames++;
        }

        @Override
        public void onSetting(final int id, final long value)
        {
            bytes += value;
        }

        @Override
        public void onSettingsEnd(final boolean ack)
        {
            frames++;
        }

        @Override
        public void onPing(final boolean ack, final long opaqueData)
        {
            frames++;
        }

        @Override
        public void onGoAway(final int lastStreamId, final long errorCode, final DirectBuffer buffer,
            final int debugOffset, final int debugLength)
        {
            frames++;
        }

        @Override
        public void onWindowUpdate(final int streamId, final int increment)
        {
            frames++;
        }

        @Override
        public void onConnectionError(final int errorCode, final String reason)
        {
            connectionErrors++;
        }

        @Override
        public void onStreamError(final int streamId, final int errorCode, final String reason)
        {
            streamErrors++;
        }
    }
}
