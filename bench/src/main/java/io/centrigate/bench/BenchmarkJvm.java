package io.centrigate.bench;

/**
 * JVM options every forked benchmark JVM needs. Agrona 2.x reaches {@code jdk.internal.misc.Unsafe}, which
 * {@code java.base} exports only on request; the proxy's launcher asks for it through its jar manifest
 * ({@code Add-Exports}), but JMH forks run from a class path, where a manifest has no say.
 * <p>
 * Used as {@code @Fork(jvmArgsAppend = ...)} so {@code java -jar benchmarks.jar} works by itself. A
 * {@code -jvmArgsAppend} on the command line replaces the annotation, so {@code bench/jmh.sh} passes these again
 * (plus {@code --sun-misc-unsafe-memory-access=allow} on JDK 24 and later).
 */
final class BenchmarkJvm
{
    static final String AGRONA_EXPORTS = "--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED";

    private BenchmarkJvm()
    {
    }
}
