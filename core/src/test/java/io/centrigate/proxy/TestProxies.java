package io.centrigate.proxy;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.TimeUnit;

import io.centrigate.config.ProxyContext;
import io.centrigate.metrics.LoopSnapshot;

/** Starting a proxy on an ephemeral loopback port, and waiting on its state without sleeping blindly. */
final class TestProxies
{
    private TestProxies()
    {
    }

    static ProxyContext context(final InetSocketAddress... upstreams)
    {
        final ProxyContext ctx = new ProxyContext().listen(new InetSocketAddress("127.0.0.1", 0)).loops(2);
        for (final InetSocketAddress u : upstreams)
        {
            ctx.upstream(u);
        }
        return ctx;
    }

    static Proxy start(final ProxyContext ctx) throws IOException
    {
        return Proxy.start(ctx);
    }

    static InetSocketAddress address(final Proxy proxy)
    {
        return proxy.boundAddresses().get(0);
    }

    /** Polls until every loop has no session and all chunks are back, or fails after the timeout. */
    static List<LoopSnapshot> awaitIdle(final Proxy proxy, final long timeoutMs) throws Exception
    {
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        List<LoopSnapshot> snap;
        do
        {
            snap = proxy.snapshot(5, TimeUnit.SECONDS);
            if (snap.stream().allMatch(s -> s.sessions() == 0 && s.chunksInUse() == 0))
            {
                return snap;
            }
            Thread.onSpinWait();
            Thread.sleep(10); // polling interval of a bounded wait, not a synchronisation by sleeping
        }
        while (System.nanoTime() < deadline);
        throw new AssertionError("proxy not idle after " + timeoutMs + " ms: " + snap);
    }
}
