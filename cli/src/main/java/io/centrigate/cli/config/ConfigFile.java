package io.centrigate.cli.config;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The syntax of a configuration file, and nothing else (which keys exist is {@link ConfigKeys}' business):
 * <pre>
 * # a comment line
 * key = value        # a comment after whitespace
 * </pre>
 * UTF-8, one setting per line, split at the first {@code =}, key and value trimmed. A {@code #} starts a comment
 * at the start of a line or after whitespace, so a {@code #} inside a value ({@code a#b}) is kept. No quoting,
 * no escapes, no continuation lines, no sections: no value of centrigate needs them.
 */
public final class ConfigFile
{
    /** One {@code key = value} line; {@code line} counts from 1. */
    public record Entry(String key, String value, int line)
    {
    }

    private final String name;
    private final List<Entry> entries;

    private ConfigFile(final String name, final List<Entry> entries)
    {
        this.name = name;
        this.entries = List.copyOf(entries);
    }

    /** The file as named in messages: the path as given, so the operator recognises it. */
    public String name()
    {
        return name;
    }

    public List<Entry> entries()
    {
        return entries;
    }

    public static ConfigFile read(final Path path)
    {
        final String text;
        try
        {
            // A fresh decoder reports malformed input, where new String(bytes) would replace it silently.
            text = StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(Files.readAllBytes(path))).toString();
        }
        catch (final NoSuchFileException e)
        {
            throw new ConfigException(path + ": no such file");
        }
        catch (final CharacterCodingException e)
        {
            throw new ConfigException(path + ": not UTF-8 text");
        }
        catch (final IOException e)
        {
            throw new ConfigException(path + ": cannot read: " + e.getMessage());
        }
        return parse(path.toString(), text);
    }

    /** Parses {@code text}; {@code name} is what error messages call the file. */
    public static ConfigFile parse(final String name, final String text)
    {
        final List<Entry> entries = new ArrayList<>();
        final List<String> problems = new ArrayList<>();
        final String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++)
        {
            final int number = i + 1;
            String line = lines[i];
            if (i == 0 && line.startsWith("\uFEFF"))
            {
                line = line.substring(1); // a byte-order mark some editors write
            }
            final String content = withoutComment(line).strip();
            if (content.isEmpty())
            {
                continue;
            }
            final int eq = content.indexOf('=');
            if (eq < 0)
            {
                problems.add(name + ":" + number + ": expected 'key = value', got '" + content + "'");
                continue;
            }
            final String key = content.substring(0, eq).strip();
            final String value = content.substring(eq + 1).strip();
            if (key.isEmpty())
            {
                problems.add(name + ":" + number + ": missing key before '='");
            }
            else if (key.chars().anyMatch(Character::isWhitespace))
            {
                problems.add(name + ":" + number + ": a key has no spaces, got '" + key + "'");
            }
            else if (value.isEmpty())
            {
                problems.add(name + ":" + number + ": missing value for '" + key + "'");
            }
            else
            {
                entries.add(new Entry(key, value, number));
            }
        }
        if (!problems.isEmpty())
        {
            throw new ConfigException(problems);
        }
        return new ConfigFile(name, entries);
    }

    /** Cuts the line at a {@code #} that starts it or follows whitespace; drops a CR of a CRLF file. */
    static String withoutComment(final String line)
    {
        for (int i = 0; i < line.length(); i++)
        {
            if (line.charAt(i) == '#' && (i == 0 || Character.isWhitespace(line.charAt(i - 1))))
            {
                return line.substring(0, i);
            }
        }
        return line.endsWith("\r") ? line.substring(0, line.length() - 1) : line;
    }
}
