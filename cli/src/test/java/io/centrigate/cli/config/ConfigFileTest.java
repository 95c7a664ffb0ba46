package io.centrigate.cli.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The file syntax alone: which lines are settings, what their key and value are, and where a bad line is. */
class ConfigFileTest
{
    private static List<String> entries(final String text)
    {
        return ConfigFile.parse("c.conf", text).entries().stream()
            .map(e -> e.line() + ":" + e.key() + "=" + e.value()).toList();
    }

    @Test
    void skipsCommentsAndBlankLinesAndCountsLinesFromOne()
    {
        assertEquals(List.of("3:listen=0.0.0.0:80", "6:read-timeout=60s"),
            entries("# a comment\n\nlisten = 0.0.0.0:80\n   # indented comment\n\t \nread-timeout=60s\n"));
    }

    @Test
    void cutsAHashAfterWhitespaceButKeepsOneInsideAValue()
    {
        assertEquals(List.of("1:read-timeout=60s", "2:error-page=502=/srv/a#b.html"),
            entries("read-timeout = 60s   # nginx: proxy_read_timeout 60s;\nerror-page = 502=/srv/a#b.html\n"));
    }

    @Test
    void splitsAtTheFirstEqualsSign()
    {
        assertEquals(List.of("1:vhost=rt.example.com=10.0.0.1:8000,10.0.0.2:8000"),
            entries("vhost = rt.example.com=10.0.0.1:8000,10.0.0.2:8000"));
    }

    @Test
    void acceptsCrLfLinesAndAByteOrderMark()
    {
        assertEquals(List.of("1:listen=:80", "2:loops=2"), entries("\uFEFFlisten = :80\r\nloops = 2\r\n"));
    }

    @Test
    void namesFileAndLineOfEveryMalformedLine()
    {
        final ConfigException e = assertThrows(ConfigException.class,
            () -> ConfigFile.parse("centrigate.conf", "listen = :80\nread-timeout 60s\n= 5s\nprefix =\nread timeout = 5s\n"));
        assertEquals(List.of(
            "centrigate.conf:2: expected 'key = value', got 'read-timeout 60s'",
            "centrigate.conf:3: missing key before '='",
            "centrigate.conf:4: missing value for 'prefix'",
            "centrigate.conf:5: a key has no spaces, got 'read timeout'"), e.problems());
    }

    @Test
    void readsAFileAndSaysWhenItIsMissingOrNotText(@TempDir final Path dir) throws Exception
    {
        final Path file = dir.resolve("centrigate.conf");
        Files.writeString(file, "listen = :80\n");
        assertEquals(1, ConfigFile.read(file).entries().size());
        assertEquals(file.toString(), ConfigFile.read(file).name());

        assertEquals(List.of(dir.resolve("nope.conf") + ": no such file"),
            assertThrows(ConfigException.class, () -> ConfigFile.read(dir.resolve("nope.conf"))).problems());
        Files.write(file, new byte[] {'a', ' ', '=', ' ', (byte)0xC3, (byte)0x28});
        assertEquals(List.of(file + ": not UTF-8 text"),
            assertThrows(ConfigException.class, () -> ConfigFile.read(file)).problems());
        Files.writeString(file, "prefix = /centrifugo\n", StandardCharsets.UTF_8);
        assertEquals("/centrifugo", ConfigFile.read(file).entries().get(0).value());
    }
}
