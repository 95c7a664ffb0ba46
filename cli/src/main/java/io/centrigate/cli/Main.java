package io.centrigate.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code centrigate run|check}: the command line is a contract; options are added, never renamed. */
@Command(name = "centrigate", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
    description = "A Java NIO load balancer for Centrifugo nodes.",
    subcommands = {RunCommand.class, CheckCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable
{
    public static void main(final String[] args)
    {
        System.exit(execute(args));
    }

    static int execute(final String... args)
    {
        return new CommandLine(new Main()).setCaseInsensitiveEnumValuesAllowed(true).execute(args);
    }

    @Override
    public void run()
    {
        new CommandLine(this).usage(System.out);
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
