package io.centrigate.cli.check;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

import io.centrigate.config.ProxyContext;

/**
 * What {@code check} recommends and what {@code systemd/} ships agree: the constants match the files, and a machine
 * set up with the sysctl drop-in and the unit passes every kernel and JVM check for 65,536 connections over two
 * upstream addresses (one address pair holds at most 64,512).
 */
class ShippedFilesTest
{
    private static final Path SYSTEMD = Path.of("..", "systemd"); // tests run in cli/

    private static Map<String, String> sysctls(final boolean includeCommented) throws IOException
    {
        final Map<String, String> values = new HashMap<>();
        for (String line : Files.readAllLines(SYSTEMD.resolve("99-centrigate.conf")))
        {
            if (includeCommented && line.matches("#[a-z][a-z0-9_.]+ = .*"))
            {
                line = line.substring(1);
            }
            if (!line.isBlank() && !line.startsWith("#"))
            {
                final String[] kv = line.split("=", 2);
                values.put(kv[0].trim(), kv[1].trim());
            }
        }
        return values;
    }

    private static String unitValue(final String unit, final String key) throws IOException
    {
        final Matcher m = Pattern.compile("(?m)^" + key + "=(.*)$").matcher(Files.readString(SYSTEMD.resolve(unit)));
        assertTrue(m.find(), key + " in " + unit);
        return m.group(1);
    }

    private static String jvmOption(final String execStart, final String prefix)
    {
        for (final String word : execStart.split(" "))
        {
            if (word.startsWith(prefix))
            {
                return word.substring(prefix.length());
            }
        }
        throw new AssertionError(prefix + " in " + execStart);
    }

    @Test
    void theSysctlDropInHoldsTheValuesCheckRecommends() throws IOException
    {
        final Map<String, String> s = sysctls(true);
        assertEquals(Long.toString(Checks.SHIPPED_FILE_MAX), s.get("fs.file-max"));
        assertEquals(Long.toString(Checks.SHIPPED_NR_OPEN), s.get("fs.nr_open"));
        assertEquals(Long.toString(Checks.SHIPPED_BACKLOG), s.get("net.core.somaxconn"));
        assertEquals(Long.toString(Checks.SHIPPED_BACKLOG), s.get("net.ipv4.tcp_max_syn_backlog"));
        assertEquals(Checks.SHIPPED_PORT_LOW + " " + Checks.SHIPPED_PORT_HIGH, s.get("net.ipv4.ip_local_port_range"));
        assertEquals("1", s.get("net.ipv4.tcp_tw_reuse"));
        assertEquals(Long.toString(Checks.SHIPPED_CONNTRACK_MAX), s.get("net.netfilter.nf_conntrack_max"));
        assertTrue(!sysctls(false).containsKey("net.netfilter.nf_conntrack_max"), "conntrack stays commented");
    }

    @Test
    void bothUnitsSetTheLimitsCheckRecommends() throws IOException
    {
        for (final String unit : List.of("centrigate.service", "centrigate@.service"))
        {
            assertEquals(Long.toString(Checks.SHIPPED_LIMIT_NOFILE), unitValue(unit, "LimitNOFILE"), unit);
            final String exec = unitValue(unit, "ExecStart");
            assertEquals(Checks.SHIPPED_MAX_DIRECT, ByteSize.parse(jvmOption(exec, "-XX:MaxDirectMemorySize=")), unit);
            assertTrue(ByteSize.parse(jvmOption(exec, "-XX:MaxDirectMemorySize=")) >= 2 * ProxyContext.DEFAULT_BUFFER_MEMORY);
            assertTrue(exec.startsWith("/usr/bin/java ") && exec.endsWith(
                " -jar /opt/centrigate/centrigate.jar run --config /etc/centrigate/centrigate.conf"), exec);
        }
    }

    @Test
    void aMachineSetUpWithTheShippedFilesPassesFor65536Connections() throws IOException
    {
        final Map<String, String> s = sysctls(true);
        final String exec = unitValue("centrigate.service", "ExecStart");
        final long nofile = Long.parseLong(unitValue("centrigate.service", "LimitNOFILE"));
        final String[] ports = s.get("net.ipv4.ip_local_port_range").split("\\s+");
        final Limits shipped = new Limits(nofile, nofile, Long.parseLong(s.get("fs.file-max")),
            Long.parseLong(s.get("fs.nr_open")), Long.parseLong(s.get("net.core.somaxconn")),
            Long.parseLong(s.get("net.ipv4.tcp_max_syn_backlog")), Long.parseLong(ports[0]), Long.parseLong(ports[1]),
            Long.parseLong(s.get("net.ipv4.tcp_tw_reuse")), Long.parseLong(s.get("net.netfilter.nf_conntrack_max")),
            4L << 30, ByteSize.parse(jvmOption(exec, "-Xmx")), ByteSize.parse(jvmOption(exec, "-XX:MaxDirectMemorySize=")),
            List.of(exec.split(" ")));
        final List<Finding> findings = Checks.evaluate(shipped, new Target(65_536, ProxyContext.DEFAULT_BACKLOG, 2,
            ProxyContext.DEFAULT_BUFFER_MEMORY));
        assertEquals(0, Checks.exitCode(findings), findings.stream().map(Report::line).toList().toString());
    }
}
