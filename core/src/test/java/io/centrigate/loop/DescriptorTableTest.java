package io.centrigate.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;

import io.centrigate.config.OpenFileLimit;
import io.centrigate.config.ProxyContext;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

class DescriptorTableTest
{
    @Test
    void theTableGrowsToTheSizeAskedAndNoDescriptorStaysOpen()
    {
        final int before = DescriptorTable.currentSize();
        Assumptions.assumeTrue(before > 0, "Linux only (/proc/self/status)");
        final long limit = OpenFileLimit.current();
        final int want = (int)Math.min(Math.min(limit, DescriptorTable.PORTABLE_MAX), 2L * before + 1);
        Assumptions.assumeTrue(want > before, "the table is at the open-files limit already: " + before);
        final int open = DescriptorTable.openDescriptors();
        final int reserved = DescriptorTable.reserve(want);
        assertTrue(reserved >= want - open - 8, "reserved " + reserved + " of " + want);
        assertTrue(DescriptorTable.currentSize() >= reserved, "FDSize " + DescriptorTable.currentSize());
        assertTrue(DescriptorTable.currentSize() > before, "FDSize " + DescriptorTable.currentSize() + " was " + before);
        // what it opened to get there is closed again (other threads of the test JVM may open a few meanwhile)
        assertTrue(DescriptorTable.openDescriptors() <= open + 8,
            DescriptorTable.openDescriptors() + " descriptors open, " + open + " before");
        assertEquals(reserved, DescriptorTable.reserve(want), "a second call for as many does nothing");
    }

    @Test
    void autoAsksForTwoDescriptorsPerConnectionWithinTheLimit()
    {
        final ProxyContext auto = new ProxyContext().listen(new InetSocketAddress("127.0.0.1", 0))
            .upstream(new InetSocketAddress("127.0.0.1", 9)).loops(2).maxConnections(1000).openFileLimit(100_000).conclude();
        assertEquals(2 * 1000 + ProxyContext.DESCRIPTOR_MARGIN + 2, auto.fdTableSlots());
        final ProxyContext capped = new ProxyContext().listen(new InetSocketAddress("127.0.0.1", 0))
            .upstream(new InetSocketAddress("127.0.0.1", 9)).loops(1).maxConnections(10_000).openFileLimit(5_000).conclude();
        assertEquals(5_000, capped.fdTableSlots());
        final ProxyContext off = new ProxyContext().listen(new InetSocketAddress("127.0.0.1", 0))
            .upstream(new InetSocketAddress("127.0.0.1", 9)).fdTable(0).conclude();
        assertEquals(0, off.fdTableSlots());
    }
}
