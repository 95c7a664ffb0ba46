package io.centrigate.bench.load;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The node-failure scenario's report ({@code bench/nodes.sh}): for each target, reads what the harness wrote under
 * {@code OUT/raw/TARGET/}: {@code marks.txt} (the harness's moments, {@code name epoch_ms}: stop, cont, kill,
 * restart, end), {@code events.txt} ({@link ReconnectingClients}: every attempt and every close) and
 * {@code nodes.csv} (once a second, {@code epoch_ms,a,b}: established connections on each node's port), and
 * writes {@code OUT/results.md} (the side-by-side table and the restarted node's share over time) and
 * {@code OUT/summary.jsonl}.
 *
 * <pre>java -cp bench/target/benchmarks.jar io.centrigate.bench.load.NodesReport OUT "title" TIMEOUT_MS TARGET...</pre>
 */
public final class NodesReport
{
    private static final double BALANCED_SHARE = 0.45;

    private NodesReport()
    {
    }

    record Attempt(long start, long end, int client, String outcome)
    {
        boolean ok()
        {
            return outcome.equals("ok");
        }
    }

    record Close(long at, int client, String kind, int code)
    {
    }

    record Sample(long at, int a, int b)
    {
        double shareB()
        {
            return a + b == 0 ? 0 : (double)b / (a + b);
        }
    }

    public static void main(final String[] args) throws IOException
    {
        final Path out = Path.of(args[0]);
        final String title = args[1];
        final long timeoutMs = Long.parseLong(args[2]);
        final List<Map<String, Object>> rows = new ArrayList<>();
        final List<String> timelines = new ArrayList<>();
        for (int i = 3; i < args.length; i++)
        {
            final Path dir = out.resolve("raw").resolve(args[i]);
            if (!Files.isRegularFile(dir.resolve("marks.txt")))
            {
                System.err.println("no results for " + args[i]);
                continue;
            }
            final Map<String, Object> row = analyse(args[i], dir, timeoutMs);
            rows.add(row);
            timelines.add(timeline(args[i], dir, row));
        }
        final StringBuilder jsonl = new StringBuilder();
        for (final Map<String, Object> row : rows)
        {
            jsonl.append(json(row)).append('\n');
        }
        Files.writeString(out.resolve("summary.jsonl"), jsonl, StandardCharsets.UTF_8);
        final String table = table(rows, timeoutMs);
        final StringBuilder md = new StringBuilder();
        md.append("# Node failures: hang and restart\n\n").append(title).append("\n\n").append(table)
            .append("\n## The restarted node's share of the tunnels after it came back\n\n")
            .append("Established connections on node b's port / both nodes', sampled once a second (`nodes.csv`), ")
            .append("at these seconds after the restarted node listened again:\n\n");
        for (final String t : timelines)
        {
            md.append(t);
        }
        Files.writeString(out.resolve("results.md"), md, StandardCharsets.UTF_8);
        System.out.print(table);
    }

    static Map<String, Long> marks(final Path dir) throws IOException
    {
        final Map<String, Long> m = new HashMap<>();
        for (final String line : Files.readAllLines(dir.resolve("marks.txt")))
        {
            final String[] w = line.trim().split("\\s+");
            if (w.length == 2)
            {
                m.put(w[0], Long.parseLong(w[1]));
            }
        }
        return m;
    }

    static Map<String, Object> analyse(final String target, final Path dir, final long timeoutMs) throws IOException
    {
        final Map<String, Long> mark = marks(dir);
        final List<Attempt> attempts = new ArrayList<>();
        final List<Close> closes = new ArrayList<>();
        final HashSet<Integer> population = new HashSet<>();
        for (final String line : Files.readAllLines(dir.resolve("events.txt")))
        {
            final String[] w = line.split(" ");
            if (w[0].equals("A") && w.length >= 6)
            {
                final Attempt a = new Attempt(Long.parseLong(w[1]), Long.parseLong(w[2]), Integer.parseInt(w[3]), w[4]);
                attempts.add(a);
                population.add(a.client());
            }
            else if (w[0].equals("C") && w.length >= 6)
            {
                closes.add(new Close(Long.parseLong(w[1]), Integer.parseInt(w[2]), w[3], Integer.parseInt(w[4])));
            }
        }
        final List<Sample> samples = samples(dir);
        final Map<String, Object> row = new TreeMap<>();
        row.put("target", target);
        row.put("clients", population.size());

        final Long stop = mark.get("stop");
        final Long cont = mark.get("cont");
        final Long arrivalsOff = mark.get("arrivals_off");
        if (stop != null && cont != null)
        {
            int during = 0;
            int failed = 0;
            int timedOut = 0;
            int slow = 0;
            long slowest = 0;
            long lastFailStart = -1;
            final HashSet<Integer> hit = new HashSet<>();
            for (final Attempt a : attempts)
            {
                if (a.start() < stop || a.start() >= cont)
                {
                    continue;
                }
                during++;
                if (a.ok())
                {
                    slowest = Math.max(slowest, a.end() - a.start());
                    if (a.end() - a.start() > 1000)
                    {
                        slow++;
                    }
                }
                else
                {
                    hit.add(a.client());
                    lastFailStart = Math.max(lastFailStart, a.start());
                    if (a.outcome().equals("timeout"))
                    {
                        timedOut++;
                    }
                    else
                    {
                        failed++;
                    }
                }
            }
            row.put("hang_s", (cont - stop) / 1000.0);
            row.put("hang_attempts", during);
            row.put("hang_failed", failed);
            row.put("hang_timed_out", timedOut);
            row.put("hang_clients_failed", hit.size());
            row.put("hang_ok_over_1s", slow);
            row.put("hang_ok_max_ms", slowest);
            // an attempt started later than this could not time out before the node came back: failures that
            // reach this far did not stop within the hang
            final long horizon = cont - timeoutMs - 1000;
            row.put("hang_failures_stop_s", lastFailStart < 0 ? 0.0 : (lastFailStart - stop) / 1000.0);
            row.put("hang_failures_stopped", lastFailStart < horizon);
            row.put("hang_horizon_s", (horizon - stop) / 1000.0);
            final long afterEnd = arrivalsOff != null ? arrivalsOff : cont;
            row.put("hang_failed_after_cont", count(attempts, cont, afterEnd, false));
            row.put("hang_attempts_after_cont", count(attempts, cont, afterEnd, true));
            row.put("hang_outcomes", outcomes(attempts, stop, cont));
        }

        final Long kill = mark.get("kill");
        final Long restart = mark.get("restart");
        final Long end = mark.get("end");
        if (kill != null && restart != null && end != null)
        {
            row.put("down_s", (restart - kill) / 1000.0);
            row.put("down_failed", countFailed(attempts, kill, restart));
            row.put("down_attempts", count(attempts, kill, restart, true));
            row.put("down_outcomes", outcomes(attempts, kill, restart));
            row.put("restart_failed", countFailed(attempts, restart, end));
            row.put("restart_attempts", count(attempts, restart, end, true));
            row.put("watch_s", (end - restart) / 1000.0);
            row.put("all_back_s", allBack(attempts, closes, population.size(), kill, end));
            int proxyCloses = 0;
            int closes1012 = 0;
            final TreeMap<String, Integer> kinds = new TreeMap<>();
            for (final Close c : closes)
            {
                if (c.at() >= restart && c.at() <= end)
                {
                    proxyCloses++;
                    if (c.kind().equals("close") && c.code() == 1012)
                    {
                        closes1012++;
                    }
                    kinds.merge(c.kind().equals("close") ? "close " + c.code() : c.kind(), 1, Integer::sum);
                }
            }
            row.put("restart_closes", proxyCloses);
            row.put("restart_closes_1012", closes1012);
            row.put("restart_close_kinds", kinds.toString());
            final TreeMap<String, Integer> killKinds = new TreeMap<>();
            for (final Close c : closes)
            {
                if (c.at() >= kill && c.at() < restart)
                {
                    killKinds.merge(c.kind().equals("close") ? "close " + c.code() : c.kind(), 1, Integer::sum);
                }
            }
            row.put("kill_close_kinds", killKinds.toString());
            Double balance = null;
            Sample last = null;
            for (final Sample s : samples)
            {
                if (s.at() < restart || s.at() > end)
                {
                    continue;
                }
                last = s;
                if (balance == null && s.shareB() >= BALANCED_SHARE)
                {
                    balance = (s.at() - restart) / 1000.0;
                }
            }
            row.put("balance_s", balance);
            row.put("share_b_end", last == null ? null : Math.round(last.shareB() * 1000) / 10.0);
            row.put("nodes_end", last == null ? null : last.a() + "/" + last.b());
        }
        return row;
    }

    static List<Sample> samples(final Path dir) throws IOException
    {
        final List<Sample> samples = new ArrayList<>();
        final Path f = dir.resolve("nodes.csv");
        if (!Files.isRegularFile(f))
        {
            return samples;
        }
        for (final String line : Files.readAllLines(f))
        {
            final String[] w = line.split(",");
            if (w.length == 3 && !w[0].startsWith("epoch"))
            {
                samples.add(new Sample(Long.parseLong(w[0]), Integer.parseInt(w[1]), Integer.parseInt(w[2])));
            }
        }
        return samples;
    }

    private static int count(final List<Attempt> attempts, final long from, final long to, final boolean all)
    {
        int n = 0;
        for (final Attempt a : attempts)
        {
            if (a.start() >= from && a.start() < to && (all || !a.ok()))
            {
                n++;
            }
        }
        return n;
    }

    private static int countFailed(final List<Attempt> attempts, final long from, final long to)
    {
        return count(attempts, from, to, false);
    }

    private static String outcomes(final List<Attempt> attempts, final long from, final long to)
    {
        final TreeMap<String, Integer> m = new TreeMap<>();
        for (final Attempt a : attempts)
        {
            if (a.start() >= from && a.start() < to)
            {
                m.merge(a.outcome(), 1, Integer::sum);
            }
        }
        return m.toString();
    }

    /** Seconds from the kill until every client of the population is connected again, or null. */
    private static Double allBack(final List<Attempt> attempts, final List<Close> closes, final int population,
        final long kill, final long end)
    {
        final TreeMap<Long, Integer> delta = new TreeMap<>();
        for (final Attempt a : attempts)
        {
            if (a.ok())
            {
                delta.merge(a.end(), 1, Integer::sum);
            }
        }
        for (final Close c : closes)
        {
            delta.merge(c.at(), -1, Integer::sum);
        }
        int connected = 0;
        boolean dropped = false;
        for (final Map.Entry<Long, Integer> e : delta.entrySet())
        {
            connected += e.getValue();
            if (e.getKey() < kill)
            {
                continue;
            }
            if (e.getKey() > end)
            {
                break;
            }
            if (connected < population)
            {
                dropped = true;
            }
            else if (dropped)
            {
                return (e.getKey() - kill) / 1000.0;
            }
        }
        return dropped ? null : 0.0;
    }

    private static String timeline(final String target, final Path dir, final Map<String, Object> row)
        throws IOException
    {
        final Map<String, Long> mark = marks(dir);
        final Long restart = mark.get("restart");
        final Long end = mark.get("end");
        if (restart == null || end == null)
        {
            return "";
        }
        final StringBuilder head = new StringBuilder("| ").append(target).append(" |");
        final StringBuilder sep = new StringBuilder("|---|");
        final StringBuilder body = new StringBuilder("| b share (a/b) |");
        final List<Sample> samples = samples(dir);
        for (int t = 0; t <= (end - restart) / 1000; t += 10)
        {
            Sample at = null;
            for (final Sample s : samples)
            {
                if (s.at() >= restart + t * 1000L)
                {
                    at = s;
                    break;
                }
            }
            if (at == null)
            {
                break;
            }
            head.append(' ').append(t).append(" s |");
            sep.append("---|");
            body.append(String.format(Locale.ROOT, " %.0f %% (%d/%d) |", at.shareB() * 100, at.a(), at.b()));
        }
        return head + "\n" + sep + "\n" + body + "\n\n";
    }

    static String table(final List<Map<String, Object>> rows, final long timeoutMs)
    {
        final StringBuilder t = new StringBuilder();
        t.append("| target | hang: handshakes | failed | timed out | clients hit | ok but > 1 s (slowest) | failures stop after | " +
            "failed after SIGCONT | restart: failed while down | all back after kill | time to balance " +
            "(b ≥ 45 %) | b share at end | closes after restart (1012) | failed after restart |\n");
        t.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        for (final Map<String, Object> r : rows)
        {
            final boolean direct = r.get("target").toString().startsWith("direct");
            t.append("| ").append(r.get("target"));
            t.append(" | ").append(v(r, "hang_attempts"));
            t.append(" | ").append(v(r, "hang_failed"));
            t.append(" | ").append(v(r, "hang_timed_out"));
            t.append(" | ").append(v(r, "hang_clients_failed"));
            t.append(" | ").append(v(r, "hang_ok_over_1s")).append(" (").append(v(r, "hang_ok_max_ms")).append(" ms)");
            final Object stopS = r.get("hang_failures_stop_s");
            if (stopS == null)
            {
                t.append(" | –");
            }
            else if (Boolean.TRUE.equals(r.get("hang_failures_stopped")))
            {
                t.append(" | ").append(((Number)r.get("hang_failed")).intValue() +
                    ((Number)r.get("hang_timed_out")).intValue() == 0 ? "no failure" : f1(stopS) + " s");
            }
            else
            {
                t.append(" | not within the hang (").append(f1(r.get("hang_s"))).append(" s)");
            }
            t.append(" | ").append(v(r, "hang_failed_after_cont"));
            t.append(" | ").append(v(r, "down_failed"));
            final Object back = r.get("all_back_s");
            t.append(" | ").append(back == null ? "not within " + f1(r.get("watch_s")) + " s" : f1(back) + " s");
            final Object bal = r.get("balance_s");
            if (direct)
            {
                t.append(" | n/a (one node)");
            }
            else
            {
                t.append(" | ").append(bal == null ? "not within " + f1(r.get("watch_s")) + " s" : f1(bal) + " s");
            }
            t.append(" | ").append(v(r, "share_b_end")).append(" % (").append(v(r, "nodes_end")).append(')');
            t.append(" | ").append(v(r, "restart_closes")).append(" (").append(v(r, "restart_closes_1012")).append(')');
            t.append(" | ").append(v(r, "restart_failed"));
            t.append(" |\n");
        }
        t.append(String.format(Locale.ROOT, "%nClient handshake timeout %d ms. Outcomes of the handshakes " +
            "started during the hang, how the killed node's clients were cut, what the handshakes started while it was down got:%n%n", timeoutMs));
        for (final Map<String, Object> r : rows)
        {
            t.append("- ").append(r.get("target")).append(": hang ").append(v(r, "hang_outcomes"))
                .append("; kill: ").append(v(r, "kill_close_kinds"))
                .append("; handshakes while down: ").append(v(r, "down_outcomes"))
                .append("; closes after restart: ").append(v(r, "restart_close_kinds")).append('\n');
        }
        return t.toString();
    }

    private static String v(final Map<String, Object> r, final String k)
    {
        final Object o = r.get(k);
        return o == null ? "–" : o.toString();
    }

    private static String f1(final Object o)
    {
        return o == null ? "–" : String.format(Locale.ROOT, "%.1f", ((Number)o).doubleValue());
    }

    private static String json(final Map<String, Object> row)
    {
        final StringBuilder b = new StringBuilder("{");
        for (final Map.Entry<String, Object> e : row.entrySet())
        {
            if (b.length() > 1)
            {
                b.append(',');
            }
            b.append('"').append(e.getKey()).append("\":");
            final Object v = e.getValue();
            if (v == null || v instanceof Number || v instanceof Boolean)
            {
                b.append(v);
            }
            else
            {
                b.append('"').append(v.toString().replace("\\", "\\\\").replace("\"", "\\\"")).append('"');
            }
        }
        return b.append('}').toString();
    }
}
