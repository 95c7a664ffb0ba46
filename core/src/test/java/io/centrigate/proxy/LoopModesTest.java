package io.centrigate.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.http.HttpClient;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import io.centrigate.config.ProxyContext;
import io.centrigate.testing.WsClient;
import io.centrigate.testing.WsEchoUpstream;

/** Every idle strategy and both accept modes carry tunnels; the acceptor mode spreads them over loops. */
class LoopModesTest
{
    @ParameterizedTest(name = "idle {0}, accept {1}")
    @CsvSource({"block,reuseport", "backoff,reuseport", "yield,acceptor", "spin,acceptor", "block,acceptor"})
    @Timeout(60)
    void tunnelsWork(final String idle, final String accept) throws Exception
    {
        try (WsEchoUpstream upstream = WsEchoUpstream.start(0);
            Proxy proxy = TestProxies.start(TestProxies.context(upstream.address())
                .idleMode(ProxyContext.IdleMode.parse(idle)).acceptMode(ProxyContext.AcceptMode.parse(accept))))
        {
            final HttpClient http = HttpClient.newHttpClient();
            final List<WsClient> clients = new ArrayList<>();
            for (int i = 0; i < 20; i++)
            {
                final WsClient c = WsClient.connect(http, TestProxies.address(proxy), "/connection/websocket");
                assertEquals("m" + i, c.echoText("m" + i));
                clients.add(c);
            }
            if (accept.equals("acceptor"))
            {
                // Round-robin hand-off: each of the two loops owns half of the sessions.
                for (final var s : proxy.snapshot(5, TimeUnit.SECONDS))
                {
                    assertEquals(10, s.sessions(), s.toString());
                }
            }
            for (final WsClient c : clients)
            {
                c.socket().sendClose(1000, "");
                c.closed().get(10, TimeUnit.SECONDS);
            }
            TestProxies.awaitIdle(proxy, 10_000);
        }
    }
}
