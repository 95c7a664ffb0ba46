package io.centrigate.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

import io.centrigate.config.OpenFileLimit;
import io.centrigate.config.ProxyContext;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Checks the machine's limits against a target connection count. Exit code 0 pass, 1 warn, 2 fail. The full
 * set of checks (sysctls, conntrack, memory, JSON) is tracked in the deployment issue; these are the ones that
 * bite first.
 */
@Command(name = "check", mixinStandardHelpOptions = true,
    description = "Check open-file and kernel limits for a target number of proxied connections.")
public final class CheckCommand implements Callable<Integer>
{
    @Option(names = "--connections", paramLabel = "N", defaultValue = "65536",
        description = "Target concurrent client connections. Default: ${DEFAULT-VALUE}.")
    long connections;

    @Option(names = "--backlog", paramLabel = "N", defaultValue = "4096", description = "Listen backlog to check against somaxconn.")
    long backlog;

    private int worst;

    @Override
    public Integer call()
    {
        final long needed = 2 * connections + ProxyContext.DESCRIPTOR_MARGIN;
        final long nofile = OpenFileLimit.current();
        if (nofile == 0)
        {
            report(1, "RLIMIT_NOFILE", "unknown (no /proc/self/limits)", "check ulimit -n by hand");
        }
        else if (nofile >= needed)
        {
            report(0, "RLIMIT_NOFILE", nofile + " >= " + needed + " (2 per connection + margin)", "");
        }
        else
        {
            report(2, "RLIMIT_NOFILE", nofile + " < " + needed + " (2 per connection + margin)",
                "ulimit -n " + needed + " or LimitNOFILE=" + needed + " in the systemd unit");
        }
        sysctlAtLeast("fs.nr_open", needed, "sysctl -w fs.nr_open=" + needed);
        sysctlAtLeast("fs.file-max", needed, "sysctl -w fs.file-max=" + needed);
        sysctlAtLeast("net.core.somaxconn", backlog, "sysctl -w net.core.somaxconn=" + backlog);
        sysctlAtLeast("net.ipv4.tcp_max_syn_backlog", backlog, "sysctl -w net.ipv4.tcp_max_syn_backlog=" + backlog);
        final String range = read("net.ipv4.ip_local_port_range");
        if (range != null)
        {
            final String[] p = range.trim().split("\\s+");
            final long ports = Long.parseLong(p[1]) - Long.parseLong(p[0]) + 1;
            if (ports >= connections)
            {
                report(0, "ip_local_port_range", ports + " source ports per upstream address >= " + connections, "");
            }
            else
            {
                report(1, "ip_local_port_range", ports + " source ports per upstream address < " + connections,
                    "sysctl -w net.ipv4.ip_local_port_range=\"1024 65535\", or give each node several ports/addresses");
            }
        }
        return worst;
    }

    private void sysctlAtLeast(final String key, final long wanted, final String fix)
    {
        final String v = read(key);
        if (v == null)
        {
            report(1, key, "unreadable", "check it by hand");
            return;
        }
        final long value = Long.parseLong(v.trim().split("\\s+")[0]);
        if (value >= wanted)
        {
            report(0, key, value + " >= " + wanted, "");
        }
        else
        {
            report(key.startsWith("fs.") ? 2 : 1, key, value + " < " + wanted, fix);
        }
    }

    private static String read(final String key)
    {
        // Streamed, not Files.readString: /proc files report size 0 and a size-based read comes back short.
        try (var in = Files.newInputStream(Path.of("/proc/sys/" + key.replace('.', '/'))))
        {
            return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII);
        }
        catch (final IOException e)
        {
            return null;
        }
    }

    private void report(final int level, final String what, final String detail, final String fix)
    {
        worst = Math.max(worst, level);
        final String tag = level == 0 ? "PASS" : level == 1 ? "WARN" : "FAIL";
        System.out.println(tag + " " + what + ": " + detail + (fix.isEmpty() ? "" : " -> fix: " + fix));
    }
}
