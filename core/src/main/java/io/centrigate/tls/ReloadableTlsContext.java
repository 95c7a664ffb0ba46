package io.centrigate.tls;

import java.nio.file.Path;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;

/**
 * The server's TLS context, swapped whole on reload (SIGHUP): loops call {@link #newServerEngine()} per accepted
 * connection and read the current context through one volatile field, so a reload never blocks them and a
 * connection keeps the certificate it was accepted with. A reload that fails (missing file, key not matching)
 * keeps the previous context and reports why.
 * <p>
 * A new context has a new session cache: sessions (and TLS 1.3 tickets) issued before a reload do not resume
 * after it, so clients make one full handshake each.
 */
public final class ReloadableTlsContext
{
    private volatile Path certificateChain;
    private volatile Path privateKey;
    private volatile SSLContext context;

    /** Loads the files now; fails with a message naming the file if they cannot be used. */
    public ReloadableTlsContext(final Path certificateChain, final Path privateKey)
    {
        this.certificateChain = certificateChain;
        this.privateKey = privateKey;
        this.context = TlsContexts.fromPem(certificateChain, privateKey);
    }

    /**
     * Re-reads both files and swaps the context in.
     *
     * @throws IllegalArgumentException if they cannot be used; the previous context stays in service.
     */
    public void reload()
    {
        reload(certificateChain, privateKey);
    }

    /**
     * Reads the pair from these files, which a reloaded configuration may name anew, and swaps the context in;
     * later reloads re-read them.
     *
     * @throws IllegalArgumentException if they cannot be used; the previous context and files stay in service.
     */
    public synchronized void reload(final Path certificateChain, final Path privateKey)
    {
        context = TlsContexts.fromPem(certificateChain, privateKey);
        this.certificateChain = certificateChain;
        this.privateKey = privateKey;
    }

    public SSLContext context()
    {
        return context;
    }

    public SSLEngine newServerEngine()
    {
        return TlsContexts.newServerEngine(context);
    }

    /** With {@code http2}, ALPN offers h2 before http/1.1. */
    public SSLEngine newServerEngine(final boolean http2)
    {
        return TlsContexts.newServerEngine(context, http2);
    }

    public Path certificateChain()
    {
        return certificateChain;
    }

    public Path privateKey()
    {
        return privateKey;
    }
}
