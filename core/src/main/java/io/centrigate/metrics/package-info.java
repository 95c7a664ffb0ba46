/**
 * Counters written by the loops and snapshots read by others, and an error log that reports each kind of
 * error once per interval. Nothing here allocates on the hot path.
 */
package io.centrigate.metrics;
