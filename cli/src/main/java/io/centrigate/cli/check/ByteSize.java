package io.centrigate.cli.check;

/**
 * Sizes as centrigate's flags and the JVM's {@code -XX:} flags write them: digits with an optional {@code k},
 * {@code m}, {@code g} or {@code t} (either case, powers of 1024), e.g. {@code 256m}, {@code 2G}.
 */
public final class ByteSize
{
    private ByteSize()
    {
    }

    public static long parse(final String text)
    {
        final String s = text.trim();
        if (s.isEmpty())
        {
            throw new IllegalArgumentException("size: empty");
        }
        final char last = Character.toLowerCase(s.charAt(s.length() - 1));
        final int shift = last == 'k' ? 10 : last == 'm' ? 20 : last == 'g' ? 30 : last == 't' ? 40 : 0;
        final String digits = shift == 0 ? s : s.substring(0, s.length() - 1);
        if (digits.isEmpty() || !digits.chars().allMatch(c -> c >= '0' && c <= '9'))
        {
            throw new IllegalArgumentException("size: expected digits with an optional k, m, g or t, got '" + text + "'");
        }
        final long value = Long.parseLong(digits);
        if (value > Long.MAX_VALUE >> shift)
        {
            throw new IllegalArgumentException("size: too large, '" + text + "'");
        }
        return value << shift;
    }
}
