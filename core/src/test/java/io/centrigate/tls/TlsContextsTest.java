package io.centrigate.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
final class TlsContextsTest
{
    @TempDir
    Path dir;

    @Test
    void readsACertificateAndPkcs8Key()
    {
        final TestCertificates certificates = TestCertificates.ec();
        assertEquals(certificates.certificate(), TlsContexts.readCertificates(certificates.certificatePem()).get(0));
        assertEquals(certificates.privateKey(), TlsContexts.readPrivateKey(certificates.privateKeyPem()));
    }

    @Test
    void readsLegacyRsaAndEcKeysWrittenByOpenssl() throws Exception
    {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/openssl")), "openssl not installed");
        final Path rsaKey = dir.resolve("rsa.pem");
        openssl("genrsa", "-traditional", "-out", rsaKey.toString(), "2048");
        assertTrue(Files.readString(rsaKey).contains("BEGIN RSA PRIVATE KEY"));
        final Path ecKey = dir.resolve("ec.pem");
        openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", ecKey.toString());
        assertTrue(Files.readString(ecKey).contains("BEGIN EC PRIVATE KEY"));

        for (final Path key : List.of(rsaKey, ecKey))
        {
            final Path cert = dir.resolve(key.getFileName() + ".crt");
            openssl("req", "-new", "-x509", "-key", key.toString(), "-out", cert.toString(), "-days", "1",
                "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1");
            handshakeWith(TlsContexts.fromPem(cert, key), cert);
        }
    }

