package io.centrigate.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Stream;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

import io.centrigate.cli.config.ConfigKeys;
import io.centrigate.cli.config.EffectiveConfig.Layer;
import io.centrigate.config.ProxyContext;
import picocli.CommandLine;

/**
 * Issue 11: options were declared, documented and accepted from every layer, yet never reached the engine. Here
 * every option of {@code run}'s picocli model (so also one declared tomorrow) must have a sample, and each
 * sample, given as a flag, a file key or a {@code CENTRIGATE_*} variable, must show in the concluded context
 * where a context of defaults shows something else.
 */
class RunOptionMappingTest
{
    @TempDir
    static Path dir;

    /**
     * A non-default value for an option, the companions it cannot conclude without (always given as flags, so
     * they never shadow the layer under test), and what the concluded context must then show.
     */
    private record Sample(String value, List<String> companions, Function<ProxyContext, Object> shown, Object expected)
    {
        static Sample of(final String value, final Function<ProxyContext, Object> shown, final Object expected)
        {
            return new Sample(value, List.of(), shown, expected);
        }

        Sample with(final String... companions)
        {
            return new Sample(value, List.of(companions), shown, expected);
        }
    }

    private static InetSocketAddress loopback(final int port)
    {
        return new InetSocketAddress("127.0.0.1", port);
    }

    private static long seconds(final long s)
    {
        return TimeUnit.SECONDS.toNanos(s);
    }

