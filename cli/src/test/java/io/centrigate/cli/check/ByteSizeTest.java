package io.centrigate.cli.check;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class ByteSizeTest
{
    @Test
    void readsCentrigateAndJvmSizeSuffixesInEitherCase()
    {
        assertEquals(4096, ByteSize.parse("4096"));
        assertEquals(64L << 10, ByteSize.parse("64k"));
        assertEquals(256L << 20, ByteSize.parse("256m"));
        assertEquals(512L << 20, ByteSize.parse("512M"));
        assertEquals(2L << 30, ByteSize.parse("2G"));
        assertEquals(1L << 40, ByteSize.parse("1t"));
    }

    @Test
    void rejectsAnythingElse()
    {
        for (final String bad : new String[] {"", "m", "1.5g", "-1", "12 parsecs", "99999999999t"})
        {
            assertThrows(IllegalArgumentException.class, () -> ByteSize.parse(bad), bad);
        }
    }
}
