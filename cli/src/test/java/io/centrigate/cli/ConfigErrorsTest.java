package io.centrigate.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.centrigate.cli.config.ConfigException;

/** Unknown keys and bad values are errors that name the file and line, the variable or the flag; never ignored. */
class ConfigErrorsTest
{
    @TempDir
    Path dir;

    private Path file(final String text) throws Exception
    {
        return Files.writeString(dir.resolve("centrigate.conf"), text);
    }

    private static List<String> problems(final Path file, final Map<String, String> env, final String... flags)
    {
        return assertThrows(ConfigException.class,
            () -> ConfigPrecedenceTest.resolve(file, env, flags).context()).problems();
    }

    @Test
    void anUnknownKeyNamesFileLineAndTheKeyMeant() throws Exception
    {
        final Path file = file("# comment\n\nlisten = :8080\nread-timout = 30s\nworker_connections = 65535\n");
        assertEquals(List.of(
            file + ":4: unknown key 'read-timout' (did you mean 'read-timeout'?)",
            file + ":5: unknown key 'worker_connections'"), problems(file, Map.of()));
    }

    @Test
    void aBadValueNamesFileLineAndKey() throws Exception
    {
        final Path file = file("upstream = 127.0.0.1:8000\nread-timeout = 5parsecs\nloops = many\nbalance = random\n"
            + "upstream = nohostport\n");
        assertEquals(List.of(
            file + ":2: bad value for 'read-timeout': unknown unit 'parsecs' in '5parsecs' (use ms, s, m, h)",
            file + ":3: bad value for 'loops': 'many' is not an int",
            file + ":4: bad value for 'balance': expected least-conn or round-robin, got 'random'",
            file + ":5: bad value for 'upstream': expected HOST:PORT, got 'nohostport'"), problems(file, Map.of()));
    }

    @Test
    void aTlsListenerWithoutItsFilesNamesWhereItWasSetAndWhatIsMissing() throws Exception
    {
        final Path file = file("listen = :8080\ntls-listen = 127.0.0.1:8443\n");
        assertEquals(List.of(file + ":2: tls-listen needs tls-cert and tls-key (certificate chain and private key, PEM)"),
            problems(file, Map.of()));

        final Path cert = Files.writeString(dir.resolve("cert.pem"), "x");
        assertEquals(List.of("tls-listen needs tls-key (private key, PEM) to go with tls-cert (tls-listen at " + file +
            ":2, tls-cert at environment CENTRIGATE_TLS_CERT)"), problems(file, Map.of("CENTRIGATE_TLS_CERT", cert.toString())));
        assertEquals(List.of("--tls-key: tls-key is set but no tls-listen would serve it"),
            problems(null, Map.of(), "--tls-key", cert.toString()));
    }

    @Test
    void aBadValueIsAnErrorEvenWhenAHigherLayerOverridesIt() throws Exception
    {
        final Path file = file("read-timeout = soon\n");
        assertEquals(List.of(file + ":1: bad value for 'read-timeout': expected a duration like 500ms, 5s, 2m or 0, got 'soon'"),
            problems(file, Map.of(), "--read-timeout", "5s"));
    }

    @Test
    void aScalarKeySetTwiceNamesBothLines() throws Exception
    {
        final Path file = file("read-timeout = 30s\nlisten = :80\nread-timeout = 40s\n");
        assertEquals(List.of(file + ":3: 'read-timeout' is already set at line 1 (only list keys repeat)"), problems(file, Map.of()));
    }

    @Test
    void configCannotBeSetInsideTheFile() throws Exception
    {
        final Path file = file("config = /etc/other.conf\n");
        assertEquals(List.of(file + ":1: 'config' cannot be set in a configuration file (use --config or CENTRIGATE_CONFIG)"),
            problems(file, Map.of()));
    }

    @Test
    void anUnknownCentrigateVariableIsAnError()
    {
        assertEquals(List.of("environment: unknown variable CENTRIGATE_READ_TIMOUT (did you mean CENTRIGATE_READ_TIMEOUT?)",
                "environment: unknown variable CENTRIGATE_WORKERS"),
            problems(null, Map.of("CENTRIGATE_READ_TIMOUT", "5s", "CENTRIGATE_WORKERS", "4", "HOME", "/root")));
    }

    @Test
    void aBadOrEmptyVariableNamesTheVariable()
    {
        assertEquals(List.of("environment CENTRIGATE_MAX_BODY_SIZE: bad value for 'max-body-size': "
                + "expected a size like 32k or 256m, got 'huge'",
                "environment CENTRIGATE_PREFIX: empty value for 'prefix' (unset the variable to keep the default)"),
            problems(null, Map.of("CENTRIGATE_MAX_BODY_SIZE", "huge", "CENTRIGATE_PREFIX", "")));
    }

    @Test
    void aFlagErrorReadsAsItAlwaysHas()
    {
        assertEquals(List.of("--read-timeout: unknown unit 'parsecs' in '5parsecs' (use ms, s, m, h)"),
            problems(null, Map.of(), "--read-timeout", "5parsecs"));
    }

    @Test
    void whatOnlyConcludeRefusesIsTracedToTheSettingBehindIt() throws Exception
    {
        Path file = file("listen = :80\nprefix = centrifugo\n");
        assertEquals(List.of(file + ":2: prefix must be a path like /centrifugo, got 'centrifugo'"), problems(file, Map.of()));

        file = file("default-upstream = 127.0.0.1:3000\n");
        assertEquals(List.of(file + ":1: default-upstream needs a prefix"), problems(file, Map.of()));

        assertEquals(List.of("environment CENTRIGATE_INTERNAL_ALLOW: not an address range: 'example.com/8'"),
            problems(null, Map.of("CENTRIGATE_INTERNAL_ALLOW", "10.0.0.0/8,example.com/8")));

        file = file("max-head-size = 20k\nchunk-size = 20k\n");
        assertEquals(List.of("chunk-size (20480) must hold max-head-size (20480) plus 1024 bytes for the rewritten head "
            + "(max-head-size at " + file + ":1, chunk-size at " + file + ":2)"), problems(file, Map.of()));
    }

    @Test
    void runPrintsEachProblemAndExitsTwoWithoutStarting() throws Exception
    {
        final Path file = file("listen = 127.0.0.1:0\nread-timout = 30s\nloops = many\n");
        final PrintStream stderr = System.err;
        final ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        final int exit;
        try
        {
            exit = Main.execute("run", "--config", file.toString());
        }
        finally
        {
            System.setErr(stderr);
        }
        assertEquals(2, exit);
        final String text = err.toString(StandardCharsets.UTF_8);
        assertTrue(text.contains("centrigate: " + file + ":2: unknown key 'read-timout' (did you mean 'read-timeout'?)"), text);
        assertTrue(text.contains("centrigate: " + file + ":3: bad value for 'loops'"), text);
        assertEquals(2, Main.execute("run", "--config", dir.resolve("missing.conf").toString()));
    }
}
