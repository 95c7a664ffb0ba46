package io.centrigate.route;

import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import org.agrona.DirectBuffer;

import io.centrigate.config.Cidr;
import io.centrigate.config.ProxyContext;

/**
 * Decides, per request, which upstream group serves it and how its target is rewritten: virtual hosts by
 * {@code Host}, the embedded mode's prefix (stripped, like the reference's {@code rewrite ^/centrifugo/(.*) /$1}),
 * and the guard on Centrifugo's operator endpoints. Built once from the context; {@link #route} compares bytes
 * against precomputed arrays and allocates nothing. It does no I/O.
 */
public final class Router
{
    public static final int NOT_FOUND = -404;
    public static final int FORBIDDEN = -403;

    private final List<String> groupNames;
    private final byte[][] exactHosts;
    private final int[] exactHostGroups;
    private final byte[][] wildcardSuffixes;
    private final int[] wildcardGroups;
    private final byte[] prefix;
    private final int outsidePrefixGroup;
    private final byte[][] internalExact;
    private final byte[][] internalPrefixes;
    private final boolean[] protectedGroup;
    private final Cidr[] internalAllow;
    private final boolean sockJsSticky;

    /** Centrifugo's SockJS handler (v3-v5), below which {@code <server>/<session>/<transport>} follows. */
    private static final byte[] SOCKJS = ascii("/connection/sockjs/");
    /**
     * The SockJS transports bound to a session kept in one node's memory, as HTTP requests: they must all reach
     * that node. {@code websocket} is left out: one upgrade, one tunnel, nothing to keep together.
     */
    private static final byte[][] SOCKJS_SESSION_TRANSPORTS = {ascii("xhr"), ascii("xhr_send"), ascii("xhr_streaming"),
        ascii("eventsource"), ascii("htmlfile"), ascii("jsonp"), ascii("jsonp_send")};

    public Router(final ProxyContext ctx)
    {
        groupNames = new ArrayList<>(ctx.groups().keySet());
        final List<byte[]> exact = new ArrayList<>();
        final List<Integer> exactGroups = new ArrayList<>();
        final List<byte[]> wildcard = new ArrayList<>();
        final List<Integer> wildcardGroupList = new ArrayList<>();
        for (final ProxyContext.VirtualHost vh : ctx.virtualHosts())
        {
            final int group = groupNames.indexOf(vh.group());
            if (vh.host().startsWith("*."))
            {
                wildcard.add(ascii(vh.host().substring(1))); // ".example.com"
                wildcardGroupList.add(group);
            }
            else
            {
                exact.add(ascii(vh.host()));
                exactGroups.add(group);
            }
        }
        exactHosts = exact.toArray(new byte[0][]);
        exactHostGroups = exactGroups.stream().mapToInt(Integer::intValue).toArray();
        wildcardSuffixes = wildcard.toArray(new byte[0][]);
        wildcardGroups = wildcardGroupList.stream().mapToInt(Integer::intValue).toArray();
        prefix = ctx.prefix() == null ? null : ascii(ctx.prefix());
        outsidePrefixGroup = ctx.outsidePrefixGroup() == null ? -1 : groupNames.indexOf(ctx.outsidePrefixGroup());
        final List<byte[]> internalExactList = new ArrayList<>();
        final List<byte[]> internalPrefixList = new ArrayList<>();
        for (final String pattern : ctx.internalPaths())
        {
            if (pattern.endsWith("/*"))
            {
                internalExactList.add(ascii(pattern.substring(0, pattern.length() - 2)));
                internalPrefixList.add(ascii(pattern.substring(0, pattern.length() - 1)));
            }
            else if (pattern.endsWith("*"))
            {
                internalPrefixList.add(ascii(pattern.substring(0, pattern.length() - 1)));
            }
            else
            {
                internalExactList.add(ascii(pattern));
            }
        }
        internalExact = internalExactList.toArray(new byte[0][]);
        internalPrefixes = internalPrefixList.toArray(new byte[0][]);
        protectedGroup = new boolean[groupNames.size()];
        for (final String g : ctx.protectedGroups())
        {
            final int i = groupNames.indexOf(g);
            if (i >= 0)
            {
                protectedGroup[i] = true;
            }
        }
        internalAllow = ctx.internalAllow().stream().map(Cidr::parse).toArray(Cidr[]::new);
        sockJsSticky = ctx.sockJsSticky();
    }

    /** Hosts compare case-insensitively (stored lower case); paths compare exactly, as Go's router does. */
    private static byte[] ascii(final String s)
    {
        return (s.startsWith("/") ? s : s.toLowerCase(Locale.ROOT)).getBytes(StandardCharsets.US_ASCII);
    }

