package io.centrigate.bench.scale;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The side-by-side table of several scale runs ({@code bench/scale.sh} with {@code TARGETS} and {@code RUNS}): one
 * row per target and repetition, from each run's {@code summary.json}, failures broken down by kind as
 * {@link ScaleClient} counts them. Written to {@code OUT/comparison.md}; called as
 * {@code ScaleReport --compare OUT DIR...}.
 */
final class ScaleComparison
{
    /** Failure kinds with a column of their own; every other kind is summed under "other". */
    private static final List<String> STATUS_COLUMNS = List.of("http_502", "http_503", "http_408");

    private ScaleComparison()
    {
    }

    static void write(final Path out, final List<Path> dirs) throws Exception
    {
        final List<Map<String, Object>> runs = new ArrayList<>();
        for (final Path d : dirs)
        {
            final Map<String, Object> m = ScaleReport.Json.parse(Files.readString(d.resolve("summary.json")).trim());
            m.put("dir", out.relativize(d.toAbsolutePath()).toString());
            runs.add(m);
        }
        final StringBuilder md = new StringBuilder("# Scale runs side by side\n\n");
        final String command = Files.exists(out.resolve("command.txt")) ?
            Files.readString(out.resolve("command.txt")).trim() : String.valueOf(runs.get(0).get("command"));
        md.append("Command:\n\n```sh\n").append(command).append("\n```\n\n");
        md.append("Client handshake timeout ").append(runs.isEmpty() ? "?" : runs.get(0).get("handshake_timeout_s"))
            .append(" s (TCP connect → valid `101`; a handshake is never retried). ")
            .append("Attempted = tunnels asked for; established = valid `101`; verified = own payload echoed back ")
            .append("through the tunnel with all tunnels open. Failures: `502`/`503`/`408` and other HTTP = the ")
            .append("status received instead of `101`; client timeout = nothing within the handshake timeout ")
            .append("(TCP connect / no answer to the upgrade); refused/reset/closed = the connection ended without ")
            .append("an answer. Ramp = first connect → last `101`. RSS per tunnel = Σ proxy RSS (all centrigate ")
            .append("processes; Nginx master + workers) with all tunnels up − Σ after the warm-up, / established. ")
            .append("Proxy CPU = utime + stime of the proxy processes during the open phase. Upstream connect ")
            .append("timeouts = lines in the proxies' logs (centrigate `upstream-connect: ... connect timed out`, ")
            .append("Nginx `upstream timed out ... while connecting to upstream`).\n\n");
        md.append("| run | target | attempted | established | **verified** | failed | 502 | 503 | 408 | other HTTP | " +
            "client timeout (connect / 101) | refused / reset / closed | other | ramp s | RSS / tunnel | " +
            "proxy CPU s | upstream connect timeouts in logs | dir |\n");
        md.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        for (final Map<String, Object> r : runs)
        {
            final Map<String, Long> kinds = kinds(r);
            long otherHttp = 0;
            long other = 0;
            for (final Map.Entry<String, Long> e : kinds.entrySet())
            {
                final String k = e.getKey();
                if (STATUS_COLUMNS.contains(k) || k.startsWith("timeout_") || k.equals(ScaleClient.REFUSED) ||
                    k.equals(ScaleClient.RESET) || k.equals(ScaleClient.CLOSED_NO_ANSWER))
                {
                    continue;
                }
                if (k.startsWith("http_"))
                {
                    otherHttp += e.getValue();
                }
                else
                {
                    other += e.getValue();
                }
            }
            final long toConnect = kinds.getOrDefault(ScaleClient.TIMEOUT_CONNECT, 0L);
            final long to101 = kinds.getOrDefault(ScaleClient.TIMEOUT_101, 0L) +
                kinds.getOrDefault(ScaleClient.TIMEOUT_HARD_END, 0L);
            md.append(String.format(Locale.ROOT,
                "| %s | %s | %s | %s | **%s** | %s | %s | %s | %s | %s | %s (%s / %s) | %s / %s / %s | %s | %.1f | %s B " +
                    "| %.1f | %s | `%s` |\n",
                r.get("run"), r.get("target"), fmt(lng(r, "tunnels_target")), fmt(lng(r, "tunnels_opened")),
                fmt(lng(r, "verified_alive")), fmt(lng(r, "tunnels_failed")),
                fmt(kinds.getOrDefault("http_502", 0L)), fmt(kinds.getOrDefault("http_503", 0L)),
                fmt(kinds.getOrDefault("http_408", 0L)), fmt(otherHttp), fmt(toConnect + to101), fmt(toConnect),
                fmt(to101), fmt(kinds.getOrDefault(ScaleClient.REFUSED, 0L)),
                fmt(kinds.getOrDefault(ScaleClient.RESET, 0L)),
                fmt(kinds.getOrDefault(ScaleClient.CLOSED_NO_ANSWER, 0L)), fmt(other),
                dbl(r, "establish_seconds"), fmt(Math.round(dbl(r, "proxy_rss_per_tunnel_bytes"))),
                dbl(r, "open_phase_cpu_s_proxy"), fmt(lng(r, "proxy_log_upstream_connect_timeouts")), r.get("dir")));
        }
        md.append('\n');
        verdicts(md, runs);
        Files.writeString(out.resolve("comparison.md"), md.toString());
        System.out.print(md);
    }

