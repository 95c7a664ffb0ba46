package io.centrigate.bench.scale;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramLogReader;

/**
 * Turns the raw files of one scale run ({@code bench/scale.sh}) into {@code summary.md} and {@code summary.json}.
 * Inputs in {@code DIR/raw/}: {@code run.properties} (settings and wall-clock figures written by the script),
 * {@code processes.tsv} (one line per proxy / upstream process: RSS and descriptor counts at each phase, and the
 * established sockets the kernel attributes to it), {@code loadgen-*.json} and {@code loadgen-*.hlog} (one per
 * load generator, from {@link ScaleClient}). Proxy processes have the role {@code proxy} (a centrigate process, an
 * Nginx worker) or {@code proxy-master} (the Nginx master: counted in the RSS and CPU sums, not in the accept spread).
 *
 * <p>With {@code --compare OUT DIR...} it reads the {@code summary.json} of several such runs (one per target and
 * repetition, as {@code TARGETS} and {@code RUNS} of the script make them) and writes {@code OUT/comparison.md}:
 * one table row per run with the failures broken down by kind.
 *
 * <pre>java -cp benchmarks.jar io.centrigate.bench.scale.ScaleReport DIR
 * java -cp benchmarks.jar io.centrigate.bench.scale.ScaleReport --compare OUT DIR...</pre>
 */
public final class ScaleReport
{
    private ScaleReport()
    {
    }

    /** One line of processes.tsv. */
    private record Proc(String role, int idx, long pid, String port, long rssStart, long rssBefore, long rssAfter,
        long rssVerify, long anonBefore, long anonAfter, long fdBefore, long fdAfter, long established, double cpuOpen)
    {
    }

