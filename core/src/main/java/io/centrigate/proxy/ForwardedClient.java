package io.centrigate.proxy;

import io.centrigate.http.IpText;

/**
 * The client of the current request on a connection from a trusted forwarder ({@code --trusted-proxies}): found in
 * each request's X-Forwarded-For, since a forwarder's keep-alive connection carries many clients' requests. Made
 * only for such connections, so every other session carries one null reference for it.
 */
final class ForwardedClient
{
    /** The address as text, {@link #length} bytes; 0 until the current request's head has been routed. */
    final byte[] text = new byte[IpText.MAX_TEXT];
    int length;
    /** Whether the address is in {@code --internal-allow}. */
    boolean internal;
    /** The current request's client as a client table key ({@code io.centrigate.limit.ClientTable#key}). */
    long key;
    /** The connection's own client (the forwarder, or the source its PROXY header names) as a key. */
    final long connectionKey;

    ForwardedClient(final long connectionKey)
    {
        this.connectionKey = connectionKey;
        this.key = connectionKey;
    }
}
