package io.centrigate.cli.check;

import io.centrigate.config.ProxyContext;

/**
 * The load to check the machine against.
 *
 * @param connections  concurrent client connections (each a tunnel: a client and an upstream socket)
 * @param backlog      the listen backlog centrigate asks for
 * @param upstreams    distinct upstream address:port pairs the connections are spread over
 * @param bufferMemory off-heap chunk memory ({@code --buffer-memory}), allocated as direct buffers
 * @param sources      upstream source addresses ({@code --upstream-source}); 0 when none are set
 * @param portsPerNode with source addresses: whether each one has the whole port range towards each node
 *                     address:port (epoll binds with IP_BIND_ADDRESS_NO_PORT), or one range over all nodes (NIO)
 */
public record Target(long connections, long backlog, int upstreams, long bufferMemory, int sources, boolean portsPerNode)
{
    public static final long DEFAULT_CONNECTIONS = 65_536;

    public Target
    {
        if (connections < 1 || backlog < 1 || upstreams < 1 || bufferMemory < 0 || sources < 0)
        {
            throw new IllegalArgumentException("connections, backlog and upstreams must be at least 1, buffer memory and "
                + "source addresses >= 0");
        }
    }

    /** Without source addresses: the kernel picks the source, one port range per node address:port. */
    public Target(final long connections, final long backlog, final int upstreams, final long bufferMemory)
    {
        this(connections, backlog, upstreams, bufferMemory, 0, true);
    }

    /** {@code connections} with centrigate's defaults for everything else. */
    public static Target of(final long connections)
    {
        return new Target(connections, ProxyContext.DEFAULT_BACKLOG, 1, ProxyContext.DEFAULT_BUFFER_MEMORY);
    }

    /** Descriptors the process needs: two per tunnel plus the margin for listeners, logs and the JVM. */
    public long descriptors()
    {
        return 2 * connections + ProxyContext.DESCRIPTOR_MARGIN;
    }

    /** Connections that go to one upstream address:port, the busiest one when they do not divide evenly. */
    public long connectionsPerUpstream()
    {
        return (connections + upstreams - 1) / upstreams;
    }
}
