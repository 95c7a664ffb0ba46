package io.centrigate.cli.check;

/** The verdict of one check, in increasing severity; the ordinal is the process exit code. */
public enum Status
{
    PASS, WARN, FAIL;

    public int exitCode()
    {
        return ordinal();
    }
}
