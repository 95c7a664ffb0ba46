package io.centrigate.tls;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.InvalidKeySpecException;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;

/**
 * Server TLS contexts from PEM files (cold path: startup and reload). The policy is fixed here rather than
 * configurable: TLS 1.3 and 1.2 only, the JDK's default cipher suites in server order but AES-128-GCM ahead of
 * AES-256-GCM ({@link #serverCipherOrder}), ALPN {@code http/1.1}, and the context's default session cache
 * (resumption on).
 * <p>
 * Keys may be PKCS#8 ({@code BEGIN PRIVATE KEY}, RSA, EC, Ed25519/Ed448, RSASSA-PSS), PKCS#1
 * ({@code BEGIN RSA PRIVATE KEY}) or SEC 1 ({@code BEGIN EC PRIVATE KEY}); the last two are re-wrapped as PKCS#8
 * with a few bytes of DER, no library. Encrypted keys are refused with the openssl command that decrypts them.
 */
public final class TlsContexts
{
    public static final List<String> PROTOCOLS = List.of("TLSv1.3", "TLSv1.2");
    public static final List<String> APPLICATION_PROTOCOLS = List.of("http/1.1");
    /** With {@code --http2 on}: h2 preferred (RFC 9113 §3.2), http/1.1 for the rest. */
    public static final List<String> APPLICATION_PROTOCOLS_H2 = List.of("h2", "http/1.1");

    private static final String[] KEY_ALGORITHMS = {"RSA", "EC", "EdDSA", "RSASSA-PSS", "DSA", "XDH"};
    /** DER of AlgorithmIdentifier { rsaEncryption (1.2.840.113549.1.1.1), NULL }. */
    private static final byte[] RSA_ALGORITHM = {
        0x30, 0x0D, 0x06, 0x09, 0x2A, (byte)0x86, 0x48, (byte)0x86, (byte)0xF7, 0x0D, 0x01, 0x01, 0x01, 0x05, 0x00};
    /** DER of OBJECT IDENTIFIER id-ecPublicKey (1.2.840.10045.2.1). */
    private static final byte[] EC_PUBLIC_KEY_OID = {0x06, 0x07, 0x2A, (byte)0x86, 0x48, (byte)0xCE, 0x3D, 0x02, 0x01};

    private TlsContexts()
    {
    }

    /** An SSLContext serving the certificate chain and private key in the given PEM files. */
    public static SSLContext fromPem(final Path certificateChain, final Path privateKey)
    {
        final List<X509Certificate> chain = readCertificates(certificateChain);
        final PrivateKey key = readPrivateKey(privateKey);
        checkKeyMatches(chain.get(0), key, certificateChain, privateKey);
        try
        {
            final char[] password = new char[0];
            final KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            store.setKeyEntry("server", key, password, chain.toArray(new Certificate[0]));
            // PKIX (NewSunX509) checks algorithm constraints when choosing the key, unlike the SunX509 default.
            final KeyManagerFactory kmf = KeyManagerFactory.getInstance("PKIX");
            kmf.init(store, password);
            final SSLContext context = SSLContext.getInstance("TLS");
            context.init(kmf.getKeyManagers(), null, null);
            return context;
        }
        catch (final GeneralSecurityException | IOException e)
        {
            throw new IllegalArgumentException(String.format(
                "cannot use certificate %s with key %s: %s", certificateChain, privateKey, e.getMessage()), e);
        }
    }

    /** A server-mode engine with this package's parameters (protocols, ALPN, server cipher order). */
    public static SSLEngine newServerEngine(final SSLContext context)
    {
        return newServerEngine(context, false);
    }

