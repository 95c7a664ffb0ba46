/**
 * The end-to-end bench ({@code bench/run.sh}): {@link io.centrigate.bench.load.BenchUpstream}, a java.nio
 * stand-in for a Centrifugo node (WebSocket echo and timed fan-out, a small keep-alive HTTP endpoint), and
 * {@link io.centrigate.bench.load.LoadGen}, a java.nio WebSocket load generator with HdrHistogram for the echo,
 * fanout, hold and storm scenarios; {@link io.centrigate.bench.load.Report} turns the raw JSON lines of a run
 * into the Markdown table, CSV and plot data. Nothing here is used by {@code core/} or {@code cli/}; it talks to
 * the proxy only over loopback sockets and reads other processes only through {@code /proc}.
 */
package io.centrigate.bench.load;
