package io.centrigate.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.centrigate.cli.config.EffectiveConfig;
import io.centrigate.config.ProxyContext;
import picocli.CommandLine;

/** {@code centrigate config --print|--check}, and the shipped example files. */
class ConfigCommandTest
{
    private static final Path EXAMPLES = Path.of("..", "examples"); // tests run in cli/

    @TempDir
    Path dir;

    record Result(int exit, String out, String err)
    {
    }

    static Result config(final Map<String, String> env, final String... args)
    {
        final StringWriter out = new StringWriter();
        final StringWriter err = new StringWriter();
        final CommandLine cl = ConfigCommand.commandLine(env);
        cl.setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true));
        return new Result(cl.execute(args), out.toString(), err.toString());
    }

    /** Everything a context holds that a setting decides, as text, to compare two contexts. */
    static Map<String, Object> describe(final ProxyContext ctx)
    {
        final Map<String, Object> d = new LinkedHashMap<>();
        d.put("listen", ctx.listen().toString());
        d.put("groups", ctx.groups().toString());
        d.put("prefix", ctx.prefix());
        d.put("outsidePrefixGroup", ctx.outsidePrefixGroup());
        d.put("virtualHosts", ctx.virtualHosts());
        d.put("protectedGroups", new java.util.TreeSet<>(ctx.protectedGroups()));
        d.put("internalPaths", ctx.internalPaths());
        d.put("internalAllow", ctx.internalAllow());
        d.put("balance", ctx.balance());
        d.put("loops", ctx.loops());
        d.put("idle", ctx.idleMode());
        d.put("accept", ctx.acceptMode());
        d.put("maxConnections", ctx.maxConnections());
        d.put("timeouts", List.of(ctx.headerTimeoutNs(), ctx.connectTimeoutNs(), ctx.readTimeoutNs(), ctx.tunnelIdleTimeoutNs(),
            ctx.failTimeoutNs(), ctx.keepAliveTimeoutNs(), ctx.sendTimeoutNs(), ctx.upstreamIdleTimeoutNs()));
        d.put("upstreamKeepAlive", ctx.upstreamKeepAlive());
        d.put("sizes", List.of(ctx.maxBodySize(), (long)ctx.maxRequestLine(), (long)ctx.maxHeadBytes(), (long)ctx.maxFields(),
            (long)ctx.chunkSize(), ctx.bufferMemory(), (long)ctx.backlog()));
        d.put("errorPages", new java.util.TreeMap<>(ctx.errorPages()));
        return d;
    }

    /** The printed settings without their origin comments and without the header. */
    private static List<String> settingLines(final String printed)
    {
        final List<String> lines = new ArrayList<>();
        for (final String line : printed.split("\n"))
        {
            final int origin = line.indexOf("  # ");
            if (line.startsWith("# ") && origin < 0)
            {
                continue; // header
            }
            lines.add(origin < 0 ? line.strip() : line.substring(0, origin).strip());
        }
        return lines;
    }

    @Test
    void printsEveryKeyWithItsValueAndWhereItCameFrom() throws Exception
    {
        final Path file = Files.writeString(dir.resolve("centrigate.conf"),
            "# two nodes\nupstream = 10.0.0.1:8000\nupstream = 10.0.0.2:8000@2\n\nread-timeout = 30s\nprefix = /centrifugo\n");
        final Result r = config(Map.of("CENTRIGATE_SEND_TIMEOUT", "45s"), "--config", file.toString(), "--print",
            "--keepalive-timeout", "70s");
        assertEquals(0, r.exit(), r.err());
        final String out = r.out();
        assertTrue(out.contains("# file: " + file + " (--config)\n"), out);
        assertTrue(out.matches("(?s).*\nupstream = 10\\.0\\.0\\.1:8000 +# file:2\n.*"), out);
        assertTrue(out.matches("(?s).*\nupstream = 10\\.0\\.0\\.2:8000@2 +# file:3\n.*"), out);
        assertTrue(out.matches("(?s).*\nread-timeout = 30s +# file:5\n.*"), out);
        assertTrue(out.matches("(?s).*\nprefix = /centrifugo +# file:6\n.*"), out);
        assertTrue(out.matches("(?s).*\nsend-timeout = 45s +# env CENTRIGATE_SEND_TIMEOUT\n.*"), out);
        assertTrue(out.matches("(?s).*\nkeepalive-timeout = 70s +# flag\n.*"), out);
        assertTrue(out.matches("(?s).*\nconnect-timeout = 5s +# default\n.*"), out);
        assertTrue(out.matches("(?s).*\nlisten = 0\\.0\\.0\\.0:8080 +# default\n.*"), out);
        assertTrue(out.matches("(?s).*\n# loops = \\d+ +# default: available processors\n.*"), out);
        assertTrue(out.matches("(?s).*\n# vhost = +# default: not set\n.*"), out);
        for (final String key : RunCommand.KEYS.keys())
        {
            assertTrue(out.matches("(?s).*\n(# )?" + key + " = .*"), key + " printed in:\n" + out);
        }
        assertEquals(r.out(), config(Map.of("CENTRIGATE_SEND_TIMEOUT", "45s"), "--config", file.toString(),
            "--keepalive-timeout", "70s").out(), "--print is the default");
    }

    @Test
    void printedConfigurationReadBackAsAFileIsTheSameConfiguration() throws Exception
    {
        final Path page = Files.writeString(dir.resolve("50x.html"), "<h1>down</h1>");
        final Path file = Files.writeString(dir.resolve("centrigate.conf"), String.join("\n",
            "listen = 127.0.0.1:9001",
            "listen = 127.0.0.1:9002",
            "upstream = 10.0.0.1:8000, 10.0.0.2:8000@3",
            "prefix = /centrifugo/",
            "default-upstream = 127.0.0.1:3000",
            "vhost = app.example.com=10.0.1.1:3000,10.0.1.2:3000",
            "error-page = 502,504=" + page,
            "internal-paths = none",
            "max-head-size = 8k",
            "chunk-size = 16k",
            ""));
        final Map<String, String> env = Map.of("CENTRIGATE_READ_TIMEOUT", "30s", "CENTRIGATE_INTERNAL_ALLOW", "10.0.0.0/8;192.168.0.0/16");
        final String[] flags = {"--balance", "round-robin", "--loops", "3", "--max-connections", "1000"};
        final List<String> args = new ArrayList<>(List.of("--config", file.toString(), "--print"));
        args.addAll(List.of(flags));
        final Result printed = config(env, args.toArray(String[]::new));
        assertEquals(0, printed.exit(), printed.err());

        final Path back = Files.writeString(dir.resolve("printed.conf"), printed.out());
        final Result reprinted = config(Map.of(), "--config", back.toString());
        assertEquals(0, reprinted.exit(), reprinted.err());
        assertEquals(settingLines(printed.out()), settingLines(reprinted.out()));

        final EffectiveConfig original = ConfigPrecedenceTest.resolve(file, env, flags);
        final EffectiveConfig readBack = ConfigPrecedenceTest.resolve(back, Map.of());
        assertEquals(describe(original.context()), describe(readBack.context()));
    }

    @Test
    void checkExitsZeroForAValidFileAndTwoWithTheErrors() throws Exception
    {
        final Path good = Files.writeString(dir.resolve("good.conf"), "listen = :80\nupstream = 127.0.0.1:8000\n");
        final Result ok = config(Map.of(), "--check", "--config", good.toString());
        assertEquals(0, ok.exit(), ok.err());
        assertEquals("centrigate: configuration OK: " + good + "\n", ok.out());

        final Path bad = Files.writeString(dir.resolve("bad.conf"), "listen = :80\nread-timout = 30s\n");
        final Result unknown = config(Map.of(), "--check", "--config", bad.toString());
        assertEquals(2, unknown.exit());
        assertEquals("centrigate: " + bad + ":2: unknown key 'read-timout' (did you mean 'read-timeout'?)\n", unknown.err());
        assertEquals("", unknown.out());

        // Only conclude() sees this one: --check runs it too.
        final Path notConcluded = Files.writeString(dir.resolve("prefix.conf"), "default-upstream = 127.0.0.1:3000\n");
        final Result refused = config(Map.of(), "--check", "--config", notConcluded.toString());
        assertEquals(2, refused.exit());
        assertEquals("centrigate: " + notConcluded + ":1: default-upstream needs a prefix\n", refused.err());

        assertEquals(2, config(Map.of("CENTRIGATE_LOOPZ", "2"), "--check").exit());
        assertEquals(2, config(Map.of(), "--check", "--max-head-size", "64k").exit());
    }

    @Test
    void aFailingPrintStillShowsWhereEachValueCameFrom() throws Exception
    {
        final Path file = Files.writeString(dir.resolve("c.conf"), "default-upstream = 127.0.0.1:3000\n");
        final Result r = config(Map.of(), "--config", file.toString());
        assertEquals(2, r.exit());
        assertTrue(r.out().contains("default-upstream = 127.0.0.1:3000"), r.out());
        assertTrue(r.err().contains(file + ":1: default-upstream needs a prefix"), r.err());
    }

    @Test
    void theSeparateDomainExampleLoadsAndReproducesTheReference()
    {
        final Path file = EXAMPLES.resolve("centrigate.conf");
        final Result check = config(Map.of(), "--check", "--config", file.toString());
        assertEquals(0, check.exit(), check.err());
        final ProxyContext ctx = ConfigPrecedenceTest.resolve(file, Map.of()).context();
        assertEquals(List.of("0.0.0.0:80"), ctx.listen().stream().map(a -> a.getHostString() + ":" + a.getPort()).toList());
        assertEquals(List.of("127.0.0.1:8000"), ctx.upstreams().stream().map(Object::toString).toList());
        assertEquals(null, ctx.prefix());
        assertEquals(ProxyContext.DEFAULT_READ_TIMEOUT_NS, ctx.readTimeoutNs());
        assertEquals(ProxyContext.DEFAULT_KEEPALIVE_TIMEOUT_NS, ctx.keepAliveTimeoutNs());
    }

    @Test
    void theEmbeddedExampleLoadsWithPrefixAndDefaultUpstream()
    {
        final Path file = EXAMPLES.resolve("centrigate-embedded.conf");
        final Result check = config(Map.of(), "--check", "--config", file.toString());
        assertEquals(0, check.exit(), check.err());
        final ProxyContext ctx = ConfigPrecedenceTest.resolve(file, Map.of()).context();
        assertEquals("/centrifugo", ctx.prefix());
        assertEquals("default-upstream", ctx.outsidePrefixGroup());
        assertEquals(List.of("127.0.0.1:3000"), ctx.groups().get("default-upstream").stream().map(Object::toString).toList());
        assertEquals(ProxyContext.DEFAULT_READ_TIMEOUT_NS, ctx.readTimeoutNs());
    }

    @Test
    void everyNginxLineOfTheExamplesIsQuotedAndEverySettingFollowsAQuote() throws Exception
    {
        for (final String name : List.of("centrigate.conf", "centrigate-embedded.conf"))
        {
            final List<String> lines = Files.readAllLines(EXAMPLES.resolve(name));
            assertTrue(lines.stream().anyMatch(l -> l.startsWith("# nginx: ")), name);
            // Every setting sits in a block that quotes the Nginx line(s) it maps.
            int lastQuote = -1;
            for (int i = 0; i < lines.size(); i++)
            {
                final String line = lines.get(i);
                if (line.startsWith("# nginx:"))
                {
                    lastQuote = i;
                }
                else if (line.isBlank())
                {
                    continue;
                }
                else if (!line.startsWith("#"))
                {
                    assertTrue(lastQuote >= 0, name + ":" + (i + 1) + ": a setting before any '# nginx:' line");
                }
            }
        }
        final String separate = Files.readString(EXAMPLES.resolve("centrigate.conf"));
        for (final String nginx : List.of("server 127.0.0.1:8000;", "listen 80;", "#listen 443 ssl;", "proxy_read_timeout 60s;",
            "keepalive_timeout 65;", "proxy_next_upstream error;", "error_page   500 502 503 504  /50x.html;",
            "rewrite ^(.*) https://$server_name$1 permanent;", "#ssl_certificate /etc/nginx/ssl/server.crt;"))
        {
            assertTrue(separate.contains(nginx), nginx);
        }
        final String embedded = Files.readString(EXAMPLES.resolve("centrigate-embedded.conf"));
        for (final String nginx : List.of("location /centrifugo/ {", "rewrite ^/centrifugo/(.*)        /$1 break;",
            "location /centrifugo/connection {", "proxy_pass_header Server;", "proxy_redirect off;", "proxy_read_timeout 60s;"))
        {
            assertTrue(embedded.contains(nginx), nginx);
        }
        assertTrue(separate.contains("# tls-cert = ") && separate.contains("# tls-key = ") && separate.contains("# redirect-http = 0.0.0.0:80") && separate.contains("# tls-listen = 0.0.0.0:443"));
    }

    @Test
    void theSeparateDomainExampleWithItsTlsLinesUncommentedAsItSaysServesTlsAndRedirects() throws Exception
    {
        final Path cert = Files.writeString(dir.resolve("server.crt"), "x");
        final Path key = Files.writeString(dir.resolve("server.key"), "x");
        final List<String> lines = new ArrayList<>();
        for (final String line : Files.readAllLines(EXAMPLES.resolve("centrigate.conf")))
        {
            // The example's own instruction: uncomment the redirect with the TLS lines, and drop `listen = 0.0.0.0:80`.
            if (line.equals("listen = 0.0.0.0:80"))
            {
                continue;
            }
            final String setting = line.startsWith("# tls-") || line.startsWith("# redirect-http") || line.startsWith("# server-name")
                ? line.substring(2) : line;
            lines.add(setting.replace("/etc/centrigate/ssl/server.crt", cert.toString())
                .replace("/etc/centrigate/ssl/server.key", key.toString()));
        }
        final Path file = Files.writeString(dir.resolve("tls.conf"), String.join("\n", lines) + "\n");

        final ProxyContext ctx = ConfigPrecedenceTest.resolve(file, Map.of()).context();
        assertEquals(List.of(), ctx.listen());
        assertEquals(List.of(ProxyContext.parseHostPort("0.0.0.0:443", "x")), ctx.tlsListen());
        assertEquals(List.of(ProxyContext.parseHostPort("0.0.0.0:80", "x")), ctx.redirectListen());
        assertEquals(cert, ctx.tlsCert());
        assertEquals(key, ctx.tlsKey());
        assertEquals("centrifugo.example.com", ctx.serverName());
    }
}
