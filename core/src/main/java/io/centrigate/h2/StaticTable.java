package io.centrigate.h2;

import java.nio.charset.StandardCharsets;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/** The HPACK static table (RFC 7541 Appendix A): 61 entries, names and values laid out in one buffer. */
final class StaticTable
{
    static final int LENGTH = 61;

    static final int AUTHORITY = 1;
    static final int METHOD_GET = 2;
    static final int PATH = 4;
    static final int SCHEME_HTTP = 6;
    static final int STATUS = 8;
    static final int STATUS_200 = 8;

    private static final String[][] ENTRIES = {
        {":authority", ""},
        {":method", "GET"},
        {":method", "POST"},
        {":path", "/"},
        {":path", "/index.html"},
        {":scheme", "http"},
        {":scheme", "https"},
        {":status", "200"},
        {":status", "204"},
        {":status", "206"},
        {":status", "304"},
        {":status", "400"},
        {":status", "404"},
        {":status", "500"},
        {"accept-charset", ""},
        {"accept-encoding", "gzip, deflate"},
        {"accept-language", ""},
        {"accept-ranges", ""},
        {"accept", ""},
        {"access-control-allow-origin", ""},
        {"age", ""},
        {"allow", ""},
        {"authorization", ""},
        {"cache-control", ""},
        {"content-disposition", ""},
        {"content-encoding", ""},
        {"content-language", ""},
        {"content-length", ""},
        {"content-location", ""},
        {"content-range", ""},
        {"content-type", ""},
        {"cookie", ""},
        {"date", ""},
        {"etag", ""},
        {"expect", ""},
        {"expires", ""},
        {"from", ""},
        {"host", ""},
        {"if-match", ""},
        {"if-modified-since", ""},
        {"if-none-match", ""},
        {"if-range", ""},
        {"if-unmodified-since", ""},
        {"last-modified", ""},
        {"link", ""},
        {"location", ""},
        {"max-forwards", ""},
        {"proxy-authenticate", ""},
        {"proxy-authorization", ""},
        {"range", ""},
        {"referer", ""},
        {"refresh", ""},
        {"retry-after", ""},
        {"server", ""},
        {"set-cookie", ""},
        {"strict-transport-security", ""},
        {"transfer-encoding", ""},
        {"user-agent", ""},
        {"vary", ""},
        {"via", ""},
        {"www-authenticate", ""},
    };

    /** Every name and value back to back; offsets and lengths are indexed 1..61 as the RFC numbers entries. */
    static final UnsafeBuffer BYTES;
    static final int[] NAME_OFFSET = new int[LENGTH + 1];
    static final int[] NAME_LENGTH = new int[LENGTH + 1];
    static final int[] VALUE_OFFSET = new int[LENGTH + 1];
    static final int[] VALUE_LENGTH = new int[LENGTH + 1];

    static
    {
        int total = 0;
        for (final String[] entry : ENTRIES)
        {
            total += entry[0].length() + entry[1].length();
        }
        final byte[] bytes = new byte[total];
        int p = 0;
        for (int i = 1; i <= LENGTH; i++)
        {
            final byte[] name = ENTRIES[i - 1][0].getBytes(StandardCharsets.US_ASCII);
            final byte[] value = ENTRIES[i - 1][1].getBytes(StandardCharsets.US_ASCII);
            NAME_OFFSET[i] = p;
            NAME_LENGTH[i] = name.length;
            System.arraycopy(name, 0, bytes, p, name.length);
            p += name.length;
            VALUE_OFFSET[i] = p;
            VALUE_LENGTH[i] = value.length;
            System.arraycopy(value, 0, bytes, p, value.length);
            p += value.length;
        }
        BYTES = new UnsafeBuffer(bytes);
    }

    private StaticTable()
    {
    }

    /**
     * The lowest index whose name equals the given bytes, compared as lower case (HTTP/1.1 names arrive in any
     * case), or 0 when the static table has no such name.
     */
    static int nameIndex(final DirectBuffer buffer, final int offset, final int length)
    {
        for (int i = 1; i <= LENGTH; i++)
        {
            if (NAME_LENGTH[i] == length && equalsLowerCase(buffer, offset, NAME_OFFSET[i], length))
            {
                return i;
            }
        }
        return 0;
    }

    private static boolean equalsLowerCase(final DirectBuffer buffer, final int offset, final int at, final int length)
    {
        for (int i = 0; i < length; i++)
        {
            int b = buffer.getByte(offset + i);
            if (b >= 'A' && b <= 'Z')
            {
                b += 'a' - 'A';
            }
            if (b != BYTES.getByte(at + i))
            {
                return false;
            }
        }
        return true;
    }
}
