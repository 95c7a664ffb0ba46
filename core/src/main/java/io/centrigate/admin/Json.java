package io.centrigate.admin;

/** A small JSON writer for {@code /status}: objects, arrays, strings with escaping, numbers and booleans. */
final class Json
{
    private final StringBuilder out = new StringBuilder(1024);
    /** Whether the next value in the current container needs a comma before it. */
    private boolean comma;

    Json beginObject()
    {
        separate();
        out.append('{');
        comma = false;
        return this;
    }

    Json endObject()
    {
        out.append('}');
        comma = true;
        return this;
    }

    Json beginArray()
    {
        separate();
        out.append('[');
        comma = false;
        return this;
    }

    Json endArray()
    {
        out.append(']');
        comma = true;
        return this;
    }

    /** A key of the current object; the next call writes its value. */
    Json key(final String name)
    {
        separate();
        string(name);
        out.append(':');
        comma = false;
        return this;
    }

    Json value(final String s)
    {
        separate();
        if (s == null)
        {
            out.append("null");
        }
        else
        {
            string(s);
        }
        comma = true;
        return this;
    }

    Json nullValue()
    {
        separate();
        out.append("null");
        comma = true;
        return this;
    }

    Json value(final long n)
    {
        separate();
        out.append(n);
        comma = true;
        return this;
    }

    Json value(final double d)
    {
        separate();
        out.append(Double.isFinite(d) ? Double.toString(d) : "null");
        comma = true;
        return this;
    }

    Json value(final boolean b)
    {
        separate();
        out.append(b);
        comma = true;
        return this;
    }

    Json field(final String name, final String s)
    {
        return key(name).value(s);
    }

    Json field(final String name, final long n)
    {
        return key(name).value(n);
    }

    Json field(final String name, final boolean b)
    {
        return key(name).value(b);
    }

    private void separate()
    {
        if (comma)
        {
            out.append(',');
            comma = false;
        }
    }

    private void string(final String s)
    {
        out.append('"');
        for (int i = 0; i < s.length(); i++)
        {
            final char c = s.charAt(i);
            switch (c)
            {
                case '"': out.append("\\\""); break;
                case '\\': out.append("\\\\"); break;
                case '\n': out.append("\\n"); break;
                case '\r': out.append("\\r"); break;
                case '\t': out.append("\\t"); break;
                default:
                    if (c < 0x20 || c == 0x2028 || c == 0x2029)
                    {
                        out.append(String.format("\\u%04x", (int)c));
                    }
                    else
                    {
                        out.append(c);
                    }
            }
        }
        out.append('"');
    }

    @Override
    public String toString()
    {
        return out.toString();
    }

    /** {@code s} as a JSON string literal, quotes included. */
    static String quote(final String s)
    {
        final Json json = new Json();
        json.string(s);
        return json.toString();
    }
}
