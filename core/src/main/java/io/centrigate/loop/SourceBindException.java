package io.centrigate.loop;

import java.io.IOException;

/**
 * The upstream socket could not take the local (source) address it was asked to bind to: the address is not on
 * this machine (EADDRNOTAVAIL), or it has no port left towards that node (EADDRNOTAVAIL or EADDRINUSE at bind or
 * connect). Our own address's fault, not the node's: a caller tries another source address and never marks the
 * node.
 */
public final class SourceBindException extends IOException
{
    private static final long serialVersionUID = 1L;

    public SourceBindException(final String message, final Throwable cause)
    {
        super(message, cause);
    }
}
