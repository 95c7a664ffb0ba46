package io.centrigate.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * {@code centrigate ARGS...} as its own JVM (the test class path, main class {@link Main}), as an operator starts
 * it: stdout lines can be awaited with a deadline, stderr is kept for failure messages. The environment is the
 * test's without any {@code CENTRIGATE_*} variable, plus what the test gives.
 */
final class CentrigateProcess implements AutoCloseable
{
    private static final long LINE_WAIT_SECONDS = 30;

    private final Process process;
    private final BlockingQueue<String> out = new LinkedBlockingQueue<>();
    private final BlockingQueue<String> errLines = new LinkedBlockingQueue<>();
    private final StringBuffer err = new StringBuffer();
    private final Thread errReader;

    private CentrigateProcess(final Process process)
    {
        this.process = process;
        collect(process.getInputStream(), out::add);
        errReader = collect(process.getErrorStream(), line ->
        {
            err.append(line).append('\n');
            errLines.add(line);
        });
    }

    static CentrigateProcess start(final Map<String, String> env, final String... args) throws IOException
    {
        return start(List.of(), env, args);
    }

    /** With JVM options before the main class, e.g. {@code -Djdk.net.hosts.file=FILE}. */
    static CentrigateProcess start(final List<String> jvmOptions, final Map<String, String> env, final String... args)
        throws IOException
    {
        final String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        final List<String> command = new ArrayList<>(List.of(java, "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED"));
        command.addAll(jvmOptions);
        if (Runtime.version().feature() >= 24)
        {
            // As the README runs it on JDK 24+: JCTools' sun.misc.Unsafe warning is the JVM's, not centrigate's
            // output, and tests that read stderr line by line must not see it.
            command.add("--sun-misc-unsafe-memory-access=allow");
        }
        if (Runtime.version().feature() >= 22)
        {
            // As the jar's manifest (Enable-Native-Access) does for java -jar: the epoll transport calls libc.
            command.add("--enable-native-access=ALL-UNNAMED");
        }
        if (System.getProperty("centrigate.transport") != null)
        {
            // The transport the suite runs on is the default of every process it starts, too.
            command.add("-Dcentrigate.transport=" + System.getProperty("centrigate.transport"));
        }
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName()));
        command.addAll(List.of(args));
        final ProcessBuilder builder = new ProcessBuilder(command);
        builder.environment().keySet().removeIf(name -> name.startsWith("CENTRIGATE_"));
        builder.environment().putAll(env);
        return new CentrigateProcess(builder.start());
    }

    private static Thread collect(final InputStream stream, final java.util.function.Consumer<String> sink)
    {
        final Thread reader = new Thread(() ->
        {
            try (BufferedReader lines = new BufferedReader(new InputStreamReader(stream, StandardCharsets.UTF_8)))
            {
                String line;
                while ((line = lines.readLine()) != null)
                {
                    sink.accept(line);
                }
            }
            catch (final IOException ignore)
            {
                // The process ended.
            }
        }, "centrigate-process-output");
        reader.setDaemon(true);
        reader.start();
        return reader;
    }

    /** The next stdout line starting with {@code prefix}, earlier ones skipped; fails after a bounded wait. */
    String awaitLine(final String prefix) throws InterruptedException
    {
        return awaitLine(out, prefix);
    }

    /** The same for stderr. */
    String awaitErrorLine(final String prefix) throws InterruptedException
    {
        return awaitLine(errLines, prefix);
    }

    private String awaitLine(final BlockingQueue<String> lines, final String prefix) throws InterruptedException
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(LINE_WAIT_SECONDS);
        while (System.nanoTime() - deadline < 0)
        {
            final String line = lines.poll(200, TimeUnit.MILLISECONDS);
            if (line != null && line.startsWith(prefix))
            {
                return line;
            }
            if (line == null && !process.isAlive() && lines.isEmpty())
            {
                break;
            }
        }
        throw new AssertionError("no line starting with '" + prefix + "' (process " +
            (process.isAlive() ? "running" : "exited " + process.exitValue()) + "); stderr:\n" + err);
    }

    /** Sends SIGHUP, as {@code systemctl reload} does. */
    void hangUp() throws Exception
    {
        final Process kill = new ProcessBuilder("kill", "-HUP", String.valueOf(process.pid())).start();
        if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0)
        {
            throw new AssertionError("kill -HUP failed");
        }
    }

    /** Sends {@code kill -NAME}, e.g. USR1 as logrotate's postrotate does. */
    void signal(final String name) throws Exception
    {
        final Process kill = new ProcessBuilder("kill", "-" + name, String.valueOf(process.pid())).start();
        if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0)
        {
            throw new AssertionError("kill -" + name + " failed");
        }
    }

    /** Sends SIGTERM, as {@code systemctl stop} does, without waiting for the exit ({@link #exitCode}). */
    void terminate()
    {
        process.destroy();
    }

    /** The exit code, waiting at most {@code seconds}. */
    int exitCode(final long seconds) throws InterruptedException
    {
        if (!process.waitFor(seconds, TimeUnit.SECONDS))
        {
            throw new AssertionError("still running after " + seconds + " s; stderr:\n" + err);
        }
        return process.exitValue();
    }

    /** What the process wrote to stderr; all of it once the process has exited. */
    String stderr() throws InterruptedException
    {
        if (!process.isAlive())
        {
            errReader.join(TimeUnit.SECONDS.toMillis(10));
        }
        return err.toString();
    }

    /** The process id of the JVM that runs centrigate. */
    public long pid()
    {
        return process.pid();
    }

    @Override
    public void close() throws InterruptedException
    {
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS))
        {
            process.destroyForcibly();
        }
    }
}
