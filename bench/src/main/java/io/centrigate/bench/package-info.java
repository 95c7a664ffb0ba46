/**
 * JMH benchmarks of the per-request and per-byte paths of the proxy: head scanning, parsing and rewriting,
 * WebSocket frame tracking, the chunk pool, the forwarding step and the transports' read/write path over loopback
 * sockets. Each benchmark is meant to be run with {@code -prof gc}: the steady state of everything measured here
 * should allocate nothing, so a non-zero {@code gc.alloc.rate.norm} is a finding. Nothing in {@code core/} may
 * depend on this package.
 */
package io.centrigate.bench;
