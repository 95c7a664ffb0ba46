package io.centrigate.bench.load;

/** Placeholder, replaced below. */
final class Report
{
    private Report()
    {
    }
}