    public static void main(final String[] args) throws Exception
    {
        if (args.length > 0 && "--compare".equals(args[0]))
        {
            ScaleComparison.write(Path.of(args[1]), java.util.Arrays.stream(args, 2, args.length).map(Path::of).toList());
            return;
        }
        final Path dir = Path.of(args.length > 0 ? args[0] : "bench/results/scale");
        final Path raw = dir.resolve("raw");
        final Properties run = new Properties();
        try (InputStream in = Files.newInputStream(raw.resolve("run.properties")))
        {
            run.load(in);
        }
        final List<Proc> procs = new ArrayList<>();
        for (final String line : Files.readAllLines(raw.resolve("processes.tsv")))
        {
            if (line.isBlank() || line.startsWith("#") || line.startsWith("role"))
            {
                continue;
            }
            final String[] f = line.split("\t");
            procs.add(new Proc(f[0], Integer.parseInt(f[1]), Long.parseLong(f[2]), f[3], num(f[4]), num(f[5]),
                num(f[6]), num(f[7]), num(f[8]), num(f[9]), num(f[10]), num(f[11]), num(f[12]),
                f.length > 13 ? Double.parseDouble(f[13]) : Double.NaN));
        }
        final List<Map<String, Object>> gens = new ArrayList<>();
        final Histogram connect = new Histogram(TimeUnit.SECONDS.toNanos(120), 3);
        try (Stream<Path> s = Files.list(raw))
        {
            for (final Path p : s.sorted().toList())
            {
                final String name = p.getFileName().toString();
                if (name.startsWith("loadgen-") && name.endsWith(".json"))
                {
                    gens.add(Json.parse(Files.readString(p).trim()));
                }
                if (name.startsWith("loadgen-") && name.endsWith(".hlog"))
                {
                    final HistogramLogReader r = new HistogramLogReader(p.toFile());
                    Histogram h;
                    while ((h = (Histogram)r.nextIntervalHistogram()) != null)
                    {
                        connect.add(h);
                    }
                }
            }
        }

        // ---------------------------------------------------------------------------------------- figures
        long opened = 0;
        long failed = 0;
        long alive = 0;
        long openAtVerify = 0;
        long dropped = 0;
        long badEcho = 0;
        long target = 0;
        long firstGo = Long.MAX_VALUE;
        double lastOpenEpoch = 0;
        final Map<String, Long> failures = new TreeMap<>();
        final Map<String, Long> failureKinds = new TreeMap<>();
        final Map<String, Long> drops = new TreeMap<>();
        for (final Map<String, Object> g : gens)
        {
            opened += lng(g, "opened");
            failed += lng(g, "failed");
            alive += lng(g, "alive");
            openAtVerify += lng(g, "open_at_verify");
            dropped += lng(g, "dropped_total");
            badEcho += lng(g, "bad_echo");
            target += lng(g, "conns_target");
            final long go = lng(g, "go_epoch_ms");
            firstGo = Math.min(firstGo, go);
            final Object last = g.get("last_open_after_go_s");
            if (last instanceof Number n)
            {
                lastOpenEpoch = Math.max(lastOpenEpoch, go + n.doubleValue() * 1000);
            }
            merge(failures, g.get("failures"));
            merge(failureKinds, g.get("failure_kinds"));
            merge(drops, g.get("drops"));
        }
        final double establishS = gens.isEmpty() || lastOpenEpoch == 0 ? Double.NaN : (lastOpenEpoch - firstGo) / 1000;

        long proxyRssStart = 0;
        long proxyRssBefore = 0;
        long proxyRssAfter = 0;
        long proxyRssVerify = 0;
        long proxyAnonBefore = 0;
        long proxyAnonAfter = 0;
        long proxyTunnels = 0;
        long upRssBefore = 0;
        long upRssAfter = 0;
        long upConns = 0;
        int nProxies = 0;
        final Map<String, Double> cpuByRole = new TreeMap<>();
        long minT = Long.MAX_VALUE;
        long maxT = 0;
        for (final Proc p : procs)
        {
            if (!Double.isNaN(p.cpuOpen))
            {
                // the Nginx master's CPU is the proxy's too
                cpuByRole.merge(p.role.startsWith("proxy") ? "proxy" : p.role, p.cpuOpen, Double::sum);
            }
            if (p.role.startsWith("proxy"))
            {
                proxyRssStart += p.rssStart;
                proxyRssBefore += p.rssBefore;
                proxyRssAfter += p.rssAfter;
                proxyRssVerify += p.rssVerify;
                proxyAnonBefore += p.anonBefore;
                proxyAnonAfter += p.anonAfter;
            }
            if ("proxy".equals(p.role))
            {
                nProxies++;
                proxyTunnels += p.established;
                minT = Math.min(minT, p.established);
                maxT = Math.max(maxT, p.established);
            }
            else if ("upstream".equals(p.role))
            {
                upRssBefore += p.rssBefore;
                upRssAfter += p.rssAfter;
                upConns += p.established;
            }
        }
        final double meanT = nProxies == 0 ? 0 : (double)proxyTunnels / nProxies;
        double var = 0;
        for (final Proc p : procs)
        {
            if ("proxy".equals(p.role))
            {
                var += (p.established - meanT) * (p.established - meanT);
            }
        }
        final double sdT = nProxies == 0 ? 0 : Math.sqrt(var / nProxies);
        final double rssPerTunnel = opened == 0 ? Double.NaN : (proxyRssAfter - proxyRssBefore) * 1024.0 / opened;
        final double rssPerTunnelCold = opened == 0 ? Double.NaN : (proxyRssAfter - proxyRssStart) * 1024.0 / opened;
        final double anonPerTunnel = opened == 0 ? Double.NaN : (proxyAnonAfter - proxyAnonBefore) * 1024.0 / opened;
        final double rssPerTunnelVerify = opened == 0 ? Double.NaN : (proxyRssVerify - proxyRssBefore) * 1024.0 / opened;
        final double upPerConn = opened == 0 ? Double.NaN : (upRssAfter - upRssBefore) * 1024.0 / opened;
        final long goal = Long.parseLong(run.getProperty("goal", "65536"));
        final boolean reached = alive >= goal;

        final Map<String, Object> sum = new LinkedHashMap<>();
        sum.put("date", run.getProperty("date"));
        sum.put("target", run.getProperty("target", "centrigate"));
        sum.put("run", run.getProperty("run", "1"));
        sum.put("command", run.getProperty("command"));
        sum.put("handshake_timeout_s", run.getProperty("handshake_timeout_s"));
        sum.put("goal", goal);
        sum.put("reached", reached);
        sum.put("tunnels_target", target);
        sum.put("tunnels_opened", opened);
        sum.put("tunnels_failed", failed);
        sum.put("failures", failures);
        sum.put("failure_kinds", failureKinds);
        sum.put("open_at_verify", openAtVerify);
        sum.put("verified_alive", alive);
        sum.put("bad_echo", badEcho);
        sum.put("dropped", dropped);
        sum.put("drops", drops);
        sum.put("establish_seconds", establishS);
        sum.put("establish_per_s", opened / establishS);
        sum.put("connect_p50_ms", connect.getValueAtPercentile(50) / 1e6);
        sum.put("connect_p99_ms", connect.getValueAtPercentile(99) / 1e6);
        sum.put("connect_p999_ms", connect.getValueAtPercentile(99.9) / 1e6);
        sum.put("connect_max_ms", connect.getMaxValue() / 1e6);
        sum.put("proxies", nProxies);
        sum.put("proxy_processes", run.getProperty("proxy_processes", String.valueOf(nProxies)));
        sum.put("proxy_log_counts", run.getProperty("proxy_log_counts", ""));
        sum.put("proxy_log_upstream_connect_timeouts", num(run.getProperty("proxy_log_upstream_connect_timeouts", "")));
        sum.put("proxy_rss_start_kb", proxyRssStart);
        sum.put("proxy_rss_before_kb", proxyRssBefore);
        sum.put("proxy_rss_after_kb", proxyRssAfter);
        sum.put("proxy_rss_after_verify_kb", proxyRssVerify);
        sum.put("proxy_rss_per_tunnel_bytes", rssPerTunnel);
        sum.put("proxy_rss_per_tunnel_from_cold_start_bytes", rssPerTunnelCold);
        sum.put("proxy_rss_anon_per_tunnel_bytes", anonPerTunnel);
        sum.put("proxy_rss_per_tunnel_after_verify_bytes", rssPerTunnelVerify);
        sum.put("proxy_tunnels_established_total", proxyTunnels);
        sum.put("proxy_tunnels_min", minT);
        sum.put("proxy_tunnels_max", maxT);
        sum.put("proxy_tunnels_mean", meanT);
        sum.put("proxy_tunnels_sd", sdT);
        sum.put("upstream_established_total", upConns);
        sum.put("upstream_rss_per_conn_bytes", upPerConn);
        final double cpuTotal = Double.parseDouble(run.getProperty("open_phase_cpu_s_total", "NaN"));
        double ours = 0;
        for (final Map.Entry<String, Double> e : cpuByRole.entrySet())
        {
            sum.put("open_phase_cpu_s_" + e.getKey(), e.getValue());
            ours += e.getValue();
        }
        sum.put("open_phase_cpu_s_machine", cpuTotal);
        sum.put("open_phase_cpu_s_other", cpuTotal - ours);
        sum.put("open_phase_machine_busy_pct", Double.parseDouble(run.getProperty("open_phase_machine_busy_pct", "NaN")));
        Files.writeString(dir.resolve("summary.json"), ScaleClient.json(sum) + "\n");

        // ------------------------------------------------------------------------------------------- Markdown
        final StringBuilder md = new StringBuilder();
        final String targetName = run.getProperty("target", "centrigate");
        md.append("# Scale run: ").append(String.format(Locale.ROOT, "%,d", alive))
            .append(" verified concurrent WebSocket tunnels through ").append(targetName)
            .append(run.containsKey("run") ? " (run " + run.getProperty("run") + ")" : "").append("\n\n");
        md.append("Date: ").append(run.getProperty("date")).append(" · machine: ").append(run.getProperty("machine"))
            .append("\n\nCommand:\n\n```sh\n").append(run.getProperty("command")).append("\n```\n\n");
        md.append("Result: **").append(reached ? "goal reached" : "goal NOT reached").append("**: ")
            .append(fmt(alive)).append(" tunnels verified alive by an echo at the end (goal ").append(fmt(goal))
            .append("), all of them open at the same time.\n\n");
        md.append("| figure | value |\n|---|---|\n");
        row(md, "tunnels asked for (sum over load generators)", fmt(target));
        row(md, "tunnels opened (valid `101`)", fmt(opened));
        row(md, "handshakes failed (not retried), by kind", fmt(failed) + (failureKinds.isEmpty() ? "" : " " + failureKinds) +
            " (client handshake timeout " + run.getProperty("handshake_timeout_s", "?") + " s)");
        row(md, "… by exact reason", failures.isEmpty() ? "–" : failures.toString());
        row(md, "proxy log lines of note (per process)", run.getProperty("proxy_log_counts", "–"));
        row(md, "open when the verification started", fmt(openAtVerify));
        row(md, "**verified alive** (own 16 B payload echoed back through the tunnel)", "**" + fmt(alive) + "**");
        row(md, "wrong echo payloads", fmt(badEcho));
        row(md, "tunnels dropped while held", fmt(dropped) + (drops.isEmpty() ? "" : " " + drops));
        row(md, "time to establish all tunnels (first connect → last `101`)",
            String.format(Locale.ROOT, "%.1f s (%.0f tunnels/s; paced at %s/s in total)", establishS,
                opened / establishS, run.getProperty("rate")));
        row(md, "connect time (TCP connect → valid `101`) p50 / p99 / p99.9 / max",
            String.format(Locale.ROOT, "%.2f / %.2f / %.2f / %.2f ms", connect.getValueAtPercentile(50) / 1e6,
                connect.getValueAtPercentile(99) / 1e6, connect.getValueAtPercentile(99.9) / 1e6,
                connect.getMaxValue() / 1e6));
        row(md, "CPU during the open phase: proxies / upstreams / load generators / rest of the machine (s of CPU)",
            String.format(Locale.ROOT, "%.1f / %.1f / %.1f / %.1f s of %.1f s busy (machine %s %% busy over 2 cores); " +
                "proxies: %.0f µs of CPU per tunnel set up", cpuByRole.getOrDefault("proxy", Double.NaN),
                cpuByRole.getOrDefault("upstream", Double.NaN), cpuByRole.getOrDefault("loadgen", Double.NaN),
                cpuTotal - ours, cpuTotal, run.getProperty("open_phase_machine_busy_pct"),
                1e6 * cpuByRole.getOrDefault("proxy", Double.NaN) / Math.max(1, opened)));
        row(md, "proxy processes (SO_REUSEPORT, one port)", run.getProperty("proxy_processes", String.valueOf(nProxies)) +
            ": `" + run.getProperty("proxy_args") + "`");
        row(md, "proxy RSS, sum: at start / before (after warm-up) / all tunnels up / after verify",
            String.format(Locale.ROOT, "%s / %s / %s / %s MiB", mib(proxyRssStart), mib(proxyRssBefore),
                mib(proxyRssAfter), mib(proxyRssVerify)));
        row(md, "**proxy RSS per tunnel** (after − before, summed over processes, / tunnels opened)",
            String.format(Locale.ROOT, "**%.0f B** (%.2f KiB)", rssPerTunnel, rssPerTunnel / 1024));
        row(md, "… of which anonymous memory (RssAnon)", String.format(Locale.ROOT, "%.0f B", anonPerTunnel));
        row(md, "… measured from the cold start instead of after the warm-up",
            String.format(Locale.ROOT, "%.0f B", rssPerTunnelCold));
        row(md, "… after the verification echo (22 B each way through every tunnel; adds the pool chunks the burst touched, at most --buffer-memory per process)",
            String.format(Locale.ROOT, "%.0f B", rssPerTunnelVerify));
        row(md, "accept spread: tunnels per proxy process min / mean / max (sd)",
            String.format(Locale.ROOT, "%s / %.0f / %s (%.0f, %.1f %% of the mean)", fmt(minT), meanT, fmt(maxT), sdT,
                meanT == 0 ? 0 : 100 * sdT / meanT));
        row(md, "upstream connections (sum over upstream ports)", fmt(upConns));
        row(md, "bench upstream RSS per connection (for context)", String.format(Locale.ROOT, "%.0f B", upPerConn));
        md.append("\n## Per process\n\n");
        md.append("Tunnels per proxy = its established sockets on the listening port (`ss -tnp`, by pid); ")
            .append("upstream connections = established sockets on that upstream's port; load generator = established ")
            .append("sockets from its source address to the proxy port. Descriptors from ")
            .append("`/proc/PID/fd`. RSS = `VmRSS` of `/proc/PID/status`, in KiB.\n\n");
        md.append("| role | # | pid | port / source | tunnels / conns | fds before → after | RSS start | RSS before | RSS after " +
            "| RSS after verify | (after − before) / tunnels | CPU s, open phase |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        for (final Proc p : procs)
        {
            final boolean lg = "loadgen".equals(p.role);
            final boolean master = "proxy-master".equals(p.role);
            md.append(String.format(Locale.ROOT, "| %s | %d | %d | %s | %s | %s → %s | %s | %s | %s | %s | %s | %.2f |\n",
                p.role, p.idx, p.pid, p.port, fmt(p.established), lg ? "–" : fmt(p.fdBefore), fmt(p.fdAfter),
                lg ? "–" : fmt(p.rssStart), lg ? "–" : fmt(p.rssBefore), fmt(p.rssAfter), fmt(p.rssVerify),
                p.established == 0 || lg || master ? "–" :
                    String.format(Locale.ROOT, "%.0f B", (p.rssAfter - p.rssBefore) * 1024.0 / p.established), p.cpuOpen));
        }
        md.append("\n## Load generators\n\n| label | source | asked | opened | failed | alive | open s | " +
            "connect p99 ms |\n|---|---|---|---|---|---|---|---|\n");
        for (final Map<String, Object> g : gens)
        {
            md.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %s | %s | %.1f | %.2f |\n", g.get("label"),
                g.get("source"), fmt(lng(g, "conns_target")), fmt(lng(g, "opened")), fmt(lng(g, "failed")),
                fmt(lng(g, "alive")), dbl(g, "open_seconds"), dbl(g, "connect_p99_ms")));
        }
        md.append("\n## Settings\n\n```\n");
        for (final String k : new TreeMap<>(run).keySet().stream().map(Object::toString).toList())
        {
            if (!"command".equals(k))
            {
                md.append(k).append(" = ").append(run.getProperty(k)).append('\n');
            }
        }
        md.append("```\n\nRaw data: `raw/` (`loadgen-*.json` per load generator, `loadgen-*.hlog` connect-time " +
            "HdrHistograms in ns, `processes.tsv`, `run.properties`, `ss-*.txt`, `proxy-0-heap.txt`: `jcmd GC.heap_info` of one proxy before and with all tunnels up), logs: `logs/` (every process's " +
            "output, `centrigate check` before and during the run, the script's own log). Design and arithmetic: " +
            "`bench/scale/README.md`.\n");
        Files.writeString(dir.resolve("summary.md"), md.toString());
        System.out.print(md);
    }

    private static void row(final StringBuilder md, final String k, final String v)
    {
        md.append("| ").append(k).append(" | ").append(v).append(" |\n");
    }

    private static String fmt(final long v)
    {
        return String.format(Locale.ROOT, "%,d", v);
    }

    private static String mib(final long kb)
    {
        return String.format(Locale.ROOT, "%,.1f", kb / 1024.0);
    }

    private static long num(final String s)
    {
        try
        {
            return Long.parseLong(s.trim());
        }
        catch (final NumberFormatException e)
        {
            return 0;
        }
    }

    private static long lng(final Map<String, Object> m, final String k)
    {
        return m.get(k) instanceof Number n ? n.longValue() : 0;
    }

    private static double dbl(final Map<String, Object> m, final String k)
    {
        return m.get(k) instanceof Number n ? n.doubleValue() : Double.NaN;
    }

    @SuppressWarnings("unchecked")
    private static void merge(final Map<String, Long> into, final Object o)
    {
        if (o instanceof Map<?, ?> m)
        {
            for (final Map.Entry<String, Object> e : ((Map<String, Object>)m).entrySet())
            {
                if (e.getValue() instanceof Number n)
                {
                    into.merge(e.getKey(), n.longValue(), Long::sum);
                }
            }
        }
    }

    /** Just enough JSON for ScaleClient's own output: objects, strings, numbers, booleans, null. */
    static final class Json
    {
        private final String s;
        private int p;

        private Json(final String s)
        {
            this.s = s;
        }

        @SuppressWarnings("unchecked")
        static Map<String, Object> parse(final String s) throws IOException
        {
            return (Map<String, Object>)new Json(s).value();
        }

        private Object value() throws IOException
        {
            ws();
            final char c = s.charAt(p);
            if (c == '{')
            {
                p++;
                final Map<String, Object> m = new LinkedHashMap<>();
                ws();
                if (s.charAt(p) == '}')
                {
                    p++;
                    return m;
                }
                while (true)
                {
                    ws();
                    final String k = string();
                    ws();
                    expect(':');
                    m.put(k, value());
                    ws();
                    if (s.charAt(p) == ',')
                    {
                        p++;
                        continue;
                    }
                    expect('}');
                    return m;
                }
            }
            if (c == '"')
            {
                return string();
            }
            if (s.startsWith("null", p))
            {
                p += 4;
                return null;
            }
            if (s.startsWith("true", p))
            {
                p += 4;
                return Boolean.TRUE;
            }
            if (s.startsWith("false", p))
            {
                p += 5;
                return Boolean.FALSE;
            }
            final int from = p;
            while (p < s.length() && "+-0123456789.eE".indexOf(s.charAt(p)) >= 0)
            {
                p++;
            }
            final String n = s.substring(from, p);
            if (n.isEmpty())
            {
                throw new IOException("bad JSON at " + from);
            }
            return n.contains(".") || n.contains("e") || n.contains("E") ? (Object)Double.parseDouble(n) :
                (Object)Long.parseLong(n);
        }

        private String string() throws IOException
        {
            expect('"');
            final StringBuilder sb = new StringBuilder();
            while (s.charAt(p) != '"')
            {
                char c = s.charAt(p++);
                if (c == '\\')
                {
                    c = s.charAt(p++);
                    switch (c)
                    {
                        case 'n' -> sb.append('\n');
                        case 'r' -> sb.append('\r');
                        case 't' -> sb.append('\t');
                        case 'u' -> {
                            sb.append((char)Integer.parseInt(s.substring(p, p + 4), 16));
                            p += 4;
                        }
                        default -> sb.append(c);
                    }
                }
                else
                {
                    sb.append(c);
                }
            }
            p++;
            return sb.toString();
        }

        private void expect(final char c) throws IOException
        {
            if (s.charAt(p) != c)
            {
                throw new IOException("expected '" + c + "' at " + p);
            }
            p++;
        }

        private void ws()
        {
            while (p < s.length() && Character.isWhitespace(s.charAt(p)))
            {
                p++;
            }
        }
    }
}
