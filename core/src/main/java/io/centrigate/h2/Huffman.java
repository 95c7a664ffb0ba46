package io.centrigate.h2;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * The static Huffman code of RFC 7541 Appendix B. Decoding walks a table built once from the code: one state per
 * inner node of the code tree (256), four bits at a time; since no code is shorter than five bits a step emits at
 * most one symbol. A step that completes EOS fails (§5.2: EOS in a string is an error); a string must end at the
 * root or on the all-ones path no deeper than 7 bits (§5.2: padding is at most 7 bits, all of them ones).
 */
final class Huffman
{
    /** Codes of symbols 0..255 and EOS (256), right-aligned; lengths in bits. */
    static final int[] CODES = {
        0x1ff8, 0x7fffd8, 0xfffffe2, 0xfffffe3, 0xfffffe4, 0xfffffe5, 0xfffffe6, 0xfffffe7,
        0xfffffe8, 0xffffea, 0x3ffffffc, 0xfffffe9, 0xfffffea, 0x3ffffffd, 0xfffffeb, 0xfffffec,
        0xfffffed, 0xfffffee, 0xfffffef, 0xffffff0, 0xffffff1, 0xffffff2, 0x3ffffffe, 0xffffff3,
        0xffffff4, 0xffffff5, 0xffffff6, 0xffffff7, 0xffffff8, 0xffffff9, 0xffffffa, 0xffffffb,
        0x14, 0x3f8, 0x3f9, 0xffa, 0x1ff9, 0x15, 0xf8, 0x7fa,
        0x3fa, 0x3fb, 0xf9, 0x7fb, 0xfa, 0x16, 0x17, 0x18,
        0x0, 0x1, 0x2, 0x19, 0x1a, 0x1b, 0x1c, 0x1d,
        0x1e, 0x1f, 0x5c, 0xfb, 0x7ffc, 0x20, 0xffb, 0x3fc,
        0x1ffa, 0x21, 0x5d, 0x5e, 0x5f, 0x60, 0x61, 0x62,
        0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a,
        0x6b, 0x6c, 0x6d, 0x6e, 0x6f, 0x70, 0x71, 0x72,
        0xfc, 0x73, 0xfd, 0x1ffb, 0x7fff0, 0x1ffc, 0x3ffc, 0x22,
        0x7ffd, 0x3, 0x23, 0x4, 0x24, 0x5, 0x25, 0x26,
        0x27, 0x6, 0x74, 0x75, 0x28, 0x29, 0x2a, 0x7,
        0x2b, 0x76, 0x2c, 0x8, 0x9, 0x2d, 0x77, 0x78,
        0x79, 0x7a, 0x7b, 0x7ffe, 0x7fc, 0x3ffd, 0x1ffd, 0xffffffc,
        0xfffe6, 0x3fffd2, 0xfffe7, 0xfffe8, 0x3fffd3, 0x3fffd4, 0x3fffd5, 0x7fffd9,
        0x3fffd6, 0x7fffda, 0x7fffdb, 0x7fffdc, 0x7fffdd, 0x7fffde, 0xffffeb, 0x7fffdf,
        0xffffec, 0xffffed, 0x3fffd7, 0x7fffe0, 0xffffee, 0x7fffe1, 0x7fffe2, 0x7fffe3,
        0x7fffe4, 0x1fffdc, 0x3fffd8, 0x7fffe5, 0x3fffd9, 0x7fffe6, 0x7fffe7, 0xffffef,
        0x3fffda, 0x1fffdd, 0xfffe9, 0x3fffdb, 0x3fffdc, 0x7fffe8, 0x7fffe9, 0x1fffde,
        0x7fffea, 0x3fffdd, 0x3fffde, 0xfffff0, 0x1fffdf, 0x3fffdf, 0x7fffeb, 0x7fffec,
        0x1fffe0, 0x1fffe1, 0x3fffe0, 0x1fffe2, 0x7fffed, 0x3fffe1, 0x7fffee, 0x7fffef,
        0xfffea, 0x3fffe2, 0x3fffe3, 0x3fffe4, 0x7ffff0, 0x3fffe5, 0x3fffe6, 0x7ffff1,
        0x3ffffe0, 0x3ffffe1, 0xfffeb, 0x7fff1, 0x3fffe7, 0x7ffff2, 0x3fffe8, 0x1ffffec,
        0x3ffffe2, 0x3ffffe3, 0x3ffffe4, 0x7ffffde, 0x7ffffdf, 0x3ffffe5, 0xfffff1, 0x1ffffed,
        0x7fff2, 0x1fffe3, 0x3ffffe6, 0x7ffffe0, 0x7ffffe1, 0x3ffffe7, 0x7ffffe2, 0xfffff2,
        0x1fffe4, 0x1fffe5, 0x3ffffe8, 0x3ffffe9, 0xffffffd, 0x7ffffe3, 0x7ffffe4, 0x7ffffe5,
        0xfffec, 0xfffff3, 0xfffed, 0x1fffe6, 0x3fffe9, 0x1fffe7, 0x1fffe8, 0x7ffff3,
        0x3fffea, 0x3fffeb, 0x1ffffee, 0x1ffffef, 0xfffff4, 0xfffff5, 0x3ffffea, 0x7ffff4,
        0x3ffffeb, 0x7ffffe6, 0x3ffffec, 0x3ffffed, 0x7ffffe7, 0x7ffffe8, 0x7ffffe9, 0x7ffffea,
        0x7ffffeb, 0xffffffe, 0x7ffffec, 0x7ffffed, 0x7ffffee, 0x7ffffef, 0x7fffff0, 0x3ffffee,
        0x3fffffff,    };