    public List<String> groupNames()
    {
        return List.copyOf(groupNames);
    }

    /** Whether a client address may reach the operator endpoints; once per connection (cold). */
    /** As above, for {@code address[0, length)} (4 or 16 bytes); per request behind a trusted forwarder. */
    public boolean isInternal(final byte[] address, final int length)
    {
        for (final Cidr cidr : internalAllow)
        {
            if (cidr.contains(address, length))
            {
                return true;
            }
        }
        return false;
    }

    public boolean isInternal(final InetAddress client)
    {
        for (final Cidr cidr : internalAllow)
        {
            if (cidr.contains(client))
            {
                return true;
            }
        }
        return false;
    }

    /**
     * Immutable, and shared by every loop: a route leaves no state behind (see {@link #stripLength}).
     *
     * @param hostOffset offset of the Host value, or -1 when there is none (HTTP/1.0).
     * @return the group index, or {@link #NOT_FOUND} / {@link #FORBIDDEN}; {@link #stripLength} then says how many
     *         bytes of the target to drop.
     */
    public int route(
        final DirectBuffer buf, final int targetOffset, final int targetLength, final int hostOffset,
        final int hostLength, final boolean internalClient)
    {
        int group = hostOffset < 0 ? 0 : hostGroup(buf, hostOffset, hostLength);
        int strip = 0;
        if (group == 0 && prefix != null)
        {
            // Only the Centrifugo group is embedded under the prefix; virtual hosts are routed whole.
            if (startsWithSegment(buf, targetOffset, targetLength, prefix))
            {
                strip = prefix.length;
            }
            else if (outsidePrefixGroup >= 0)
            {
                group = outsidePrefixGroup;
            }
            else
            {
                return NOT_FOUND;
            }
        }
        if (protectedGroup[group] && !internalClient &&
            isInternalPath(buf, targetOffset + strip, targetLength - strip))
        {
            return FORBIDDEN;
        }
        return group;
    }

    /**
     * How many bytes of the target to drop for a request {@link #route} sent to {@code group}: the prefix, when the
     * Centrifugo group was reached under it. Computed again rather than kept from the route: one router serves every
     * loop, and a field written by one loop's route would be read by another's (a prefix stripped from the wrong
     * request).
     */
    public int stripLength(final DirectBuffer buf, final int targetOffset, final int targetLength, final int group)
    {
        return group == 0 && prefix != null && startsWithSegment(buf, targetOffset, targetLength, prefix) ?
            prefix.length : 0;
    }

    /**
     * The affinity key of a SockJS session request: for {@code /connection/sockjs/<server>/<session>/<transport>}
     * (query allowed) with an HTTP transport of {@link #SOCKJS_SESSION_TRANSPORTS}, a 64-bit hash of the session id,
     * never 0; 0 for anything else ({@code /info}, the raw {@code /websocket}, the {@code websocket} transport,
     * other paths) or when {@code sockjs-sticky} is off. The path is the one the node sees (prefix stripped).
     * Reads the bytes in place, allocates nothing, keeps no state.
     */
    public long sockJsKey(final DirectBuffer buf, final int pathOffset, final int pathLength)
    {
        if (!sockJsSticky || pathLength <= SOCKJS.length || !startsWith(buf, pathOffset, pathLength, SOCKJS))
        {
            return 0;
        }
        final int end = pathOffset + pathLength;
        final int server = pathOffset + SOCKJS.length;
        final int serverEnd = segmentEnd(buf, server, end);
        if (serverEnd == server || serverEnd >= end || buf.getByte(serverEnd) != '/')
        {
            return 0;
        }
        final int session = serverEnd + 1;
        final int sessionEnd = segmentEnd(buf, session, end);
        if (sessionEnd == session || sessionEnd >= end || buf.getByte(sessionEnd) != '/')
        {
            return 0;
        }
        final int transport = sessionEnd + 1;
        final int transportEnd = segmentEnd(buf, transport, end);
        if (transportEnd < end && buf.getByte(transportEnd) != '?')
        {
            return 0; // a further segment: not a SockJS session URL
        }
        boolean known = false;
        for (final byte[] t : SOCKJS_SESSION_TRANSPORTS)
        {
            if (transportEnd - transport == t.length && startsWith(buf, transport, t.length, t))
            {
                known = true;
                break;
            }
        }
        if (!known)
        {
            return 0;
        }
        // FNV-1a over the id, then a 64-bit finaliser: ids that differ in one character land far apart.
        long h = 0xcbf29ce484222325L;
        for (int i = session; i < sessionEnd; i++)
        {
            h = (h ^ (buf.getByte(i) & 0xFF)) * 0x100000001b3L;
        }
        h = io.centrigate.upstream.UpstreamGroup.mix(h);
        return h == 0 ? 1 : h;
    }

