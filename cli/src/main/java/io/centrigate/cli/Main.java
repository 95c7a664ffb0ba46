package io.centrigate.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code centrigate run|check|config}: the command line is a contract; options are added, never renamed. */
@Command(name = "centrigate", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
    description = "A Java NIO load balancer for Centrifugo nodes.",
    subcommands = {RunCommand.class, CheckCommand.class})
public final class Main implements Runnable
{
    public static void main(final String[] args)
    {
        System.exit(execute(args));
    }

    static int execute(final String... args)
    {
        return commandLine().execute(args);
    }

    /** {@code config} takes every option of {@code run}, so it is built from it rather than declared. */
    static CommandLine commandLine()
    {
        return new CommandLine(new Main())
            .addSubcommand("config", ConfigCommand.commandLine(System.getenv()))
            .addSubcommand("help", new CommandLine.HelpCommand())
            .setCaseInsensitiveEnumValuesAllowed(true);
    }

    @Override
    public void run()
    {
        commandLine().usage(System.out);
    }

    static String version()
    {
        final String v = Main.class.getPackage().getImplementationVersion();
        return v == null ? "dev" : v;
    }

    static final class Version implements CommandLine.IVersionProvider
    {
        @Override
        public String[] getVersion()
        {
            return new String[] {"centrigate " + version() + " (Java " + Runtime.version() + ")"};
        }
    }
}
