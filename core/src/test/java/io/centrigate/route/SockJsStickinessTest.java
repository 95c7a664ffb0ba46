package io.centrigate.route;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import io.centrigate.config.ProxyContext;
import io.centrigate.upstream.UpstreamGroup;

/** SockJS session URLs go to one node by rendezvous hashing; everything else is left to least-conn. */
class SockJsStickinessTest
{
    private static final long NOW = 1_000_000_000L;
    private static final int SESSIONS = 1000;

    private static Router router(final boolean sticky, final String prefix)
    {
        final ProxyContext ctx = new ProxyContext().sockJsSticky(sticky)
            .listen(new InetSocketAddress("127.0.0.1", 0)).upstream(new InetSocketAddress("127.0.0.1", 9));
        if (prefix != null)
        {
            ctx.prefix(prefix);
        }
        return new Router(ctx.conclude());
    }

    private static long key(final Router router, final String path)
    {
        final UnsafeBuffer buf = new UnsafeBuffer(("GET " + path).getBytes(StandardCharsets.US_ASCII));
        return router.sockJsKey(buf, 4, path.length()); // at an offset, as in a head buffer
    }

    private static UpstreamGroup group(final int... weights)
    {
        final List<ProxyContext.Upstream> nodes = new ArrayList<>();
        for (int i = 0; i < weights.length; i++)
        {
            nodes.add(new ProxyContext.Upstream(new InetSocketAddress("10.0.0." + (i + 1), 8000), weights[i]));
        }
        return new UpstreamGroup(nodes, ProxyContext.Balance.LEAST_CONN, TimeUnit.SECONDS.toNanos(10));
    }

    private static UpstreamGroup group(final String... hosts)
    {
        final List<ProxyContext.Upstream> nodes = new ArrayList<>();
        for (final String h : hosts)
        {
            nodes.add(new ProxyContext.Upstream(new InetSocketAddress(h, 8000), 1));
        }
        return new UpstreamGroup(nodes, ProxyContext.Balance.LEAST_CONN, TimeUnit.SECONDS.toNanos(10));
    }

    private static String session(final int i)
    {
        return "s" + Integer.toHexString(i * 7919) + "x" + i;
    }

    private static String pick(final UpstreamGroup g, final long key)
    {
        final int node = g.acquire(NOW, 0, key);
        g.release(node);
        return g.name(node);
    }

    @Test
    void everyHttpTransportOfOneSessionHasOneKeyAndOthersHaveNone()
    {
        final Router router = router(true, null);
        final long k = key(router, "/connection/sockjs/123/abc-def/xhr_streaming");
        assertNotEquals(0, k);
        for (final String t : new String[] {"xhr", "xhr_send", "eventsource", "htmlfile?c=_jp.a1", "jsonp?c=x",
            "jsonp_send", "xhr_send?t=1"})
        {
            assertEquals(k, key(router, "/connection/sockjs/999/abc-def/" + t), t); // the server segment is random
        }
        assertNotEquals(k, key(router, "/connection/sockjs/123/abc-deg/xhr"));
        for (final String other : new String[] {"/connection/sockjs/123/abc-def/websocket",
            "/connection/sockjs/info", "/connection/sockjs/info?t=1", "/connection/sockjs/websocket",
            "/connection/sockjs/123/abc-def/unknown", "/connection/sockjs/123/abc-def/xhr/more",
            "/connection/sockjs/123//xhr", "/connection/sockjs//abc/xhr", "/connection/websocket",
            "/connection/http_stream", "/emulation", "/api/publish", "/connection/sockjs/",
            "/connection/sockjsx/1/a/xhr"})
        {
            assertEquals(0, key(router, other), other);
        }
        assertEquals(0, key(router(false, null), "/connection/sockjs/123/abc-def/xhr"), "sockjs-sticky off");
    }

