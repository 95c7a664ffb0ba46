/**
 * Moving bytes between two channels out of pooled off-heap chunks, one direction per {@link
 * io.centrigate.tunnel.Pipe}, with at most a few chunks in flight and none while idle. It parses nothing.
 */
package io.centrigate.tunnel;
