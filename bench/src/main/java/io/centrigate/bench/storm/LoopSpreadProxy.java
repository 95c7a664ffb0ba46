package io.centrigate.bench.storm;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import io.centrigate.config.ProxyContext;
import io.centrigate.metrics.LoopSnapshot;
import io.centrigate.proxy.Proxy;

/**
 * The same engine as {@code centrigate run}, started in-process so its per-loop counters can be read: on
 * SIGTERM/SIGINT it prints one JSON line with each loop's accepted connections and opened tunnels, then stops.
 * Used only to observe how evenly an accept mode spreads connections over loops.
 *
 * <pre>java --add-exports java.base/jdk.internal.misc=ALL-UNNAMED -cp bench/target/benchmarks.jar \
 *     io.centrigate.bench.storm.LoopSpreadProxy LISTEN_PORT UPSTREAM_PORT reuseport|acceptor LOOPS</pre>
 */
public final class LoopSpreadProxy
{
    private LoopSpreadProxy()
    {
    }

    public static void main(final String[] args) throws Exception
    {
        final ProxyContext ctx = new ProxyContext()
            .listen(new InetSocketAddress("127.0.0.1", Integer.parseInt(args[0])))
            .upstream(new InetSocketAddress("127.0.0.1", Integer.parseInt(args[1])))
            .acceptMode(ProxyContext.AcceptMode.parse(args[2]))
            .loops(Integer.parseInt(args[3]));
        final Proxy proxy = Proxy.start(ctx);
        final CountDownLatch done = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() ->
        {
            try
            {
                final List<LoopSnapshot> snaps = proxy.snapshot(5, TimeUnit.SECONDS);
                final StringBuilder sb = new StringBuilder("{\"mode\":\"").append(args[2]).append("\",\"loops\":[");
                for (int i = 0; i < snaps.size(); i++)
                {
                    final LoopSnapshot s = snaps.get(i);
                    sb.append(i == 0 ? "" : ",").append(String.format(Locale.ROOT,
                        "{\"loop\":\"%s\",\"accepted\":%d,\"tunnels\":%d,\"accept_errors\":%d,\"connect_failures\":%d}",
                        s.loop(), s.accepted(), s.tunnelsOpened(), s.acceptErrors(), s.upstreamConnectFailures()));
                }
                System.out.println(sb.append("]}"));
                System.out.flush();
            }
            catch (final Exception e)
            {
                System.err.println("snapshot failed: " + e);
            }
            finally
            {
                proxy.close();
                done.countDown();
            }
        }, "spread-report"));
        System.out.println("centrigate-embedded listening on " + proxy.boundAddresses() + " accept " + args[2] +
            " loops " + args[3]);
        System.out.flush();
        Thread.currentThread().join();
    }
}