    @Test
    void theSameSessionGoesToTheSameNodeAndSessionsSpreadOverAll()
    {
        final Router router = router(true, null);
        final UpstreamGroup g = group(1, 1, 1, 1);
        final int[] perNode = new int[4];
        for (int i = 0; i < SESSIONS; i++)
        {
            final long k = key(router, "/connection/sockjs/1/" + session(i) + "/xhr_streaming");
            final int first = g.acquire(NOW, 0, k);
            perNode[first]++;
            // Whatever the load does meanwhile (the node keeps this connection), the session stays.
            for (final String t : new String[] {"xhr_send", "xhr", "eventsource"})
            {
                final long again = key(router, "/connection/sockjs/" + (i % 1000) + "/" + session(i) + "/" + t);
                assertEquals(first, g.acquire(NOW, 0, again), session(i) + " " + t);
            }
            // And a second group of the same addresses (a reload) agrees.
            assertEquals(g.name(first), pick(group(1, 1, 1, 1), k));
        }
        for (final int n : perNode)
        {
            assertTrue(n > SESSIONS / 4 * 0.7 && n < SESSIONS / 4 * 1.3, "spread: " + java.util.Arrays.toString(perNode));
        }
    }

    @Test
    void removingOneNodeOfFourMovesOnlyItsSessions()
    {
        final Router router = router(true, null);
        final UpstreamGroup four = group("10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4");
        final UpstreamGroup three = group("10.0.0.1", "10.0.0.2", "10.0.0.4"); // 10.0.0.3 removed (a reload)
        int moved = 0;
        int movedByDown = 0;
        for (int i = 0; i < SESSIONS; i++)
        {
            final long k = key(router, "/connection/sockjs/7/" + session(i) + "/xhr");
            final String before = pick(four, k);
            final String after = pick(three, k);
            if (!before.equals(after))
            {
                moved++;
                assertEquals("10.0.0.3:8000", before, "only the removed node's sessions move");
            }
            // The same node down by health checks instead of removed: the same sessions move, to the same nodes.
            four.checkedDown(2, true);
            final String whileDown = pick(four, k);
            four.checkedDown(2, false);
            assertEquals(after, whileDown, session(i));
            if (!before.equals(whileDown))
            {
                movedByDown++;
            }
        }
        assertTrue(moved > 0 && moved < SESSIONS * 35 / 100, "moved " + moved + " of " + SESSIONS);
        assertEquals(moved, movedByDown);
        // Back up: every session is where it was at first.
        for (int i = 0; i < SESSIONS; i++)
        {
            final long k = key(router, "/connection/sockjs/7/" + session(i) + "/xhr");
            assertEquals(pick(group("10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"), k), pick(four, k));
        }
    }

    @Test
    void addingAThirdNodeMovesAboutAThirdAndAFourthAboutAQuarterAllToTheNewNode()
    {
        final Router router = router(true, null);
        assertAddingANodeMovesOnlyToIt(router, new String[] {"10.0.0.1", "10.0.0.2"}, "10.0.0.3");
        assertAddingANodeMovesOnlyToIt(router, new String[] {"10.0.0.1", "10.0.0.2", "10.0.0.3"}, "10.0.0.4");
    }

    @Test
    void withThreeNodesStreamingAndSendOfOneSessionShareANode()
    {
        final Router router = router(true, null);
        final UpstreamGroup g = group("10.0.0.1", "10.0.0.2", "10.0.0.3");
        final int[] perNode = new int[3];
        for (int i = 0; i < SESSIONS; i++)
        {
            final long k = key(router, "/connection/sockjs/42/" + session(i) + "/xhr_streaming");
            final int streaming = g.acquire(NOW, 0, k);
            perNode[streaming]++; // held open, as the streaming request is: load must not move the sends
            for (int m = 0; m < 5; m++)
            {
                // Each xhr_send is a new request (the client's server segment stays, but need not).
                final long send = key(router, "/connection/sockjs/" + m + "/" + session(i) + "/xhr_send");
                assertEquals(k, send);
                final int node = g.acquire(NOW, 0, send);
                assertEquals(streaming, node, session(i));
                g.release(node);
            }
        }
        for (final int n : perNode)
        {
            assertTrue(n > SESSIONS / 3 * 0.8 && n < SESSIONS / 3 * 1.2,
                "spread: " + java.util.Arrays.toString(perNode));
        }
    }

