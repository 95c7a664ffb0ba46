/**
 * The proxy itself: binds listeners, runs the loops, and drives each client connection from its request
 * head through the upstream choice and the WebSocket handshake to the tunnel, using the parsing of
 * {@code http}/{@code websocket}, the choosing of {@code upstream} and the byte moving of {@code tunnel}.
 */
package io.centrigate.proxy;
