/**
 * Event loops as Agrona agents: a selector, a timer wheel and a command queue per thread, and the mapping of
 * idle modes onto idle strategies. It dispatches readiness and timer expiry to whatever registered them and
 * knows nothing of HTTP or WebSocket.
 */
package io.centrigate.loop;
