/**
 * The WebSocket side of a tunnel (RFC 6455): checks that an upstream's 101 answer really accepts the client's
 * key ({@link io.centrigate.websocket.HandshakeDigest}) and follows frame boundaries from the frame headers alone
 * ({@link io.centrigate.websocket.FrameTracker}), so that a draining proxy knows when it may inject a close
 * frame. It never unmasks or rewrites payload bytes, and it owns no connection: the tunnel feeds it bytes it has
 * already read.
 */
package io.centrigate.websocket;
