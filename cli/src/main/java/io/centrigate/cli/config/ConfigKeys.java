package io.centrigate.cli.config;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * The keys of a configuration: exactly the long option names of {@code centrigate run} without {@code --}, read
 * off its picocli model, so the file, the environment and the command line can never disagree on a name and a
 * new flag needs no change here. {@code --config} itself is not a key (a file does not name another file), nor
 * are {@code --help} and {@code --version}.
 */
public final class ConfigKeys
{
    public static final String ENV_PREFIX = "CENTRIGATE_";
    /** Names the configuration file when {@code --config} is not given. */
    public static final String ENV_CONFIG = "CENTRIGATE_CONFIG";
    /**
     * Variables that are not settings and are left alone: the file ({@link #ENV_CONFIG}), and JVM options that
     * launchers keep under our prefix ({@code bench/run.sh} reads {@code CENTRIGATE_JAVA_OPTS}; a start script
     * may use {@code CENTRIGATE_OPTS}), which the process inherits.
     */
    public static final Set<String> ENV_RESERVED = Set.of(ENV_CONFIG, "CENTRIGATE_OPTS", "CENTRIGATE_JAVA_OPTS");
    /** The option that names the file; not a key. */
    public static final String CONFIG_OPTION = "--config";

    private final Map<String, OptionSpec> options;

    private ConfigKeys(final Map<String, OptionSpec> options)
    {
        this.options = Collections.unmodifiableMap(options);
    }

    /** The keys of {@code run}'s options, in the order they are declared (the order of {@code --help}). */
    public static ConfigKeys of(final CommandSpec run)
    {
        final Map<String, OptionSpec> options = new LinkedHashMap<>();
        for (final OptionSpec option : run.options())
        {
            final String name = option.longestName();
            if (option.usageHelp() || option.versionHelp() || !name.startsWith("--") || name.equals(CONFIG_OPTION))
            {
                continue;
            }
            options.put(name.substring(2), option);
        }
        return new ConfigKeys(options);
    }

    public Set<String> keys()
    {
        return options.keySet();
    }

    public boolean contains(final String key)
    {
        return options.containsKey(key);
    }

    /** A key that may be given several times, its values accumulating (like a repeated flag). */
    public boolean repeatable(final String key)
    {
        return options.get(key).isMultiValue();
    }

    /** picocli's {@code defaultValue} of the option, null if it has none (the context's default applies). */
    public String defaultValue(final String key)
    {
        return options.get(key).defaultValue();
    }

    /** The command-line arguments that say the same as {@code key = value}, one per value. */
    public List<String> args(final String key, final List<String> values)
    {
        final boolean isSwitch = options.get(key).arity().max() == 0;
        final List<String> args = new ArrayList<>();
        for (final String value : values)
        {
            if (!isSwitch)
            {
                // --key=value: a value that starts with '-' can never be read as an option.
                args.add("--" + key + "=" + value);
            }
            else if (value.equals("true"))
            {
                args.add("--" + key);
            }
            else if (!value.equals("false"))
            {
                throw new IllegalArgumentException("expected true or false, got '" + value + "'");
            }
        }
        return args;
    }

    /** {@code read-timeout} → {@code CENTRIGATE_READ_TIMEOUT}. */
    public static String envName(final String key)
    {
        return ENV_PREFIX + key.toUpperCase(Locale.ROOT).replace('-', '_');
    }

    /** The key a {@code CENTRIGATE_*} variable sets, or null if there is none. */
    public String keyOfEnv(final String variable)
    {
        for (final String key : options.keySet())
        {
            if (envName(key).equals(variable))
            {
                return key;
            }
        }
        return null;
    }

    /**
     * The key the operator most likely meant: the same name in another spelling ({@code --read-timeout},
     * {@code READ_TIMEOUT}) or one within a couple of typos; null if nothing is close.
     */
    public String suggest(final String unknown)
    {
        String name = unknown.toLowerCase(Locale.ROOT).replace('_', '-');
        if (name.startsWith("centrigate-"))
        {
            name = name.substring("centrigate-".length());
        }
        while (name.startsWith("-"))
        {
            name = name.substring(1);
        }
        if (options.containsKey(name))
        {
            return name;
        }
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (final String key : options.keySet())
        {
            final int d = editDistance(name, key);
            if (d < bestDistance)
            {
                best = key;
                bestDistance = d;
            }
        }
        return best != null && bestDistance <= (name.length() >= 10 ? 3 : 2) ? best : null;
    }

    /** Levenshtein distance: insertions, deletions and substitutions. */
    static int editDistance(final String a, final String b)
    {
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++)
        {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++)
        {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++)
            {
                final int substitute = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                current[j] = Math.min(substitute, Math.min(previous[j], current[j - 1]) + 1);
            }
            final int[] t = previous;
            previous = current;
            current = t;
        }
        return previous[b.length()];
    }
}
