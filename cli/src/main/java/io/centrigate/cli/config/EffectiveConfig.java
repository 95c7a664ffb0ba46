package io.centrigate.cli.config;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

import io.centrigate.config.ProxyContext;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.PicocliException;

/**
 * The settings of {@code run} as the layers decide them, key by key: built-in default &lt; configuration file &lt;
 * {@code CENTRIGATE_*} environment &lt; command-line flag. A layer that sets a key replaces what the layers below
 * said about it, lists included ({@code upstream} in the environment replaces the file's upstreams, it does not
 * add to them); inside the file a repeatable key accumulates, as a repeated flag does.
 * <p>
 * Every value of the file and the environment is checked on its own, where it was written, before anything is
 * merged: a bad value overridden by a higher layer is still an error, never silently ignored. What only the
 * whole can judge ({@link ProxyContext#conclude()}) is traced back to the setting that causes it.
 */
public final class EffectiveConfig
{
    public enum Layer
    {
        DEFAULT, FILE, ENV, FLAG
    }

    /** Where a value came from. */
    public record Origin(Layer layer, String source, int line)
    {
        static final Origin DEFAULT = new Origin(Layer.DEFAULT, "", 0);

        /** As {@code config --print} writes it: {@code default}, {@code file:12}, {@code env VAR}, {@code flag}. */
        public String label()
        {
            switch (layer)
            {
                case FILE: return "file:" + line;
                case ENV: return "env " + source;
                case FLAG: return "flag";
                default: return "default";
            }
        }

        /** As an error message starts: {@code centrigate.conf:12}, {@code environment VAR}, {@code --key}. */
        public String place()
        {
            switch (layer)
            {
                case FILE: return source + ":" + line;
                case ENV: return "environment " + source;
                case FLAG: return source;
                default: return "default";
            }
        }
    }

    public record Value(String text, Origin origin)
    {
    }

    /** The value(s) of one key and the layer that decided them; no values for a key left at its default. */
    public record Setting(String key, Layer layer, List<Value> values)
    {
        public List<String> texts()
        {
            return values.stream().map(Value::text).toList();
        }
    }

    /** How {@code config --print} shows a key no layer set: its value, or null, and a note on where it comes from. */
    public record Default(String value, boolean derived, String note)
    {
        /** A fixed default, printed as a setting. */
        public static Default fixed(final String value)
        {
            return new Default(value, false, null);
        }

        /** Derived from the machine at start (loops, max-connections): printed commented out, so it is not pinned. */
        public static Default derived(final String value, final String note)
        {
            return new Default(value, true, note);
        }
    }

    /** Maps {@code run} arguments onto a context without concluding it; throws on a bad value. */
    @FunctionalInterface
    public interface Mapper
    {
        ProxyContext map(List<String> args);
    }

    private final ConfigKeys keys;
    private final Mapper mapper;
    private final String file;
    private final String fileChosenBy;
    private final List<Setting> settings;

    private EffectiveConfig(final ConfigKeys keys, final Mapper mapper, final String file, final String fileChosenBy,
        final List<Setting> settings)
    {
        this.keys = keys;
        this.mapper = mapper;
        this.file = file;
        this.fileChosenBy = fileChosenBy;
        this.settings = List.copyOf(settings);
    }

