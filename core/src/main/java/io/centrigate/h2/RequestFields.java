package io.centrigate.h2;

import java.nio.charset.StandardCharsets;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * One request's (or its trailers') fields as {@link HpackDecoder} reports them, checked against RFC 9113 §8.2 and
 * §8.3 and copied into a preallocated buffer so they outlive the decoder's callback, for the session to turn into
 * an HTTP/1.1 head. The checks, each making the request malformed (a stream error of type PROTOCOL_ERROR, §8.1.1):
 * <ul>
 *   <li>§8.2.1: a name is not empty and has no upper case, control, space, DEL, non-ASCII or (but for a pseudo
 *   field's first byte) colon; a value has no NUL, CR or LF and no leading or trailing space or tab;</li>
 *   <li>§8.2.2: no connection-specific field (connection, proxy-connection, keep-alive, transfer-encoding,
 *   upgrade), and {@code te} only as "trailers";</li>
 *   <li>§8.3: pseudo fields only :method, :scheme, :path, :authority and (RFC 8441) :protocol, each at most once,
 *   all before the first regular field, none in trailers; :method, :scheme and a non-empty :path present, except
 *   for CONNECT, which has :authority and neither :scheme nor :path; :protocol only with CONNECT (and then with
 *   all of :scheme, :path, :authority); :path starting with '/' (or "*" for OPTIONS); no userinfo in :authority; a
 *   Host field, if any, naming the same authority (§8.3.1's SHOULD);</li>
 *   <li>content-length: digits only, repeated only with the same value (RFC 9110 §8.6).</li>
 * </ul>
 * Cookie fields may arrive split (§8.2.3); they are kept as separate fields for the session to join.
 */
public final class RequestFields implements FieldListener
{
    public static final int OK = 0;
    public static final int MALFORMED = 1;
    /** More fields or bytes than the capacity given; cannot happen when it matches the decoder's list limit. */
    public static final int TOO_LARGE = 2;

    private static final int NONE = -1;

    private static final byte[] METHOD = ascii(":method");
    private static final byte[] SCHEME = ascii(":scheme");
    private static final byte[] PATH = ascii(":path");
    private static final byte[] AUTHORITY = ascii(":authority");
    private static final byte[] PROTOCOL = ascii(":protocol");
    private static final byte[] CONNECTION = ascii("connection");
    private static final byte[] PROXY_CONNECTION = ascii("proxy-connection");
    private static final byte[] KEEP_ALIVE = ascii("keep-alive");
    private static final byte[] TRANSFER_ENCODING = ascii("transfer-encoding");
    private static final byte[] UPGRADE = ascii("upgrade");
    private static final byte[] TE = ascii("te");
    private static final byte[] TRAILERS = ascii("trailers");
    private static final byte[] HOST = ascii("host");
    private static final byte[] CONTENT_LENGTH = ascii("content-length");
    private static final byte[] CONNECT = ascii("CONNECT");
    private static final byte[] OPTIONS = ascii("OPTIONS");

    private final byte[] bytes;
    private final UnsafeBuffer buffer;
    private final int[] nameOffset;
    private final int[] nameLength;
    private final int[] valueOffset;
    private final int[] valueLength;

    private int used;
    private int count;
    private boolean trailers;
    private boolean regularSeen;
    private int method;
    private int scheme;
    private int path;
    private int authority;
    private int protocol;
    private int host;
    private long contentLength;
    private int result;
    private String reason;

    /**
     * @param maxBytes  room for names and values together (the header list size limit is enough)
     * @param maxFields the most fields kept (the header list size limit / 32 is enough, as §4.1 of RFC 7541 counts
     *                  32 octets per field)
     */
    public RequestFields(final int maxBytes, final int maxFields)
    {
        bytes = new byte[maxBytes];
        buffer = new UnsafeBuffer(bytes);
        nameOffset = new int[maxFields];
        nameLength = new int[maxFields];
        valueOffset = new int[maxFields];
        valueLength = new int[maxFields];
        reset(false);
    }

    /** Before the first field of a request's head ({@code trailers} false) or of its trailers. */
    public void reset(final boolean trailers)
    {
        this.trailers = trailers;
        used = 0;
        count = 0;
        regularSeen = false;
        method = NONE;
        scheme = NONE;
        path = NONE;
        authority = NONE;
        protocol = NONE;
        host = NONE;
        contentLength = -1;
        result = OK;
        reason = null;
    }

    @Override
    public void onField(
        final DirectBuffer src,
        final int srcNameOffset,
        final int srcNameLength,
        final int srcValueOffset,
        final int srcValueLength,
        final boolean neverIndexed)
    {
        if (result != OK)
        {
            return;
        }
        if (count == nameOffset.length || srcNameLength + srcValueLength > bytes.length - used)
        {
            result = TOO_LARGE;
            reason = "request fields beyond capacity";
            return;
        }
        final int i = count++;
        nameOffset[i] = used;
        nameLength[i] = srcNameLength;
        src.getBytes(srcNameOffset, bytes, used, srcNameLength);
        used += srcNameLength;
        valueOffset[i] = used;
        valueLength[i] = srcValueLength;
        src.getBytes(srcValueOffset, bytes, used, srcValueLength);
        used += srcValueLength;

        if (srcNameLength == 0)
        {
            malformed("empty field name");
            return;
        }
        final boolean pseudo = bytes[nameOffset[i]] == ':';
        if (!validName(nameOffset[i] + (pseudo ? 1 : 0), srcNameLength - (pseudo ? 1 : 0)))
        {
            malformed("invalid character in a field name");
            return;
        }
        if (!validValue(valueOffset[i], srcValueLength))
        {
            malformed("invalid character in a field value");
            return;
        }
        if (pseudo)
        {
            pseudoField(i);
        }
        else
        {
            regularField(i);
        }
    }

    /**
     * After the last field of the block: the checks that need all of them.
     *
     * @return {@link #OK}, {@link #MALFORMED} or {@link #TOO_LARGE} ({@link #reason()})
     */
    public int finish()
    {
        if (result != OK || trailers)
        {
            return result;
        }
        if (method == NONE)
        {
            return malformed("no :method");
        }
        final boolean connect = valueIs(method, CONNECT);
        if (protocol != NONE && !connect)
        {
            return malformed(":protocol without CONNECT");
        }
        if (connect && protocol == NONE)
        {
            if (authority == NONE || scheme != NONE || path != NONE)
            {
                return malformed("CONNECT needs :authority and no :scheme or :path");
            }
        }
        else
        {
            if (scheme == NONE || path == NONE || protocol != NONE && authority == NONE)
            {
                return malformed("missing :scheme, :path or :authority");
            }
            if (valueLength[path] == 0)
            {
                return malformed("empty :path");
            }
            if (bytes[valueOffset[path]] != '/' &&
                !(valueLength[path] == 1 && bytes[valueOffset[path]] == '*' && valueIs(method, OPTIONS)))
            {
                return malformed(":path neither absolute nor * for OPTIONS");
            }
        }
        if (authority != NONE)
        {
            for (int k = 0; k < valueLength[authority]; k++)
            {
                if (bytes[valueOffset[authority] + k] == '@')
                {
                    return malformed("userinfo in :authority");
                }
            }
            if (host != NONE && !equalsIgnoreCase(valueOffset[host], valueLength[host], valueOffset[authority],
                valueLength[authority]))
            {
                return malformed("Host differs from :authority");
            }
        }
        return OK;
    }

    public int result()
    {
        return result;
    }

    /** Why the fields are refused: a constant, for the log. */
    public String reason()
    {
        return reason;
    }

    public DirectBuffer buffer()
    {
        return buffer;
    }

    /** All fields as decoded, pseudo fields included, in order. */
    public int count()
    {
        return count;
    }

    public int nameOffset(final int i)
    {
        return nameOffset[i];
    }

    public int nameLength(final int i)
    {
        return nameLength[i];
    }

    public int valueOffset(final int i)
    {
        return valueOffset[i];
    }

    public int valueLength(final int i)
    {
        return valueLength[i];
    }

    /** Field index of :method, or -1. */
    public int method()
    {
        return method;
    }

    public int scheme()
    {
        return scheme;
    }

    public int path()
    {
        return path;
    }

    public int authority()
    {
        return authority;
    }

    public int protocol()
    {
        return protocol;
    }

    public int host()
    {
        return host;
    }

    /** The content-length value, or -1 when there was none. */
    public long contentLength()
    {
        return contentLength;
    }

    /** Field {@code i} as "name: value" (cold path: tests, logs). */
    public String field(final int i)
    {
        return new String(bytes, nameOffset[i], nameLength[i], StandardCharsets.ISO_8859_1) + ": " +
            new String(bytes, valueOffset[i], valueLength[i], StandardCharsets.ISO_8859_1);
    }

    private void pseudoField(final int i)
    {
        if (trailers)
        {
            malformed("pseudo field in trailers");
            return;
        }
        if (regularSeen)
        {
            malformed("pseudo field after a regular field");
            return;
        }
        final int previous;
        if (nameIs(i, METHOD))
        {
            previous = method;
            method = i;
        }
        else if (nameIs(i, SCHEME))
        {
            previous = scheme;
            scheme = i;
        }
        else if (nameIs(i, PATH))
        {
            previous = path;
            path = i;
        }
        else if (nameIs(i, AUTHORITY))
        {
            previous = authority;
            authority = i;
        }
        else if (nameIs(i, PROTOCOL))
        {
            previous = protocol;
            protocol = i;
        }
        else
        {
            malformed("unknown or response pseudo field");
            return;
        }
        if (previous != NONE)
        {
            malformed("repeated pseudo field");
        }
    }

    private void regularField(final int i)
    {
        regularSeen = true;
        if (nameIs(i, CONNECTION) || nameIs(i, PROXY_CONNECTION) || nameIs(i, KEEP_ALIVE) ||
            nameIs(i, TRANSFER_ENCODING) || nameIs(i, UPGRADE))
        {
            malformed("connection-specific field");
        }
        else if (nameIs(i, TE))
        {
            if (!valueIs(i, TRAILERS))
            {
                malformed("te other than trailers");
            }
        }
        else if (nameIs(i, HOST))
        {
            if (host != NONE)
            {
                malformed("repeated host");
                return;
            }
            host = i;
        }
        else if (nameIs(i, CONTENT_LENGTH))
        {
            final long value = digits(valueOffset[i], valueLength[i]);
            if (value < 0 || contentLength >= 0 && value != contentLength)
            {
                malformed("invalid content-length");
                return;
            }
            contentLength = value;
        }
    }

    /** §8.2.1: no 0x00-0x20, no 0x41-0x5a (upper case), no 0x7f-0xff, no colon. */
    private boolean validName(final int offset, final int length)
    {
        for (int k = offset; k < offset + length; k++)
        {
            final int b = bytes[k] & 0xff;
            if (b <= 0x20 || b >= 'A' && b <= 'Z' || b >= 0x7f || b == ':')
            {
                return false;
            }
        }
        return length > 0;
    }

    /** §8.2.1: no NUL, CR or LF; no whitespace at either end. */
    private boolean validValue(final int offset, final int length)
    {
        for (int k = offset; k < offset + length; k++)
        {
            final byte b = bytes[k];
            if (b == 0 || b == '\r' || b == '\n')
            {
                return false;
            }
        }
        return length == 0 || !whitespace(bytes[offset]) && !whitespace(bytes[offset + length - 1]);
    }

    private static boolean whitespace(final byte b)
    {
        return b == ' ' || b == '\t';
    }

    private long digits(final int offset, final int length)
    {
        if (length == 0 || length > 18)
        {
            return -1;
        }
        long value = 0;
        for (int k = offset; k < offset + length; k++)
        {
            final byte b = bytes[k];
            if (b < '0' || b > '9')
            {
                return -1;
            }
            value = value * 10 + (b - '0');
        }
        return value;
    }

    private boolean nameIs(final int i, final byte[] name)
    {
        return same(nameOffset[i], nameLength[i], name);
    }

    private boolean valueIs(final int i, final byte[] value)
    {
        return same(valueOffset[i], valueLength[i], value);
    }

    private boolean same(final int offset, final int length, final byte[] expected)
    {
        if (length != expected.length)
        {
            return false;
        }
        for (int k = 0; k < length; k++)
        {
            if (bytes[offset + k] != expected[k])
            {
                return false;
            }
        }
        return true;
    }

    private boolean equalsIgnoreCase(final int a, final int aLength, final int b, final int bLength)
    {
        if (aLength != bLength)
        {
            return false;
        }
        for (int k = 0; k < aLength; k++)
        {
            if (lower(bytes[a + k]) != lower(bytes[b + k]))
            {
                return false;
            }
        }
        return true;
    }

    private static int lower(final byte b)
    {
        return b >= 'A' && b <= 'Z' ? b + ('a' - 'A') : b;
    }

    private int malformed(final String why)
    {
        result = MALFORMED;
        reason = why;
        return MALFORMED;
    }

    private static byte[] ascii(final String text)
    {
        return text.getBytes(StandardCharsets.US_ASCII);
    }
}
