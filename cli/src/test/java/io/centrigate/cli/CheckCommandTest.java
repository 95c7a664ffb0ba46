package io.centrigate.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.centrigate.cli.check.Target;
import io.centrigate.config.ProxyContext;
import picocli.CommandLine;

/** {@code centrigate check} on the real machine: every line parses, every non-PASS line names its fix. */
class CheckCommandTest
{
    private static final Pattern LINE = Pattern.compile("^(PASS|WARN|FAIL) [^:]+: .+");
    private static final int CHECKS = 14;

    private static int worst(final List<String> lines)
    {
        return lines.stream().mapToInt(l -> l.startsWith("FAIL") ? 2 : l.startsWith("WARN") ? 1 : 0).max().orElse(0);
    }

    @Test
    @Timeout(60)
    void checksTheRealMachineOneParsableLinePerCheckEachFailureWithItsFix() throws Exception
    {
        final String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        final Process process = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
            Main.class.getName(), "check").redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try
        {
            final List<String> lines = new BufferedReader(new InputStreamReader(process.getInputStream(),
                StandardCharsets.UTF_8)).lines().toList();
            assertTrue(process.waitFor(30, TimeUnit.SECONDS));
            assertEquals(CHECKS, lines.size(), String.join("\n", lines));
            // epoll and io_uring need java.lang.foreign (JDK 22+): the check says which transports this JDK can
            // run (this machine's kernel allows io_uring).
            final boolean ffm = Runtime.version().feature() >= 22;
            assertTrue(lines.stream().anyMatch(l -> l.startsWith("PASS") && l.contains("transports") &&
                l.contains("nio yes; epoll " + (ffm ? "yes" : "no")) &&
                l.contains("; io_uring " + (ffm ? "yes (--transport io_uring)" : "no: java.lang.foreign needs JDK 22")) &&
                l.contains("; splice " + (ffm ? "yes on epoll and io_uring (--splice-threshold), no on nio" :
                    "no (needs epoll or io_uring; NIO cannot)"))),
                String.join("\n", lines));
            for (final String line : lines)
            {
                assertTrue(LINE.matcher(line).matches(), line);
                final int fix = line.indexOf(" -> fix: ");
                if (line.startsWith("PASS"))
                {
                    assertEquals(-1, fix, line);
                }
                else
                {
                    assertTrue(fix > 0 && !line.substring(fix + " -> fix: ".length()).isBlank(), "names a fix: " + line);
                }
            }
            assertEquals(worst(lines), process.exitValue(), String.join("\n", lines));
        }
        finally
        {
            process.destroyForcibly();
        }
    }

    @Test
    void printsJsonForMachinesWithTheSameExitCode()
    {
        final StringWriter out = new StringWriter();
        final int code = new CommandLine(new CheckCommand()).setOut(new PrintWriter(out)).execute("--json", "--connections", "1000");
        final String json = out.toString().trim();
        assertTrue(json.startsWith("[\n  {\"check\":\"RLIMIT_NOFILE soft\",\"status\":\"") && json.endsWith("}\n]"), json);
        final Matcher statuses = Pattern.compile("\"status\":\"(PASS|WARN|FAIL)\"").matcher(json);
        int n = 0;
        int worst = 0;
        while (statuses.find())
        {
            n++;
            worst = Math.max(worst, List.of("PASS", "WARN", "FAIL").indexOf(statuses.group(1)));
        }
        assertEquals(CHECKS, n, json);
        assertEquals(worst, code, json);
    }

    @Test
    void defaultsAreRunsDefaults()
    {
        final CheckCommand check = new CheckCommand();
        new CommandLine(check).parseArgs();
        assertEquals(Target.DEFAULT_CONNECTIONS, check.connections);
        assertEquals(ProxyContext.DEFAULT_BACKLOG, check.backlog);
        assertEquals(ProxyContext.DEFAULT_BUFFER_MEMORY, check.bufferMemory);
        assertEquals(1, check.upstreams);
        new CommandLine(check).parseArgs("--buffer-memory", "1g", "--upstreams", "4");
        assertEquals(1L << 30, check.bufferMemory);
        assertEquals(4, check.upstreams);
    }

    @Test
    void rejectsImpossibleTargetsAsUsageErrors()
    {
        final StringWriter err = new StringWriter();
        final int code = new CommandLine(new CheckCommand()).setErr(new PrintWriter(err)).setOut(new PrintWriter(new StringWriter()))
            .execute("--upstreams", "0");
        assertEquals(CommandLine.ExitCode.USAGE, code);
        assertTrue(err.toString().contains("upstreams"), err.toString());
    }
}