    /** Where the path segment from {@code from} ends: at '/', '?' or {@code end}. */
    private static int segmentEnd(final DirectBuffer buf, final int from, final int end)
    {
        int i = from;
        while (i < end)
        {
            final byte b = buf.getByte(i);
            if (b == '/' || b == '?')
            {
                break;
            }
            i++;
        }
        return i;
    }

    private static boolean startsWith(final DirectBuffer buf, final int offset, final int length, final byte[] p)
    {
        if (length < p.length)
        {
            return false;
        }
        for (int i = 0; i < p.length; i++)
        {
            if (buf.getByte(offset + i) != p[i])
            {
                return false;
            }
        }
        return true;
    }

    private int hostGroup(final DirectBuffer buf, final int offset, final int length)
    {
        int end = length;
        // Drop ":port" (but not inside an IPv6 literal's brackets).
        for (int i = length - 1; i >= 0; i--)
        {
            final byte b = buf.getByte(offset + i);
            if (b == ':')
            {
                end = i;
                break;
            }
            if (b < '0' || b > '9')
            {
                break;
            }
        }
        for (int h = 0; h < exactHosts.length; h++)
        {
            if (equalsIgnoreCase(buf, offset, end, exactHosts[h]))
            {
                return exactHostGroups[h];
            }
        }
        for (int h = 0; h < wildcardSuffixes.length; h++)
        {
            final byte[] suffix = wildcardSuffixes[h];
            if (end > suffix.length && equalsIgnoreCase(buf, offset + end - suffix.length, suffix.length, suffix))
            {
                return wildcardGroups[h];
            }
        }
        return 0;
    }

    /** The target is the prefix itself, or continues with '/' or '?' after it. */
    private static boolean startsWithSegment(final DirectBuffer buf, final int offset, final int length, final byte[] p)
    {
        if (length < p.length)
        {
            return false;
        }
        for (int i = 0; i < p.length; i++)
        {
            if (buf.getByte(offset + i) != p[i])
            {
                return false;
            }
        }
        if (length == p.length)
        {
            return true;
        }
        final byte next = buf.getByte(offset + p.length);
        return next == '/' || next == '?';
    }

    /**
     * Compares the path percent-decoded, as Centrifugo's Go router sees it, so {@code /%61pi} cannot slip past a
     * rule for {@code /api}.
     */
    private boolean isInternalPath(final DirectBuffer buf, final int offset, final int length)
    {
        for (final byte[] exact : internalExact)
        {
            final int matched = matchDecoded(buf, offset, length, exact);
            if (matched >= 0 && pathEndsAt(buf, offset, length, matched))
            {
                return true;
            }
        }
        for (final byte[] prefixPattern : internalPrefixes)
        {
            if (matchDecoded(buf, offset, length, prefixPattern) >= 0)
            {
                return true;
            }
        }
        return false;
    }

    /** Returns the raw bytes consumed if the decoded path starts with {@code pattern}, else -1. */
    private static int matchDecoded(final DirectBuffer buf, final int offset, final int length, final byte[] pattern)
    {
        int i = 0;
        int p = 0;
        // An empty path (target "" after stripping the whole prefix) is "/".
        if (length == 0 || buf.getByte(offset) == '?')
        {
            return pattern.length == 1 && pattern[0] == '/' ? 0 : -1;
        }
        while (p < pattern.length)
        {
            if (i >= length)
            {
                return -1;
            }
            int b = buf.getByte(offset + i) & 0xFF;
            if (b == '?')
            {
                return -1;
            }
            if (b == '%' && i + 2 < length)
            {
                final int hi = Character.digit(buf.getByte(offset + i + 1), 16);
                final int lo = Character.digit(buf.getByte(offset + i + 2), 16);
                if (hi >= 0 && lo >= 0)
                {
                    b = hi * 16 + lo;
                    i += 2;
                }
            }
            if (b != (pattern[p] & 0xFF))
            {
                return -1;
            }
            i++;
            p++;
        }
        return i;
    }

    private static boolean pathEndsAt(final DirectBuffer buf, final int offset, final int length, final int at)
    {
        return at == length || buf.getByte(offset + at) == '?';
    }

    private static boolean equalsIgnoreCase(final DirectBuffer buf, final int offset, final int length, final byte[] lower)
    {
        if (length != lower.length)
        {
            return false;
        }
        for (int i = 0; i < length; i++)
        {
            int b = buf.getByte(offset + i);
            if (b >= 'A' && b <= 'Z')
            {
                b += 32;
            }
            if (b != lower[i])
            {
                return false;
            }
        }
        return true;
    }
}
