package io.centrigate.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProxyContextTest
{
    @Test
    void parsesDurationsWithUnitsAndZeroAsOff()
    {
        assertEquals(TimeUnit.MILLISECONDS.toNanos(500), ProxyContext.parseDurationNs("500ms", "x"));
        assertEquals(TimeUnit.SECONDS.toNanos(5), ProxyContext.parseDurationNs("5s", "x"));
        assertEquals(TimeUnit.MINUTES.toNanos(2), ProxyContext.parseDurationNs("2m", "x"));
        assertEquals(TimeUnit.HOURS.toNanos(1), ProxyContext.parseDurationNs("1h", "x"));
        assertEquals(0, ProxyContext.parseDurationNs("0", "x"));
        assertThrows(IllegalArgumentException.class, () -> ProxyContext.parseDurationNs("5 s", "x"));
        assertThrows(IllegalArgumentException.class, () -> ProxyContext.parseDurationNs("-1s", "x"));
        assertThrows(IllegalArgumentException.class, () -> ProxyContext.parseDurationNs("5d", "x"));
    }

    @Test
    void parsesHostPortForms()
    {
        assertEquals(new InetSocketAddress("127.0.0.1", 8000), ProxyContext.parseHostPort("127.0.0.1:8000", "x"));
        assertEquals(8080, ProxyContext.parseHostPort(":8080", "x").getPort());
        assertEquals(8000, ProxyContext.parseHostPort("[::1]:8000", "x").getPort());
        assertThrows(IllegalArgumentException.class, () -> ProxyContext.parseHostPort("127.0.0.1", "x"));
        assertThrows(IllegalArgumentException.class, () -> ProxyContext.parseHostPort("127.0.0.1:70000", "x"));
    }

    @Test
    void aTlsListenerNeedsCertificateAndKeyAndTheMessageNamesWhatIsMissing(@TempDir final Path dir) throws Exception
    {
        final Path cert = Files.writeString(dir.resolve("cert.pem"), "x");
        final Path key = Files.writeString(dir.resolve("key.pem"), "x");
        final InetSocketAddress tls = new InetSocketAddress("127.0.0.1", 0);

        assertEquals("tls-listen needs tls-cert and tls-key (certificate chain and private key, PEM)",
            refusal(new ProxyContext().tlsListen(tls)));
        assertEquals("tls-listen needs tls-cert (certificate chain, PEM) to go with tls-key",
            refusal(new ProxyContext().tlsListen(tls).tlsKey(key)));
        assertEquals("tls-listen needs tls-key (private key, PEM) to go with tls-cert",
            refusal(new ProxyContext().tlsListen(tls).tlsCert(cert)));
        assertEquals("tls-cert is set but no tls-listen would serve it", refusal(new ProxyContext().tlsCert(cert).tlsKey(key)));
        assertEquals("tls-key is set but no tls-listen would serve it", refusal(new ProxyContext().tlsKey(key)));
        assertEquals("tls-cert: cannot read " + dir.resolve("missing.pem"),
            refusal(new ProxyContext().tlsListen(tls).tlsCert(dir.resolve("missing.pem")).tlsKey(key)));
        assertEquals("server-name must be a host name, got 'example.test/x'",
            refusal(new ProxyContext().redirectListen(tls).serverName("example.test/x")));

        final ProxyContext tlsOnly = new ProxyContext().tlsListen(tls).tlsCert(cert).tlsKey(key).conclude();
        assertTrue(tlsOnly.listen().isEmpty(), "a TLS listener alone adds no plain one");
        assertTrue(new ProxyContext().redirectListen(tls).conclude().listen().isEmpty(),
            "a redirect listener needs no TLS listener of this process (TLS may end elsewhere)");
    }

    private static String refusal(final ProxyContext ctx)
    {
        return assertThrows(IllegalArgumentException.class, ctx::conclude).getMessage();
    }

    @Test
    void derivesTheConnectionLimitFromTheOpenFilesLimit()
    {
        final ProxyContext ctx = new ProxyContext().loops(2).openFileLimit(20_000).conclude();
        // (20000 - 64 margin - 1 listener x 2 loops) / 2
        assertEquals(9967, ctx.maxConnections());
        assertTrue(ctx.warnings().isEmpty());
        final ProxyContext tooMany = new ProxyContext().loops(2).openFileLimit(1000).maxConnections(5000).conclude();
        assertEquals(5000, tooMany.maxConnections());
        assertTrue(tooMany.warnings().get(0).contains("RLIMIT_NOFILE"));
    }

    @Test
    void refusesAChunkTooSmallForTheLargestHead()
    {
        final Exception e = assertThrows(IllegalArgumentException.class,
            () -> new ProxyContext().chunkSize(16 * 1024).conclude());
        assertTrue(e.getMessage().contains("chunk-size"), e.getMessage());
    }

    @Test
    void slowStartAndResolveIntervalAreValidatedAndNamesToldFromLiterals()
    {
        assertThrows(IllegalArgumentException.class, () -> new ProxyContext().slowStartNs(-1).conclude());
        final IllegalArgumentException tooOften = assertThrows(IllegalArgumentException.class,
            () -> new ProxyContext().resolveIntervalNs(java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(10)).conclude());
        assertTrue(tooOften.getMessage().startsWith("resolve-interval"), tooOften.getMessage());
        new ProxyContext().resolveIntervalNs(0).slowStartNs(0).conclude();

        assertTrue(ProxyContext.isIpLiteral("10.0.0.1"));
        assertTrue(ProxyContext.isIpLiteral("::1"));
        assertTrue(!ProxyContext.isIpLiteral("centrifugo-0.centrifugo.default.svc"));
        assertTrue(!ProxyContext.isIpLiteral("10.0.0"));
        assertTrue(!new ProxyContext.Upstream(new java.net.InetSocketAddress("127.0.0.1", 1), 1).named());
        assertTrue(!new ProxyContext.Upstream(new java.net.InetSocketAddress("localhost", 1), 1).named(),
            "localhost is the loopback, not a set of nodes");
    }

    @Test
    void proxyProtocolNamesListenersByKindOrAddress()
    {
        final InetSocketAddress plain = new InetSocketAddress("127.0.0.1", 20080);
        final InetSocketAddress other = new InetSocketAddress("127.0.0.2", 20080);
        final InetSocketAddress redirect = new InetSocketAddress("127.0.0.1", 20081);
        final ProxyContext byAddress = new ProxyContext().listen(plain).listen(other).redirectListen(redirect)
            .proxyProtocol(java.util.List.of("127.0.0.2:20080", "localhost:20081")).conclude();
        assertFalse(byAddress.proxyProtocolOn(plain, false, false));
        assertTrue(byAddress.proxyProtocolOn(other, false, false));
        assertTrue(byAddress.proxyProtocolOn(redirect, false, true));
        final ProxyContext byKind = new ProxyContext().listen(plain).redirectListen(redirect)
            .proxyProtocol(java.util.List.of("plain")).conclude();
        assertTrue(byKind.proxyProtocolOn(plain, false, false));
        assertFalse(byKind.proxyProtocolOn(redirect, false, true), "plain is --listen only");
        assertTrue(new ProxyContext().listen(plain).redirectListen(redirect).proxyProtocol(java.util.List.of("all"))
            .conclude().proxyProtocolOn(redirect, false, true));
        final ProxyContext off = new ProxyContext().listen(plain).proxyProtocol(java.util.List.of("off")).conclude();
        assertFalse(off.proxyProtocolAny());
        assertTrue(off.warnings().isEmpty());
        assertTrue(byKind.warnings().stream().anyMatch(w -> w.startsWith("proxy-protocol: any peer may send")),
            "without proxy-protocol-from the start warns");
        assertTrue(new ProxyContext().listen(plain).proxyProtocol(java.util.List.of("plain"))
            .proxyProtocolFrom(java.util.List.of("10.0.0.0/8")).conclude().warnings().isEmpty());
    }

    @Test
    void proxyProtocolSettingsThatCannotWorkAreRefusedByName()
    {
        final InetSocketAddress plain = new InetSocketAddress("127.0.0.1", 20080);
        assertEquals("proxy-protocol: 127.0.0.1:20099 is not a listen, tls-listen or redirect-http address",
            refusal(new ProxyContext().listen(plain).proxyProtocol(java.util.List.of("127.0.0.1:20099"))));
        assertEquals("proxy-protocol tls: there is no tls-listen address",
            refusal(new ProxyContext().listen(plain).proxyProtocol(java.util.List.of("tls"))));
        assertTrue(refusal(new ProxyContext().listen(plain).proxyProtocol(java.util.List.of("yes")))
            .startsWith("proxy-protocol: expected plain, tls, all, off or a listener's HOST:PORT"));
        assertEquals("proxy-protocol-from is set but no listener requires proxy-protocol",
            refusal(new ProxyContext().listen(plain).proxyProtocolFrom(java.util.List.of("10.0.0.0/8"))));
        assertEquals("proxy-protocol-max-size must be 232..16384 bytes",
            refusal(new ProxyContext().listen(plain).proxyProtocolMaxSize(231)));
        assertEquals("proxy-protocol-max-size must be 232..16384 bytes",
            refusal(new ProxyContext().listen(plain).proxyProtocolMaxSize(16385)));
        assertTrue(refusal(new ProxyContext().listen(plain).trustedProxies(java.util.List.of("cdn.example.com")))
            .startsWith("not an address range"));
    }

    @Test
    void parsesRatesWithTheirBurstAndRefusesWhatIsNotOne()
    {
        assertEquals(new ProxyContext.Rate(100, 200), ProxyContext.parseRate("100/s:200", "x"));
        assertEquals(new ProxyContext.Rate(5, 1), ProxyContext.parseRate("5", "x"));
        assertEquals(new ProxyContext.Rate(0.5, 3), ProxyContext.parseRate("30/m:3", "x"));
        assertEquals(new ProxyContext.Rate(2.5, 1), ProxyContext.parseRate(" 2.5/S ", "x"));
        assertEquals(ProxyContext.Rate.OFF, ProxyContext.parseRate("off", "x"));
        assertEquals(ProxyContext.Rate.OFF, ProxyContext.parseRate("0", "x"));
        assertEquals(TimeUnit.MILLISECONDS.toNanos(10), new ProxyContext.Rate(100, 1).intervalNs());
        for (final String bad : new String[] {"10/x", "-1/s", "a/s", "10/s:0", "10/s:", "10/s:x", "1e9/s", "NaN"})
        {
            final IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ProxyContext.parseRate(bad, "max-handshake-rate"), bad);
            assertTrue(e.getMessage().startsWith("max-handshake-rate "), e.getMessage());
        }
        final InetSocketAddress plain = new InetSocketAddress("127.0.0.1", 0);
        assertFalse(new ProxyContext().listen(plain).conclude().perClientLimits(), "off by default");
        assertEquals(ProxyContext.DEFAULT_ADMISSION_WAIT_NS, new ProxyContext().listen(plain).conclude().admissionWaitNs());
        assertTrue(new ProxyContext().listen(plain).maxConnectionsPerClient(5).conclude().perClientLimits());
        assertTrue(new ProxyContext().listen(plain).handshakeRatePerClient("1/s:5").conclude().perClientLimits());
        assertThrows(IllegalArgumentException.class, () -> new ProxyContext().listen(plain).clientTableSize(10).conclude());
        assertThrows(IllegalArgumentException.class, () -> new ProxyContext().listen(plain).maxConnectionsPerClient(-1)
            .conclude());
    }
}
