package io.centrigate.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;

import io.centrigate.cli.config.ConfigException;
import io.centrigate.cli.config.EffectiveConfig;
import io.centrigate.config.ProxyContext;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.Spec;

/**
 * {@code centrigate config [--config FILE] [run options] --print|--check}: the configuration {@code run} would use
 * with the same file, environment and flags, printed in the file format with the origin of each value, or only
 * validated (exit 0, or 2 with the errors, each naming its file and line, variable or flag).
 */
@Command(name = "config", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Print or check the effective configuration of 'run': defaults < --config FILE < CENTRIGATE_* "
        + "environment < flags. Takes every option of 'run'.",
        "Exit code 0 valid, 2 invalid (each error names its file:line, variable or flag)."})
public final class ConfigCommand implements Callable<Integer>
{
    @Option(names = "--print", description = "Print every key with its value and origin, in the file format (the default).")
    boolean print;

    @Option(names = "--check", description = "Only validate, as 'run' does before it starts.")
    boolean check;

    @Spec
    CommandSpec spec;

    private final Map<String, String> env;

    private ConfigCommand(final Map<String, String> env)
    {
        this.env = env;
    }

    /** The command with {@code run}'s options added; {@code env} is {@code System.getenv()} but in tests. */
    static CommandLine commandLine(final Map<String, String> env)
    {
        final CommandLine config = new CommandLine(new ConfigCommand(env));
        for (final OptionSpec option : new CommandLine(new RunCommand()).getCommandSpec().options())
        {
            if (!option.usageHelp() && !option.versionHelp())
            {
                config.getCommandSpec().addOption(option.toBuilder().build());
            }
        }
        return config;
    }

    @Override
    public Integer call()
    {
        final PrintWriter out = spec.commandLine().getOut();
        final PrintWriter err = spec.commandLine().getErr();
        final ParseResult parsed = spec.commandLine().getParseResult();
        final Path file = parsed.matchedOptionValue("--config", null);
        try
        {
            final EffectiveConfig config = EffectiveConfig.resolve(RunCommand.KEYS, file, env,
                EffectiveConfig.flagsOf(RunCommand.KEYS, parsed), RunCommand::map);
            ProxyContext ctx = null;
            ConfigException invalid = null;
            try
            {
                ctx = config.context();
            }
            catch (final ConfigException e)
            {
                invalid = e; // still printed: where each value came from is what finds the culprit
            }
            if (print || !check)
            {
                final ProxyContext concluded = ctx;
                out.print(config.print(key -> RunCommand.printedDefault(key, concluded)));
                if (concluded != null)
                {
                    printNames(out, concluded);
                }
            }
            if (invalid != null)
            {
                throw invalid;
            }
            ctx.warnings().forEach(w -> err.println("centrigate: warning: " + w));
            if (!print && check)
            {
                out.println("centrigate: configuration OK" + (config.file() == null ? "" : ": " + config.file()));
            }
            return CommandLine.ExitCode.OK;
        }
        catch (final ConfigException e)
        {
            e.problems().forEach(problem -> err.println("centrigate: " + problem));
            return CommandLine.ExitCode.USAGE;
        }
        finally
        {
            out.flush();
            err.flush();
        }
    }

    /** DNS discovery: what each upstream name stands for now (one lookup each, as run does at start). */
    private static void printNames(final PrintWriter out, final ProxyContext ctx)
    {
        for (final String name : io.centrigate.upstream.UpstreamNames.names(ctx))
        {
            String addresses;
            try
            {
                addresses = io.centrigate.upstream.UpstreamNames.resolve(name).stream()
                    .map(java.net.InetAddress::getHostAddress).collect(java.util.stream.Collectors.joining(", "));
            }
            catch (final java.net.UnknownHostException e)
            {
                addresses = "nothing now (" + e.getMessage() + ")";
            }
            out.println("# upstream name " + name + " resolves to " + addresses + " (each address a node" +
                (ctx.resolveIntervalNs() > 0 ? "; resolved again every " + ProxyContext.formatDuration(ctx.resolveIntervalNs())
                    : "; resolved only at start") + ")");
        }
    }
}