    private static Map<String, Sample> samples() throws Exception
    {
        final Path cert = Files.writeString(dir.resolve("cert.pem"), "only read by Proxy.start, not by conclude\n");
        final Path key = Files.writeString(dir.resolve("key.pem"), "only read by Proxy.start, not by conclude\n");
        final Path page = Files.writeString(dir.resolve("50x.html"), "<p>down</p>\n");
        final Path token = Files.writeString(dir.resolve("admin.token"), "s3cret-token\n");
        final int loops = Runtime.getRuntime().availableProcessors() + 1;

        final Map<String, Sample> samples = new LinkedHashMap<>();
        samples.put("listen", Sample.of("127.0.0.1:40780", ProxyContext::listen, List.of(loopback(40780))));
        samples.put("upstream", Sample.of("127.0.0.1:9001@2", c -> strings(c.upstreams()), List.of("127.0.0.1:9001@2")));
        samples.put("tls-listen", Sample.of("127.0.0.1:40743", ProxyContext::tlsListen, List.of(loopback(40743)))
            .with("--tls-cert", cert.toString(), "--tls-key", key.toString()));
        samples.put("tls-cert", Sample.of(cert.toString(), ProxyContext::tlsCert, cert)
            .with("--tls-listen", "127.0.0.1:40743", "--tls-key", key.toString()));
        samples.put("tls-key", Sample.of(key.toString(), ProxyContext::tlsKey, key)
            .with("--tls-listen", "127.0.0.1:40743", "--tls-cert", cert.toString()));
        samples.put("redirect-http", Sample.of("127.0.0.1:40781", ProxyContext::redirectListen, List.of(loopback(40781))));
        samples.put("server-name", Sample.of("example.test", ProxyContext::serverName, "example.test"));
        samples.put("prefix", Sample.of("/centrifugo/", ProxyContext::prefix, "/centrifugo"));
        samples.put("default-upstream", Sample.of("127.0.0.1:3000",
            c -> c.outsidePrefixGroup() + " " + strings(c.groups().get(c.outsidePrefixGroup())),
            "default-upstream [127.0.0.1:3000]").with("--prefix", "/centrifugo"));
        samples.put("vhost", Sample.of("chat.example.test=127.0.0.1:9002",
            c -> c.virtualHosts().stream().map(v -> v.host() + "=" + strings(c.groups().get(v.group()))).toList(),
            List.of("chat.example.test=[127.0.0.1:9002]")));
        samples.put("internal-allow", Sample.of("10.1.0.0/16", ProxyContext::internalAllow, List.of("10.1.0.0/16")));
        samples.put("internal-paths", Sample.of("/private/*", ProxyContext::internalPaths, List.of("/private/*")));
        samples.put("proxy-protocol", Sample.of("plain", ProxyContext::proxyProtocol, List.of("plain")));
        samples.put("proxy-protocol-from", Sample.of("10.3.0.0/16", ProxyContext::proxyProtocolFrom, List.of("10.3.0.0/16"))
            .with("--proxy-protocol", "all"));
        samples.put("proxy-protocol-max-size", Sample.of("4k", ProxyContext::proxyProtocolMaxSize, 4096));
        samples.put("http2", Sample.of("on", ProxyContext::http2, true));
        samples.put("http2-max-concurrent-streams", Sample.of("250", ProxyContext::http2MaxConcurrentStreams, 250));
        samples.put("http2-max-header-list-size", Sample.of("8k", ProxyContext::http2MaxHeaderListSize, 8192));
        samples.put("http2-stream-window", Sample.of("1m", ProxyContext::http2InitialStreamWindow, 1 << 20));
        samples.put("http2-flood-limit", Sample.of("50", ProxyContext::http2FloodLimit, 50));
        samples.put("http2-connection-window", Sample.of("4m", ProxyContext::http2ConnectionWindow, 4 << 20));
        samples.put("trusted-proxies", Sample.of("10.4.0.0/16", ProxyContext::trustedProxies, List.of("10.4.0.0/16")));
        samples.put("admin-listen", Sample.of("127.0.0.1:40790", ProxyContext::adminListen, List.of(loopback(40790))));
        samples.put("admin-allow", Sample.of("10.2.0.0/16", ProxyContext::adminAllow, List.of("10.2.0.0/16")));
        samples.put("admin-token-file", Sample.of(token.toString(), c -> c.adminTokenFile() + " " + c.adminToken(),
            token + " s3cret-token").with("--admin-listen", "127.0.0.1:40790"));
        final Path log = dir.resolve("access.log");
        samples.put("access-log", Sample.of(log.toString(), ProxyContext::accessLog, log.toString()));
        samples.put("access-log-query", Sample.of("true", ProxyContext::accessLogQuery, true)
            .with("--access-log", "stdout"));
        samples.put("access-log-buffer", Sample.of("64k", ProxyContext::accessLogBuffer, 64 * 1024));
        samples.put("balance", Sample.of("round-robin", ProxyContext::balance, ProxyContext.Balance.ROUND_ROBIN));
        samples.put("loops", Sample.of(String.valueOf(loops), ProxyContext::loops, loops));
        samples.put("idle-strategy", Sample.of("spin", ProxyContext::idleMode, ProxyContext.IdleMode.SPIN));
        samples.put("transport", Sample.of("auto", ProxyContext::transport, "auto"));
        samples.put("splice-threshold", Sample.of("64k", ProxyContext::spliceThreshold, 64L * 1024));
        samples.put("splice-pipes", Sample.of("3", ProxyContext::splicePipes, 3));
        samples.put("accept", Sample.of("acceptor", ProxyContext::acceptMode, ProxyContext.AcceptMode.ACCEPTOR));
        samples.put("max-connections", Sample.of("1234", ProxyContext::maxConnections, 1234));
        samples.put("max-connections-per-client", Sample.of("20", ProxyContext::maxConnectionsPerClient, 20));
        samples.put("handshake-rate-per-client", Sample.of("5/s:20", ProxyContext::handshakeRatePerClientParsed,
            new ProxyContext.Rate(5, 20)));
        samples.put("client-table-size", Sample.of("4096", ProxyContext::clientTableSize, 4096));
        samples.put("max-handshake-rate", Sample.of("300/m:50", ProxyContext::maxHandshakeRateParsed,
            new ProxyContext.Rate(5, 50)));
        samples.put("admission-wait", Sample.of("3s", ProxyContext::admissionWaitNs, seconds(3)));
        samples.put("header-timeout", Sample.of("7s", ProxyContext::headerTimeoutNs, seconds(7)));
        samples.put("first-byte-timeout", Sample.of("40s", ProxyContext::firstByteTimeoutNs, seconds(40)));
        samples.put("connect-timeout", Sample.of("1500ms", ProxyContext::connectTimeoutNs, TimeUnit.MILLISECONDS.toNanos(1500)));
        samples.put("next-upstream-timeout", Sample.of("0", ProxyContext::nextUpstreamTimeoutNs, 0L));
        samples.put("read-timeout", Sample.of("2m", ProxyContext::readTimeoutNs, TimeUnit.MINUTES.toNanos(2)));
        samples.put("tunnel-idle-timeout", Sample.of("0", ProxyContext::tunnelIdleTimeoutNs, 0L));
        samples.put("fail-timeout", Sample.of("3s", ProxyContext::failTimeoutNs, seconds(3)));
        samples.put("max-ejected-percent", Sample.of("25", ProxyContext::maxEjectedPercent, 25));
        samples.put("health-check-path", Sample.of("off", ProxyContext::healthCheckPath, null));
        samples.put("health-check-interval", Sample.of("5s", ProxyContext::healthCheckIntervalNs, seconds(5)));
        samples.put("health-check-timeout", Sample.of("300ms", ProxyContext::healthCheckTimeoutNs,
            TimeUnit.MILLISECONDS.toNanos(300)));
        samples.put("health-check-rise", Sample.of("3", ProxyContext::healthCheckRise, 3));
        samples.put("health-check-fall", Sample.of("4", ProxyContext::healthCheckFall, 4));
        samples.put("upgrade-timeout", Sample.of("0", ProxyContext::upgradeTimeoutNs, 0L));
        samples.put("slow-start", Sample.of("0", ProxyContext::slowStartNs, 0L));
        samples.put("resolve-interval", Sample.of("2m", ProxyContext::resolveIntervalNs, TimeUnit.MINUTES.toNanos(2)));
        samples.put("rebalance", Sample.of("off", ProxyContext::rebalance, false));
        samples.put("rebalance-threshold", Sample.of("35", ProxyContext::rebalanceThresholdPercent, 35));
        samples.put("rebalance-settle", Sample.of("3s", ProxyContext::rebalanceSettleNs, TimeUnit.SECONDS.toNanos(3)));
        samples.put("rebalance-rate", Sample.of("25", ProxyContext::rebalanceRatePerSecond, 25.0));
        samples.put("rebalance-min-age", Sample.of("0", ProxyContext::rebalanceMinAgeNs, 0L));
        samples.put("keepalive-timeout", Sample.of("30s", ProxyContext::keepAliveTimeoutNs, seconds(30)));
        samples.put("send-timeout", Sample.of("45s", ProxyContext::sendTimeoutNs, seconds(45)));
        samples.put("drain-timeout", Sample.of("1m", ProxyContext::drainTimeoutNs, TimeUnit.MINUTES.toNanos(1)));
        samples.put("warmup", Sample.of("500ms", ProxyContext::warmupNs, TimeUnit.MILLISECONDS.toNanos(500)));
        samples.put("jit-priority", Sample.of("background", ProxyContext::jitPriority, "background"));
        samples.put("fd-table", Sample.of("3000", ProxyContext::fdTable, 3000));
        samples.put("upstream-keepalive", Sample.of("7", ProxyContext::upstreamKeepAlive, 7));
        samples.put("upstream-source", Sample.of("127.0.0.2-127.0.0.4", c -> strings(c.upstreamSources()),
            List.of("/127.0.0.2", "/127.0.0.3", "/127.0.0.4")));
        samples.put("sockjs-sticky", Sample.of("off", ProxyContext::sockJsSticky, false));
        samples.put("upstream-idle-timeout", Sample.of("11s", ProxyContext::upstreamIdleTimeoutNs, seconds(11)));
        samples.put("max-body-size", Sample.of("1m", ProxyContext::maxBodySize, 1024L * 1024));
        samples.put("error-page", Sample.of("502=" + page, ProxyContext::errorPages, Map.of(502, page)));
        samples.put("max-request-line", Sample.of("4k", ProxyContext::maxRequestLine, 4096));
        samples.put("max-head-size", Sample.of("12k", ProxyContext::maxHeadBytes, 12 * 1024));
        samples.put("max-fields", Sample.of("50", ProxyContext::maxFields, 50));
        samples.put("chunk-size", Sample.of("64k", ProxyContext::chunkSize, 64 * 1024));
        samples.put("buffer-memory", Sample.of("128m", ProxyContext::bufferMemory, 128L * 1024 * 1024));
        samples.put("backlog", Sample.of("128", ProxyContext::backlog, 128));
        return samples;
    }

