package io.centrigate.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import io.centrigate.config.ProxyContext;
import io.centrigate.testing.WsClient;
import io.centrigate.testing.WsEchoUpstream;
import picocli.CommandLine;

/** The command line is a contract: flags map onto the context, the process starts, serves, and stops with 0. */
class RunCommandTest
{
    private static ProxyContext parse(final String... args)
    {
        final RunCommand run = new RunCommand();
        new CommandLine(run).parseArgs(args);
        return run.toContext();
    }

    @Test
    void defaultsListenOn8080AndForwardToCentrifugosPort()
    {
        final ProxyContext ctx = parse();
        assertEquals(8080, ctx.listen().get(0).getPort());
        assertEquals("0.0.0.0", ctx.listen().get(0).getHostString());
        assertEquals("127.0.0.1:8000", ctx.upstreams().get(0).toString());
        assertEquals(ProxyContext.Balance.LEAST_CONN, ctx.balance());
        assertEquals(ProxyContext.IdleMode.BLOCK, ctx.idleMode());
        assertEquals(TimeUnit.SECONDS.toNanos(60), ctx.readTimeoutNs());
        assertEquals(TimeUnit.SECONDS.toNanos(90), ctx.tunnelIdleTimeoutNs());
        assertEquals(TimeUnit.SECONDS.toNanos(5), ctx.headerTimeoutNs());
        assertTrue(ctx.maxConnections() > 0);
    }

    @Test
    void takesUpstreamsRepeatedAndCommaSeparatedWithWeights()
    {
        final ProxyContext ctx = parse("--upstream", "127.0.0.1:8001,127.0.0.1:8002@3", "--upstream", "127.0.0.1:8003",
            "--balance", "round-robin", "--idle-strategy", "spin", "--loops", "3",
            "--header-timeout", "500ms", "--read-timeout", "2m", "--tunnel-idle-timeout", "0");
        assertEquals(List.of("127.0.0.1:8001", "127.0.0.1:8002@3", "127.0.0.1:8003"),
            ctx.upstreams().stream().map(Object::toString).toList());
        assertEquals(ProxyContext.Balance.ROUND_ROBIN, ctx.balance());
        assertEquals(ProxyContext.IdleMode.SPIN, ctx.idleMode());
        assertEquals(3, ctx.loops());
        assertEquals(TimeUnit.MILLISECONDS.toNanos(500), ctx.headerTimeoutNs());
        assertEquals(TimeUnit.MINUTES.toNanos(2), ctx.readTimeoutNs());
        assertEquals(0, ctx.tunnelIdleTimeoutNs());
    }

    @Test
    void rejectsBadValuesNamingTheOption()
    {
        final Exception e = assertThrows(CommandLine.ParameterException.class, () -> parse("--read-timeout", "5 parsecs"));
        assertTrue(e.getMessage().contains("--read-timeout"), e.getMessage());
        assertThrows(CommandLine.ParameterException.class, () -> parse("--upstream", "nohostport"));
        assertThrows(CommandLine.ParameterException.class, () -> parse("--balance", "random"));
        assertEquals(2, Main.execute("run", "--idle-strategy", "sleepy"));
    }

    @Test
    void warnsWhenMaxConnectionsExceedsTheOpenFilesLimit()
    {
        final RunCommand run = new RunCommand();
        new CommandLine(run).parseArgs("--max-connections", "1000000");
        final ProxyContext ctx = run.toContext();
        assertTrue(ctx.warnings().stream().anyMatch(w -> w.contains("RLIMIT_NOFILE")), ctx.warnings().toString());
    }