    /** As {@link #newServerEngine(SSLContext)}, offering h2 first when {@code http2}. */
    public static SSLEngine newServerEngine(final SSLContext context, final boolean http2)
    {
        final SSLEngine engine = context.createSSLEngine();
        engine.setUseClientMode(false);
        final SSLParameters parameters = engine.getSSLParameters();
        parameters.setProtocols(PROTOCOLS.toArray(new String[0]));
        // RFC 7301 §3.2: a client offering ALPN without http/1.1 is refused (no_application_protocol).
        parameters.setApplicationProtocols((http2 ? APPLICATION_PROTOCOLS_H2 : APPLICATION_PROTOCOLS)
            .toArray(new String[0]));
        parameters.setCipherSuites(cipherOrder(engine.getEnabledCipherSuites()));
        parameters.setUseCipherSuitesOrder(true);
        parameters.setNeedClientAuth(false);
        engine.setSSLParameters(parameters);
        return engine;
    }

    /** The order last made and the enabled list it was made from: the same for every engine of a context. */
    private static volatile String[][] lastCipherOrder;

    /** {@link #serverCipherOrder}, made once per enabled list rather than for each accepted connection. */
    private static String[] cipherOrder(final String[] enabled)
    {
        String[][] last = lastCipherOrder;
        if (last == null || !Arrays.equals(last[0], enabled))
        {
            last = new String[][] {enabled, serverCipherOrder(enabled)};
            lastCipherOrder = last;
        }
        return last[1]; // SSLParameters copies it
    }

    /**
     * The JDK's enabled suites in its order, except that each AES-256-GCM suite comes right after its AES-128-GCM
     * sibling, which the JDK lists second. AES-128-GCM is what Mozilla's recommended server configurations, Go's
     * crypto/tls and the browsers put first, and it encrypts with 10 AES rounds instead of 14, so large answers cost
     * less CPU. How much is not measured yet: on a shared, busy machine paired h2load runs of 16 KiB answers
     * (--tls13-ciphers forcing each) gave from 11 % more to 21 % less proxy CPU per request: noise. Nginx,
     * following the client's order by default, already gets it from clients that offer it first, as h2load does.
     */
    static String[] serverCipherOrder(final String[] enabled)
    {
        final List<String> all = Arrays.asList(enabled);
        final List<String> ordered = new java.util.ArrayList<>(enabled.length);
        for (final String suite : enabled)
        {
            if (suite.endsWith("_AES_256_GCM_SHA384"))
            {
                final String aes128 = suite.substring(0, suite.length() - "_AES_256_GCM_SHA384".length()) +
                    "_AES_128_GCM_SHA256";
                if (all.contains(aes128) && !ordered.contains(aes128))
                {
                    ordered.add(aes128);
                }
            }
            if (!ordered.contains(suite))
            {
                ordered.add(suite);
            }
        }
        return ordered.toArray(new String[0]);
    }

    /**
     * The JDK accepts a key that does not belong to the certificate and then fails every handshake; a reload
     * with a new certificate but the old key must fail here instead, with the old context still serving.
     */
    private static void checkKeyMatches(final X509Certificate leaf, final PrivateKey key, final Path certificateFile,
        final Path keyFile)
    {
        final String signature = switch (key.getAlgorithm())
        {
            case "RSA" -> "SHA256withRSA";
            case "EC" -> "SHA256withECDSA";
            case "EdDSA", "Ed25519", "Ed448" -> "EdDSA";
            default -> null; // RSASSA-PSS, DSA: parameters vary; the handshake will tell
        };
        boolean matches = key.getAlgorithm().equals(leaf.getPublicKey().getAlgorithm());
        if (matches && signature != null)
        {
            try
            {
                final byte[] probe = "centrigate key check".getBytes(StandardCharsets.US_ASCII);
                final Signature signer = Signature.getInstance(signature);
                signer.initSign(key);
                signer.update(probe);
                final byte[] signed = signer.sign();
                final Signature verifier = Signature.getInstance(signature);
                verifier.initVerify(leaf.getPublicKey());
                verifier.update(probe);
                matches = verifier.verify(signed);
            }
            catch (final GeneralSecurityException e)
            {
                matches = false;
            }
        }
        if (!matches)
        {
            throw new IllegalArgumentException(String.format("private key %s does not belong to the certificate " +
                "%s (%s)", keyFile, certificateFile, leaf.getSubjectX500Principal()));
        }
    }

