/**
 * The upstream nodes: weighted least-connections or round-robin choice, and the connect-error bookkeeping
 * behind Nginx's {@code proxy_next_upstream error}; node drain and runtime weights; and the rebalancer, which decides
 * which nodes' tunnels should move and offers those closes to the loops. It never sees a client and does no I/O.
 */
package io.centrigate.upstream;
