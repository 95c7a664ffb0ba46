package io.centrigate.cli;

/**
 * SIGTERM/SIGINT as an orderly stop with exit code 0. A JVM shutdown hook would exit with 143/130, which
 * systemd and scripts read as a failure; {@code sun.misc.Signal} (module jdk.unsupported, present on every
 * JDK we support) lets the main thread close the proxy and return normally.
 */
final class Signals
{
    private Signals()
    {
    }

    @SuppressWarnings("removal")
    static void onTerminate(final Runnable action)
    {
        final sun.misc.SignalHandler handler = signal -> action.run();
        sun.misc.Signal.handle(new sun.misc.Signal("TERM"), handler);
        sun.misc.Signal.handle(new sun.misc.Signal("INT"), handler);
    }

    /**
     * SIGUSR1: reopen the access log (logrotate's postrotate, as with Nginx). HotSpot on Linux leaves USR1 to the
     * application (checked on JDK 17); should a JVM refuse it, the error says so at start.
     */
    @SuppressWarnings("removal")
    static void onUser1(final Runnable action)
    {
        sun.misc.Signal.handle(new sun.misc.Signal("USR1"), signal -> action.run());
    }

    /** SIGHUP: reload (systemd's ExecReload sends it). */
    @SuppressWarnings("removal")
    static void onHangup(final Runnable action)
    {
        sun.misc.Signal.handle(new sun.misc.Signal("HUP"), signal -> action.run());
    }
}
