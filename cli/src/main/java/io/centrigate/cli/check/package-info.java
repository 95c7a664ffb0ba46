/**
 * {@code centrigate check}: the machine's limits ({@link io.centrigate.cli.check.Limits}, read from /proc by
 * {@link io.centrigate.cli.check.MachineLimits}) judged against a target load
 * ({@link io.centrigate.cli.check.Target}) by pure rules ({@link io.centrigate.cli.check.Checks}), each giving a
 * PASS/WARN/FAIL {@link io.centrigate.cli.check.Finding} with the exact fix. The rules never touch the machine,
 * so they are tested with limits as data and can be reused by {@code run} at start; printing (text or JSON) and
 * the exit code are {@link io.centrigate.cli.check.Report}'s job.
 */
package io.centrigate.cli.check;
