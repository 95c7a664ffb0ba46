/**
 * HTTP/2 (RFC 9113) wire codec for the server side of a TLS listener, and HPACK (RFC 7541): the frame reader and
 * writer and the header compression a session needs, with no connection, stream or socket of its own. It must not
 * touch a channel, keep per-stream state or decide policy (limits are given to it; what to do about an error is
 * reported, not done).
 * <p>
 * Design, as the HTTP/1.1 parsers in {@code io.centrigate.http}: everything works on offsets into Agrona buffers
 * (the off-heap chunks the loops read into), nothing is allocated per frame, per field block or per field once the
 * objects exist, and errors are return codes and listener calls with the RFC 9113 §7 code and whether the
 * connection (GOAWAY) or only the stream (RST_STREAM) is at fault, never exceptions on the hot path.
 * <ul>
 *   <li>{@link io.centrigate.h2.FrameReader}: the client preface (§3.4), then whole frames out of a buffer the
 *   caller keeps filling (it returns the bytes consumed; the caller's buffer must hold 9 + our
 *   SETTINGS_MAX_FRAME_SIZE). Applies every rule that needs no stream state: sizes per type and against
 *   SETTINGS_MAX_FRAME_SIZE, stream 0 or not per type, padding, SETTINGS values (§6.5.2, RFC 8441), zero
 *   WINDOW_UPDATE, PUSH_PROMISE from a client, HEADERS on an even stream, CONTINUATION sequencing (§6.10) and a
 *   bound on a field block's total size (CVE-2024-27316). Unknown frame types are ignored (§5.5) but reported, and
 *   PRIORITY is reported and otherwise ignored (§5.3.2).</li>
 *   <li>{@link io.centrigate.h2.FrameWriter}: every frame a server sends, field blocks split into CONTINUATION at
 *   the peer's max frame size.</li>
 *   <li>{@link io.centrigate.h2.HpackDecoder}: static and a byte-bounded dynamic table in one preallocated ring,
 *   table-driven Huffman decoding (4 bits a step), size updates only at a block's start and within our setting,
 *   overflow-checked integers, and the header list size limit enforced as fields are decoded (the HPACK bomb)
 *   while the table is still kept in step.</li>
 *   <li>{@link io.centrigate.h2.HpackEncoder}: responses without a dynamic table (a size update to 0 once, then
 *   static indexes and literals without indexing, Huffman when shorter).</li>
 *   <li>{@link io.centrigate.h2.RequestFields}: a request's fields copied out of the decoder's callbacks and
 *   checked against §8.2 and §8.3 (pseudo fields, connection-specific fields, character rules), a malformed
 *   request being a stream error of type PROTOCOL_ERROR.</li>
 * </ul>
 * The session's part of issue 16 lives in {@code io.centrigate.proxy}: {@code H2Connection} (ALPN h2 on a TLS
 * listener, SETTINGS/PING/GOAWAY, connection and stream windows, the stream table and its states, the concurrency
 * limit, content-length against DATA, turning {@link io.centrigate.h2.RequestFields} into an HTTP/1.1 head with
 * split cookies joined) and {@code H2Stream} (one stream as an HTTP/1.1 connection for a {@code ClientSession}).
 * The session also counts costly frames per connection ({@code --http2-flood-limit}: resets it receives or is made
 * to send, SETTINGS, PING, PRIORITY, empty and unknown frames) and ends a flood with GOAWAY, and applies
 * {@code --send-timeout} to each stream (its session) and to the connection (a client that stops reading).
 * Not done yet: the SETTINGS ACK timeout. The decoder does not yet insist on
 * a size update after we lower our SETTINGS_HEADER_TABLE_SIZE mid-connection (we advertise one value for a
 * connection's life), and the encoder never indexes.
 */
package io.centrigate.h2;
