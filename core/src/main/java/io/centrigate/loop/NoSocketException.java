package io.centrigate.loop;

import java.io.IOException;

/**
 * No socket could be made (EMFILE, ENFILE, ENOBUFS), or none of the source addresses of {@code --upstream-source}
 * could be bound: the process's own limit, not the peer's fault, so a caller
 * answers differently than to a refused or failed connect (no retry on another node, no mark against it).
 */
public final class NoSocketException extends IOException
{
    private static final long serialVersionUID = 1L;

    public NoSocketException(final String message, final Throwable cause)
    {
        super(message, cause);
    }
}
