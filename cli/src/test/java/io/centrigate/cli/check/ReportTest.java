package io.centrigate.cli.check;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

/** The text line and the JSON array, byte for byte. */
class ReportTest
{
    private static final String JSON_STRING = "\"(?:[^\"\\\\\\x00-\\x1f]|\\\\[\"\\\\/bfnrt]|\\\\u[0-9a-f]{4})*\"";
    private static final Pattern ELEMENT = Pattern.compile("\\{\"check\":" + JSON_STRING + ",\"status\":\"(PASS|WARN|FAIL)\""
        + ",\"detail\":" + JSON_STRING + ",\"fix\":(null|" + JSON_STRING + ")}");

    @Test
    void aLineHasStatusCheckDetailAndTheFixUnlessItPassed()
    {
        assertEquals("PASS fs.nr_open: 1048576 >= 131136", Report.line(new Finding("fs.nr_open", Status.PASS, "1048576 >= 131136", null)));
        assertEquals("WARN net.ipv4.tcp_tw_reuse: 2 -> fix: sysctl -w net.ipv4.tcp_tw_reuse=1",
            Report.line(new Finding("net.ipv4.tcp_tw_reuse", Status.WARN, "2", "sysctl -w net.ipv4.tcp_tw_reuse=1")));
    }

    @Test
    void jsonIsAnArrayOfCheckStatusDetailFix()
    {
        final String json = Report.json(List.of(
            new Finding("fs.nr_open", Status.PASS, "ok", null),
            new Finding("net.ipv4.ip_local_port_range", Status.FAIL, "1 < 2", "sysctl -w net.ipv4.ip_local_port_range=\"1024 65535\"")));
        assertEquals("[\n"
            + "  {\"check\":\"fs.nr_open\",\"status\":\"PASS\",\"detail\":\"ok\",\"fix\":null},\n"
            + "  {\"check\":\"net.ipv4.ip_local_port_range\",\"status\":\"FAIL\",\"detail\":\"1 < 2\","
            + "\"fix\":\"sysctl -w net.ipv4.ip_local_port_range=\\\"1024 65535\\\"\"}\n"
            + "]", json);
        assertEquals("[]", Report.json(List.of()));
    }

    @Test
    void jsonEscapesQuotesBackslashesAndControlCharacters()
    {
        assertEquals("\"a\\\"b\\\\c\\nd\\te\\u0001\"", Report.string("a\"b\\c\nd\te\u0001"));
    }

    @Test
    void jsonOfEveryRealFindingHasTheShape()
    {
        final TestLimits l = new TestLimits();
        l.nofileSoft = 10; // a mix of statuses, with fixes that quote
        l.portRangeLow = 32768;
        l.portRangeHigh = 60999;
        l.jvmFlags = List.of("-Dx=\"q\"\\", "-Xmx1g");
        final List<Finding> findings = Checks.evaluate(l.build(), Target.of(65_536));
        final String json = Report.json(findings);
        assertTrue(json.startsWith("[\n  {") && json.endsWith("}\n]"), json);
        final String[] elements = json.substring(4, json.length() - 2).split(",\n  ");
        assertEquals(findings.size(), elements.length, json);
        for (final String e : elements)
        {
            assertTrue(ELEMENT.matcher(e).matches(), e);
        }
    }
}
