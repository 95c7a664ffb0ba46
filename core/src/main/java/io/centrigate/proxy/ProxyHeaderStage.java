package io.centrigate.proxy;

import java.io.IOException;
import java.nio.ByteBuffer;

import org.agrona.concurrent.UnsafeBuffer;

import io.centrigate.http.IpText;
import io.centrigate.http.ProxyProtocolHeader;
import io.centrigate.loop.Connection;
import io.centrigate.metrics.LoopStats;

/**
 * The PROXY protocol stage of a connection on a {@code --proxy-protocol} listener: it reads the socket into the
 * connection's head chunk until {@link ProxyProtocolHeader} has a verdict, and says what the header means for the
 * connection (its client address, whether that is internal, whether it is a trusted forwarder). The session acts on
 * the verdicts and keeps the chunk, as it does with {@link RequestHeadStage}'s.
 * <p>
 * On a TLS listener the header comes before the handshake; a read there is bounded by the header's largest size,
 * so what came behind the header in the same read (the start of the ClientHello) always fits TLS's input buffer.
 * <p>
 * One per loop; what it says holds until the loop reads the next header.
 */
final class ProxyHeaderStage
{
    /** Nothing new was read. */
    static final int NOTHING = 0;
    /** Part of a header: read on. */
    static final int INCOMPLETE = 1;
    /** A whole, valid header, {@link #headerLength()} bytes; the rest of the chunk's bytes follow it. */
    static final int ACCEPTED = 2;
    /** Refused for {@link #reason()} ({@link LoopStats}'s {@code PROXY_HEADER_*}): the connection is closed. */
    static final int REFUSED = 3;
    /** The peer left before sending a byte (a port check): closed, nothing to count. */
    static final int ENDED = 4;

    private final ProxyLoop owner;
    private final ProxyProtocolHeader header;
    private int headerLength;
    private int reason;

    ProxyHeaderStage(final ProxyLoop owner, final int maxLength)
    {
        this.owner = owner;
        this.header = new ProxyProtocolHeader(maxLength);
    }

    /** Reads more of the header into {@code chunk[position, ...)} and judges {@code chunk[0, position)}. */
    int read(final Connection client, final ByteBuffer chunk, final UnsafeBuffer view, final boolean tls)
        throws IOException
    {
        if (tls)
        {
            chunk.limit(Math.min(chunk.capacity(), header.maxLength()));
        }
        final int n;
        try
        {
            n = client.read(chunk);
        }
        finally
        {
            chunk.limit(chunk.capacity());
        }
        if (n < 0)
        {
            return chunk.position() > 0 ? refuse(LoopStats.PROXY_HEADER_MALFORMED) : ENDED;
        }
        if (n == 0)
        {
            return NOTHING;
        }
        final int length = header.parse(view, 0, chunk.position());
        switch (length)
        {
            case ProxyProtocolHeader.INCOMPLETE: return INCOMPLETE;
            case ProxyProtocolHeader.MISSING: return refuse(LoopStats.PROXY_HEADER_MISSING);
            case ProxyProtocolHeader.OVERSIZED: return refuse(LoopStats.PROXY_HEADER_OVERSIZED);
            case ProxyProtocolHeader.MALFORMED: return refuse(LoopStats.PROXY_HEADER_MALFORMED);
            default:
                headerLength = length;
                return ACCEPTED;
        }
    }

    private int refuse(final int why)
    {
        reason = why;
        return REFUSED;
    }

    int reason()
    {
        return reason;
    }

    int headerLength()
    {
        return headerLength;
    }

    /** The client address the accepted header names, as text; null for LOCAL, UNKNOWN and others (the peer stays). */
    byte[] sourceText()
    {
        if (!header.hasSource())
        {
            return null;
        }
        final byte[] text = new byte[IpText.MAX_TEXT];
        return java.util.Arrays.copyOf(text, IpText.format(header.source(), header.sourceLength(), text));
    }

    /** The source as a client table key (valid while {@link #sourceText()} is not null). */
    long sourceKey()
    {
        return io.centrigate.limit.ClientTable.key(header.source(), header.sourceLength());
    }

    boolean sourceInternal()
    {
        return owner.isInternalClient(header.source(), header.sourceLength());
    }

    /** The trust in X-Forwarded-For goes to the address the connection comes from after the header. */
    boolean sourceTrusted()
    {
        return owner.isTrustedForwarder(header.source(), header.sourceLength());
    }
}
