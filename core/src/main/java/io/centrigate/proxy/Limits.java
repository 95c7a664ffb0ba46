package io.centrigate.proxy;

import io.centrigate.config.ProxyContext;
import io.centrigate.limit.ClientTable;
import io.centrigate.limit.HandshakeAdmission;

/**
 * The process's client table and upgrade admission, shared by every loop. The table exists only once a per-client
 * limit is on (at start or from a reload: its memory is then allocated once, and never replaced, so a connection
 * counted on it is always released on it); admission follows each configuration.
 */
final class Limits
{
    private volatile ClientTable table;
    private final HandshakeAdmission admission;

    Limits(final ProxyContext ctx)
    {
        final ProxyContext.Rate rate = ctx.maxHandshakeRateParsed();
        admission = new HandshakeAdmission(rate.perSecond(), rate.burst(), ctx.admissionWaitNs(), System.nanoTime());
        apply(ctx);
    }

    /** A (re)loaded configuration; cold, under the proxy's lock. */
    synchronized void apply(final ProxyContext ctx)
    {
        if (table == null && ctx.perClientLimits())
        {
            table = new ClientTable(ctx.clientTableSize(), System.nanoTime());
        }
        final ProxyContext.Rate rate = ctx.maxHandshakeRateParsed();
        admission.configure(rate.perSecond(), rate.burst(), ctx.admissionWaitNs());
    }

    /** Null until a per-client limit was configured. */
    ClientTable table()
    {
        return table;
    }

    HandshakeAdmission admission()
    {
        return admission;
    }
}
