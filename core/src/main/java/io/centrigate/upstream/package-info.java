/**
 * The upstream nodes: weighted least-connections or round-robin choice, and the connect-error bookkeeping
 * behind Nginx's {@code proxy_next_upstream error}. It never sees a client and does no I/O.
 */
package io.centrigate.upstream;
