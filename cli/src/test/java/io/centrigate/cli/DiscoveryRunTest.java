package io.centrigate.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import io.centrigate.testing.WsClient;
import io.centrigate.testing.WsEchoUpstream;

/**
 * Issue 13, DNS discovery, in the real {@code centrigate run} process: {@code --upstream nodes.test:P} where the
 * name comes from a hosts file the test rewrites ({@code -Djdk.net.hosts.file}, the JDK's own resolver, uncached),
 * with a node on 127.0.0.2:P and one on 127.0.0.3:P. Addresses that appear get new clients; addresses that go get
 * none; a name that stops resolving keeps its last good set.
 */
@Timeout(120)
class DiscoveryRunTest
{
    private static final Pattern LISTEN = Pattern.compile(" listening on 127\\.0\\.0\\.1:(\\d+) ");
    private static final Pattern ADMIN = Pattern.compile(" admin 127\\.0\\.0\\.1:(\\d+) ");

    @TempDir
    Path dir;

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(10)).build();

    private static int port(final Pattern pattern, final String line)
    {
        final Matcher m = pattern.matcher(line);
        assertTrue(m.find(), line);
        return Integer.parseInt(m.group(1));
    }

    private String get(final int admin, final String path) throws Exception
    {
        return http.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + admin + path))
            .timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString()).get(30, TimeUnit.SECONDS).body();
    }

    /** Polls {@code path} of the admin listener until its body satisfies {@code condition} (bounded). */
    private String await(final int admin, final String path, final String what, final Predicate<String> condition)
        throws Exception
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        String body = get(admin, path);
        while (!condition.test(body))
        {
            assertTrue(System.nanoTime() - deadline < 0, "not within 30 s: " + what + "; last " + path + ":\n" + body);
            Thread.sleep(50); // a bounded poll
            body = get(admin, path);
        }
        return body;
    }

    /** Replaces the hosts file at once (a rename), so the resolver never reads half of it. */
    private void hosts(final Path file, final String... addresses) throws Exception
    {
        final StringBuilder text = new StringBuilder("# rewritten by DiscoveryRunTest\n");
        for (final String a : addresses)
        {
            text.append(a).append(" nodes.test\n");
        }
        final Path tmp = dir.resolve("hosts.tmp");
        Files.writeString(tmp, text);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private static double sample(final String exposition, final String name, final String labels)
    {
        final Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + "\\{([^}]*)\\} (\\S+)").matcher(exposition);
        while (m.find())
        {
            if (m.group(1).contains(labels))
            {
                return Double.parseDouble(m.group(2));
            }
        }
        return -1;
    }

    private List<WsClient> connect(final InetSocketAddress proxy, final int n, final List<WsClient> all) throws Exception
    {
        final List<WsClient> clients = new ArrayList<>();
        for (int i = 0; i < n; i++)
        {
            final WsClient c = WsClient.connect(http, proxy, "/connection/websocket");
            assertEquals("m" + i, c.echoText("m" + i));
            clients.add(c);
        }
        all.addAll(clients);
        return clients;
    }

    @Test
    void addressesOfANameAreFollowedAndALookupFailureKeepsTheLastGoodSet() throws Exception
    {
        final Path hostsFile = dir.resolve("hosts");
        try (WsEchoUpstream a = WsEchoUpstream.start(new InetSocketAddress("127.0.0.2", 0));
            WsEchoUpstream b = WsEchoUpstream.start(new InetSocketAddress("127.0.0.3", a.getPort())))
        {
            hosts(hostsFile, "127.0.0.2");
            final String nameCount = "name=\"nodes.test\"";
            final List<WsClient> all = new ArrayList<>();
            try (CentrigateProcess proxy = CentrigateProcess.start(
                List.of("-Djdk.net.hosts.file=" + hostsFile, "-Dsun.net.inetaddr.ttl=0"), Map.of(),
                "run", "--listen", "127.0.0.1:0", "--upstream", "nodes.test:" + a.getPort(),
                "--admin-listen", "127.0.0.1:0", "--loops", "2", "--resolve-interval", "200ms", "--slow-start", "0",
                "--health-check-interval", "200ms"))
            {
                final String line = proxy.awaitLine("centrigate ");
                final InetSocketAddress address = new InetSocketAddress("127.0.0.1", port(LISTEN, line));
                final int admin = port(ADMIN, line);

                final String status = get(admin, "/status");
                assertTrue(status.contains("\"address\":\"127.0.0.2:" + a.getPort() + "\",\"name\":\"nodes.test\""), status);
                connect(address, 3, all);
                assertEquals(3, a.openNow());
                assertEquals(0, b.opened());

                // A second address appears: it becomes a node and gets new clients.
                hosts(hostsFile, "127.0.0.2", "127.0.0.3");
                assertEquals("centrigate: resolve: nodes.test now resolves to 127.0.0.2, 127.0.0.3 (was 127.0.0.2)",
                    proxy.awaitErrorLine("centrigate: resolve: nodes.test now"));
                await(admin, "/status", "127.0.0.3 a node", s -> s.contains("\"address\":\"127.0.0.3:" + a.getPort() + "\""));
                connect(address, 4, all);
                assertTrue(b.openNow() >= 2, "the new address got " + b.openNow() + " of 4 new clients");

                // The first address goes: no new client reaches it, and its tunnels are drained with 1012.
                final int tunnelsOnA = a.openNow();
                hosts(hostsFile, "127.0.0.3");
                await(admin, "/metrics", "one address left",
                    m -> sample(m, "centrigate_upstream_name_addresses", nameCount) == 1);
                proxy.awaitErrorLine("centrigate: node-removed: group default: 127.0.0.2:" + a.getPort() + " removed");
                final int onA = a.opened();
                final int onB = b.openNow();
                connect(address, 4, all);
                assertEquals(onA, a.opened(), "a removed address gets no new connection");
                assertEquals(onB + 4, b.openNow());
                final long drainDeadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
                while (a.openNow() > 0 && System.nanoTime() < drainDeadline)
                {
                    Thread.sleep(50);
                }
                assertEquals(0, a.openNow(), "the removed address's tunnels were drained");
                int closed = 0;
                for (final WsClient c : all)
                {
                    if (c.closed().isDone())
                    {
                        assertEquals(1012, c.closed().get(), "a drained tunnel is closed with 1012 (service restart)");
                        closed++;
                    }
                    else
                    {
                        assertEquals("still", c.echoText("still"), "tunnels on the remaining address run on");
                    }
                }
                assertEquals(tunnelsOnA, closed, "exactly the removed address's tunnels were closed");
                all.removeIf(c -> c.closed().isDone());

                // The name stops resolving: the last good set stays, the failure is counted and logged once.
                hosts(hostsFile);
                final String failing = await(admin, "/metrics", "three failed lookups",
                    m -> sample(m, "centrigate_upstream_resolutions_total", nameCount + ",result=\"fail\"") >= 3);
                assertEquals(1, sample(failing, "centrigate_upstream_name_addresses", nameCount), failing);
                assertTrue(sample(failing, "centrigate_upstream_resolutions_total", nameCount + ",result=\"ok\"") >= 3,
                    failing);
                connect(address, 2, all);
                assertEquals(onB + 6, b.openNow(), "still served by the last good address");
                hosts(hostsFile, "127.0.0.3");
                proxy.awaitErrorLine("centrigate: resolve: nodes.test resolves again");
                final String err = proxy.stderr();
                assertEquals(1, err.split("nodes.test does not resolve", -1).length - 1, "logged once per change:\n" + err);

                for (final WsClient c : all)
                {
                    c.socket().sendClose(1000, "");
                    c.closed().get(10, TimeUnit.SECONDS);
                }
            }
        }
    }

    @Test
    void aNameIsEveryAddressAtStartAndWithInterval0ItIsNotResolvedAgain() throws Exception
    {
        final Path hostsFile = dir.resolve("hosts");
        try (WsEchoUpstream a = WsEchoUpstream.start(new InetSocketAddress("127.0.0.2", 0));
            WsEchoUpstream b = WsEchoUpstream.start(new InetSocketAddress("127.0.0.3", a.getPort())))
        {
            hosts(hostsFile, "127.0.0.3", "127.0.0.2");
            final List<WsClient> all = new ArrayList<>();
            try (CentrigateProcess proxy = CentrigateProcess.start(
                List.of("-Djdk.net.hosts.file=" + hostsFile, "-Dsun.net.inetaddr.ttl=0"), Map.of(),
                "run", "--listen", "127.0.0.1:0", "--upstream", "nodes.test:" + a.getPort() + ",127.0.0.1:1@2",
                "--admin-listen", "127.0.0.1:0", "--loops", "1", "--resolve-interval", "0", "--slow-start", "0",
                "--health-check-interval", "200ms"))
            {
                final String line = proxy.awaitLine("centrigate ");
                final InetSocketAddress address = new InetSocketAddress("127.0.0.1", port(LISTEN, line));
                final int admin = port(ADMIN, line);
                // Both addresses are nodes with the entry's weight; the literal next to the name stays as it is.
                final String status = await(admin, "/status", "the literal node down by checks",
                    s -> s.contains("\"address\":\"127.0.0.1:1\",\"weight\":2,\"state\":\"down\""));
                assertTrue(status.contains("\"address\":\"127.0.0.2:" + a.getPort() + "\",\"name\":\"nodes.test\",\"weight\":1"), status);
                assertTrue(status.contains("\"address\":\"127.0.0.3:" + a.getPort() + "\",\"name\":\"nodes.test\",\"weight\":1"), status);
                connect(address, 4, all);
                assertEquals(2, a.openNow(), "least-conn over the two addresses of the name");
                assertEquals(2, b.openNow());

                // --resolve-interval 0: resolved once at start, as before discovery existed.
                hosts(hostsFile, "127.0.0.3");
                final String metrics = get(admin, "/metrics");
                assertEquals(0, sample(metrics, "centrigate_upstream_resolutions_total", "name=\"nodes.test\",result=\"ok\""),
                    "no lookups after start: " + metrics);
                connect(address, 2, all);
                assertEquals(3, a.openNow(), "still a node");
                for (final WsClient c : all)
                {
                    c.socket().sendClose(1000, "");
                    c.closed().get(10, TimeUnit.SECONDS);
                }
            }
        }
    }

    @Test
    void configShowsWhatANameResolvesTo() throws Exception
    {
        final Path hostsFile = dir.resolve("hosts");
        hosts(hostsFile, "127.0.0.3", "127.0.0.2");
        try (CentrigateProcess config = CentrigateProcess.start(List.of("-Djdk.net.hosts.file=" + hostsFile), Map.of(),
            "config", "--upstream", "nodes.test:8000,127.0.0.1:8001"))
        {
            assertTrue(config.awaitLine("upstream = ").startsWith("upstream = nodes.test:8000,127.0.0.1:8001 "));
            assertEquals("# upstream name nodes.test resolves to 127.0.0.2, 127.0.0.3 (each address a node; resolved "
                + "again every 5s)", config.awaitLine("# upstream name "));
            assertEquals(0, config.exitCode(30));
        }
    }
}
