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
        assertEquals("transport: expected nio, epoll, io_uring or auto, got 'kqueue'", unknown.getMessage());
    }

    @Test
    void ioUringRunsWhereTheKernelAllowsItAndSaysWhyWhereItDoesNot()
    {
        if (FFM)
        {
            // This machine's kernel allows io_uring (the suite's io_uring leg needs it).
            assertNull(Transports.unavailableReason("io_uring"));
            final ProxyContext ctx = new ProxyContext().transport("io_uring").conclude();
            assertEquals("io_uring", ctx.transportInUse());
            assertTrue(ctx.warnings().stream().noneMatch(w -> w.contains("transport")), ctx.warnings().toString());
            try (Poller poller = Transports.factory("io_uring").apply(() -> { }))
            {
                assertEquals("io_uring", poller.transport());
            }
        }
        else
        {
            final IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new ProxyContext().transport("io_uring").conclude());
            assertTrue(e.getMessage().startsWith(
                "transport io_uring is not available here: java.lang.foreign needs JDK 22"), e.getMessage());
        }
    }

    @Test
    void ioUringRefusedByTheKernelFallsBackToEpollAndNothingElseDoes()
    {
        final String refused = "io_uring_setup: EPERM";
        assertEquals("epoll", Transports.resolve("io_uring", null, refused));
        assertNull(Transports.refusal("io_uring", null, refused));
        assertEquals("io_uring", Transports.resolve("io_uring", null, null));
        assertEquals("epoll", Transports.resolve("auto", null, null), "auto stays on epoll");
        // No epoll either (an old JDK): refused with io_uring's own reason, as an explicit epoll is.
        final String oldJdk = "java.lang.foreign needs JDK 22 or later, this is 17";
        assertEquals(oldJdk, Transports.refusal("io_uring", oldJdk, oldJdk));
        final IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> Transports.resolve("io_uring", oldJdk, oldJdk));
        assertEquals("transport io_uring is not available: " + oldJdk, e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Transports.resolve("epoll", refused, refused));
        assertNull(Transports.fallbackNotice("io_uring", "io_uring"));
        assertNull(Transports.fallbackNotice("auto", "nio"));
    }
}
