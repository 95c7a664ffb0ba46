package io.centrigate.admin;

import java.util.Locale;

/** The parts of an admin request head the endpoints look at; the head is ISO-8859-1 text ending in CRLF CRLF. */
record AdminRequest(String method, String path, String accept, String authorization, String query)
{
    /** Null when the request line is not {@code METHOD SP TARGET SP HTTP/1.x}. */
    static AdminRequest parse(final String head)
    {
        final int lineEnd = head.indexOf("\r\n");
        final String[] line = head.substring(0, Math.max(0, lineEnd)).split(" ", -1);
        if (line.length != 3 || line[0].isEmpty() || !line[1].startsWith("/") || !line[2].startsWith("HTTP/1."))
        {
            return null;
        }
        final int query = line[1].indexOf('?');
        String accept = "";
        String authorization = null;
        for (final String field : head.substring(lineEnd + 2).split("\r\n"))
        {
            final int colon = field.indexOf(':');
            if (colon <= 0)
            {
                continue;
            }
            final String name = field.substring(0, colon).trim().toLowerCase(Locale.ROOT);
            final String value = field.substring(colon + 1).trim();
            if (name.equals("accept"))
            {
                accept = accept.isEmpty() ? value : accept + "," + value;
            }
            else if (name.equals("authorization"))
            {
                authorization = value;
            }
        }
        return new AdminRequest(line[0], query < 0 ? line[1] : line[1].substring(0, query), accept, authorization,
            query < 0 ? "" : line[1].substring(query + 1));
    }

    /** The value of {@code name} in the query ({@code a=1&b=2}), not percent-decoded; null when absent. */
    String queryParameter(final String name)
    {
        for (final String pair : query.split("&"))
        {
            final int eq = pair.indexOf('=');
            if (eq > 0 && pair.substring(0, eq).equals(name))
            {
                return pair.substring(eq + 1);
            }
        }
        return null;
    }

    /** Whether the scraper asks for OpenMetrics rather than the Prometheus text format 0.0.4. */
    boolean wantsOpenMetrics()
    {
        return accept.toLowerCase(Locale.ROOT).contains("application/openmetrics-text");
    }
}
