/**
 * HTTP/1.1 heads at the proxy's edge: finds where a request or response head ends as bytes arrive
 * ({@link io.centrigate.http.HeadScanner}), parses and validates it in one pass over an off-heap buffer
 * against RFC 9110/9112 with every limit named ({@link io.centrigate.http.RequestHead},
 * {@link io.centrigate.http.ResponseHead}), rewrites it for the upstream
 * ({@link io.centrigate.http.UpstreamRequestWriter}), tracks where a body ends ({@link io.centrigate.http.BodyFraming},
 * {@link io.centrigate.http.ChunkedBodyTracker}) and holds the precomputed error answers
 * ({@link io.centrigate.http.HttpError}). What comes before a head behind other proxies is read here too: a load
 * balancer's PROXY protocol header ({@link io.centrigate.http.ProxyProtocolHeader}) and a trusted forwarder's
 * X-Forwarded-For ({@link io.centrigate.http.ForwardedFor}), over addresses as text ({@link io.centrigate.http.IpText}).
 * Everything here works on offsets into a buffer it is given and
 * allocates nothing per request; it never touches a channel, a selector or a connection's life cycle.
 */
package io.centrigate.http;
