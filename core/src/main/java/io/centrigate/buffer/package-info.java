/**
 * Off-heap chunk pool of one event loop: fixed-size chunks cut from direct-memory slabs, handed out from a
 * free list and given back as soon as their bytes are written. It knows nothing of sockets or HTTP.
 */
package io.centrigate.buffer;