    /**
     * Reads the file ({@code configFile} from {@code --config}, else {@code CENTRIGATE_CONFIG}, else none), the
     * {@code CENTRIGATE_*} variables of {@code env} and the flags, checks every value and merges them.
     *
     * @param flags the values given on the command line per key, as typed ({@link #flagsOf})
     * @throws ConfigException naming every problem found, each with its file and line, variable or flag
     */
    public static EffectiveConfig resolve(final ConfigKeys keys, final Path configFile, final Map<String, String> env,
        final Map<String, List<String>> flags, final Mapper mapper)
    {
        final List<String> problems = new ArrayList<>();
        final String envFile = env.get(ConfigKeys.ENV_CONFIG);
        final Path path = configFile != null ? configFile : envFile != null && !envFile.isBlank() ? Path.of(envFile.strip()) : null;
        final String chosenBy = configFile != null ? ConfigKeys.CONFIG_OPTION : path != null ? ConfigKeys.ENV_CONFIG : null;

        final Map<String, List<Value>> fromFile = path == null ? Map.of() : fileLayer(keys, mapper, ConfigFile.read(path), problems);
        final Map<String, List<Value>> fromEnv = envLayer(keys, mapper, env, problems);
        final Map<String, List<Value>> fromFlags = new LinkedHashMap<>();
        flags.forEach((key, texts) ->
        {
            final List<Value> values = texts.stream().map(v -> new Value(v, new Origin(Layer.FLAG, "--" + key, 0))).toList();
            values.forEach(value -> check(keys, mapper, key, value, problems));
            fromFlags.put(key, values);
        });
        if (!problems.isEmpty())
        {
            throw new ConfigException(problems);
        }

        final List<Setting> settings = new ArrayList<>();
        for (final String key : keys.keys())
        {
            if (fromFlags.containsKey(key))
            {
                settings.add(new Setting(key, Layer.FLAG, fromFlags.get(key)));
            }
            else if (fromEnv.containsKey(key))
            {
                settings.add(new Setting(key, Layer.ENV, fromEnv.get(key)));
            }
            else if (fromFile.containsKey(key))
            {
                settings.add(new Setting(key, Layer.FILE, fromFile.get(key)));
            }
            else
            {
                settings.add(new Setting(key, Layer.DEFAULT, List.of()));
            }
        }
        return new EffectiveConfig(keys, mapper, path == null ? null : path.toString(), chosenBy, settings);
    }

    /** The flags of a parsed command line, per key, as typed ({@code --upstream a,b} stays {@code a,b}). */
    public static Map<String, List<String>> flagsOf(final ConfigKeys keys, final ParseResult parsed)
    {
        final Map<String, List<String>> flags = new LinkedHashMap<>();
        for (final String key : keys.keys())
        {
            final OptionSpec option = parsed.matchedOption("--" + key);
            if (option != null)
            {
                flags.put(key, option.arity().max() == 0 ? List.of("true") : List.copyOf(option.originalStringValues()));
            }
        }
        return flags;
    }

    private static Map<String, List<Value>> fileLayer(final ConfigKeys keys, final Mapper mapper, final ConfigFile file,
        final List<String> problems)
    {
        final Map<String, List<Value>> layer = new LinkedHashMap<>();
        final Map<String, Integer> firstLine = new LinkedHashMap<>();
        for (final ConfigFile.Entry entry : file.entries())
        {
            final String at = file.name() + ":" + entry.line() + ": ";
            final String key = entry.key();
            if (key.equals(ConfigKeys.CONFIG_OPTION.substring(2)))
            {
                problems.add(at + "'config' cannot be set in a configuration file (use --config or " + ConfigKeys.ENV_CONFIG + ")");
                continue;
            }
            if (!keys.contains(key))
            {
                final String suggestion = keys.suggest(key);
                problems.add(at + "unknown key '" + key + "'" + (suggestion == null ? "" : " (did you mean '" + suggestion + "'?)"));
                continue;
            }
            if (layer.containsKey(key) && !keys.repeatable(key))
            {
                problems.add(at + "'" + key + "' is already set at line " + firstLine.get(key) + " (only list keys repeat)");
                continue;
            }
            firstLine.putIfAbsent(key, entry.line());
            final Value value = new Value(entry.value(), new Origin(Layer.FILE, file.name(), entry.line()));
            check(keys, mapper, key, value, problems);
            layer.computeIfAbsent(key, k -> new ArrayList<>()).add(value);
        }
        return layer;
    }

