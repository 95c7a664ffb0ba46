package io.centrigate.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.centrigate.cli.config.EffectiveConfig;
import io.centrigate.cli.config.EffectiveConfig.Layer;
import io.centrigate.config.ProxyContext;
import picocli.CommandLine;

/** defaults < file < environment < flags, key by key; a higher layer replaces a lower layer's list. */
class ConfigPrecedenceTest
{
    @TempDir
    Path dir;

    /** {@code centrigate run [--config file] flags...} resolved against {@code env}, as run does at start. */
    static EffectiveConfig resolve(final Path file, final Map<String, String> env, final String... flags)
    {
        final List<String> args = new ArrayList<>();
        if (file != null)
        {
            args.add("--config");
            args.add(file.toString());
        }
        args.addAll(List.of(flags));
        final RunCommand run = new RunCommand();
        new CommandLine(run).parseArgs(args.toArray(String[]::new));
        return run.effectiveConfig(env);
    }

    private Path file(final String text) throws Exception
    {
        final Path file = dir.resolve("centrigate.conf");
        Files.writeString(file, text);
        return file;
    }

    private static List<String> upstreams(final ProxyContext ctx)
    {
        return ctx.upstreams().stream().map(Object::toString).toList();
    }

    @Test
    void aScalarComesFromTheHighestLayerThatSetsIt() throws Exception
    {
        final Path file = file("read-timeout = 30s\n");
        final Map<String, String> env = Map.of("CENTRIGATE_READ_TIMEOUT", "40s");

        assertEquals(TimeUnit.SECONDS.toNanos(60), resolve(null, Map.of()).context().readTimeoutNs());
        assertEquals(TimeUnit.SECONDS.toNanos(30), resolve(file, Map.of()).context().readTimeoutNs());
        assertEquals(TimeUnit.SECONDS.toNanos(40), resolve(file, env).context().readTimeoutNs());
        assertEquals(TimeUnit.SECONDS.toNanos(50), resolve(file, env, "--read-timeout", "50s").context().readTimeoutNs());
        assertEquals(TimeUnit.SECONDS.toNanos(50), resolve(null, env, "--read-timeout", "50s").context().readTimeoutNs());

        final EffectiveConfig.Setting fromEnv = resolve(file, env).setting("read-timeout");
        assertEquals(Layer.ENV, fromEnv.layer());
        assertEquals("env CENTRIGATE_READ_TIMEOUT", fromEnv.values().get(0).origin().label());
        assertEquals("file:1", resolve(file, Map.of()).setting("read-timeout").values().get(0).origin().label());
        assertEquals("flag", resolve(file, env, "--read-timeout=50s").setting("read-timeout").values().get(0).origin().label());
    }

    @Test
    void aHigherLayerReplacesALowerLayersListInsteadOfAddingToIt() throws Exception
    {
        final Path file = file("upstream = 10.0.0.1:8000\nupstream = 10.0.0.2:8000@2\n");
        assertEquals(List.of("10.0.0.1:8000", "10.0.0.2:8000@2"), upstreams(resolve(file, Map.of()).context()));

        final Map<String, String> env = Map.of("CENTRIGATE_UPSTREAM", "10.0.0.3:8000,10.0.0.4:8000");
        assertEquals(List.of("10.0.0.3:8000", "10.0.0.4:8000"), upstreams(resolve(file, env).context()));

        assertEquals(List.of("10.0.0.5:8000", "10.0.0.6:8000"),
            upstreams(resolve(file, env, "--upstream", "10.0.0.5:8000", "--upstream", "10.0.0.6:8000").context()));
    }

