package io.centrigate.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

class ProxyContextTest
{
    @Test
    void parsesDurationsWithUnitsAndZeroAsOff()
    {
        assertEquals(TimeUnit.MILLISECONDS.toNanos(500), ProxyContext.parseDurationNs("500ms", "x"));
        assertEquals(TimeUnit.SECONDS.toNanos(5), ProxyContext.parseDurationNs("5s", "x"));
        assertEquals(TimeUnit.MINUTES.toNanos(2), ProxyContext.parseDurationNs("2m", "x"));
        assertEquals(TimeUnit.HOURS.toNanos(1), ProxyContext.parseDurationNs("1h", "x"));
        assertEquals(0, ProxyContext.parseDurationNs("0", "x"));
        assertThrows(IllegalArgumentException.class, () -> ProxyContext.parseDurationNs("5 s", "x"));
        assertThrows(IllegalArgumentException.class, () -> ProxyContext.parseDurationNs("-1s", "x"));
        assertThrows(IllegalArgumentException.class, () -> ProxyContext.parseDurationNs("5d", "x"));
    }

    @Test
    void parsesHostPortForms()
    {
        assertEquals(new InetSocketAddress("127.0.0.1", 8000), ProxyContext.parseHostPort("127.0.0.1:8000", "x"));
        assertEquals(8080, ProxyContext.parseHostPort(":8080", "x").getPort());
        assertEquals(8000, ProxyContext.parseHostPort("[::1]:8000", "x").getPort());
        assertThrows(IllegalArgumentException.class, () -> ProxyContext.parseHostPort("127.0.0.1", "x"));
        assertThrows(IllegalArgumentException.class, () -> ProxyContext.parseHostPort("127.0.0.1:70000", "x"));
    }

    @Test
    void derivesTheConnectionLimitFromTheOpenFilesLimit()
    {
        final ProxyContext ctx = new ProxyContext().loops(2).openFileLimit(20_000).conclude();
        // (20000 - 64 margin - 1 listener x 2 loops) / 2
        assertEquals(9967, ctx.maxConnections());
        assertTrue(ctx.warnings().isEmpty());
        final ProxyContext tooMany = new ProxyContext().loops(2).openFileLimit(1000).maxConnections(5000).conclude();
        assertEquals(5000, tooMany.maxConnections());
        assertTrue(tooMany.warnings().get(0).contains("RLIMIT_NOFILE"));
    }

    @Test
    void refusesAChunkTooSmallForTheLargestHead()
    {
        final Exception e = assertThrows(IllegalArgumentException.class,
            () -> new ProxyContext().chunkSize(16 * 1024).conclude());
        assertTrue(e.getMessage().contains("chunk-size"), e.getMessage());
    }
}
