package io.centrigate.bench.load;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns the raw JSON lines of a bench run ({@code raw/runs.jsonl}: one line per scenario, target and repetition)
 * into {@code results.md} (medians with min–max spread, each figure as a ratio to direct and to Nginx, and the
 * issue's targets met / not met), {@code results.csv} (every metric of every repetition, long format),
 * {@code summary.csv} (the medians) and {@code plot/*.dat} for {@code bench/e2e/plot.gp}.
 *
 * <pre>java -cp bench/target/benchmarks.jar io.centrigate.bench.load.Report OUT_DIR [TITLE_LINE]</pre>
 */
public final class Report
{
    private static final Pattern FIELD =
        Pattern.compile("\"([^\"]+)\":(null|\"((?:[^\"\\\\]|\\\\.)*)\"|[-0-9.eE+]+)");
    private static final List<String> TARGETS = List.of("direct", "centrigate", "nginx", "haproxy");
    /** A repetition is "noisy" when other processes used more than this much CPU (% of one core) in its window. */
    private static final double NOISY_OTHER_CPU_PCT = 25;

    /** One metric of one scenario as shown in the tables and the plot. */
    private record Metric(String scenario, String key, String title, String unit, boolean lowerIsBetter)
    {
    }

    private static final List<Metric> METRICS = List.of(
        new Metric("echo", "rtt_p50_us", "echo RTT p50", "µs", true),
        new Metric("echo", "rtt_p99_us", "echo RTT p99", "µs", true),
        new Metric("echo", "rtt_p999_us", "echo RTT p99.9", "µs", true),
        new Metric("echo", "proxy_cpu_s_per_100k", "echo proxy CPU / 100k msgs", "s", true),
        new Metric("echo", "loadgen_cpu_pct", "echo load-gen CPU", "%", true),
        new Metric("fanout", "delivery_p50_us", "fanout delivery p50", "µs", true),
        new Metric("fanout", "delivery_p99_us", "fanout delivery p99", "µs", true),
        new Metric("fanout", "proxy_cpu_s_per_100k", "fanout proxy CPU / 100k deliveries", "s", true),
        new Metric("fanout", "delivered_ratio", "fanout delivered / expected", "", false),
        new Metric("hold", "rss_per_tunnel_bytes", "hold proxy RSS per idle tunnel", "B", true),
        new Metric("hold", "connect_p99_us", "hold connect time p99", "µs", true),
        new Metric("hold", "alive", "hold tunnels verified alive", "", false),
        new Metric("cold", "connect_p50_us", "cold connect+upgrade p50", "µs", true),
        new Metric("cold", "connect_p99_us", "cold connect+upgrade p99", "µs", true),
        new Metric("cold", "connect_p999_us", "cold connect+upgrade p99.9", "µs", true),
        new Metric("cold", "connect_max_us", "cold connect+upgrade max", "µs", true),
        new Metric("cold", "ready_s", "cold start to port ready", "s", true),
        new Metric("cold", "opened", "cold tunnels opened", "", false),
        new Metric("cold", "open_behind_max_us", "cold load-gen start lag max", "µs", true),
        new Metric("storm", "handshakes_per_s", "storm handshakes/s", "/s", false),
        new Metric("storm", "handshake_p99_us", "storm handshake p99", "µs", true),
        new Metric("storm", "proxy_cpu_pct", "storm proxy CPU", "%", false),
        new Metric("storm", "proxy_cpu_s_per_100k", "storm proxy CPU / 100k handshakes", "s", true),
        new Metric("storm", "loadgen_cpu_pct", "storm load-gen CPU", "%", true),
        new Metric("bulk", "mib_per_s", "bulk MiB/s moved (both ways)", "MiB/s", false),
        new Metric("bulk", "proxy_cpu_s_per_gib", "bulk proxy CPU / GiB", "s", true),
        new Metric("bulk", "message_rtt_p50_us", "bulk message RTT p50", "µs", true),
        new Metric("http", "requests_per_s", "http requests/s (wrk -c64)", "/s", false),
        new Metric("http", "p99_us", "http latency p99", "µs", true),
        new Metric("http", "proxy_cpu_pct", "http proxy CPU", "%", false),
        new Metric("http", "proxy_cpu_s_per_100k", "http proxy CPU / 100k requests", "s", true),
        new Metric("http", "errors", "http socket errors + non-2xx", "", true),
        new Metric("idle", "rtt_p99_us", "echo RTT p99", "µs", true),
        new Metric("idle", "rtt_p999_us", "echo RTT p99.9", "µs", true),
        new Metric("idle", "proxy_cpu_pct", "proxy CPU", "%", true),
        new Metric("idle", "proxy_cpu_s_per_100k", "proxy CPU / 100k msgs", "s", true));

    private Report()
    {
    }

    public static void main(final String[] args) throws IOException
    {
        final Path out = Path.of(args[0]);
        final String title = args.length > 1 ? args[1] : "";
        final List<Map<String, String>> runs = new ArrayList<>();
        for (final String line : Files.readAllLines(out.resolve("raw/runs.jsonl")))
        {
            if (line.startsWith("{"))
            {
                runs.add(parse(line));
            }
        }
        // scenario -> target -> metric -> values over repetitions
        final Map<String, Map<String, Map<String, List<Double>>>> values = new LinkedHashMap<>();
        final StringBuilder csv = new StringBuilder("scenario,target,rep,metric,value\n");
        final List<String> failedRuns = new ArrayList<>();
        for (final Map<String, String> r : runs)
        {
            if (r.get("error") != null)
            {
                // a run that could not set up its load (e.g. no connection opened) has no figures to show
                failedRuns.add(r.get("label") + ": " + r.get("error") + " (" + r.get("last_error") + ")");
                continue;
            }
            final String scenario = r.get("scenario_name") != null ? r.get("scenario_name") : r.get("scenario");
            final String target = r.get("target_name");
            for (final Map.Entry<String, String> e : r.entrySet())
            {
                final Double v = number(e.getValue());
                if (v == null)
                {
                    continue;
                }
                values.computeIfAbsent(scenario, k -> new LinkedHashMap<>())
                    .computeIfAbsent(target, k -> new LinkedHashMap<>())
                    .computeIfAbsent(e.getKey(), k -> new ArrayList<>()).add(v);
                csv.append(scenario).append(',').append(target).append(',').append(r.get("rep")).append(',')
                    .append(e.getKey()).append(',').append(e.getValue()).append('\n');
            }
        }
        Files.writeString(out.resolve("results.csv"), csv);

        final StringBuilder md = new StringBuilder();
        final StringBuilder summary = new StringBuilder("scenario,target,metric,median,min,max,n\n");
        md.append("# centrigate end-to-end bench\n\n").append(title).append("\n\n");
        md.append("Cells: **ratio to direct** / **ratio to Nginx** — absolute median [min–max over repetitions] " +
            "(n = repetitions; \"k noisy\": k of them had other processes on the machine using more than " +
            "25 % of a core during the measured window, `other_cpu_pct` in the raw data; the http scenario, " +
            "measured by wrk, records the whole machine's busy % instead). " +
            "For latency, CPU and memory lower is better; for rates higher is better. " +
            "`—` where a ratio has no meaning (no proxy for direct, or the base is missing or zero).\n");
        String scenarioShown = null;
        Path plotDir = out.resolve("plot");
        Files.createDirectories(plotDir);
        for (final Metric m : METRICS)
        {
            final Map<String, Map<String, List<Double>>> byTarget = values.get(m.scenario);
            if (byTarget == null)
            {
                continue;
            }
            if (!m.scenario.equals(scenarioShown))
            {
                scenarioShown = m.scenario;
                final List<String> targets = targetsOf(byTarget);
                md.append("\n### ").append(m.scenario).append("\n\n| metric |");
                for (final String t : targets)
                {
                    md.append(' ').append(t).append(" |");
                }
                md.append("\n|---|");
                md.append("---|".repeat(targets.size())).append('\n');
            }
            final List<String> targets = targetsOf(byTarget);
            md.append("| ").append(m.title).append(m.unit.isEmpty() ? "" : " (" + m.unit + ")").append(" |");
            final StringBuilder dat = new StringBuilder("# target median min max\n");
            final Double direct = median(byTarget, "direct", m.key);
            final Double nginx = median(byTarget, "nginx", m.key);
            for (final String t : targets)
            {
                final List<Double> vs = byTarget.get(t).get(m.key);
                if (vs == null || vs.isEmpty())
                {
                    md.append(" n/a |");
                    continue;
                }
                final double[] s = stats(vs);
                summary.append(String.format(Locale.ROOT, "%s,%s,%s,%.3f,%.3f,%.3f,%d%n",
                    m.scenario, t, m.key, s[0], s[1], s[2], vs.size()));
                dat.append(String.format(Locale.ROOT, "%s %.3f %.3f %.3f%n", t, s[0], s[1], s[2]));
                final String rd = "direct".equals(t) ? "—" : ratio(s[0], direct);
                final String rn = "nginx".equals(t) ? "—" : ratio(s[0], nginx);
                md.append(' ');
                if (!"idle".equals(m.scenario))
                {
                    md.append("**").append(rd).append("** / **").append(rn).append("** — ");
                }
                md.append(fmt(s[0])).append(" [").append(fmt(s[1])).append("–").append(fmt(s[2])).append("]");
                final List<Double> other = byTarget.get(t).get("other_cpu_pct");
                long noisy = other == null ? 0 : other.stream().filter(o -> o > NOISY_OTHER_CPU_PCT).count();
                md.append(" (n=").append(vs.size()).append(noisy > 0 ? ", " + noisy + " noisy" : "").append(") |");
            }
            md.append('\n');
            Files.writeString(plotDir.resolve(m.scenario + "-" + m.key + ".dat"), dat);
        }
        md.append(targetsSection(values));
        if (!failedRuns.isEmpty())
        {
            md.append("\n### Runs without figures\n\n");
            for (final String f : failedRuns)
            {
                md.append("- ").append(f).append('\n');
            }
        }
        Files.writeString(out.resolve("summary.csv"), summary);
        Files.writeString(out.resolve("results.md"), md);
        System.out.print(md);
    }

    private static String targetsSection(final Map<String, Map<String, Map<String, List<Double>>>> v)
    {
        final StringBuilder s = new StringBuilder("\n### The issue's targets\n\n" +
            "| target | measured | verdict |\n|---|---|---|\n");
        final Double dP99 = med(v, "echo", "direct", "rtt_p99_us");
        final Double cP99 = med(v, "echo", "centrigate", "rtt_p99_us");
        final Double nP99 = med(v, "echo", "nginx", "rtt_p99_us");
        if (dP99 != null && cP99 != null && nP99 != null)
        {
            final double co = cP99 - dP99;
            final double no = nP99 - dP99;
            s.append(String.format(Locale.ROOT, "| echo p99 overhead ≤ ½ Nginx's | centrigate +%s µs, Nginx +%s µs " +
                "(over direct %s µs) | %s |%n", fmt(co), fmt(no), fmt(dP99), verdict(co <= 0.5 * no)));
        }
        final Double cP999 = med(v, "echo", "centrigate", "rtt_p999_us");
        final Double nP999 = med(v, "echo", "nginx", "rtt_p999_us");
        if (cP999 != null && nP999 != null)
        {
            s.append(String.format(Locale.ROOT, "| echo p99.9 no worse than Nginx | centrigate %s µs, Nginx %s µs | %s |%n",
                fmt(cP999), fmt(nP999), verdict(cP999 <= nP999)));
        }
        final Double cRss = med(v, "hold", "centrigate", "rss_per_tunnel_bytes");
        if (cRss != null)
        {
            s.append(String.format(Locale.ROOT, "| RSS per idle tunnel ≤ 4 KB | centrigate %s B (Nginx %s B, HAProxy %s B) | %s |%n",
                fmt(cRss), fmt(med(v, "hold", "nginx", "rss_per_tunnel_bytes")),
                fmt(med(v, "hold", "haproxy", "rss_per_tunnel_bytes")), verdict(cRss <= 4096)));
        }
        final Double cFc = med(v, "fanout", "centrigate", "proxy_cpu_s_per_100k");
        final Double nFc = med(v, "fanout", "nginx", "proxy_cpu_s_per_100k");
        if (cFc != null && nFc != null)
        {
            s.append(String.format(Locale.ROOT, "| fanout CPU / 100k ≤ 0.7× Nginx | centrigate %s s, Nginx %s s (×%s) | %s |%n",
                fmt(cFc), fmt(nFc), fmt(cFc / nFc), verdict(cFc <= 0.7 * nFc)));
        }
        final Double cFp = med(v, "fanout", "centrigate", "delivery_p99_us");
        final Double nFp = med(v, "fanout", "nginx", "delivery_p99_us");
        if (cFp != null && nFp != null)
        {
            s.append(String.format(Locale.ROOT, "| fanout delivery p99 ≤ Nginx | centrigate %s µs, Nginx %s µs | %s |%n",
                fmt(cFp), fmt(nFp), verdict(cFp <= nFp)));
        }
        final Double cHs = med(v, "storm", "centrigate", "handshakes_per_s");
        final Double nHs = med(v, "storm", "nginx", "handshakes_per_s");
        if (cHs != null && nHs != null)
        {
            s.append(String.format(Locale.ROOT, "| storm handshakes/s ≥ 1.1× Nginx | centrigate %s/s, Nginx %s/s (×%s) | %s |%n",
                fmt(cHs), fmt(nHs), fmt(cHs / nHs), verdict(cHs >= 1.1 * nHs)));
        }
        final Double cRps = med(v, "http", "centrigate", "requests_per_s");
        final Double nRps = med(v, "http", "nginx", "requests_per_s");
        final Double hRps = med(v, "http", "haproxy", "requests_per_s");
        if (cRps != null && (nRps != null || hRps != null))
        {
            final double best = Math.max(nRps == null ? 0 : nRps, hRps == null ? 0 : hRps);
            s.append(String.format(Locale.ROOT, "| http rps ≥ 1.1× better of Nginx/HAProxy | centrigate %s/s, best %s/s (×%s) | %s |%n",
                fmt(cRps), fmt(best), fmt(cRps / best), verdict(cRps >= 1.1 * best)));
        }
        final Map<String, Map<String, List<Double>>> cold = v.get("cold");
        final Double nC50 = med(v, "cold", "nginx", "connect_p50_us");
        final Double nC99 = med(v, "cold", "nginx", "connect_p99_us");
        if (cold != null && nC50 != null && nC99 != null)
        {
            for (final String t : cold.keySet())
            {
                final Double c50 = med(v, "cold", t, "connect_p50_us");
                final Double c99 = med(v, "cold", t, "connect_p99_us");
                if (!t.startsWith("centrigate") || c50 == null || c99 == null)
                {
                    continue;
                }
                s.append(String.format(Locale.ROOT, "| cold connect+upgrade p50/p99 ≤ 1.2× Nginx (%s) | %s / %s µs, " +
                    "Nginx %s / %s µs (×%s / ×%s) | %s |%n", t, fmt(c50), fmt(c99), fmt(nC50), fmt(nC99),
                    fmt(c50 / nC50), fmt(c99 / nC99), verdict(c50 <= 1.2 * nC50 && c99 <= 1.2 * nC99)));
            }
        }
        s.append("\nReference figures from the issue (ratios to direct, another 2-core run): Nginx echo p99 ×1.63, " +
            "HAProxy ×1.66; Nginx RSS/idle tunnel ~18 KB, HAProxy ~4.6 KB; Nginx fanout CPU ~1.0 s/100k; storm " +
            "Nginx ×0.69; HTTP rps Nginx ×0.50, HAProxy ×0.47. Measured here:");
        final String[][] refs = {{"echo", "rtt_p99_us"}, {"storm", "handshakes_per_s"}, {"http", "requests_per_s"}};
        for (final String[] ref : refs)
        {
            final Double d = med(v, ref[0], "direct", ref[1]);
            for (final String t : List.of("nginx", "haproxy"))
            {
                final Double x = med(v, ref[0], t, ref[1]);
                if (d != null && x != null && d != 0)
                {
                    s.append(String.format(Locale.ROOT, " %s %s ×%s;", ref[0], t, fmt(x / d)));
                }
            }
        }
        s.append('\n');
        return s.toString();
    }

    private static String verdict(final boolean met)
    {
        return met ? "**met**" : "**not met**";
    }

    private static Double med(final Map<String, Map<String, Map<String, List<Double>>>> v, final String scenario,
        final String target, final String key)
    {
        final Map<String, Map<String, List<Double>>> byTarget = v.get(scenario);
        return byTarget == null ? null : median(byTarget, target, key);
    }

    private static List<String> targetsOf(final Map<String, Map<String, List<Double>>> byTarget)
    {
        final List<String> ordered = new ArrayList<>();
        for (final String t : TARGETS)
        {
            if (byTarget.containsKey(t))
            {
                ordered.add(t);
            }
        }
        for (final String t : new TreeSet<>(byTarget.keySet()))
        {
            if (!ordered.contains(t))
            {
                ordered.add(t);
            }
        }
        return ordered;
    }

    private static Double median(final Map<String, Map<String, List<Double>>> byTarget, final String target,
        final String key)
    {
        final Map<String, List<Double>> m = byTarget.get(target);
        if (m == null || m.get(key) == null || m.get(key).isEmpty())
        {
            return null;
        }
        return stats(m.get(key))[0];
    }

    /** median, min, max */
    private static double[] stats(final List<Double> vs)
    {
        final double[] a = vs.stream().mapToDouble(Double::doubleValue).toArray();
        Arrays.sort(a);
        final double median = a.length % 2 == 1 ? a[a.length / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
        return new double[] {median, a[0], a[a.length - 1]};
    }

    private static String ratio(final double value, final Double base)
    {
        if (base == null || base == 0)
        {
            return "—";
        }
        return "×" + String.format(Locale.ROOT, "%.2f", value / base);
    }

    private static String fmt(final Double d)
    {
        if (d == null)
        {
            return "n/a";
        }
        final double a = Math.abs(d);
        if (a >= 1000)
        {
            return String.format(Locale.ROOT, "%,.0f", d);
        }
        if (a >= 100)
        {
            return String.format(Locale.ROOT, "%.0f", d);
        }
        if (a >= 10)
        {
            return String.format(Locale.ROOT, "%.1f", d);
        }
        return String.format(Locale.ROOT, "%.3f", d);
    }

    private static Double number(final String s)
    {
        if (s == null)
        {
            return null;
        }
        try
        {
            return Double.parseDouble(s);
        }
        catch (final NumberFormatException e)
        {
            return null;
        }
    }

    static Map<String, String> parse(final String line)
    {
        final Map<String, String> m = new LinkedHashMap<>();
        final Matcher x = FIELD.matcher(line);
        while (x.find())
        {
            final String v = x.group(2);
            m.put(x.group(1), "null".equals(v) ? null : x.group(3) != null ? x.group(3) : v);
        }
        return m;
    }
}
