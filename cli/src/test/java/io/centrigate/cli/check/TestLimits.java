package io.centrigate.cli.check;

import java.util.List;

/** Limits as data for the rule tests: generous for every check unless a test changes a field. */
final class TestLimits
{
    long nofileSoft = 1_048_576;
    long nofileHard = 1_048_576;
    long fileMax = 9_223_372_036_854_775_807L;
    long nrOpen = 1_048_576;
    long somaxconn = 4096;
    long tcpMaxSynBacklog = 4096;
    long portRangeLow = 1024;
    long portRangeHigh = 65535;
    long tcpTwReuse = 1;
    long conntrackMax = Limits.ABSENT;
    long memAvailable = 16L << 30;
    long maxHeap = 1L << 30;
    long maxDirect = 512L << 20;
    List<String> jvmFlags = List.of("-Xmx1g", "-XX:MaxDirectMemorySize=512m");

    Limits build()
    {
        return new Limits(nofileSoft, nofileHard, fileMax, nrOpen, somaxconn, tcpMaxSynBacklog, portRangeLow,
            portRangeHigh, tcpTwReuse, conntrackMax, memAvailable, maxHeap, maxDirect, jvmFlags);
    }
}