    private static List<String> strings(final List<?> values)
    {
        return values == null ? null : values.stream().map(Object::toString).toList();
    }

    /** {@code run} with the sample's key set in {@code layer} only, resolved and concluded as at start. */
    private static ProxyContext concluded(final Layer layer, final String key, final Sample sample) throws Exception
    {
        final List<String> args = new ArrayList<>(sample.companions());
        Map<String, String> env = Map.of();
        switch (layer)
        {
            case FLAG:
                // As ConfigKeys spells it: --key=value, or the bare --key of a switch.
                args.addAll(RunCommand.KEYS.args(key, List.of(sample.value())));
                break;
            case FILE:
                final Path file = Files.writeString(dir.resolve(key + ".conf"), key + " = " + sample.value() + "\n");
                args.add("--config");
                args.add(file.toString());
                break;
            case ENV:
                env = Map.of(ConfigKeys.envName(key), sample.value());
                break;
            default:
                throw new IllegalArgumentException(layer.toString());
        }
        return resolved(env, args);
    }

    private static ProxyContext resolved(final Map<String, String> env, final List<String> args)
    {
        final RunCommand run = new RunCommand();
        new CommandLine(run).parseArgs(args.toArray(String[]::new));
        return run.effectiveConfig(env).context();
    }

    @Test
    void everyOptionOfTheModelHasASampleAndNoSampleOutlivesItsOption() throws Exception
    {
        assertEquals(new TreeSet<>(RunCommand.KEYS.keys()), new TreeSet<>(samples().keySet()),
            "a run option without a sample here is an option nobody proved reaches the engine");
    }

    @TestFactory
    Stream<DynamicTest> everyOptionReachesTheContextFromEveryLayer() throws Exception
    {
        final Map<String, Sample> samples = samples();
        final ProxyContext defaults = resolved(Map.of(), List.of());
        final List<DynamicTest> tests = new ArrayList<>();
        // The model's keys, not the table's: an option missing from the table fails here as well as above.
        for (final String key : RunCommand.KEYS.keys())
        {
            for (final Layer layer : List.of(Layer.FLAG, Layer.FILE, Layer.ENV))
            {
                tests.add(dynamicTest(key + " as " + layer, () ->
                {
                    final Sample sample = samples.get(key);
                    assertNotNull(sample, "no sample for run option --" + key);
                    assertNotEquals(sample.expected(), sample.shown().apply(defaults),
                        "the sample for " + key + " is its default and would prove nothing");
                    assertEquals(sample.expected(), sample.shown().apply(concluded(layer, key, sample)),
                        key + " = " + sample.value() + " as " + layer + " did not reach the context");
                }));
            }
        }
        return tests.stream();
    }
}