    /**
     * {@code CENTRIGATE_READ_TIMEOUT=30s} sets {@code read-timeout}. A variable is one value; for a repeatable
     * key, {@code ;} separates repetitions (a {@code vhost} or {@code error-page} value has commas of its own).
     */
    private static Map<String, List<Value>> envLayer(final ConfigKeys keys, final Mapper mapper, final Map<String, String> env,
        final List<String> problems)
    {
        final Map<String, List<Value>> layer = new LinkedHashMap<>();
        for (final Map.Entry<String, String> variable : new TreeMap<>(env).entrySet())
        {
            final String name = variable.getKey();
            if (!name.startsWith(ConfigKeys.ENV_PREFIX) || ConfigKeys.ENV_RESERVED.contains(name))
            {
                continue;
            }
            final String key = keys.keyOfEnv(name);
            if (key == null)
            {
                final String suggestion = keys.suggest(name);
                problems.add("environment: unknown variable " + name +
                    (suggestion == null ? "" : " (did you mean " + ConfigKeys.envName(suggestion) + "?)"));
                continue;
            }
            final Origin origin = new Origin(Layer.ENV, name, 0);
            final List<String> texts = keys.repeatable(key) ? List.of(variable.getValue().split(";", -1)) : List.of(variable.getValue());
            final List<Value> values = new ArrayList<>();
            for (final String text : texts)
            {
                if (text.isBlank())
                {
                    problems.add(origin.place() + ": empty value for '" + key + "' (unset the variable to keep the default)");
                    break;
                }
                final Value value = new Value(text.strip(), origin);
                check(keys, mapper, key, value, problems);
                values.add(value);
            }
            if (values.size() == texts.size())
            {
                layer.put(key, values);
            }
        }
        return layer;
    }

    /** Maps one value alone, so that a bad one is reported where it was written. */
    private static void check(final ConfigKeys keys, final Mapper mapper, final String key, final Value value, final List<String> problems)
    {
        try
        {
            mapper.map(keys.args(key, List.of(value.text())));
        }
        catch (final IllegalArgumentException | PicocliException e)
        {
            if (value.origin().layer() == Layer.FLAG)
            {
                problems.add(e.getMessage()); // names the flag already, as it always has
            }
            else
            {
                problems.add(value.origin().place() + ": bad value for '" + key + "': " + withoutOptionName(key, e.getMessage()));
            }
        }
    }

    /** {@code --read-timeout: unknown unit...} → {@code unknown unit...}: the problem names the key already. */
    private static String withoutOptionName(final String key, final String message)
    {
        for (final String lead : List.of("--" + key + ": ", key + ": ", "Invalid value for option '--" + key + "': "))
        {
            if (message.startsWith(lead))
            {
                return message.substring(lead.length());
            }
        }
        return message;
    }

    public List<Setting> settings()
    {
        return settings;
    }

    public Setting setting(final String key)
    {
        return settings.stream().filter(s -> s.key().equals(key)).findFirst()
            .orElseThrow(() -> new IllegalArgumentException("no key " + key));
    }

    /** The file read, as named, or null. */
    public String file()
    {
        return file;
    }

    /** The {@code run} arguments that say the same as this configuration. */
    public List<String> args()
    {
        final List<String> args = new ArrayList<>();
        for (final Setting setting : settings)
        {
            if (setting.layer() != Layer.DEFAULT)
            {
                args.addAll(keys.args(setting.key(), setting.texts()));
            }
        }
        return args;
    }

    /**
     * The concluded context.
     *
     * @throws ConfigException when {@link ProxyContext#conclude()} refuses the whole, starting with the place of
     *                         the setting that causes it when one setting alone does
     */
    public ProxyContext context()
    {
        final ProxyContext ctx;
        try
        {
            ctx = mapper.map(args());
        }
        catch (final IllegalArgumentException | PicocliException e)
        {
            throw new ConfigException(e.getMessage()); // every value was checked alone: not expected
        }
        try
        {
            return ctx.conclude();
        }
        catch (final IllegalArgumentException e)
        {
            throw traced(e.getMessage());
        }
    }