    // ---------------------------------------------------------------- PEM

    static List<X509Certificate> readCertificates(final Path file)
    {
        final byte[] pem = read(file);
        try
        {
            final CertificateFactory factory = CertificateFactory.getInstance("X.509");
            final var certificates = factory.generateCertificates(new ByteArrayInputStream(pem));
            if (certificates.isEmpty())
            {
                throw new IllegalArgumentException("no certificate in " + file + " (expected BEGIN CERTIFICATE)");
            }
            return certificates.stream().map(c -> (X509Certificate)c).toList();
        }
        catch (final CertificateException e)
        {
            throw new IllegalArgumentException("bad certificate PEM in " + file + ": " + e.getMessage(), e);
        }
    }

    static PrivateKey readPrivateKey(final Path file)
    {
        final String text = new String(read(file), StandardCharsets.US_ASCII);
        if (text.contains("BEGIN PRIVATE KEY"))
        {
            return pkcs8(file, pemBody(text, "PRIVATE KEY", file));
        }
        if (text.contains("BEGIN RSA PRIVATE KEY"))
        {
            checkNotEncrypted(text, file);
            final byte[] pkcs1 = pemBody(text, "RSA PRIVATE KEY", file);
            return pkcs8(file, sequence(concat(new byte[]{0x02, 0x01, 0x00}, RSA_ALGORITHM, octetString(pkcs1))));
        }
        if (text.contains("BEGIN EC PRIVATE KEY"))
        {
            checkNotEncrypted(text, file);
            final byte[] sec1 = pemBody(text, "EC PRIVATE KEY", file);
            final byte[] curve = ecCurveOid(sec1, file);
            final byte[] algorithm = sequence(concat(EC_PUBLIC_KEY_OID, curve));
            return pkcs8(file, sequence(concat(new byte[]{0x02, 0x01, 0x00}, algorithm, octetString(sec1))));
        }
        if (text.contains("BEGIN ENCRYPTED PRIVATE KEY"))
        {
            throw new IllegalArgumentException("private key " + file + " is encrypted; decrypt it with: " +
                "openssl pkcs8 -topk8 -nocrypt -in " + file + " -out key.pem");
        }
        throw new IllegalArgumentException("no private key in " + file + " (expected BEGIN PRIVATE KEY, " +
            "BEGIN RSA PRIVATE KEY or BEGIN EC PRIVATE KEY; convert others with: " +
            "openssl pkcs8 -topk8 -nocrypt -in " + file + " -out key.pem)");
    }

    private static void checkNotEncrypted(final String text, final Path file)
    {
        if (text.contains("Proc-Type: 4,ENCRYPTED"))
        {
            throw new IllegalArgumentException("private key " + file + " is encrypted; decrypt it with: " +
                "openssl pkcs8 -topk8 -nocrypt -in " + file + " -out key.pem");
        }
    }

    private static PrivateKey pkcs8(final Path file, final byte[] der)
    {
        final PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(der);
        for (final String algorithm : KEY_ALGORITHMS)
        {
            try
            {
                return KeyFactory.getInstance(algorithm).generatePrivate(spec);
            }
            catch (final InvalidKeySpecException | java.security.NoSuchAlgorithmException e)
            {
                // Not this algorithm: the PKCS#8 wrapper names it, but trying is simpler than parsing OIDs.
            }
        }
        throw new IllegalArgumentException("unsupported or corrupt private key in " + file + " (tried " +
            String.join(", ", KEY_ALGORITHMS) + ")");
    }

