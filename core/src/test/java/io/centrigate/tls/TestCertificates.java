package io.centrigate.tls;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * A self-signed certificate for {@code localhost} and {@code 127.0.0.1}, made once per JVM with the JDK's own
 * {@code keytool} and exported as the PEM files the proxy reads (certificate, PKCS#8 key). Shared by every test
 * that needs TLS: {@link #ec()} (P-256, fast) or {@link #rsa()} (2048-bit).
 */
public final class TestCertificates
{
    private static final String PASSWORD = "changeit";
    private static final String ALIAS = "server";
    private static TestCertificates ec;
    private static TestCertificates rsa;

    private final Path directory;
    private final Path certificatePem;
    private final Path privateKeyPem;
    private final X509Certificate certificate;
    private final PrivateKey privateKey;

    private TestCertificates(final Path directory, final X509Certificate certificate, final PrivateKey privateKey)
        throws IOException
    {
        this.directory = directory;
        this.certificate = certificate;
        this.privateKey = privateKey;
        this.certificatePem = directory.resolve("cert.pem");
        this.privateKeyPem = directory.resolve("key.pem");
        Files.writeString(certificatePem, pem("CERTIFICATE", encoded(certificate)), StandardCharsets.US_ASCII);
        Files.writeString(privateKeyPem, pem("PRIVATE KEY", privateKey.getEncoded()), StandardCharsets.US_ASCII);
    }

    public static synchronized TestCertificates ec()
    {
        if (ec == null)
        {
            ec = generate(List.of("-keyalg", "EC", "-groupname", "secp256r1", "-sigalg", "SHA256withECDSA"));
        }
        return ec;
    }

    public static synchronized TestCertificates rsa()
    {
        if (rsa == null)
        {
            rsa = generate(List.of("-keyalg", "RSA", "-keysize", "2048", "-sigalg", "SHA256withRSA"));
        }
        return rsa;
    }

    private static TestCertificates generate(final List<String> keyOptions)
    {
        try
        {
            final Path dir = Files.createTempDirectory("centrigate-tls");
            final Path store = dir.resolve("server.p12");
            final Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
            final List<String> command = new java.util.ArrayList<>(List.of(keytool.toString(), "-genkeypair",
                "-alias", ALIAS, "-dname", "CN=localhost", "-ext", "SAN=dns:localhost,ip:127.0.0.1",
                "-validity", "2", "-keystore", store.toString(), "-storetype", "PKCS12",
                "-storepass", PASSWORD, "-keypass", PASSWORD, "-noprompt"));
            command.addAll(keyOptions);
            final Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            final String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0)
            {
                throw new IllegalStateException("keytool failed: " + output);
            }
            final KeyStore keyStore = KeyStore.getInstance("PKCS12");
            try (InputStream in = Files.newInputStream(store))
            {
                keyStore.load(in, PASSWORD.toCharArray());
            }
            final X509Certificate certificate = (X509Certificate)keyStore.getCertificate(ALIAS);
            final PrivateKey key = (PrivateKey)keyStore.getKey(ALIAS, PASSWORD.toCharArray());
            final TestCertificates result = new TestCertificates(dir, certificate, key);
            for (final Path p : List.of(store, result.certificatePem, result.privateKeyPem, dir))
            {
                p.toFile().deleteOnExit();
            }
            return result;
        }
        catch (final IOException e)
        {
            throw new UncheckedIOException(e);
        }
        catch (final GeneralSecurityException e)
        {
            throw new IllegalStateException(e);
        }
        catch (final InterruptedException e)
        {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static String pem(final String label, final byte[] der)
    {
        final String body = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der);
        return "-----BEGIN " + label + "-----\n" + body + "\n-----END " + label + "-----\n";
    }

    private static byte[] encoded(final X509Certificate certificate)
    {
        try
        {
            return certificate.getEncoded();
        }
        catch (final GeneralSecurityException e)
        {
            throw new IllegalStateException(e);
        }
    }

    public Path directory()
    {
        return directory;
    }

    public Path certificatePem()
    {
        return certificatePem;
    }

    public Path privateKeyPem()
    {
        return privateKeyPem;
    }

    public X509Certificate certificate()
    {
        return certificate;
    }

    public PrivateKey privateKey()
    {
        return privateKey;
    }

    /** The server context the proxy would build from the PEM files. */
    public SSLContext serverContext()
    {
        return TlsContexts.fromPem(certificatePem, privateKeyPem);
    }

    /** A trust store holding only this certificate. */
    public KeyStore trustStore()
    {
        try
        {
            final KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            trust.setCertificateEntry("test", certificate);
            return trust;
        }
        catch (final IOException e)
        {
            throw new UncheckedIOException(e);
        }
        catch (final GeneralSecurityException e)
        {
            throw new IllegalStateException(e);
        }
    }

    /** A fresh client context (own session cache) trusting only this certificate. */
    public SSLContext clientContext()
    {
        try
        {
            final TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trustStore());
            final SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, tmf.getTrustManagers(), null);
            return context;
        }
        catch (final GeneralSecurityException e)
        {
            throw new IllegalStateException(e);
        }
    }
}
