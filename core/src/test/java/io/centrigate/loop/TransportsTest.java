package io.centrigate.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import io.centrigate.config.ProxyContext;

/** Which transport a context gets: the suite's property decides the default, so each run really is on it. */
class TransportsTest
{
    private static final boolean FFM = Runtime.version().feature() >= 22;

    @Test
    void theSuitesPropertyIsTheDefaultOfEveryContextAndRunsAsAsked()
    {
        final String asked = System.getProperty("centrigate.transport", "nio");
        final ProxyContext ctx = new ProxyContext().conclude();
        assertEquals(asked, ctx.transport());
        assertEquals(asked.equals("auto") ? (FFM ? "epoll" : "nio") : asked, ctx.transportInUse());
        try (Poller poller = Transports.openDefault())
        {
            assertEquals(ctx.transportInUse(), poller.transport());
        }
    }

    @Test
    void autoFallsBackToNioWithoutTheForeignApiAndAnExplicitEpollSaysWhy()
    {
        assertEquals(FFM ? "epoll" : "nio", new ProxyContext().transport("auto").conclude().transportInUse());
        if (FFM)
        {
            assertNull(Transports.unavailableReason("epoll"));
            assertEquals("epoll", new ProxyContext().transport("epoll").conclude().transportInUse());
        }
        else
        {
            final IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new ProxyContext().transport("epoll").conclude());
            assertTrue(e.getMessage().startsWith("transport epoll is not available here: java.lang.foreign needs JDK 22"),
                e.getMessage());
        }
        final IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class,
            () -> new ProxyContext().transport("kqueue").conclude());
        assertEquals("transport: expected nio, epoll or auto, got 'kqueue'", unknown.getMessage());
    }
}
