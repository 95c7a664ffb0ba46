package io.centrigate.cli.config;

import java.util.List;

/**
 * A configuration that cannot be used. Each problem is one line that starts with where it was written
 * ({@code centrigate.conf:12: unknown key 'read-timout' (did you mean 'read-timeout'?)}); all problems found in
 * one pass are reported together, so an operator fixes a file in one round.
 */
public final class ConfigException extends RuntimeException
{
    private static final long serialVersionUID = 1L;

    private final List<String> problems;

    public ConfigException(final String problem)
    {
        this(List.of(problem));
    }

    public ConfigException(final List<String> problems)
    {
        super(String.join("\n", problems));
        this.problems = List.copyOf(problems);
    }

    /** One line per problem, each naming its file and line, variable or flag. */
    public List<String> problems()
    {
        return problems;
    }
}