    static final byte[] LENGTHS = {
        13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28,
        28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
        6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6,
        5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,
        13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
        7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,
        15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5,
        6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,
        20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23,
        24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
        22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23,
        21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
        26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25,
        19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
        20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23,
        26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
        30,    };

    static final int EOS = 256;

    private static final int EMIT = 1 << 16;
    private static final int FAIL = 1 << 17;
    private static final int STATES = 256;
    /** [state * 16 + nibble]: the next state in bits 0-7, the emitted symbol in bits 8-15, EMIT and FAIL flags. */
    private static final int[] TRANSITIONS = new int[STATES * 16];
    /** Whether a string may end in the state: at the root, or after at most 7 one-bits of padding. */
    private static final boolean[] ACCEPTING = new boolean[STATES];

    static
    {
        // the code tree: children[2 * node + bit] is an inner node (> 0), or -(symbol + 1) for a leaf, 0 when unset
        final int[] children = new int[2 * STATES];
        final int[] depth = new int[STATES];
        final boolean[] allOnes = new boolean[STATES];
        allOnes[0] = true;
        int nodes = 1;
        for (int symbol = 0; symbol <= EOS; symbol++)
        {
            final int code = CODES[symbol];
            final int length = LENGTHS[symbol];
            int node = 0;
            for (int i = length - 1; i > 0; i--)
            {
                final int bit = code >>> i & 1;
                int child = children[2 * node + bit];
                if (child == 0)
                {
                    child = nodes++;
                    children[2 * node + bit] = child;
                    depth[child] = depth[node] + 1;
                    allOnes[child] = allOnes[node] && bit == 1;
                }
                node = child;
            }
            children[2 * node + (code & 1)] = -(symbol + 1);
        }
        if (nodes != STATES)
        {
            throw new IllegalStateException("Huffman code tree has " + nodes + " inner nodes");
        }
        for (int state = 0; state < STATES; state++)
        {
            ACCEPTING[state] = state == 0 || allOnes[state] && depth[state] <= 7;
            for (int nibble = 0; nibble < 16; nibble++)
            {
                int node = state;
                int entry = 0;
                for (int i = 3; i >= 0; i--)
                {
                    final int child = children[2 * node + (nibble >>> i & 1)];
                    if (child < 0)
                    {
                        final int symbol = -child - 1;
                        if (symbol == EOS)
                        {
                            entry = FAIL;
                            break;
                        }
                        entry = EMIT | symbol << 8;
                        node = 0;
                    }
                    else
                    {
                        node = child;
                    }
                }
                TRANSITIONS[state * 16 + nibble] = (entry & FAIL) != 0 ? FAIL : entry | node;
            }
        }
    }

    private Huffman()
    {
    }

    /**
     * Decodes {@code length} Huffman-coded bytes, writing the decoded bytes to {@code dst} from {@code dstOffset}
     * but never at or beyond {@code dstLimit}: the count returned goes on past the limit, so a caller can tell an
     * overlong string (and still check the string's validity) without the bytes landing anywhere.
     *
     * @return the decoded length, or -1 when the bytes are not a valid Huffman string (EOS, bad padding)
     */
    static int decode(
        final DirectBuffer src,
        final int offset,
        final int length,
        final MutableDirectBuffer dst,
        final int dstOffset,
        final int dstLimit)
    {
        int state = 0;
        int out = dstOffset;
        final int end = offset + length;
        for (int i = offset; i < end; i++)
        {
            final int b = src.getByte(i) & 0xff;
            int t = TRANSITIONS[state << 4 | b >>> 4];
            if ((t & FAIL) != 0)
            {
                return -1;
            }
            if ((t & EMIT) != 0)
            {
                if (out < dstLimit)
                {
                    dst.putByte(out, (byte)(t >>> 8));
                }
                out++;
            }
            state = t & 0xff;
            t = TRANSITIONS[state << 4 | b & 0xf];
            if ((t & FAIL) != 0)
            {
                return -1;
            }
            if ((t & EMIT) != 0)
            {
                if (out < dstLimit)
                {
                    dst.putByte(out, (byte)(t >>> 8));
                }
                out++;
            }
            state = t & 0xff;
        }
        return ACCEPTING[state] ? out - dstOffset : -1;
    }

    static int encodedLength(final DirectBuffer src, final int offset, final int length)
    {
        long bits = 0;
        for (int i = offset, end = offset + length; i < end; i++)
        {
            bits += LENGTHS[src.getByte(i) & 0xff];
        }
        return (int)((bits + 7) >>> 3);
    }

    /** Writes the code of each byte, padded with ones (the start of EOS, §5.2), and returns the bytes written. */
    static int encode(
        final DirectBuffer src,
        final int offset,
        final int length,
        final MutableDirectBuffer dst,
        final int dstOffset)
    {
        long pending = 0;
        int bits = 0;
        int out = dstOffset;
        for (int i = offset, end = offset + length; i < end; i++)
        {
            final int symbol = src.getByte(i) & 0xff;
            pending = pending << LENGTHS[symbol] | CODES[symbol];
            bits += LENGTHS[symbol];
            while (bits >= 8)
            {
                bits -= 8;
                dst.putByte(out++, (byte)(pending >>> bits));
            }
            pending &= (1L << bits) - 1;
        }
        if (bits > 0)
        {
            dst.putByte(out++, (byte)(pending << (8 - bits) | 0xff >>> bits));
        }
        return out - dstOffset;
    }
}
