package io.centrigate.cli.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;

import io.centrigate.cli.RunCommand;
import picocli.CommandLine;

/** Keys are run's long option names without '--', and nothing else. */
class ConfigKeysTest
{
    private static final ConfigKeys KEYS = ConfigKeys.of(new CommandLine(new RunCommand()).getCommandSpec());

    @Test
    void keysAreExactlyRunsLongOptionsButConfigHelpAndVersion()
    {
        final List<String> options = new CommandLine(new RunCommand()).getCommandSpec().options().stream()
            .filter(o -> !o.usageHelp() && !o.versionHelp())
            .map(o -> o.longestName().substring(2))
            .filter(k -> !k.equals("config"))
            .toList();
        assertEquals(options, List.copyOf(KEYS.keys()));
        for (final String key : List.of("listen", "upstream", "prefix", "default-upstream", "vhost", "read-timeout",
            "error-page", "max-connections", "internal-allow", "backlog"))
        {
            assertTrue(KEYS.contains(key), key);
        }
        assertFalse(KEYS.contains("config"));
        assertFalse(KEYS.contains("help"));
    }

    @Test
    void listOptionsRepeatAndScalarsDoNot()
    {
        for (final String key : List.of("listen", "upstream", "default-upstream", "vhost", "error-page", "internal-allow"))
        {
            assertTrue(KEYS.repeatable(key), key);
        }
        for (final String key : List.of("read-timeout", "prefix", "loops", "balance"))
        {
            assertFalse(KEYS.repeatable(key), key);
        }
    }

    @Test
    void environmentNamesAreUpperCaseWithUnderscores()
    {
        assertEquals("CENTRIGATE_READ_TIMEOUT", ConfigKeys.envName("read-timeout"));
        assertEquals("read-timeout", KEYS.keyOfEnv("CENTRIGATE_READ_TIMEOUT"));
        assertEquals("upstream", KEYS.keyOfEnv("CENTRIGATE_UPSTREAM"));
        assertNull(KEYS.keyOfEnv("CENTRIGATE_read_timeout"));
        assertNull(KEYS.keyOfEnv("CENTRIGATE_CONFIG"));
    }

    @Test
    void suggestsTheKeyMeantForTyposAndOtherSpellings()
    {
        assertEquals("read-timeout", KEYS.suggest("read-timout"));
        assertEquals("read-timeout", KEYS.suggest("--read-timeout"));
        assertEquals("read-timeout", KEYS.suggest("read_timeout"));
        assertEquals("read-timeout", KEYS.suggest("CENTRIGATE_READ_TIMOUT"));
        assertEquals("upstream", KEYS.suggest("upstrem"));
        assertNull(KEYS.suggest("worker_connections"));
    }

    @Test
    void editDistanceCountsInsertionsDeletionsAndSubstitutions()
    {
        assertEquals(0, ConfigKeys.editDistance("listen", "listen"));
        assertEquals(1, ConfigKeys.editDistance("read-timout", "read-timeout"));
        assertEquals(1, ConfigKeys.editDistance("loops", "loopz"));
        assertEquals(6, ConfigKeys.editDistance("", "listen"));
    }

    @Test
    void mapsAValueToTheFlagThatSaysTheSame()
    {
        assertEquals(List.of("--listen=:80", "--listen=:81"), KEYS.args("listen", List.of(":80", ":81")));
        assertEquals(List.of("--prefix=-odd"), KEYS.args("prefix", List.of("-odd")));
    }
}