    @Test
    void refusesAnEncryptedKeyWithTheCommandThatDecryptsIt() throws IOException
    {
        final Path key = dir.resolve("enc.pem");
        Files.writeString(key, "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n");
        final IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> TlsContexts.fromPem(TestCertificates.ec().certificatePem(), key));
        assertTrue(e.getMessage().contains("openssl pkcs8 -topk8 -nocrypt"), e.getMessage());
    }

    @Test
    void namesTheFileWithoutAKeyOrCertificate() throws IOException
    {
        final Path empty = dir.resolve("empty.pem");
        Files.writeString(empty, "nothing here\n");
        final IllegalArgumentException noKey = assertThrows(IllegalArgumentException.class,
            () -> TlsContexts.fromPem(TestCertificates.ec().certificatePem(), empty));
        assertTrue(noKey.getMessage().contains(empty.toString()), noKey.getMessage());
        final IllegalArgumentException noCert = assertThrows(IllegalArgumentException.class,
            () -> TlsContexts.fromPem(empty, TestCertificates.ec().privateKeyPem()));
        assertTrue(noCert.getMessage().contains(empty.toString()), noCert.getMessage());
    }

    @Test
    void refusesAKeyThatDoesNotMatchTheCertificate()
    {
        // The JDK's key manager would accept both and fail every handshake later.
        final TestCertificates ec = TestCertificates.ec();
        final TestCertificates rsa = TestCertificates.rsa();
        final IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> TlsContexts.fromPem(ec.certificatePem(), rsa.privateKeyPem()));
        assertTrue(e.getMessage().contains("does not belong"), e.getMessage());
        final Path otherEc = dir.resolve("other-ec.pem");
        final java.security.KeyPairGenerator generator = keyPairGenerator("EC");
        writeKey(otherEc, generator.generateKeyPair().getPrivate());
        assertThrows(IllegalArgumentException.class, () -> TlsContexts.fromPem(ec.certificatePem(), otherEc));
    }

    @Test
    void reloadSwapsTheContextAndKeepsTheOldOneOnFailure() throws Exception
    {
        final TestCertificates ec = TestCertificates.ec();
        final Path cert = dir.resolve("cert.pem");
        final Path key = dir.resolve("key.pem");
        Files.copy(ec.certificatePem(), cert);
        Files.copy(ec.privateKeyPem(), key);
        final ReloadableTlsContext reloadable = new ReloadableTlsContext(cert, key);
        final SSLContext first = reloadable.context();
        handshakeWith(first, cert);

        final TestCertificates rsa = TestCertificates.rsa();
        Files.copy(rsa.certificatePem(), cert, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Files.copy(rsa.privateKeyPem(), key, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        reloadable.reload();
        assertNotSame(first, reloadable.context());
        handshakeWith(reloadable.context(), cert);

        final SSLContext second = reloadable.context();
        Files.writeString(key, "broken", StandardCharsets.US_ASCII);
        assertThrows(IllegalArgumentException.class, reloadable::reload);
        assertSame(second, reloadable.context());
        assertEquals(List.of("http/1.1"), List.of(reloadable.newServerEngine().getSSLParameters().getApplicationProtocols()));
    }

    @Test
    void reloadReadsTheFilesANewConfigurationNamesAndKeepsTheOldOnesOnFailure() throws Exception
    {
        final TestCertificates ec = TestCertificates.ec();
        final TestCertificates rsa = TestCertificates.rsa();
        final ReloadableTlsContext reloadable = new ReloadableTlsContext(ec.certificatePem(), ec.privateKeyPem());
        reloadable.reload(rsa.certificatePem(), rsa.privateKeyPem());
        handshakeWith(reloadable.context(), rsa.certificatePem());
        assertEquals(rsa.certificatePem(), reloadable.certificateChain());

        final SSLContext inService = reloadable.context();
        assertThrows(IllegalArgumentException.class, () -> reloadable.reload(rsa.certificatePem(), ec.privateKeyPem()));
        assertSame(inService, reloadable.context());
        assertEquals(rsa.privateKeyPem(), reloadable.privateKey(), "a refused pair does not replace the files re-read next time");
    }

    @Test
    void prefersAes128GcmToAes256GcmWhicheverTheClientListsFirst() throws Exception
    {
        final String[] enabled = SSLContext.getDefault().createSSLEngine().getEnabledCipherSuites();
        final List<String> order = List.of(TlsContexts.serverCipherOrder(enabled));
        assertEquals(java.util.Set.of(enabled), java.util.Set.copyOf(order), "the same suites, only reordered");
        assertEquals(enabled.length, order.size());
        assertTrue(order.indexOf("TLS_AES_128_GCM_SHA256") < order.indexOf("TLS_AES_256_GCM_SHA384"), order.toString());
        assertTrue(order.indexOf("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256") <
            order.indexOf("TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"), order.toString());

        final TestCertificates ec = TestCertificates.ec();
        try (TlsTestServer server = new TlsTestServer(TlsContexts.fromPem(ec.certificatePem(), ec.privateKeyPem()),
                () -> new EchoHandler(4096));
             SSLSocket socket = (SSLSocket)ec.clientContext().getSocketFactory()
                 .createSocket(InetAddress.getLoopbackAddress(), server.port()))
        {
            // The JDK's own client order, AES-256 first: the server's order decides.
            socket.setEnabledCipherSuites(new String[] {"TLS_AES_256_GCM_SHA384", "TLS_AES_128_GCM_SHA256"});
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write('k');
            assertEquals('k', socket.getInputStream().read());
            assertEquals("TLS_AES_128_GCM_SHA256", socket.getSession().getCipherSuite());
        }
    }

    /** One echo through a TlsChannel loop serving {@code context}, trusting the certificate in {@code certPem}. */
    private static void handshakeWith(final SSLContext context, final Path certPem) throws Exception
    {
        final java.security.KeyStore trust = java.security.KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("c", TlsContexts.readCertificates(certPem).get(0));
        final javax.net.ssl.TrustManagerFactory tmf =
            javax.net.ssl.TrustManagerFactory.getInstance(javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        final SSLContext client = SSLContext.getInstance("TLS");
        client.init(null, tmf.getTrustManagers(), null);
        try (TlsTestServer server = new TlsTestServer(context, () -> new EchoHandler(4096));
             SSLSocket socket = (SSLSocket)client.getSocketFactory().createSocket(InetAddress.getLoopbackAddress(),
                 server.port()))
        {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write('k');
            assertEquals('k', socket.getInputStream().read());
        }
    }

    private static java.security.KeyPairGenerator keyPairGenerator(final String algorithm)
    {
        try
        {
            return java.security.KeyPairGenerator.getInstance(algorithm);
        }
        catch (final java.security.NoSuchAlgorithmException e)
        {
            throw new IllegalStateException(e);
        }
    }

    private static void writeKey(final Path file, final java.security.PrivateKey key)
    {
        try
        {
            Files.writeString(file, TestCertificates.pem("PRIVATE KEY", key.getEncoded()));
        }
        catch (final IOException e)
        {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private void openssl(final String... args) throws Exception
    {
        final List<String> command = new java.util.ArrayList<>(List.of("openssl"));
        command.addAll(List.of(args));
        final Process process = new ProcessBuilder(command).redirectErrorStream(true).directory(dir.toFile()).start();
        final String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(30, TimeUnit.SECONDS) && process.exitValue() == 0, "openssl failed: " + output);
    }
}
