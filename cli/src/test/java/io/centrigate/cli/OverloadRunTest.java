package io.centrigate.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.centrigate.testing.RawClient;
import io.centrigate.testing.SaturatedListener;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The overload options as a user sets them, through the real {@code centrigate run} process. */
@Timeout(60)
class OverloadRunTest
{
    @Test
    void firstByteAndNextUpstreamTimeoutsTakeEffectInTheProcess() throws Exception
    {
        try (SaturatedListener node = new SaturatedListener();
            CentrigateProcess proxy = CentrigateProcess.start(Map.of(), "run", "--listen", "127.0.0.1:0", "--loops", "1",
                "--upstream", "127.0.0.1:" + node.address().getPort(), "--connect-timeout", "100ms",
                "--next-upstream-timeout", "700ms", "--first-byte-timeout", "300ms", "--header-timeout", "1m"))
        {
            final Matcher port = Pattern.compile(" listening on 127\\.0\\.0\\.1:(\\d+) ")
                .matcher(proxy.awaitLine("centrigate "));
            assertTrue(port.find());
            final InetSocketAddress address = new InetSocketAddress("127.0.0.1", Integer.parseInt(port.group(1)));
            try (RawClient silent = new RawClient(address))
            {
                assertEquals("", silent.readAll(), "closed without an answer after --first-byte-timeout");
            }
            try (RawClient client = new RawClient(address))
            {
                client.send("GET /connection/websocket HTTP/1.1\r\nHost: a\r\n\r\n");
                assertTrue(client.readAll().startsWith("HTTP/1.1 502 "));
            }
            // Several attempts within --next-upstream-timeout; the error log folds repeats into "(N more)".
            final String timedOut = proxy.awaitErrorLine("centrigate: upstream-connect: ");
            assertTrue(timedOut.contains("connect timed out"), timedOut);
        }
    }
}
