package io.centrigate.http;

import java.nio.charset.StandardCharsets;

import org.agrona.DirectBuffer;

/**
 * Byte classes of the HTTP grammar (RFC 9110 §5.6.2, RFC 5234 Appendix B.1) as lookup tables, and
 * case-insensitive comparison against lower-case constants. Shared by the head parsers.
 */
final class Ascii
{
    static final byte CR = '\r';
    static final byte LF = '\n';
    static final byte SP = ' ';
    static final byte HTAB = '\t';

    private static final boolean[] TCHAR = new boolean[256];

    static
    {
        // RFC 9110 §5.6.2: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`"
        //                          / "|" / "~" / DIGIT / ALPHA
        for (final char c : "!#$%&'*+-.^_`|~".toCharArray())
        {
            TCHAR[c] = true;
        }
        for (int c = '0'; c <= '9'; c++)
        {
            TCHAR[c] = true;
        }
        for (int c = 'a'; c <= 'z'; c++)
        {
            TCHAR[c] = true;
            TCHAR[c - 32] = true;
        }
    }

    private Ascii()
    {
    }

    static byte[] bytes(final String ascii)
    {
        return ascii.getBytes(StandardCharsets.US_ASCII);
    }

    /** {@code b} is an unsigned byte value 0..255. */
    static boolean isTchar(final int b)
    {
        return TCHAR[b];
    }

    /** RFC 5234 CTL is %x00-1F / %x7F; HTAB is one of them and is checked separately where it is allowed. */
    static boolean isCtl(final int b)
    {
        return b < 0x20 || b == 0x7F;
    }

    static boolean isHexDigit(final int b)
    {
        return (b >= '0' && b <= '9') || (b >= 'a' && b <= 'f') || (b >= 'A' && b <= 'F');
    }

    static boolean isOws(final int b)
    {
        return b == SP || b == HTAB;
    }

    static int toLower(final int b)
    {
        return b >= 'A' && b <= 'Z' ? b + 32 : b;
    }

    static int at(final DirectBuffer buf, final int index)
    {
        return buf.getByte(index) & 0xFF;
    }

    /** Whether {@code buf[offset, offset + length)} equals {@code lower}, ignoring ASCII case. */
    static boolean equalsIgnoreCase(final DirectBuffer buf, final int offset, final int length, final byte[] lower)
    {
        if (length != lower.length)
        {
            return false;
        }
        for (int i = 0; i < length; i++)
        {
            if (toLower(at(buf, offset + i)) != lower[i])
            {
                return false;
            }
        }
        return true;
    }

    /** Whether two ranges hold the same bytes, ignoring ASCII case. */
    static boolean equalsIgnoreCase(
        final DirectBuffer buf, final int offsetA, final int lengthA, final int offsetB, final int lengthB)
    {
        if (lengthA != lengthB)
        {
            return false;
        }
        for (int i = 0; i < lengthA; i++)
        {
            if (toLower(at(buf, offsetA + i)) != toLower(at(buf, offsetB + i)))
            {
                return false;
            }
        }
        return true;
    }

    static boolean equals(final DirectBuffer buf, final int offset, final int length, final byte[] exact)
    {
        if (length != exact.length)
        {
            return false;
        }
        for (int i = 0; i < length; i++)
        {
            if (buf.getByte(offset + i) != exact[i])
            {
                return false;
            }
        }
        return true;
    }
}
