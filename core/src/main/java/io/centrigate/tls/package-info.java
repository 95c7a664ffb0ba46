/**
 * TLS on the event loops: {@link io.centrigate.tls.TlsChannel} drives an {@link javax.net.ssl.SSLEngine} over a
 * non-blocking socket so a connection's state machine can read and write plaintext as it would a raw channel,
 * with {@link io.centrigate.tls.TlsBufferPool} lending the encrypted-side buffers only while bytes are in
 * flight; {@link io.centrigate.tls.TlsContexts} builds and reloads the server context from PEM files (cold
 * path). It must not parse HTTP, own connections, or start threads: delegated engine tasks run inline on the
 * calling loop.
 */
package io.centrigate.tls;
