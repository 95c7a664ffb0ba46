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
        uncachedNames();
        System.exit(execute(args));
    }

    /**
     * DNS discovery resolves the upstream names every --resolve-interval; the JDK's own cache (30 s by default)
     * would hide a change for that long. The resolver thread is the only cache needed (one lookup per name per
     * interval). Before the first lookup, since the JDK reads the setting once; an operator's setting stays.
     */
    static void uncachedNames()
    {
        if (java.security.Security.getProperty("networkaddress.cache.ttl") == null &&
            System.getProperty("sun.net.inetaddr.ttl") == null)
        {
            java.security.Security.setProperty("networkaddress.cache.ttl", "0");
        }
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
