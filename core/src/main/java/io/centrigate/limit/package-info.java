/**
 * Limits that protect the box and the nodes from clients: the per-client-address table ({@link
 * io.centrigate.limit.ClientTable}: concurrent connections and a handshake token bucket per IPv4 address or IPv6
 * /64) and the process-wide admission of WebSocket upgrades ({@link io.centrigate.limit.HandshakeAdmission}, which
 * smooths a reconnect storm to the rate the nodes can take). Both are shared by every loop and updated with CAS
 * only: no lock, no allocation per connection, a fixed memory bound. Nothing here does I/O or knows sessions; the
 * loops ask and act on the answers.
 */
package io.centrigate.limit;