    /**
     * Adding one node to n moves about 1/(n+1) of the sessions, every one of them to the new node: no session moves
     * between the nodes that were there (those would lose their SockJS session for nothing).
     */
    private static void assertAddingANodeMovesOnlyToIt(final Router router, final String[] before, final String added)
    {
        final String[] after = java.util.Arrays.copyOf(before, before.length + 1);
        after[before.length] = added;
        final UpstreamGroup old = group(before);
        final UpstreamGroup grown = group(after);
        final int sessions = 3000;
        int moved = 0;
        for (int i = 0; i < sessions; i++)
        {
            final long k = key(router, "/connection/sockjs/3/" + session(i) + "/xhr_streaming");
            final String was = pick(old, k);
            final String now = pick(grown, k);
            if (!was.equals(now))
            {
                moved++;
                assertEquals(added + ":8000", now, session(i) + " moved between old nodes " + was + " -> " + now);
            }
        }
        final double expected = (double) sessions / after.length;
        assertTrue(moved > expected * 0.85 && moved < expected * 1.15,
            before.length + " -> " + after.length + " nodes moved " + moved + " of " + sessions + ", expected about "
                + (int) expected);
    }

    @Test
    void weightsSetTheShareOfSessions()
    {
        final Router router = router(true, null);
        final UpstreamGroup g = group(3, 1);
        int heavy = 0;
        for (int i = 0; i < 4000; i++)
        {
            if (g.acquire(NOW, 0, key(router, "/connection/sockjs/1/" + session(i) + "/xhr")) == 0)
            {
                heavy++;
            }
        }
        assertTrue(heavy > 2800 && heavy < 3200, "weight 3 of 4 took " + heavy + " of 4000");
    }

    @Test
    void aNodeAlreadyTriedIsPassedOverForTheSessionsNextChoice()
    {
        final Router router = router(true, null);
        final UpstreamGroup g = group(1, 1, 1, 1);
        final long k = key(router, "/connection/sockjs/1/retry-me/xhr_send");
        final int first = g.acquire(NOW, 0, k);
        final int second = g.acquire(NOW, 1L << first, k);
        assertNotEquals(first, second);
        assertEquals(second, g.acquire(NOW, 1L << first, k), "the fallback is as stable as the first choice");
    }

    @Test
    void withoutAKeyTheChoiceStaysLeastConn()
    {
        final Router router = router(true, null);
        final UpstreamGroup g = group(1, 1, 1, 1);
        final long websocket = key(router, "/connection/sockjs/1/abc/websocket");
        final long other = key(router, "/connection/http_stream");
        assertEquals(0, websocket);
        assertEquals(0, other);
        // Least-conn: four picks held open land on four different nodes; a sticky key would give one node.
        final boolean[] seen = new boolean[4];
        for (int i = 0; i < 4; i++)
        {
            seen[g.acquire(NOW, 0, i % 2 == 0 ? websocket : other)] = true;
        }
        for (final boolean s : seen)
        {
            assertTrue(s, "every node got one of four held connections");
        }
        final long sticky = key(router, "/connection/sockjs/1/abc/xhr");
        final int node = g.acquire(NOW, 0, sticky);
        for (int i = 0; i < 8; i++)
        {
            assertEquals(node, g.acquire(NOW, 0, sticky), "a session ignores load");
        }
    }

    @Test
    void theKeyIsTakenFromThePathTheNodeSeesUnderAPrefix()
    {
        final Router router = router(true, "/centrifugo");
        final String path = "/centrifugo/connection/sockjs/1/abc/xhr";
        final UnsafeBuffer buf = new UnsafeBuffer(path.getBytes(StandardCharsets.US_ASCII));
        final int group = router.route(buf, 0, path.length(), -1, 0, false);
        final int strip = router.stripLength(buf, 0, path.length(), group);
        assertEquals(key(router, "/connection/sockjs/1/abc/xhr"), router.sockJsKey(buf, strip, path.length() - strip));
        assertNotEquals(0, router.sockJsKey(buf, strip, path.length() - strip));
    }
}
