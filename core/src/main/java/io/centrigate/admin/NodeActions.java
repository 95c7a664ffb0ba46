package io.centrigate.admin;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

import io.centrigate.proxy.Proxy;
import io.centrigate.upstream.UpstreamGroup;

/**
 * The admin endpoints that change a node: {@code POST /upstreams/GROUP/nodes/HOST:PORT/drain}, {@code .../undrain}
 * and {@code .../weight?value=N}. They need the bearer token of {@code --admin-token-file} when one is set (401
 * without an {@code Authorization: Bearer} header, 403 with a wrong token); only POST changes anything (405
 * otherwise, so a crawler or a prefetching browser cannot drain a node). Admin thread, cold.
 */
final class NodeActions
{
    static final String PREFIX = "/upstreams/";

    private final Proxy proxy;

    NodeActions(final Proxy proxy)
    {
        this.proxy = proxy;
    }

    AdminResponse answer(final AdminRequest request)
    {
        // /upstreams/<group>/nodes/<host:port>/<action>
        final String[] parts = request.path().substring(PREFIX.length()).split("/", -1);
        if (parts.length != 4 || !parts[1].equals("nodes") ||
            !(parts[3].equals("drain") || parts[3].equals("undrain") || parts[3].equals("weight")))
        {
            return AdminResponse.text(404, "Not Found",
                "not found: POST /upstreams/GROUP/nodes/HOST:PORT/drain, /undrain, /weight?value=N\n");
        }
        if (!request.method().equals("POST"))
        {
            return new AdminResponse(405, "Method Not Allowed", "text/plain; charset=utf-8",
                "method not allowed: only POST\n".getBytes(StandardCharsets.UTF_8), "POST");
        }
        final AdminResponse denied = checkToken(request.authorization());
        if (denied != null)
        {
            return denied;
        }
        final String groupName = decode(parts[0]); // "vhost example.com" arrives as vhost%20example.com
        final String node = decode(parts[2]);
        final String action = parts[3];
        final int weight;
        if (action.equals("weight"))
        {
            final String value = request.queryParameter("value");
            int w = -1;
            try
            {
                w = value == null ? -1 : Integer.parseInt(value);
            }
            catch (final NumberFormatException e)
            {
                // answered below
            }
            if (w < 1 || w > io.centrigate.config.ProxyContext.MAX_WEIGHT)
            {
                return AdminResponse.text(400, "Bad Request",
                    "weight needs ?value=N with N 1.." + io.centrigate.config.ProxyContext.MAX_WEIGHT + "\n");
            }
            weight = w;
        }
        else
        {
            weight = 0;
        }
        return proxy.adminChange(() ->
        {
            final UpstreamGroup group = proxy.upstreamGroups().get(groupName);
            final int i = group == null ? -1 : group.nodeIndex(node);
            if (i < 0)
            {
                return AdminResponse.text(404, "Not Found", "no node " + node + " in upstream group " + groupName + "\n");
            }
            switch (action)
            {
                case "drain": group.drain(i, true); break;
                case "undrain": group.drain(i, false); break;
                default: group.weight(i, weight); break;
            }
            return AdminResponse.json(new Json().beginObject()
                .field("group", groupName)
                .field("address", MetricsExport.hostPort(group.address(i)))
                .field("state", group.state(i, System.nanoTime()))
                .field("drained", group.drained(i))
                .field("weight", group.weight(i))
                .field("tunnels", group.tunnels(i).open())
                .endObject().toString() + "\n");
        });
    }

    private static String decode(final String segment)
    {
        try
        {
            return java.net.URLDecoder.decode(segment.replace("+", "%2B"), StandardCharsets.UTF_8);
        }
        catch (final IllegalArgumentException e)
        {
            return segment; // not valid percent-encoding: looked up as it is, and not found
        }
    }

    /** Null when the request may change state; else 401 (no bearer credentials) or 403 (wrong token). */
    private AdminResponse checkToken(final String authorization)
    {
        final String token = proxy.context().adminToken();
        if (token == null)
        {
            return null; // no token file: --admin-allow alone guards the listener
        }
        if (authorization == null || !authorization.regionMatches(true, 0, "Bearer ", 0, 7))
        {
            return new AdminResponse(401, "Unauthorized", "text/plain; charset=utf-8",
                "unauthorized: send Authorization: Bearer <token of --admin-token-file>\n".getBytes(StandardCharsets.UTF_8),
                null, "WWW-Authenticate: Bearer realm=\"centrigate-admin\"\r\n");
        }
        final byte[] given = authorization.substring(7).trim().getBytes(StandardCharsets.US_ASCII);
        // Constant time: the comparison must not tell how many leading bytes of a guess were right.
        if (!MessageDigest.isEqual(given, token.getBytes(StandardCharsets.US_ASCII)))
        {
            return AdminResponse.text(403, "Forbidden", "forbidden: wrong token\n");
        }
        return null;
    }
}
