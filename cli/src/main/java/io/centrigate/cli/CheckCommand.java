package io.centrigate.cli;

import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;

import io.centrigate.cli.check.ByteSize;
import io.centrigate.cli.check.Checks;
import io.centrigate.cli.check.Finding;
import io.centrigate.cli.check.MachineLimits;
import io.centrigate.cli.check.Report;
import io.centrigate.cli.check.Target;
import io.centrigate.config.ProxyContext;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code centrigate check}: this machine's limits ({@link MachineLimits}) judged by {@link Checks} against a
 * target load, one {@code PASS|WARN|FAIL} line per check with its fix, or JSON. Exit code 0 all pass, 1 some
 * WARN, 2 some FAIL.
 */
@Command(name = "check", mixinStandardHelpOptions = true,
    description = {"Check open-file, kernel, conntrack and memory limits for a target number of proxied connections.",
        "Prints one line per check: PASS|WARN|FAIL <check>: <detail> -> fix: <command or setting>.",
        "Exit code 0 all pass, 1 some WARN, 2 some FAIL."})
public final class CheckCommand implements Callable<Integer>
{
    @Option(names = "--connections", paramLabel = "N", defaultValue = "65536",
        description = "Target concurrent client connections. Default: ${DEFAULT-VALUE}.")
    long connections;

    @Option(names = "--backlog", paramLabel = "N", defaultValue = "" + ProxyContext.DEFAULT_BACKLOG,
        description = "Listen backlog to check somaxconn and tcp_max_syn_backlog against. Default: ${DEFAULT-VALUE}.")
    long backlog;

    @Option(names = "--upstreams", paramLabel = "K", defaultValue = "1",
        description = "Distinct upstream address:port pairs the connections spread over (for ip_local_port_range). "
            + "Default: ${DEFAULT-VALUE}.")
    int upstreams;

    @Option(names = "--upstream-source", paramLabel = "ADDR[-ADDR][,...]",
        description = "run's --upstream-source: the source addresses multiply the ports of ip_local_port_range. "
            + "Default: none.")
    List<String> upstreamSources = new java.util.ArrayList<>();

    @Option(names = "--transport", paramLabel = "nio|epoll|io_uring", defaultValue = "nio",
        description = "run's --transport, for --upstream-source: epoll and io_uring give each source address the whole port range "
            + "towards each upstream, NIO one range over all. Default: ${DEFAULT-VALUE}.")
    String transport;

    @Option(names = "--buffer-memory", paramLabel = "SIZE", defaultValue = "256m", converter = SizeConverter.class,
        description = "Off-heap chunk memory of run's --buffer-memory (checked against direct memory). Default: ${DEFAULT-VALUE}.")
    long bufferMemory;

    @Option(names = "--json", description = "Print a JSON array of {check, status, detail, fix} instead of lines.")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call()
    {
        final Target target;
        try
        {
            if (!List.of("nio", "epoll", "io_uring").contains(transport))
            {
                throw new IllegalArgumentException(
                    "--transport: expected nio, epoll or io_uring, got '" + transport + "'");
            }
            final int sources = io.centrigate.config.SourceAddresses.parse(upstreamSources, "--upstream-source").size();
            target = new Target(connections, backlog, upstreams, bufferMemory, sources, !transport.equals("nio"));
        }
        catch (final IllegalArgumentException e)
        {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        final List<Finding> findings = Checks.evaluate(MachineLimits.read(), target);
        final PrintWriter out = spec.commandLine().getOut();
        if (json)
        {
            out.println(Report.json(findings));
        }
        else
        {
            findings.forEach(f -> out.println(Report.line(f)));
        }
        out.flush();
        return Checks.exitCode(findings);
    }

    static final class SizeConverter implements CommandLine.ITypeConverter<Long>
    {
        @Override
        public Long convert(final String value)
        {
            return ByteSize.parse(value);
        }
    }
}