    private static byte[] pemBody(final String text, final String label, final Path file)
    {
        final String begin = "-----BEGIN " + label + "-----";
        final String end = "-----END " + label + "-----";
        final int from = text.indexOf(begin);
        final int to = text.indexOf(end, from);
        if (from < 0 || to < 0)
        {
            throw new IllegalArgumentException("unterminated PEM block " + label + " in " + file);
        }
        final StringBuilder base64 = new StringBuilder();
        for (final String line : text.substring(from + begin.length(), to).split("\r?\n"))
        {
            // Skips RFC 1421 headers (Proc-Type, DEK-Info) of legacy PEM.
            if (!line.contains(":"))
            {
                base64.append(line.strip());
            }
        }
        try
        {
            return Base64.getDecoder().decode(base64.toString());
        }
        catch (final IllegalArgumentException e)
        {
            throw new IllegalArgumentException("bad base64 in PEM block " + label + " in " + file, e);
        }
    }

    private static byte[] read(final Path file)
    {
        try
        {
            return Files.readAllBytes(file);
        }
        catch (final IOException e)
        {
            throw new IllegalArgumentException("cannot read " + file + ": " + e, e);
        }
    }

    // ---------------------------------------------------------------- minimal DER

    /** The namedCurve OID from a SEC 1 ECPrivateKey's [0] parameters (RFC 5915 §3). */
    private static byte[] ecCurveOid(final byte[] sec1, final Path file)
    {
        final int[] outer = header(sec1, 0, file);
        if (sec1[0] != 0x30)
        {
            throw new IllegalArgumentException("bad EC private key in " + file);
        }
        int at = outer[0];
        final int end = at + outer[1];
        while (at < end)
        {
            final int[] h = header(sec1, at, file);
            if ((sec1[at] & 0xFF) == 0xA0)
            {
                final int oidAt = h[0];
                final int[] oid = header(sec1, oidAt, file);
                if (sec1[oidAt] != 0x06)
                {
                    break;
                }
                return Arrays.copyOfRange(sec1, oidAt, oid[0] + oid[1]);
            }
            at = h[0] + h[1];
        }
        throw new IllegalArgumentException("EC private key in " + file + " does not name its curve; convert it with: " +
            "openssl pkcs8 -topk8 -nocrypt -in " + file + " -out key.pem");
    }

    /** {contentOffset, contentLength} of the TLV at {@code at}. */
    private static int[] header(final byte[] der, final int at, final Path file)
    {
        if (at + 2 > der.length)
        {
            throw new IllegalArgumentException("truncated DER in " + file);
        }
        int length = der[at + 1] & 0xFF;
        int offset = at + 2;
        if (length >= 0x80)
        {
            final int bytes = length & 0x7F;
            if (bytes == 0 || bytes > 3 || offset + bytes > der.length)
            {
                throw new IllegalArgumentException("bad DER length in " + file);
            }
            length = 0;
            for (int i = 0; i < bytes; i++)
            {
                length = (length << 8) | (der[offset++] & 0xFF);
            }
        }
        if (offset + length > der.length || length < 0)
        {
            throw new IllegalArgumentException("truncated DER in " + file);
        }
        return new int[]{offset, length};
    }

    private static byte[] sequence(final byte[] content)
    {
        return tlv(0x30, content);
    }

    private static byte[] octetString(final byte[] content)
    {
        return tlv(0x04, content);
    }

    private static byte[] tlv(final int tag, final byte[] content)
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream(content.length + 6);
        out.write(tag);
        final int n = content.length;
        if (n < 0x80)
        {
            out.write(n);
        }
        else if (n < 0x100)
        {
            out.write(0x81);
            out.write(n);
        }
        else if (n < 0x10000)
        {
            out.write(0x82);
            out.write(n >> 8);
            out.write(n);
        }
        else
        {
            out.write(0x83);
            out.write(n >> 16);
            out.write(n >> 8);
            out.write(n);
        }
        out.writeBytes(content);
        return out.toByteArray();
    }

    private static byte[] concat(final byte[]... parts)
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (final byte[] part : parts)
        {
            out.writeBytes(part);
        }
        return out.toByteArray();
    }
}