    /** Per repetition: centrigate without 502 and 408, and at least as many verified as Nginx. */
    private static void verdicts(final StringBuilder md, final List<Map<String, Object>> runs)
    {
        final Map<String, Map<String, Map<String, Object>>> byRun = new TreeMap<>();
        for (final Map<String, Object> r : runs)
        {
            byRun.computeIfAbsent(String.valueOf(r.get("run")), k -> new LinkedHashMap<>())
                .put(String.valueOf(r.get("target")), r);
        }
        for (final Map.Entry<String, Map<String, Map<String, Object>>> e : byRun.entrySet())
        {
            final Map<String, Object> c = e.getValue().get("centrigate");
            final Map<String, Object> n = e.getValue().get("nginx");
            if (c == null)
            {
                continue;
            }
            final Map<String, Long> k = kinds(c);
            final long bad = k.getOrDefault("http_502", 0L) + k.getOrDefault("http_408", 0L);
            md.append("- run ").append(e.getKey()).append(": centrigate ")
                .append(bad == 0 ? "no `502`, no `408`" : fmt(k.getOrDefault("http_502", 0L)) + " × `502`, " +
                    fmt(k.getOrDefault("http_408", 0L)) + " × `408`");
            if (n != null)
            {
                final long vc = lng(c, "verified_alive");
                final long vn = lng(n, "verified_alive");
                md.append("; verified ").append(fmt(vc)).append(vc >= vn ? " ≥ " : " < ").append(fmt(vn))
                    .append(" (Nginx)");
            }
            md.append('\n');
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Long> kinds(final Map<String, Object> r)
    {
        final Map<String, Long> kinds = new TreeMap<>();
        if (r.get("failure_kinds") instanceof Map<?, ?> m)
        {
            for (final Map.Entry<String, Object> e : ((Map<String, Object>)m).entrySet())
            {
                if (e.getValue() instanceof Number v)
                {
                    kinds.put(e.getKey(), v.longValue());
                }
            }
        }
        return kinds;
    }

    private static String fmt(final long v)
    {
        return String.format(Locale.ROOT, "%,d", v);
    }

    private static long lng(final Map<String, Object> m, final String k)
    {
        return m.get(k) instanceof Number n ? n.longValue() : 0;
    }

    private static double dbl(final Map<String, Object> m, final String k)
    {
        return m.get(k) instanceof Number n ? n.doubleValue() : Double.NaN;
    }
}
