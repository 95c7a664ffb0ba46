package io.centrigate.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Reads this process's RLIMIT_NOFILE soft limit from /proc (Linux); 0 when unknown. */
public final class OpenFileLimit
{
    private OpenFileLimit()
    {
    }

    public static long current()
    {
        try
        {
            for (final String line : Files.readAllLines(Path.of("/proc/self/limits")))
            {
                if (line.startsWith("Max open files"))
                {
                    final String[] parts = line.substring("Max open files".length()).trim().split("\\s+");
                    return "unlimited".equals(parts[0]) ? Long.MAX_VALUE / 4 : Long.parseLong(parts[0]);
                }
            }
        }
        catch (final IOException | RuntimeException ignore)
        {
            // Not Linux, or /proc hidden: the caller falls back to a fixed default.
        }
        return 0;
    }
}