    @Test
    @Timeout(60)
    void runsAsAProcessPrintsOneStartupLineServesAndExitsZeroOnSigterm() throws Exception
    {
        try (WsEchoUpstream upstream = WsEchoUpstream.start(0))
        {
            final String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            final List<String> cmd = new ArrayList<>(List.of(java, "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), Main.class.getName(), "run",
                "--listen", "127.0.0.1:0", "--upstream", "127.0.0.1:" + upstream.address().getPort(), "--loops", "2"));
            final Process process = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            try
            {
                final BufferedReader out = new BufferedReader(
                    new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
                final String line = out.readLine();
                assertTrue(line != null && line.startsWith("centrigate "), "startup line: " + line);
                for (final String part : List.of(" listening on 127.0.0.1:", " upstreams 127.0.0.1:", " loops 2",
                    " idle-strategy block", " max-connections "))
                {
                    assertTrue(line.contains(part), part + " in: " + line);
                }
                final int port = Integer.parseInt(line.replaceAll(".* listening on 127\\.0\\.0\\.1:(\\d+).*", "$1"));
                final WsClient client = WsClient.connect(HttpClient.newHttpClient(),
                    new java.net.InetSocketAddress("127.0.0.1", port), "/connection/websocket");
                assertEquals("through the process", client.echoText("through the process"));

                process.destroy(); // SIGTERM
                assertTrue(process.waitFor(20, TimeUnit.SECONDS), "stops within 20 s");
                assertEquals(0, process.exitValue());
                assertTrue(client.closed().get(10, TimeUnit.SECONDS) != null, "the tunnel was closed on stop");
            }
            finally
            {
                process.destroyForcibly();
            }
        }
    }

    @Test
    void mapsRoutingOptions()
    {
        final ProxyContext ctx = parse("--upstream", "127.0.0.1:8000", "--prefix", "/centrifugo/",
            "--default-upstream", "127.0.0.1:3000", "--vhost", "rt.example.com=127.0.0.1:8001,127.0.0.1:8002@2",
            "--internal-allow", "10.0.0.0/8,127.0.0.1", "--internal-paths", "/api,/api/*");
        assertEquals("/centrifugo", ctx.prefix());
        assertEquals("default-upstream", ctx.outsidePrefixGroup());
        assertEquals(List.of("127.0.0.1:8001", "127.0.0.1:8002@2"),
            ctx.groups().get("vhost rt.example.com").stream().map(Object::toString).toList());
        assertEquals(List.of("10.0.0.0/8", "127.0.0.1"), ctx.internalAllow());
        assertEquals(List.of("/api", "/api/*"), ctx.internalPaths());
        assertEquals(List.of(), parse("--internal-paths", "none").internalPaths());
        assertThrows(CommandLine.ParameterException.class, () -> parse("--internal-allow", "example.com/8"));
        assertThrows(CommandLine.ParameterException.class, () -> parse("--prefix", "centrifugo"));
    }

    @Test
    @Timeout(60)
    void runsFromAConfigFileWithTheEnvironmentAndFlagsOverridingIt(@TempDir final Path dir) throws Exception
    {
        try (WsEchoUpstream upstream = WsEchoUpstream.start(0))
        {
            final Path file = java.nio.file.Files.writeString(dir.resolve("centrigate.conf"),
                "# from the file\nlisten = 127.0.0.1:0\nupstream = 127.0.0.1:" + upstream.address().getPort() +
                "\nloops = 3\nbalance = round-robin\n");
            final String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            final ProcessBuilder builder = new ProcessBuilder(java, "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), Main.class.getName(), "run", "--config", file.toString(),
                "--balance", "least-conn").redirectError(ProcessBuilder.Redirect.INHERIT);
            builder.environment().keySet().removeIf(name -> name.startsWith("CENTRIGATE_"));
            builder.environment().put("CENTRIGATE_LOOPS", "2");
            final Process process = builder.start();
            try
            {
                final String line = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8)).readLine();
                assertTrue(line != null && line.startsWith("centrigate "), "startup line: " + line);
                for (final String part : List.of(" listening on 127.0.0.1:", " upstreams 127.0.0.1:" + upstream.address().getPort(),
                    " balance least-conn", " loops 2"))
                {
                    assertTrue(line.contains(part), part + " in: " + line);
                }
                final int port = Integer.parseInt(line.replaceAll(".* listening on 127\\.0\\.0\\.1:(\\d+).*", "$1"));
                final WsClient client = WsClient.connect(HttpClient.newHttpClient(),
                    new java.net.InetSocketAddress("127.0.0.1", port), "/connection/websocket");
                assertEquals("configured by file", client.echoText("configured by file"));
                process.destroy();
                assertTrue(process.waitFor(20, TimeUnit.SECONDS), "stops within 20 s");
                assertEquals(0, process.exitValue());
            }
            finally
            {
                process.destroyForcibly();
            }
        }
    }
}
