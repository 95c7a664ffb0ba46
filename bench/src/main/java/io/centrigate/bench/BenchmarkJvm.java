package io.centrigate.bench;

/**
 * JVM options every forked benchmark JVM needs. Agrona 2.x reaches {@code jdk.internal.misc.Unsafe}, which
 * {@code java.base} exports only on request; the proxy's launcher asks for it through its jar manifest
 * ({@code Add-Exports}), but JMH forks run from a class path, where a manifest has no say.
 * <p>
 * Used as {@code @Fork(jvmArgsAppend = ...)} so {@code java -jar benchmarks.jar} works by itself. A
 * {@code -jvmArgsAppend} on the command line replaces the annotation, so {@code bench/jmh.sh} passes these again
 * (plus {@code --sun-misc-unsafe-memory-access=allow} on JDK 24 and later).
 * <p>
 * The epoll transport calls libc through {@code java.lang.foreign} from the class path (the unnamed module): JDK 22
 * and later warn about that, and a later JDK will refuse it, unless native access is enabled. JDK 17 accepts the
 * option too, so it can go on every fork.
 */
final class BenchmarkJvm
{
    static final String AGRONA_EXPORTS = "--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED";
    static final String NATIVE_ACCESS = "--enable-native-access=ALL-UNNAMED";

    private BenchmarkJvm()
    {
    }
}