    @Test
    void repeatedKeysAccumulateLikeRepeatedFlagsAndCommasWorkWhereTheFlagTakesThem() throws Exception
    {
        final Path page = Files.writeString(dir.resolve("50x.html"), "<h1>down</h1>");
        final Path file = file(String.join("\n",
            "listen = 127.0.0.1:9001",
            "listen = 127.0.0.1:9002",
            "upstream = 10.0.0.1:8000,10.0.0.2:8000",
            "upstream = 10.0.0.3:8000",
            "vhost = app.example.com=10.0.1.1:3000,10.0.1.2:3000",
            "vhost = *.api.example.com=10.0.2.1:3000",
            "error-page = 502,504=" + page,
            "error-page = 503=" + page,
            ""));
        final ProxyContext ctx = resolve(file, Map.of()).context();
        assertEquals(List.of(9001, 9002), ctx.listen().stream().map(a -> a.getPort()).toList());
        assertEquals(List.of("10.0.0.1:8000", "10.0.0.2:8000", "10.0.0.3:8000"), upstreams(ctx));
        assertEquals(List.of("app.example.com", "*.api.example.com"),
            ctx.virtualHosts().stream().map(ProxyContext.VirtualHost::host).toList());
        assertEquals(2, ctx.groups().get("vhost app.example.com").size());
        assertEquals(List.of(502, 503, 504), List.copyOf(new java.util.TreeSet<>(ctx.errorPages().keySet())));
    }

    @Test
    void anEnvironmentVariableRepeatsAListKeyWithSemicolons() throws Exception
    {
        final ProxyContext ctx = resolve(null, Map.of(
            "CENTRIGATE_LISTEN", "127.0.0.1:9001;127.0.0.1:9002",
            "CENTRIGATE_VHOST", "a.example.com=10.0.1.1:3000,10.0.1.2:3000; b.example.com=10.0.2.1:3000")).context();
        assertEquals(List.of(9001, 9002), ctx.listen().stream().map(a -> a.getPort()).toList());
        assertEquals(List.of("a.example.com", "b.example.com"),
            ctx.virtualHosts().stream().map(ProxyContext.VirtualHost::host).toList());
        assertEquals(2, ctx.groups().get("vhost a.example.com").size());
    }

    @Test
    void eachKeyIsDecidedOnItsOwn() throws Exception
    {
        final Path file = file("prefix = /centrifugo\ndefault-upstream = 127.0.0.1:3000\nbalance = round-robin\nloops = 3\n");
        final ProxyContext ctx = resolve(file, Map.of("CENTRIGATE_LOOPS", "2"), "--balance", "least-conn").context();
        assertEquals("/centrifugo", ctx.prefix());
        assertEquals("default-upstream", ctx.outsidePrefixGroup());
        assertEquals(2, ctx.loops());
        assertEquals(ProxyContext.Balance.LEAST_CONN, ctx.balance());
        assertEquals(TimeUnit.SECONDS.toNanos(65), ctx.keepAliveTimeoutNs(), "untouched keys keep their default");
    }

    @Test
    void theFileComesFromTheFlagElseFromCentrigateConfig() throws Exception
    {
        final Path file = file("loops = 3\n");
        final Path other = Files.writeString(dir.resolve("other.conf"), "loops = 4\n");
        assertEquals(3, resolve(null, Map.of("CENTRIGATE_CONFIG", file.toString())).context().loops());
        assertEquals(4, resolve(other, Map.of("CENTRIGATE_CONFIG", file.toString())).context().loops());
        assertEquals(other.toString(), resolve(other, Map.of()).file());
        assertNull(resolve(null, Map.of()).file());
    }

    @Test
    void launcherVariablesUnderThePrefixAreLeftAlone()
    {
        final ProxyContext ctx = resolve(null, Map.of("CENTRIGATE_JAVA_OPTS", "-Xmx1g", "CENTRIGATE_OPTS", "-Xms1g",
            "PATH", "/usr/bin", "centrigate_loops", "x")).context();
        assertEquals(8080, ctx.listen().get(0).getPort());
    }

    @Test
    void withNoFileAndNoVariablesTheFlagsMapExactlyAsBefore()
    {
        final String[] flags = {"--upstream", "127.0.0.1:8001,127.0.0.1:8002@3", "--upstream", "127.0.0.1:8003",
            "--listen", "127.0.0.1:0", "--prefix", "/centrifugo/", "--default-upstream", "127.0.0.1:3000",
            "--internal-paths", "none", "--header-timeout", "500ms", "--tunnel-idle-timeout", "0", "--loops", "3"};
        final RunCommand run = new RunCommand();
        new CommandLine(run).parseArgs(flags);
        assertEquals(ConfigCommandTest.describe(run.toContext()), ConfigCommandTest.describe(resolve(null, Map.of(), flags).context()));
    }
}