    /**
     * Finds the setting behind a refusal of {@code conclude()}: the one that, alone over the defaults, is refused
     * with the same message. When only several together are refused (chunk-size against max-head-size), names
     * the place of each set key the message mentions.
     */
    private ConfigException traced(final String message)
    {
        for (final Setting setting : settings)
        {
            if (setting.layer() == Layer.DEFAULT)
            {
                continue;
            }
            try
            {
                mapper.map(keys.args(setting.key(), setting.texts())).conclude();
            }
            catch (final IllegalArgumentException | PicocliException e)
            {
                if (message.equals(e.getMessage()))
                {
                    return new ConfigException(setting.values().get(0).origin().place() + ": " + message);
                }
            }
        }
        final List<String> involved = new ArrayList<>();
        for (final Setting setting : settings)
        {
            if (setting.layer() != Layer.DEFAULT && mentions(message, setting.key()))
            {
                involved.add(setting.key() + " at " + setting.values().get(0).origin().place());
            }
        }
        return new ConfigException(involved.isEmpty() ? message : message + " (" + String.join(", ", involved) + ")");
    }

    /** Whether {@code key} appears in {@code message} as a whole word ({@code upstream} not in {@code default-upstream}). */
    static boolean mentions(final String message, final String key)
    {
        for (int i = message.indexOf(key); i >= 0; i = message.indexOf(key, i + 1))
        {
            final int end = i + key.length();
            if ((i == 0 || !isKeyChar(message.charAt(i - 1))) && (end == message.length() || !isKeyChar(message.charAt(end))))
            {
                return true;
            }
        }
        return false;
    }

    private static boolean isKeyChar(final char c)
    {
        return c == '-' || Character.isLetterOrDigit(c);
    }

    /**
     * The configuration in the file format, every key in {@code --help} order with its value and, after it,
     * where it came from: {@code read-timeout = 60s   # default} / {@code # file:12} / {@code # env VAR} /
     * {@code # flag}. Keys no layer set and with no fixed default are printed commented out with the value in
     * force, so that the output read back as a file gives the same configuration.
     *
     * @param defaults how to show a key no layer set; null for picocli's default value, else not set
     */
    public String print(final Function<String, Default> defaults)
    {
        final StringBuilder out = new StringBuilder();
        out.append("# centrigate: effective configuration (centrigate config --print)\n");
        out.append("# file: ").append(file == null ? "none" : file + " (" + fileChosenBy + ")").append('\n');
        out.append("# After each value, where it came from: default, file:LINE, env VARIABLE or flag. A key left\n");
        out.append("# commented out is not set, or derived from this machine; uncomment it to pin it.\n");
        for (final Setting setting : settings)
        {
            final String key = setting.key();
            if (setting.layer() != Layer.DEFAULT)
            {
                for (final Value value : setting.values())
                {
                    out.append(line(key + " = " + value.text(), value.origin().label()));
                }
                continue;
            }
            Default shown = defaults.apply(key);
            if (shown == null)
            {
                final String picocliDefault = keys.defaultValue(key);
                shown = picocliDefault == null ? new Default(null, true, "not set") : Default.fixed(picocliDefault);
            }
            if (!shown.derived())
            {
                out.append(line(key + " = " + shown.value(), "default"));
            }
            else
            {
                out.append(line("# " + key + " = " + (shown.value() == null ? "" : shown.value()), "default: " + shown.note()));
            }
        }
        return out.toString();
    }

    private static String line(final String setting, final String comment)
    {
        final int column = 44;
        final StringBuilder line = new StringBuilder(setting);
        do
        {
            line.append(' ');
        }
        while (line.length() < column);
        return line.append("  # ").append(comment).append('\n').toString();
    }
}
