/**
 * Routing decisions: virtual hosts, the embedded prefix, and the guard on operator endpoints. Pure functions of
 * the request's bytes and the client's address class; no I/O, no allocation per request.
 */
package io.centrigate.route;
