package io.centrigate.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

import io.centrigate.loop.BackgroundPriority;
import io.centrigate.testing.HttpUpstream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code --jit-priority} through the real process: after a warm-up the JIT compiler threads run in the background
 * class (SCHED_IDLE; nice 10 where {@code chrt} is missing), and stay normal without a warm-up or when asked.
 */
@Timeout(90)
class JitPriorityRunTest
{
    /** Compiler thread id to its "policy/nice", from /proc. */
    private static Map<Long, String> compilerThreads(final long pid) throws IOException
    {
        final Map<Long, String> found = new TreeMap<>();
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc/" + pid + "/task")))
        {
            for (final Path task : tasks)
            {
                try
                {
                    final String comm = Files.readString(task.resolve("comm")).trim();
                    if (comm.startsWith("C1 CompilerThre") || comm.startsWith("C2 CompilerThre"))
                    {
                        final String stat = Files.readString(task.resolve("stat"));
                        final String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                        found.put(Long.parseLong(task.getFileName().toString()), f[41 - 3] + "/" + f[19 - 3]);
                    }
                }
                catch (final IOException e)
                {
                    // the thread ended while we looked
                }
            }
        }
        return found;
    }

    private static boolean background(final String policyNice)
    {
        return policyNice.startsWith(BackgroundPriority.SCHED_IDLE + "/") ||
            policyNice.endsWith("/" + BackgroundPriority.NICE);
    }

    private static Map<Long, String> awaitCompilers(final long pid, final boolean wantBackground) throws Exception
    {
        final long deadline = System.nanoTime() + 20_000_000_000L;
        Map<Long, String> threads;
        do
        {
            threads = compilerThreads(pid);
            if (!threads.isEmpty() && threads.values().stream().allMatch(v -> background(v) == wantBackground))
            {
                return threads;
            }
            Thread.sleep(100);
        }
        while (System.nanoTime() < deadline);
        return threads;
    }

    @Test
    void afterAWarmUpTheCompilerThreadsRunInTheBackgroundClass() throws Exception
    {
        try (HttpUpstream node = new HttpUpstream();
            CentrigateProcess proxy = CentrigateProcess.start(Map.of(), "run", "--listen", "127.0.0.1:0",
                "--upstream", "127.0.0.1:" + node.address().getPort(), "--warmup", "300ms"))
        {
            final String line = proxy.awaitLine("centrigate ");
            assertTrue(line.contains(" jit background"), line);
            final Map<Long, String> threads = awaitCompilers(proxy.pid(), true);
            assertFalse(threads.isEmpty(), "no compiler thread found");
            assertTrue(threads.values().stream().allMatch(JitPriorityRunTest::background), threads.toString());
        }
    }

    @Test
    void withoutAWarmUpOrWhenAskedTheyStayNormal() throws Exception
    {
        for (final String[] extra : new String[][] {{}, {"--warmup", "300ms", "--jit-priority", "normal"}})
        {
            final String[] args = new String[5 + extra.length];
            System.arraycopy(new String[] {"run", "--listen", "127.0.0.1:0", "--upstream", "127.0.0.1:9"}, 0, args, 0, 5);
            System.arraycopy(extra, 0, args, 5, extra.length);
            try (CentrigateProcess proxy = CentrigateProcess.start(Map.of(), args))
            {
                final String line = proxy.awaitLine("centrigate ");
                assertFalse(line.contains(" jit "), line);
                final Map<Long, String> threads = awaitCompilers(proxy.pid(), false);
                assertFalse(threads.isEmpty(), "no compiler thread found");
                assertTrue(threads.values().stream().noneMatch(JitPriorityRunTest::background), threads.toString());
            }
        }
    }

    @Test
    void aWrongValueIsAStartUpError() throws Exception
    {
        try (CentrigateProcess proxy = CentrigateProcess.start(Map.of(), "run", "--listen", "127.0.0.1:0",
            "--upstream", "127.0.0.1:9", "--jit-priority", "low"))
        {
            assertEquals(2, proxy.exitCode(30));
            assertTrue(proxy.stderr().contains("jit-priority: expected auto, background or normal, got 'low'"),
                proxy.stderr());
        }
    }
}
