package io.centrigate.route;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import io.centrigate.config.ProxyContext;

/** One router serves every loop: what a route tells one loop must not depend on another loop's route. */
class RouterTest
{
    private static UnsafeBuffer bytes(final String s)
    {
        return new UnsafeBuffer(s.getBytes(StandardCharsets.US_ASCII));
    }

    @Test
    void theStripLengthBelongsToTheRequestEvenWhileOtherLoopsRoute() throws Exception
    {
        final ProxyContext ctx = new ProxyContext().prefix("/centrifugo")
            .listen(new InetSocketAddress("127.0.0.1", 0)).upstream(new InetSocketAddress("127.0.0.1", 9));
        ctx.conclude();
        final Router router = new Router(ctx);
        final UnsafeBuffer prefixed = bytes("/centrifugo/connection/websocket");
        final UnsafeBuffer outside = bytes("/elsewhere");
        assertEquals(0, router.route(prefixed, 0, prefixed.capacity(), -1, 0, false));
        assertEquals("/centrifugo".length(), router.stripLength(prefixed, 0, prefixed.capacity(), 0));
        assertEquals(Router.NOT_FOUND, router.route(outside, 0, outside.capacity(), -1, 0, false));

        // Two loops at once. When the strip length was a field that route() wrote, the first loop read the other's
        // 0 between its route and its read often enough to fail within these iterations.
        final AtomicLong wrong = new AtomicLong();
        final CompletableFuture<Void> a = CompletableFuture.runAsync(() ->
        {
            for (int i = 0; i < 2_000_000; i++)
            {
                final int group = router.route(prefixed, 0, prefixed.capacity(), -1, 0, false);
                if (router.stripLength(prefixed, 0, prefixed.capacity(), group) != "/centrifugo".length())
                {
                    wrong.incrementAndGet();
                }
            }
        });
        final CompletableFuture<Void> b = CompletableFuture.runAsync(() ->
        {
            for (int i = 0; i < 2_000_000; i++)
            {
                router.route(outside, 0, outside.capacity(), -1, 0, false);
            }
        });
        a.get(60, TimeUnit.SECONDS);
        b.get(60, TimeUnit.SECONDS);
        assertEquals(0, wrong.get(), "routes that read another loop's strip length");
    }
}
