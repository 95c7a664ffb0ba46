package io.centrigate.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import io.centrigate.config.OpenFileLimit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code --fd-table} through the real process: the descriptor table ({@code FDSize} in /proc/PID/status) is
 * grown before the listeners open, by default to what --max-connections needs, and left alone with 0.
 */
@Timeout(90)
class FdTableRunTest
{
    /** A fresh JVM's table holds its first few dozen descriptors: 64 or 256 slots, never thousands. */
    private static final int FRESH = 1024;

    private static int fdSize(final long pid) throws Exception
    {
        for (final String line : Files.readAllLines(Path.of("/proc/" + pid + "/status")))
        {
            if (line.startsWith("FDSize:"))
            {
                return Integer.parseInt(line.substring("FDSize:".length()).trim());
            }
        }
        throw new AssertionError("no FDSize in /proc/" + pid + "/status");
    }

    private static int fdSizeOf(final String... extra) throws Exception
    {
        final String[] args = new String[5 + extra.length];
        System.arraycopy(new String[] {"run", "--listen", "127.0.0.1:0", "--upstream", "127.0.0.1:9"}, 0, args, 0, 5);
        System.arraycopy(extra, 0, args, 5, extra.length);
        try (CentrigateProcess proxy = CentrigateProcess.start(Map.of(), args))
        {
            proxy.awaitLine("centrigate ");
            return fdSize(proxy.pid());
        }
    }

    @Test
    void byDefaultTheTableHoldsWhatMaxConnectionsNeedsBeforeTheFirstClient() throws Exception
    {
        Assumptions.assumeTrue(Files.isReadable(Path.of("/proc/self/status")), "Linux only");
        Assumptions.assumeTrue(OpenFileLimit.current() > 2 * 3000 + 100, "open-files limit too low for the sample");
        final int size = fdSizeOf("--max-connections", "3000");
        assertTrue(size >= 2 * 3000, "FDSize " + size + " for 3000 connections");
    }

    @Test
    void aCountIsReservedAndZeroLeavesTheTableAlone() throws Exception
    {
        Assumptions.assumeTrue(Files.isReadable(Path.of("/proc/self/status")), "Linux only");
        Assumptions.assumeTrue(OpenFileLimit.current() > 5000, "open-files limit too low for the sample");
        final int reserved = fdSizeOf("--max-connections", "3000", "--fd-table", "5000");
        assertTrue(reserved >= 5000, "FDSize " + reserved + " with --fd-table 5000");
        final int off = fdSizeOf("--max-connections", "3000", "--fd-table", "0");
        assertTrue(off <= FRESH, "FDSize " + off + " with --fd-table 0");
    }

    @Test
    void aWrongValueIsAStartUpError() throws Exception
    {
        try (CentrigateProcess proxy = CentrigateProcess.start(Map.of(), "run", "--listen", "127.0.0.1:0",
            "--upstream", "127.0.0.1:9", "--fd-table", "lots"))
        {
            assertEquals(2, proxy.exitCode(30));
            assertTrue(proxy.stderr().contains("--fd-table: expected auto, 0 or a count of descriptors, got 'lots'"),
                proxy.stderr());
        }
    }
}
