package io.centrigate.cli.check;

import java.util.List;

/** Findings as text, one line each, or as a JSON array for machines. */
public final class Report
{
    private Report()
    {
    }

    /** {@code PASS|WARN|FAIL <check>: <detail>}, followed by {@code  -> fix: <fix>} unless it passed. */
    public static String line(final Finding f)
    {
        return f.status() + " " + f.check() + ": " + f.detail() + (f.fix() == null ? "" : " -> fix: " + f.fix());
    }

    /** {@code [{"check":...,"status":"PASS|WARN|FAIL","detail":...,"fix":... or null}, ...]}, one element a line. */
    public static String json(final List<Finding> findings)
    {
        final StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < findings.size(); i++)
        {
            final Finding f = findings.get(i);
            sb.append(i == 0 ? "\n  " : ",\n  ")
                .append("{\"check\":").append(string(f.check()))
                .append(",\"status\":").append(string(f.status().name()))
                .append(",\"detail\":").append(string(f.detail()))
                .append(",\"fix\":").append(f.fix() == null ? "null" : string(f.fix()))
                .append('}');
        }
        return sb.append(findings.isEmpty() ? "]" : "\n]").toString();
    }

    /** A JSON string literal (RFC 8259 §7): quote, backslash and control characters escaped. */
    static String string(final String s)
    {
        final StringBuilder sb = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++)
        {
            final char c = s.charAt(i);
            switch (c)
            {
                case '"': sb.append("\\\""); break;
                case '\\': sb.append("\\\\"); break;
                case '\n': sb.append("\\n"); break;
                case '\r': sb.append("\\r"); break;
                case '\t': sb.append("\\t"); break;
                default:
                    if (c < 0x20)
                    {
                        sb.append(String.format("\\u%04x", (int)c));
                    }
                    else
                    {
                        sb.append(c);
                    }
            }
        }
        return sb.append('"').toString();
    }
}
