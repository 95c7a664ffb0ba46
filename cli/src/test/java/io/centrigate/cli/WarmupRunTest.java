package io.centrigate.cli;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.centrigate.testing.HttpUpstream;
import io.centrigate.testing.RawClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@code --warmup} through the real {@code centrigate run} process: warm-up first, then the listeners. */
@Timeout(60)
class WarmupRunTest
{
    @Test
    void warmsUpBeforeItListensThenProxies() throws Exception
    {
        try (HttpUpstream node = new HttpUpstream();
            CentrigateProcess proxy = CentrigateProcess.start(Map.of(), "run", "--listen", "127.0.0.1:0",
                "--upstream", "127.0.0.1:" + node.address().getPort(), "--warmup", "300ms"))
        {
            // Skips nothing of interest: the warm-up line must come before the listening line on stdout.
            final String warmedUp = proxy.awaitLine("centrigate");
            assertTrue(warmedUp.matches("centrigate: warmed up in \\d+\\.\\d s \\(\\d+ upgrades, \\d+ requests\\)"),
                warmedUp);
            assertTrue(!warmedUp.contains("(0 upgrades") && !warmedUp.contains(" 0 requests"), warmedUp);
            final Matcher port = Pattern.compile(" listening on 127\\.0\\.0\\.1:(\\d+) ")
                .matcher(proxy.awaitLine("centrigate "));
            assertTrue(port.find());
            try (RawClient client = new RawClient(new InetSocketAddress("127.0.0.1", Integer.parseInt(port.group(1)))))
            {
                client.send("GET /health HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
                final String answer = client.readAll();
                assertTrue(answer.startsWith("HTTP/1.1 200 "), answer);
            }
            assertTrue(node.proxiedRequests().size() == 1, "only the client's request reached the configured node");
        }
    }
}
