package io.centrigate.h2;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/** Test helpers: RFC hex dumps to off-heap buffers (as the proxy's chunks are), fields to strings. */
final class Bytes
{
    private Bytes()
    {
    }

    /** Hex digits with any spaces, as the RFCs print them, into a direct buffer of exactly that many bytes. */
    static UnsafeBuffer hex(final String hex)
    {
        final String digits = hex.replaceAll("\\s+", "");
        final UnsafeBuffer buffer = new UnsafeBuffer(ByteBuffer.allocateDirect(digits.length() / 2));
        for (int i = 0; i < digits.length(); i += 2)
        {
            buffer.putByte(i / 2, (byte)Integer.parseInt(digits.substring(i, i + 2), 16));
        }
        return buffer;
    }

    static UnsafeBuffer offHeap(final byte[] bytes)
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(ByteBuffer.allocateDirect(Math.max(1, bytes.length)));
        buffer.putBytes(0, bytes);
        return buffer;
    }

    static String text(final DirectBuffer buffer, final int offset, final int length)
    {
        final byte[] bytes = new byte[length];
        buffer.getBytes(offset, bytes);
        return new String(bytes, StandardCharsets.ISO_8859_1);
    }

    static String toHex(final DirectBuffer buffer, final int offset, final int length)
    {
        final StringBuilder text = new StringBuilder();
        for (int i = 0; i < length; i++)
        {
            text.append(String.format("%02x", buffer.getByte(offset + i) & 0xff));
        }
        return text.toString();
    }

    /** Collects decoded fields as "name: value". */
    static final class Fields implements FieldListener
    {
        final List<String> fields = new ArrayList<>();

        @Override
        public void onField(final DirectBuffer buffer, final int nameOffset, final int nameLength,
            final int valueOffset, final int valueLength, final boolean neverIndexed)
        {
            fields.add(text(buffer, nameOffset, nameLength) + ": " + text(buffer, valueOffset, valueLength));
        }
    }
}
