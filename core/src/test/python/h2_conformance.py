#!/usr/bin/python3
"""HTTP/2 conformance suite for centrigate (issue 16, acceptance point 3).

In the spirit of h2spec: every case opens its own TLS connection (ALPN h2), sends crafted frames and checks the
server's exact reaction (GOAWAY with an error code, RST_STREAM with a code, a response, or the connection staying
usable), for the rules of RFC 9113 sections 3.4 to 8 and RFC 7541 that a server must enforce, and for the floods
a hostile peer can send. After every hostile case a second, fresh connection must still get a normal 200 (other
connections never notice).

Valid frames are serialized with hyperframe and header blocks with hpack; malformed ones (which hyperframe and h2's
state machine refuse to build) are written byte by byte. The health check after each case is a plain request made
with the h2 state machine itself.

The node behind the proxy must answer GET /bytes/N with N bytes (byte i is i % 251) and echo any other request's
body with a 200; requests whose :authority is the --stall-authority go to a node that never reads
(the flow-control case needs a session that stops reading its stream).

Usage: h2_conformance.py --port PORT [--host 127.0.0.1] [--authority localhost] [--send-timeout SECONDS]
                         [--flood-limit N] [--stall-authority stall.test] [--only NAME-SUBSTRING]
                         [--skip NAME,...] [--repeat N] [--verbose]
--send-timeout and --flood-limit must be the proxy's --send-timeout and --http2-flood-limit (the stall cases wait
for the one, the flood cases send a few times the other); SETTINGS_MAX_CONCURRENT_STREAMS and
SETTINGS_MAX_HEADER_LIST_SIZE are read from the server's SETTINGS.
Prints one line per case (PASS/FAIL name: reason) and a total; exits 1 if any case fails.
"""

import argparse
import os
import select
import socket
import ssl
import struct
import sys
import time
import traceback

import h2.config
import h2.connection
import h2.events
import hpack
from hyperframe.frame import (ContinuationFrame, DataFrame, Frame, GoAwayFrame, HeadersFrame, PingFrame,
                              PriorityFrame, RstStreamFrame, SettingsFrame, WindowUpdateFrame)

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

# RFC 9113 §7
NO_ERROR, PROTOCOL_ERROR, INTERNAL_ERROR, FLOW_CONTROL_ERROR, SETTINGS_TIMEOUT, STREAM_CLOSED, FRAME_SIZE_ERROR, \
    REFUSED_STREAM, CANCEL, COMPRESSION_ERROR, CONNECT_ERROR, ENHANCE_YOUR_CALM = range(12)
ERROR_NAMES = ["NO_ERROR", "PROTOCOL_ERROR", "INTERNAL_ERROR", "FLOW_CONTROL_ERROR", "SETTINGS_TIMEOUT",
               "STREAM_CLOSED", "FRAME_SIZE_ERROR", "REFUSED_STREAM", "CANCEL", "COMPRESSION_ERROR",
               "CONNECT_ERROR", "ENHANCE_YOUR_CALM", "INADEQUATE_SECURITY", "HTTP_1_1_REQUIRED"]

# frame types and flags (RFC 9113 §6)
DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, GOAWAY, WINDOW_UPDATE, CONTINUATION = range(10)
END_STREAM, ACK, END_HEADERS, PADDED, PRIORITY_FLAG = 0x1, 0x1, 0x4, 0x8, 0x20
# settings (RFC 9113 §6.5.2, RFC 8441)
HEADER_TABLE_SIZE, ENABLE_PUSH, MAX_CONCURRENT_STREAMS, INITIAL_WINDOW_SIZE, MAX_FRAME_SIZE, MAX_HEADER_LIST_SIZE = \
    range(1, 7)
ENABLE_CONNECT_PROTOCOL = 8

ARGS = None


def err_name(code):
    return ERROR_NAMES[code] if 0 <= code < len(ERROR_NAMES) else hex(code)


class Fail(Exception):
    pass


class Closed(Exception):
    pass


def raw(ftype, flags, stream, payload=b""):
    """A frame written byte by byte: any length, type, flags or stream id, valid or not."""
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + struct.pack(">I", stream) + payload


def settings_payload(values):
    return b"".join(struct.pack(">HI", k, v) for k, v in values)


def body_bytes(n):
    return bytes(i % 251 for i in range(n))


def request(method="GET", path="/", extra=(), authority=None):
    return [(":method", method), (":scheme", "https"), (":path", path),
            (":authority", authority or ARGS.authority)] + list(extra)


class Conn:
    """One TLS connection speaking HTTP/2 by hand: frames out as bytes, frames in parsed by hyperframe."""

    def __init__(self, settings=(), preface=True, ack_settings=True, rcvbuf=None):
        self.sock = None
        raw_sock = socket.socket(socket.AF_INET6 if ":" in ARGS.host else socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            # before connect, so the window stays small and fixed (no autotuning, no collapse reopening it)
            raw_sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        raw_sock.settimeout(10)
        raw_sock.connect((ARGS.host, ARGS.port))
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        ctx.set_alpn_protocols(["h2"])
        self.sock = ctx.wrap_socket(raw_sock, server_hostname="localhost")
        if self.sock.selected_alpn_protocol() != "h2":
            raise Fail("ALPN chose %r, not h2" % self.sock.selected_alpn_protocol())
        self.inbuf = b""
        self.queue = []
        self.enc = hpack.Encoder()
        self.dec = hpack.Decoder()
        self.server_settings = {}
        self.ack_settings = ack_settings
        self.settings_acks = 0
        self.got_settings = False
        self.eof = False
        if preface:
            self.send(PREFACE + raw(SETTINGS, 0, 0, settings_payload(settings)))

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def send(self, data):
        try:
            self.sock.sendall(data)
        except (OSError, ssl.SSLError) as e:
            raise Closed("send failed: %s" % e)

    def send_many(self, frames, batch=32768):
        """Writes a long run of frames, taking in what the server sends meanwhile so neither side blocks."""
        pending = b""
        for f in frames:
            pending += f
            if len(pending) >= batch:
                self.send(pending)
                pending = b""
                self.drain()
                if self.eof or any(isinstance(f, GoAwayFrame) for f in self.queue):
                    return
        if pending:
            self.send(pending)

    def settle(self, timeout=5.0):
        """Waits for the server's SETTINGS (and sends its ACK) before a field block is split over frames, as
        nothing may come between them (§6.10)."""
        deadline = time.monotonic() + timeout
        while not self.got_settings:
            f = self._read(max(0.0, deadline - time.monotonic()))
            if f is None:
                raise Fail("no SETTINGS from the server")
            self.queue.append(f)

    def drain(self):
        """Frames already readable, without waiting."""
        while True:
            f = self._read(0)
            if f is None:
                return
            self.queue.append(f)

    def block(self, headers):
        return self.enc.encode(headers)

    def headers(self, stream, headers, end_stream=True, end_headers=True, extra_flags=0, block=None):
        b = self.block(headers) if block is None else block
        flags = (END_STREAM if end_stream else 0) | (END_HEADERS if end_headers else 0) | extra_flags
        self.send(raw(HEADERS, flags, stream, b))

    def data(self, stream, payload, end_stream=False):
        f = DataFrame(stream, payload)
        if end_stream:
            f.flags.add("END_STREAM")
        self.send(f.serialize())

    def _fill(self, deadline):
        while True:
            timeout = None if deadline is None else deadline - time.monotonic()
            if not self.sock.pending():
                r, _, _ = select.select([self.sock], [], [], max(timeout, 0) if timeout is not None else None)
                if not r:
                    return False
            try:
                chunk = self.sock.recv(65536)
            except ssl.SSLWantReadError:
                continue
            except (ConnectionResetError, BrokenPipeError, ssl.SSLError, OSError):
                chunk = b""
            if not chunk:
                self.eof = True
                return False
            self.inbuf += chunk
            return True

    def _read(self, timeout):
        deadline = time.monotonic() + timeout
        while True:
            if len(self.inbuf) >= 9:
                length = struct.unpack(">I", b"\0" + self.inbuf[:3])[0]
                if len(self.inbuf) >= 9 + length:
                    header, body = self.inbuf[:9], self.inbuf[9:9 + length]
                    self.inbuf = self.inbuf[9 + length:]
                    f, _ = Frame.parse_frame_header(memoryview(header))
                    f.parse_body(memoryview(body))
                    self._react(f)
                    return f
            if self.eof or not self._fill(deadline):
                return None

    def _react(self, f):
        if isinstance(f, SettingsFrame):
            if "ACK" in f.flags:
                self.settings_acks += 1
            else:
                self.got_settings = True
                self.server_settings.update(f.settings)
                if self.ack_settings:
                    self.send(raw(SETTINGS, ACK, 0))

    def next(self, timeout=5.0):
        """The next frame, or None when none came in time; raises Closed at the end of the connection."""
        if self.queue:
            return self.queue.pop(0)
        f = self._read(timeout)
        if f is None and self.eof:
            raise Closed("connection closed")
        return f

    # ---------------------------------------------------------------- expectations

    def expect_goaway(self, codes, timeout=5.0, closes=True):
        """A GOAWAY with one of codes (a connection error), then the end of the connection."""
        codes = codes if isinstance(codes, (list, tuple)) else [codes]
        deadline = time.monotonic() + timeout
        while True:
            try:
                f = self.next(max(0.0, deadline - time.monotonic()))
            except Closed:
                raise Fail("connection closed without GOAWAY(%s)" % "|".join(err_name(c) for c in codes))
            if f is None:
                raise Fail("no GOAWAY(%s) within %.1fs" % ("|".join(err_name(c) for c in codes), timeout))
            if isinstance(f, GoAwayFrame):
                if ARGS.verbose:
                    print("  GOAWAY(%s) %r" % (err_name(f.error_code), f.additional_data), flush=True)
                if f.error_code not in codes:
                    raise Fail("GOAWAY(%s), expected %s" % (err_name(f.error_code),
                                                             "|".join(err_name(c) for c in codes)))
                if closes:
                    self.expect_closed(timeout)
                return f

    def expect_closed(self, timeout=5.0):
        deadline = time.monotonic() + timeout
        while True:
            try:
                f = self.next(max(0.0, deadline - time.monotonic()))
            except Closed:
                return
            if f is None:
                raise Fail("connection not closed within %.1fs after GOAWAY" % timeout)

    def expect_error(self, stream, codes, timeout=5.0, stream_ok=True, conn_ok=True, after_response=False):
        """RST_STREAM on stream (a stream error) or GOAWAY (a connection error) with one of codes; after_response
        lets the answer to the stream's request come first (the server may answer before it reads the next frame)."""
        codes = codes if isinstance(codes, (list, tuple)) else [codes]
        names = "|".join(err_name(c) for c in codes)
        deadline = time.monotonic() + timeout
        while True:
            try:
                f = self.next(max(0.0, deadline - time.monotonic()))
            except Closed:
                raise Fail("connection closed without RST_STREAM/GOAWAY(%s)" % names)
            if f is None:
                raise Fail("no RST_STREAM/GOAWAY(%s) within %.1fs" % (names, timeout))
            if isinstance(f, GoAwayFrame):
                if not conn_ok:
                    raise Fail("GOAWAY(%s), expected RST_STREAM(%s) only" % (err_name(f.error_code), names))
                if f.error_code not in codes:
                    raise Fail("GOAWAY(%s), expected %s" % (err_name(f.error_code), names))
                return "goaway"
            if isinstance(f, RstStreamFrame) and f.stream_id == stream:
                if not stream_ok:
                    raise Fail("RST_STREAM(%s), expected GOAWAY(%s)" % (err_name(f.error_code), names))
                if f.error_code not in codes:
                    raise Fail("RST_STREAM(%s), expected %s" % (err_name(f.error_code), names))
                return "rst"
            if isinstance(f, HeadersFrame) and f.stream_id == stream:
                status = self.status_of(f)
                if not after_response:
                    raise Fail("a response (%s) instead of %s" % (status, names))

    def expect_rst(self, stream, codes, timeout=5.0):
        return self.expect_error(stream, codes, timeout, stream_ok=True, conn_ok=False)

    def status_of(self, f):
        try:
            fields = self.dec.decode(f.data)
        except Exception as e:  # noqa: BLE001 -- report, not crash
            raise Fail("undecodable response HEADERS: %s" % e)
        return dict((k if isinstance(k, str) else k.decode(), v if isinstance(v, str) else v.decode())
                    for k, v in fields).get(":status")

    def response(self, stream, timeout=10.0, window=True):
        """(status, body) of the answer on stream, giving the windows back as DATA comes unless window=False."""
        status = None
        body = b""
        deadline = time.monotonic() + timeout
        block = b""
        while True:
            try:
                f = self.next(max(0.0, deadline - time.monotonic()))
            except Closed:
                raise Fail("connection closed before the response on stream %d ended" % stream)
            if f is None:
                raise Fail("response on stream %d incomplete after %.1fs (status %s, %d bytes)" %
                           (stream, timeout, status, len(body)))
            if isinstance(f, GoAwayFrame):
                raise Fail("GOAWAY(%s) instead of a response" % err_name(f.error_code))
            if f.stream_id != stream:
                continue
            if isinstance(f, RstStreamFrame):
                raise Fail("RST_STREAM(%s) instead of a response" % err_name(f.error_code))
            if isinstance(f, (HeadersFrame, ContinuationFrame)):
                block += f.data
                if "END_HEADERS" in f.flags:
                    fields = dict((k if isinstance(k, str) else k.decode(), v if isinstance(v, str) else v.decode())
                                  for k, v in self.dec.decode(block))
                    block = b""
                    if status is None or not fields.get(":status", "").startswith("1"):
                        status = status if ":status" not in fields else int(fields[":status"])
            elif isinstance(f, DataFrame):
                body += f.data
                n = f.flow_controlled_length
                if window and n:
                    self.send(raw(WINDOW_UPDATE, 0, 0, struct.pack(">I", n)) +
                              raw(WINDOW_UPDATE, 0, stream, struct.pack(">I", n)))
            if "END_STREAM" in f.flags:
                return status, body

    def expect_response(self, stream, status=200, timeout=10.0):
        got, body = self.response(stream, timeout)
        if got != status:
            raise Fail("status %s, expected %d" % (got, status))
        return body

    def expect_alive(self, timeout=5.0):
        """A PING is answered with its ACK and the same data: the connection goes on."""
        opaque = os.urandom(8)
        self.send(raw(PING, 0, 0, opaque))
        deadline = time.monotonic() + timeout
        while True:
            try:
                f = self.next(max(0.0, deadline - time.monotonic()))
            except Closed:
                raise Fail("connection closed, expected it to go on")
            if f is None:
                raise Fail("no PING ACK within %.1fs" % timeout)
            if isinstance(f, GoAwayFrame):
                raise Fail("GOAWAY(%s), expected the connection to go on" % err_name(f.error_code))
            if isinstance(f, PingFrame) and "ACK" in f.flags and f.opaque_data == opaque:
                return

    def expect_silence(self, stream, seconds):
        """Nothing but control frames for a while: no DATA or HEADERS on stream."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            f = self.next(max(0.0, deadline - time.monotonic()))
            if f is None:
                return
            if f.stream_id == stream and isinstance(f, (DataFrame, HeadersFrame, RstStreamFrame)):
                raise Fail("unexpected %s on stream %d" % (type(f).__name__, stream))
            if isinstance(f, GoAwayFrame):
                raise Fail("GOAWAY(%s)" % err_name(f.error_code))


def healthy():
    """A fresh connection gets a normal 200: made with the h2 state machine, as a real client would."""
    raw_sock = socket.create_connection((ARGS.host, ARGS.port), timeout=10)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_alpn_protocols(["h2"])
    sock = ctx.wrap_socket(raw_sock, server_hostname="localhost")
    try:
        if sock.selected_alpn_protocol() != "h2":
            raise Fail("health check: ALPN %r" % sock.selected_alpn_protocol())
        conn = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=True))
        conn.initiate_connection()
        sid = conn.get_next_available_stream_id()
        conn.send_headers(sid, request("GET", "/bytes/1000"), end_stream=True)
        sock.sendall(conn.data_to_send())
        status, body = None, b""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            sock.settimeout(max(0.1, deadline - time.monotonic()))
            data = sock.recv(65536)
            if not data:
                raise Fail("health check: connection closed")
            for ev in conn.receive_data(data):
                if isinstance(ev, h2.events.ResponseReceived):
                    status = dict(ev.headers).get(b":status")
                elif isinstance(ev, h2.events.DataReceived):
                    body += ev.data
                    conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
                elif isinstance(ev, h2.events.StreamReset):
                    raise Fail("health check: stream reset (%s)" % ev.error_code)
                elif isinstance(ev, h2.events.ConnectionTerminated):
                    raise Fail("health check: GOAWAY (%s)" % ev.error_code)
                elif isinstance(ev, h2.events.StreamEnded):
                    if status != b"200" or body != body_bytes(1000):
                        raise Fail("health check: status %s, %d bytes" % (status, len(body)))
                    return
            out = conn.data_to_send()
            if out:
                sock.sendall(out)
        raise Fail("health check: no answer in 10s")
    finally:
        sock.close()


CASES = []


def case(name, ref, hostile=True):
    def register(fn):
        CASES.append((name, ref, hostile, fn))
        return fn
    return register


def open_post(c, stream, path="/echo", extra=()):
    """A request whose body is still to come: the stream stays open."""
    c.headers(stream, request("POST", path, extra), end_stream=False)


# ==================================================================== RFC 9113 §3.4 connection preface

@case("preface/server-sends-settings-first", "§3.4", hostile=False)
def _(c):
    f = c.next()
    if not isinstance(f, SettingsFrame) or "ACK" in f.flags:
        raise Fail("first frame %r is not SETTINGS" % f)


@case("preface/settings-acknowledged", "§6.5.3", hostile=False)
def _(c):
    deadline = time.monotonic() + 5
    while c.settings_acks == 0 and time.monotonic() < deadline:
        c.next(1)
    if c.settings_acks == 0:
        raise Fail("our SETTINGS never acknowledged")


@case("preface/invalid-preface", "§3.4")
def _(c_unused):
    c = Conn(preface=False)
    try:
        c.send(b"PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n" + raw(SETTINGS, 0, 0))
        c.expect_goaway(PROTOCOL_ERROR)
    finally:
        c.close()


@case("preface/http1-request-over-h2", "§3.4")
def _(c_unused):
    c = Conn(preface=False)
    try:
        c.send(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        c.expect_goaway(PROTOCOL_ERROR)
    finally:
        c.close()


@case("preface/first-frame-not-settings", "§3.4")
def _(c_unused):
    c = Conn(preface=False)
    try:
        c.send(PREFACE + raw(PING, 0, 0, b"\0" * 8))
        c.expect_goaway(PROTOCOL_ERROR)
    finally:
        c.close()


@case("preface/first-frame-settings-ack", "§3.4")
def _(c_unused):
    c = Conn(preface=False)
    try:
        c.send(PREFACE + raw(SETTINGS, ACK, 0))
        c.expect_goaway(PROTOCOL_ERROR)
    finally:
        c.close()


# ==================================================================== §4.1 frame format, §5.5 extensions

@case("frame/unknown-type-ignored", "§4.1, §5.5")
def _(c):
    c.send(raw(0xfa, 0, 0, b"hello") + raw(0xfb, 0xff, 1, b"x" * 20))
    c.expect_alive()
    c.headers(1, request())
    c.expect_response(1)


@case("frame/unknown-flags-ignored", "§4.1")
def _(c):
    c.send(raw(PING, 0xfe, 0, b"12345678"))
    f = c.next()
    while f is not None and not isinstance(f, PingFrame):
        f = c.next()
    if f is None or "ACK" not in f.flags or f.opaque_data != b"12345678":
        raise Fail("PING with unknown flags not acknowledged: %r" % f)
    c.headers(1, request(), extra_flags=0x40 | 0x10 | 0x02)
    c.expect_response(1)


@case("frame/reserved-bit-ignored", "§4.1")
def _(c):
    c.send(raw(HEADERS, END_STREAM | END_HEADERS, 0x80000001, c.block(request())))
    c.expect_response(1)


@case("frame/unknown-setting-ignored", "§6.5.2")
def _(c):
    acks = c.settings_acks
    c.send(raw(SETTINGS, 0, 0, settings_payload([(0xfe, 7), (0x99, 0xffffffff)])))
    c.expect_alive()
    deadline = time.monotonic() + 3
    while c.settings_acks < acks + 2 and time.monotonic() < deadline:  # the preface's SETTINGS and this one
        c.next(0.5)
    if c.settings_acks < acks + 1:
        raise Fail("SETTINGS with unknown identifiers not acknowledged")


# ==================================================================== §4.2 frame size

@case("frame-size/data-over-max-frame-size", "§4.2")
def _(c):
    open_post(c, 1)
    c.send(raw(DATA, 0, 1, b"x" * 16385))
    c.expect_error(1, FRAME_SIZE_ERROR)


@case("frame-size/headers-over-max-frame-size", "§4.2")
def _(c):
    c.send(raw(HEADERS, END_HEADERS | END_STREAM, 1, c.block(request()) + b"\0" * 16385))
    c.expect_goaway(FRAME_SIZE_ERROR)


@case("frame-size/max-frame-size-kept", "§4.2")
def _(c):
    c.headers(1, request("GET", "/bytes/100000"))
    c.send(raw(WINDOW_UPDATE, 0, 0, struct.pack(">I", 1 << 20)) +
           raw(WINDOW_UPDATE, 0, 1, struct.pack(">I", 1 << 20)))
    total = 0
    while True:
        f = c.next()
        if f is None:
            raise Fail("response incomplete")
        if isinstance(f, (RstStreamFrame, GoAwayFrame)):
            raise Fail("%s" % type(f).__name__)
        if len(f.serialize()) - 9 > 16384:
            raise Fail("a %s of %d bytes above the default SETTINGS_MAX_FRAME_SIZE" %
                       (type(f).__name__, len(f.serialize()) - 9))
        if isinstance(f, DataFrame):
            total += len(f.data)
        if f.stream_id == 1 and "END_STREAM" in f.flags:
            break
    if total != 100000:
        raise Fail("%d bytes" % total)


# ==================================================================== §4.3, §6.10 field blocks and CONTINUATION

@case("continuation/split-block", "§4.3, §6.10")
def _(c):
    b = c.block(request(extra=[("x-a", "1" * 100), ("x-b", "2" * 100)]))
    c.send(raw(HEADERS, END_STREAM, 1, b[:10]) + raw(CONTINUATION, 0, 1, b[10:50]) +
           raw(CONTINUATION, 0, 1, b"") + raw(CONTINUATION, END_HEADERS, 1, b[50:]))
    c.expect_response(1)


@case("continuation/frame-between", "§4.3, §6.10")
def _(c):
    b = c.block(request())
    c.send(raw(HEADERS, END_STREAM, 1, b[:5]) + raw(PING, 0, 0, b"\0" * 8) + raw(CONTINUATION, END_HEADERS, 1, b[5:]))
    c.expect_goaway(PROTOCOL_ERROR)


@case("continuation/data-between", "§6.10")
def _(c):
    b = c.block(request("POST"))
    c.send(raw(HEADERS, 0, 1, b[:5]) + raw(DATA, 0, 1, b"x") + raw(CONTINUATION, END_HEADERS, 1, b[5:]))
    c.expect_goaway(PROTOCOL_ERROR)


@case("continuation/unknown-frame-between", "§6.10")
def _(c):
    b = c.block(request())
    c.send(raw(HEADERS, END_STREAM, 1, b[:5]) + raw(0xfa, 0, 0, b"x") + raw(CONTINUATION, END_HEADERS, 1, b[5:]))
    c.expect_goaway(PROTOCOL_ERROR)


@case("continuation/other-stream", "§6.10")
def _(c):
    b = c.block(request())
    c.send(raw(HEADERS, END_STREAM, 1, b[:5]) + raw(CONTINUATION, END_HEADERS, 3, b[5:]))
    c.expect_goaway(PROTOCOL_ERROR)


@case("continuation/without-headers", "§6.10")
def _(c):
    c.send(raw(CONTINUATION, END_HEADERS, 1, c.block(request())))
    c.expect_goaway(PROTOCOL_ERROR)


@case("continuation/after-end-headers", "§6.10")
def _(c):
    open_post(c, 1)
    c.send(raw(CONTINUATION, END_HEADERS, 1, c.block([("x-late", "1")])))
    c.expect_goaway(PROTOCOL_ERROR)


@case("continuation/stream-0", "§6.10")
def _(c):
    b = c.block(request())
    c.send(raw(HEADERS, END_STREAM, 1, b[:5]) + raw(CONTINUATION, END_HEADERS, 0, b[5:]))
    c.expect_goaway(PROTOCOL_ERROR)


# ==================================================================== §5.1 stream states, §5.1.1 identifiers

@case("streams/idle-data", "§5.1")
def _(c):
    c.send(raw(DATA, 0, 1, b"x"))
    c.expect_goaway(PROTOCOL_ERROR)


@case("streams/idle-rst-stream", "§5.1, §6.4")
def _(c):
    c.send(raw(RST_STREAM, 0, 1, struct.pack(">I", CANCEL)))
    c.expect_goaway(PROTOCOL_ERROR)


@case("streams/idle-window-update", "§5.1, §6.9")
def _(c):
    c.send(raw(WINDOW_UPDATE, 0, 1, struct.pack(">I", 100)))
    c.expect_goaway(PROTOCOL_ERROR)


@case("streams/idle-priority-allowed", "§5.1, §6.3")
def _(c):
    c.send(PriorityFrame(3, depends_on=0, stream_weight=16).serialize())
    c.expect_alive()
    c.headers(1, request())
    c.expect_response(1)


@case("streams/half-closed-remote-data", "§5.1")
def _(c):
    c.headers(1, request("GET", "/bytes/1"), end_stream=True)
    c.data(1, b"late")
    c.expect_error(1, STREAM_CLOSED, after_response=True)


@case("streams/half-closed-remote-headers", "§5.1")
def _(c):
    c.headers(1, request(), end_stream=True)
    c.headers(1, [("x-trailer", "late")], end_stream=True)
    c.expect_error(1, STREAM_CLOSED, after_response=True)


@case("streams/closed-data-after-end", "§5.1")
def _(c):
    c.headers(1, request())
    c.expect_response(1)
    c.data(1, b"late")
    c.expect_error(1, STREAM_CLOSED)


@case("streams/closed-headers-after-end", "§5.1")
def _(c):
    c.headers(1, request())
    c.expect_response(1)
    c.headers(1, request())
    c.expect_error(1, [STREAM_CLOSED, PROTOCOL_ERROR])


@case("streams/closed-data-after-client-reset", "§5.1")
def _(c):
    open_post(c, 1)
    c.send(raw(RST_STREAM, 0, 1, struct.pack(">I", CANCEL)))
    c.expect_alive()
    c.data(1, b"late")
    c.expect_error(1, STREAM_CLOSED)


@case("streams/closed-headers-after-client-reset", "§5.1")
def _(c):
    open_post(c, 1)
    c.send(raw(RST_STREAM, 0, 1, struct.pack(">I", CANCEL)))
    c.expect_alive()
    c.headers(1, [("x-trailer", "late")], end_stream=True)
    c.expect_error(1, STREAM_CLOSED)


@case("streams/frames-after-server-reset-ignored", "§5.1")
def _(c):
    # a malformed request is reset by the server; what the client had in flight for it is ignored
    c.headers(1, request(extra=[("Upper", "x")]), end_stream=False)
    c.expect_rst(1, PROTOCOL_ERROR)
    c.data(1, b"in flight")
    c.headers(1, [("x-trailer", "in flight")], end_stream=True)
    c.expect_silence(1, 0.5)  # no STREAM_CLOSED for what was in flight
    c.expect_alive()
    c.headers(3, request())
    c.expect_response(3)


@case("stream-id/even", "§5.1.1")
def _(c):
    c.headers(2, request())
    c.expect_goaway(PROTOCOL_ERROR)


@case("stream-id/decreasing", "§5.1.1")
def _(c):
    c.headers(5, request())
    c.expect_response(5)
    c.headers(3, request())
    c.expect_goaway(PROTOCOL_ERROR)


@case("stream-id/skipping-allowed", "§5.1.1", hostile=False)
def _(c):
    c.headers(1, request())
    c.expect_response(1)
    c.headers(101, request())
    c.expect_response(101)


@case("stream-id/reuse", "§5.1.1")
def _(c):
    c.headers(1, request())
    c.expect_response(1)
    c.headers(1, request())
    c.expect_error(1, [STREAM_CLOSED, PROTOCOL_ERROR])


# ==================================================================== §5.1.2 concurrency

@case("streams/over-max-concurrent-refused", "§5.1.2")
def _(c):
    c.next()  # the server's SETTINGS
    limit = c.server_settings.get(MAX_CONCURRENT_STREAMS)
    if limit is None or limit > 500:
        raise Fail("SETTINGS_MAX_CONCURRENT_STREAMS %r: too large to test" % limit)
    frames = [raw(HEADERS, END_HEADERS, 1 + 2 * i, c.block(request("POST", "/echo"))) for i in range(limit + 1)]
    c.send_many(frames)
    extra = 1 + 2 * limit
    c.expect_rst(extra, [REFUSED_STREAM, PROTOCOL_ERROR], timeout=10)
    # the open ones still work
    c.data(1, b"abc", end_stream=True)
    if c.expect_response(1) != b"abc":
        raise Fail("echo on an open stream")
    for i in range(1, limit):
        c.send(raw(RST_STREAM, 0, 1 + 2 * i, struct.pack(">I", CANCEL)))
    c.expect_alive()


# ==================================================================== §5.3, §6.3 priority

@case("priority/frame-accepted", "§5.3.2, §6.3", hostile=False)
def _(c):
    open_post(c, 1)
    c.send(PriorityFrame(1, depends_on=0, stream_weight=200, exclusive=True).serialize())
    c.data(1, b"ok", end_stream=True)
    if c.expect_response(1) != b"ok":
        raise Fail("body")


@case("priority/headers-with-priority", "§6.2", hostile=False)
def _(c):
    c.send(raw(HEADERS, END_STREAM | END_HEADERS | PRIORITY_FLAG, 1,
               struct.pack(">IB", 0x80000000, 100) + c.block(request())))
    c.expect_response(1)


@case("priority/self-dependency", "§5.3.1")
def _(c):
    open_post(c, 1)
    c.send(raw(PRIORITY, 0, 1, struct.pack(">IB", 1, 16)))
    c.expect_error(1, PROTOCOL_ERROR)


@case("priority/headers-self-dependency", "§5.3.1")
def _(c):
    c.send(raw(HEADERS, END_STREAM | END_HEADERS | PRIORITY_FLAG, 1, struct.pack(">IB", 1, 16) + c.block(request())))
    c.expect_error(1, PROTOCOL_ERROR)


@case("priority/stream-0", "§6.3")
def _(c):
    c.send(raw(PRIORITY, 0, 0, struct.pack(">IB", 1, 16)))
    c.expect_goaway(PROTOCOL_ERROR)


@case("priority/bad-length", "§6.3")
def _(c):
    open_post(c, 1)
    c.send(raw(PRIORITY, 0, 1, struct.pack(">IBB", 0, 16, 0)))
    c.expect_error(1, FRAME_SIZE_ERROR)


@case("priority/closed-stream-allowed", "§5.1", hostile=False)
def _(c):
    c.headers(1, request())
    c.expect_response(1)
    c.send(raw(PRIORITY, 0, 1, struct.pack(">IB", 0, 16)))
    c.expect_alive()


# ==================================================================== §5.4 error handling

@case("errors/unknown-code-in-rst-stream", "§7")
def _(c):
    open_post(c, 1)
    c.send(raw(RST_STREAM, 0, 1, struct.pack(">I", 0xdeadbeef)))
    c.expect_alive()
    c.headers(3, request())
    c.expect_response(3)


@case("errors/client-goaway-lets-streams-finish", "§6.8")
def _(c):
    c.headers(1, request("GET", "/bytes/5000"))
    c.send(raw(GOAWAY, 0, 0, struct.pack(">II", 0, 0xdeadbeef)))
    if c.expect_response(1) != body_bytes(5000):
        raise Fail("body")


# ==================================================================== §6.1 DATA

@case("data/stream-0", "§6.1")
def _(c):
    c.send(raw(DATA, 0, 0, b"x"))
    c.expect_goaway(PROTOCOL_ERROR)


@case("data/padding-too-long", "§6.1")
def _(c):
    open_post(c, 1)
    c.send(raw(DATA, PADDED, 1, bytes([10]) + b"x" * 5))
    c.expect_error(1, PROTOCOL_ERROR)


@case("data/padded-body", "§6.1", hostile=False)
def _(c):
    open_post(c, 1)
    f = DataFrame(1, b"padded body")
    f.flags.add("PADDED")
    f.flags.add("END_STREAM")
    f.pad_length = 200
    c.send(f.serialize())
    if c.expect_response(1) != b"padded body":
        raise Fail("padding not stripped")


@case("data/post-byte-exact", "§6.1", hostile=False)
def _(c):
    body = os.urandom(200000)
    c.headers(1, request("POST", "/echo", [("content-length", str(len(body)))]), end_stream=False)
    frames = [DataFrame(1, body[i:i + 16384]).serialize() for i in range(0, len(body), 16384)]
    c.send_many(frames)
    c.data(1, b"", end_stream=True)
    if c.expect_response(1, timeout=20) != body:
        raise Fail("echo differs")


# ==================================================================== §6.2 HEADERS

@case("headers/stream-0", "§6.2")
def _(c):
    c.send(raw(HEADERS, END_STREAM | END_HEADERS, 0, c.block(request())))
    c.expect_goaway(PROTOCOL_ERROR)


@case("headers/padding-too-long", "§6.2")
def _(c):
    c.send(raw(HEADERS, END_STREAM | END_HEADERS | PADDED, 1, bytes([255]) + c.block(request())))
    c.expect_goaway(PROTOCOL_ERROR)


@case("headers/padded", "§6.2", hostile=False)
def _(c):
    c.send(raw(HEADERS, END_STREAM | END_HEADERS | PADDED | PRIORITY_FLAG, 1,
               bytes([20]) + struct.pack(">IB", 0, 16) + c.block(request()) + b"\0" * 20))
    c.expect_response(1)


@case("headers/end-stream-then-continuation", "§6.2", hostile=False)
def _(c):
    b = c.block(request())
    c.send(raw(HEADERS, END_STREAM, 1, b[:3]) + raw(CONTINUATION, END_HEADERS, 1, b[3:]))
    c.expect_response(1)


# ==================================================================== §6.4 RST_STREAM

@case("rst-stream/stream-0", "§6.4")
def _(c):
    c.send(raw(RST_STREAM, 0, 0, struct.pack(">I", CANCEL)))
    c.expect_goaway(PROTOCOL_ERROR)


@case("rst-stream/bad-length", "§6.4")
def _(c):
    open_post(c, 1)
    c.send(raw(RST_STREAM, 0, 1, struct.pack(">IB", CANCEL, 0)))
    c.expect_goaway(FRAME_SIZE_ERROR)


@case("rst-stream/cancels-open-stream", "§6.4")
def _(c):
    open_post(c, 1)
    c.send(raw(RST_STREAM, 0, 1, struct.pack(">I", CANCEL)))
    c.expect_silence(1, 0.5)  # no RST_STREAM answers a RST_STREAM (§5.4.2)
    c.headers(3, request())
    c.expect_response(3)


# ==================================================================== §6.5 SETTINGS

@case("settings/on-stream", "§6.5")
def _(c):
    c.send(raw(SETTINGS, 0, 1, settings_payload([(INITIAL_WINDOW_SIZE, 100)])))
    c.expect_goaway(PROTOCOL_ERROR)


@case("settings/ack-with-payload", "§6.5")
def _(c):
    c.send(raw(SETTINGS, ACK, 0, settings_payload([(INITIAL_WINDOW_SIZE, 100)])))
    c.expect_goaway(FRAME_SIZE_ERROR)


@case("settings/length-not-multiple-of-6", "§6.5")
def _(c):
    c.send(raw(SETTINGS, 0, 0, b"\0\x03\0\0\x01"))
    c.expect_goaway(FRAME_SIZE_ERROR)


@case("settings/enable-push-invalid", "§6.5.2")
def _(c):
    c.send(raw(SETTINGS, 0, 0, settings_payload([(ENABLE_PUSH, 2)])))
    c.expect_goaway(PROTOCOL_ERROR)


@case("settings/initial-window-too-large", "§6.5.2")
def _(c):
    c.send(raw(SETTINGS, 0, 0, settings_payload([(INITIAL_WINDOW_SIZE, 1 << 31)])))
    c.expect_goaway(FLOW_CONTROL_ERROR)


@case("settings/max-frame-size-too-small", "§6.5.2")
def _(c):
    c.send(raw(SETTINGS, 0, 0, settings_payload([(MAX_FRAME_SIZE, 16383)])))
    c.expect_goaway(PROTOCOL_ERROR)


@case("settings/max-frame-size-too-large", "§6.5.2")
def _(c):
    c.send(raw(SETTINGS, 0, 0, settings_payload([(MAX_FRAME_SIZE, 1 << 24)])))
    c.expect_goaway(PROTOCOL_ERROR)


@case("settings/enable-connect-protocol-invalid", "RFC 8441 §3")
def _(c):
    c.send(raw(SETTINGS, 0, 0, settings_payload([(ENABLE_CONNECT_PROTOCOL, 2)])))
    c.expect_goaway(PROTOCOL_ERROR)


@case("settings/header-table-size-0", "§6.5.2, RFC 7541 §4.2", hostile=False)
def _(c):
    c.send(raw(SETTINGS, 0, 0, settings_payload([(HEADER_TABLE_SIZE, 0)])))
    c.headers(1, request("GET", "/bytes/10"))
    c.expect_response(1)
    c.headers(3, request("GET", "/bytes/10"))
    c.expect_response(3)


@case("settings/larger-max-frame-size-kept", "§6.5.2", hostile=False)
def _(c):
    c.send(raw(SETTINGS, 0, 0, settings_payload([(MAX_FRAME_SIZE, 32768), (INITIAL_WINDOW_SIZE, 1 << 20)])) +
           raw(WINDOW_UPDATE, 0, 0, struct.pack(">I", 1 << 20)))
    c.headers(1, request("GET", "/bytes/200000"))
    got = c.expect_response(1)
    if got != body_bytes(200000):
        raise Fail("body differs")


# ==================================================================== §6.6 PUSH_PROMISE, §6.7 PING, §6.8 GOAWAY

@case("push-promise/from-client", "§6.6, §8.4")
def _(c):
    open_post(c, 1)
    c.send(raw(PUSH_PROMISE, END_HEADERS, 1, struct.pack(">I", 2) + c.block(request())))
    c.expect_goaway(PROTOCOL_ERROR)


@case("ping/acknowledged-with-same-data", "§6.7", hostile=False)
def _(c):
    c.expect_alive()


@case("ping/ack-not-answered", "§6.7")
def _(c):
    c.send(raw(PING, ACK, 0, b"unasked!") + raw(PING, 0, 0, b"asked..."))
    while True:  # the answer to the second comes after any answer to the first
        f = c.next()
        if f is None:
            raise Fail("no PING ACK")
        if isinstance(f, PingFrame) and f.opaque_data == b"unasked!":
            raise Fail("a PING ACK was answered")
        if isinstance(f, PingFrame) and f.opaque_data == b"asked...":
            return


@case("ping/on-stream", "§6.7")
def _(c):
    c.send(raw(PING, 0, 1, b"\0" * 8))
    c.expect_goaway(PROTOCOL_ERROR)


@case("ping/bad-length", "§6.7")
def _(c):
    c.send(raw(PING, 0, 0, b"\0" * 6))
    c.expect_goaway(FRAME_SIZE_ERROR)


@case("goaway/on-stream", "§6.8")
def _(c):
    c.send(raw(GOAWAY, 0, 1, struct.pack(">II", 0, 0)))
    c.expect_goaway(PROTOCOL_ERROR)


@case("goaway/too-short", "§6.8")
def _(c):
    c.send(raw(GOAWAY, 0, 0, b"\0\0\0\0"))
    c.expect_goaway(FRAME_SIZE_ERROR)


# ==================================================================== §6.9 WINDOW_UPDATE and flow control

@case("window-update/zero-on-connection", "§6.9")
def _(c):
    c.send(raw(WINDOW_UPDATE, 0, 0, struct.pack(">I", 0)))
    c.expect_goaway(PROTOCOL_ERROR)


@case("window-update/zero-on-stream", "§6.9")
def _(c):
    open_post(c, 1)
    c.send(raw(WINDOW_UPDATE, 0, 1, struct.pack(">I", 0)))
    c.expect_error(1, PROTOCOL_ERROR)


@case("window-update/bad-length", "§6.9")
def _(c):
    c.send(raw(WINDOW_UPDATE, 0, 0, struct.pack(">IB", 1, 0)))
    c.expect_goaway(FRAME_SIZE_ERROR)


@case("window-update/connection-overflow", "§6.9.1")
def _(c):
    c.send(raw(WINDOW_UPDATE, 0, 0, struct.pack(">I", 0x7fffffff)))
    c.expect_goaway(FLOW_CONTROL_ERROR)


@case("window-update/stream-overflow", "§6.9.1")
def _(c):
    open_post(c, 1)
    c.send(raw(WINDOW_UPDATE, 0, 1, struct.pack(">I", 0x7fffffff)))
    c.expect_error(1, FLOW_CONTROL_ERROR)


@case("window-update/overflow-by-initial-window-setting", "§6.9.2")
def _(c):
    open_post(c, 1)
    c.send(raw(WINDOW_UPDATE, 0, 1, struct.pack(">I", 0x7fffffff - 65535)))
    c.expect_alive()
    c.send(raw(SETTINGS, 0, 0, settings_payload([(INITIAL_WINDOW_SIZE, 65536)])))
    c.expect_goaway(FLOW_CONTROL_ERROR)


def read_data(c, stream, want, timeout=5.0):
    """DATA bytes on stream until want bytes came; fails on anything else for the stream."""
    got = b""
    deadline = time.monotonic() + timeout
    while len(got) < want:
        f = c.next(max(0.0, deadline - time.monotonic()))
        if f is None:
            raise Fail("only %d of %d bytes came" % (len(got), want))
        if isinstance(f, GoAwayFrame):
            raise Fail("GOAWAY(%s)" % err_name(f.error_code))
        if f.stream_id == stream and isinstance(f, RstStreamFrame):
            raise Fail("RST_STREAM(%s)" % err_name(f.error_code))
        if f.stream_id == stream and isinstance(f, DataFrame):
            got += f.data
            if len(got) > want:
                raise Fail("%d bytes beyond the window" % (len(got) - want))
    return got


def await_headers(c, stream):
    while True:
        f = c.next()
        if f is None:
            raise Fail("no response HEADERS")
        if isinstance(f, (GoAwayFrame, RstStreamFrame)) and f.stream_id in (0, stream):
            raise Fail("%s(%s)" % (type(f).__name__, err_name(f.error_code)))
        if isinstance(f, HeadersFrame) and f.stream_id == stream:
            status = c.status_of(f)
            if status != "200":
                raise Fail("status %s" % status)
            return


@case("flow/stream-window-respected", "§6.9, §6.9.1", hostile=False)
def _(c):
    c.send(raw(SETTINGS, 0, 0, settings_payload([(INITIAL_WINDOW_SIZE, 1000)])) +
           raw(WINDOW_UPDATE, 0, 0, struct.pack(">I", 1 << 20)))
    c.expect_alive()
    c.headers(1, request("GET", "/bytes/5000"))
    await_headers(c, 1)
    body = read_data(c, 1, 1000)
    c.expect_silence(1, 0.5)
    for _ in range(4):
        c.send(raw(WINDOW_UPDATE, 0, 1, struct.pack(">I", 1000)))
        body += read_data(c, 1, 1000)
    if body != body_bytes(5000):
        raise Fail("body differs")


@case("flow/connection-window-respected", "§6.9, §6.9.1", hostile=False)
def _(c):
    c.send(raw(SETTINGS, 0, 0, settings_payload([(INITIAL_WINDOW_SIZE, 1 << 20)])))
    c.expect_alive()
    c.headers(1, request("GET", "/bytes/100000"))
    await_headers(c, 1)
    body = read_data(c, 1, 65535)
    c.expect_silence(1, 0.5)
    c.send(raw(WINDOW_UPDATE, 0, 0, struct.pack(">I", 100000 - 65535)))
    body += read_data(c, 1, 100000 - 65535)
    if body != body_bytes(100000):
        raise Fail("body differs")


@case("flow/initial-window-raised-mid-stream", "§6.9.2", hostile=False)
def _(c):
    c.send(raw(SETTINGS, 0, 0, settings_payload([(INITIAL_WINDOW_SIZE, 0)])))
    c.expect_alive()
    c.headers(1, request("GET", "/bytes/3000"))
    await_headers(c, 1)
    c.expect_silence(1, 0.5)
    c.send(raw(SETTINGS, 0, 0, settings_payload([(INITIAL_WINDOW_SIZE, 3000)])))
    if read_data(c, 1, 3000) != body_bytes(3000):
        raise Fail("body differs")


@case("flow/initial-window-lowered-below-zero", "§6.9.2", hostile=False)
def _(c):
    c.send(raw(SETTINGS, 0, 0, settings_payload([(INITIAL_WINDOW_SIZE, 20000)])) +
           raw(WINDOW_UPDATE, 0, 0, struct.pack(">I", 1 << 20)))
    c.expect_alive()
    c.headers(1, request("GET", "/bytes/30000"))
    await_headers(c, 1)
    body = read_data(c, 1, 20000)
    # the stream's window goes to -10000: a WINDOW_UPDATE of 10000 brings it back to 0 only
    c.send(raw(SETTINGS, 0, 0, settings_payload([(INITIAL_WINDOW_SIZE, 10000)])))
    c.expect_alive()
    c.send(raw(WINDOW_UPDATE, 0, 1, struct.pack(">I", 10000)))
    c.expect_silence(1, 0.5)
    c.send(raw(WINDOW_UPDATE, 0, 1, struct.pack(">I", 4000)))
    body += read_data(c, 1, 4000)
    c.expect_silence(1, 0.3)
    c.send(raw(WINDOW_UPDATE, 0, 1, struct.pack(">I", 6000)))
    body += read_data(c, 1, 6000)
    if body != body_bytes(30000):
        raise Fail("body differs")


@case("flow/padding-counts-against-window", "§6.9.1", hostile=False)
def _(c):
    # padded DATA uses the window and the server gives it back: a body of many padded frames gets through
    open_post(c, 1, extra=[("content-length", "40000")])
    frames = []
    for i in range(40):
        f = DataFrame(1, b"y" * 1000)
        f.flags.add("PADDED")
        f.pad_length = 255
        frames.append(f.serialize())
    c.send_many(frames)
    c.data(1, b"", end_stream=True)
    if c.expect_response(1, timeout=20) != b"y" * 40000:
        raise Fail("echo differs")


@case("flow/client-exceeds-stream-window", "§6.9.1")
def _(c):
    c.next()
    window = c.server_settings.get(INITIAL_WINDOW_SIZE, 65535)
    # the stall node never reads: the proxy's session stops reading the stream, the window closes
    c.headers(1, request("POST", "/upload", authority=ARGS.stall_authority), end_stream=False)
    sent = 0
    limit = window + (32 << 20)
    chunk = DataFrame(1, b"z" * 16384).serialize()
    while sent < limit:
        c.send_many([chunk] * 16)
        sent += 16 * 16384
        for f in c.queue:
            if isinstance(f, RstStreamFrame) and f.stream_id == 1:
                if f.error_code != FLOW_CONTROL_ERROR:
                    raise Fail("RST_STREAM(%s)" % err_name(f.error_code))
                return
            if isinstance(f, GoAwayFrame):
                if f.error_code != FLOW_CONTROL_ERROR:
                    raise Fail("GOAWAY(%s)" % err_name(f.error_code))
                return
        c.queue = [f for f in c.queue if not isinstance(f, WindowUpdateFrame)]
        if c.eof:
            raise Fail("connection closed")
    c.expect_error(1, FLOW_CONTROL_ERROR)


# ==================================================================== §8.1-8.3 HTTP message rules

def malformed(c, fields, end_stream=True):
    c.headers(1, fields, end_stream=end_stream)
    c.expect_rst(1, PROTOCOL_ERROR)
    c.expect_alive()


def msg_case(name, ref, fields):
    @case(name, ref)
    def _(c):
        malformed(c, fields() if callable(fields) else fields)


msg_case("message/uppercase-field-name", "§8.2.1", lambda: request(extra=[("X-Upper", "1")]))
msg_case("message/connection-field", "§8.2.2", lambda: request(extra=[("connection", "keep-alive")]))
msg_case("message/keep-alive-field", "§8.2.2", lambda: request(extra=[("keep-alive", "timeout=5")]))
msg_case("message/proxy-connection-field", "§8.2.2", lambda: request(extra=[("proxy-connection", "close")]))
msg_case("message/transfer-encoding-field", "§8.2.2", lambda: request(extra=[("transfer-encoding", "chunked")]))
msg_case("message/upgrade-field", "§8.2.2", lambda: request(extra=[("upgrade", "websocket")]))
msg_case("message/te-not-trailers", "§8.2.2", lambda: request(extra=[("te", "gzip")]))
msg_case("message/field-name-with-space", "§8.2.1", lambda: request(extra=[("x bad", "1")]))
msg_case("message/field-value-with-lf", "§8.2.1", lambda: request(extra=[("x-bad", "a\nb")]))
msg_case("message/field-value-with-cr", "§8.2.1", lambda: request(extra=[("x-bad", "a\rb")]))
msg_case("message/field-value-with-nul", "§8.2.1", lambda: request(extra=[("x-bad", "a\0b")]))
msg_case("message/field-value-leading-space", "§8.2.1", lambda: request(extra=[("x-bad", " a")]))
msg_case("message/unknown-pseudo-field", "§8.3", lambda: request(extra=[(":foo", "bar")]))
msg_case("message/response-pseudo-in-request", "§8.3", lambda: request(extra=[(":status", "200")]))
msg_case("message/pseudo-after-regular", "§8.3",
         lambda: [(":method", "GET"), (":scheme", "https"), ("x-a", "1"), (":path", "/"),
                  (":authority", ARGS.authority)])
msg_case("message/duplicate-path", "§8.3.1",
         lambda: [(":method", "GET"), (":scheme", "https"), (":path", "/"), (":path", "/"),
                  (":authority", ARGS.authority)])
msg_case("message/missing-method", "§8.3.1",
         lambda: [(":scheme", "https"), (":path", "/"), (":authority", ARGS.authority)])
msg_case("message/missing-scheme", "§8.3.1",
         lambda: [(":method", "GET"), (":path", "/"), (":authority", ARGS.authority)])
msg_case("message/missing-path", "§8.3.1",
         lambda: [(":method", "GET"), (":scheme", "https"), (":authority", ARGS.authority)])
msg_case("message/empty-path", "§8.3.1",
         lambda: [(":method", "GET"), (":scheme", "https"), (":path", ""), (":authority", ARGS.authority)])


@case("message/te-trailers-allowed", "§8.2.2", hostile=False)
def _(c):
    c.headers(1, request(extra=[("te", "trailers")]))
    c.expect_response(1)


@case("message/split-cookies", "§8.2.3", hostile=False)
def _(c):
    c.headers(1, request(extra=[("cookie", "a=1"), ("cookie", "b=2")]))
    c.expect_response(1)


@case("message/trailers", "§8.1", hostile=False)
def _(c):
    open_post(c, 1)
    c.data(1, b"with trailers")
    c.headers(1, [("x-checksum", "abc")], end_stream=True)
    if c.expect_response(1) != b"with trailers":
        raise Fail("body")


@case("message/trailers-without-end-stream", "§8.1")
def _(c):
    open_post(c, 1)
    c.data(1, b"body")
    c.headers(1, [("x-checksum", "abc")], end_stream=False)
    c.expect_error(1, PROTOCOL_ERROR)


@case("message/pseudo-field-in-trailers", "§8.1")
def _(c):
    open_post(c, 1)
    c.data(1, b"body")
    c.headers(1, [(":path", "/x")], end_stream=True)
    c.expect_error(1, PROTOCOL_ERROR)


@case("message/content-length-more-data", "§8.1.1")
def _(c):
    open_post(c, 1, extra=[("content-length", "5")])
    c.data(1, b"0123456789", end_stream=True)
    c.expect_rst(1, PROTOCOL_ERROR)
    c.expect_alive()


@case("message/content-length-less-data", "§8.1.1")
def _(c):
    open_post(c, 1, extra=[("content-length", "10")])
    c.data(1, b"01234", end_stream=True)
    c.expect_rst(1, PROTOCOL_ERROR)
    c.expect_alive()


@case("message/content-length-without-data", "§8.1.1")
def _(c):
    c.headers(1, request("POST", "/echo", [("content-length", "3")]), end_stream=True)
    c.expect_rst(1, PROTOCOL_ERROR)
    c.expect_alive()


# ==================================================================== RFC 7541 HPACK

def bad_block(c, tail, prefix=True):
    b = (c.block(request()) if prefix else b"") + tail
    c.send(raw(HEADERS, END_STREAM | END_HEADERS, 1, b))
    c.expect_goaway(COMPRESSION_ERROR)


def hpack_case(name, ref, tail, prefix=True):
    @case(name, ref)
    def _(c):
        bad_block(c, tail, prefix)


hpack_case("hpack/index-0", "RFC 7541 §6.1", b"\x80")
hpack_case("hpack/index-past-static-table", "RFC 7541 §2.3.3", b"\xc6")          # 70, dynamic table empty
hpack_case("hpack/index-past-dynamic-table", "RFC 7541 §2.3.3", b"\xff\x80\x01")  # 255
hpack_case("hpack/name-index-past-table", "RFC 7541 §6.2.1", b"\x7f\x30\x01a")   # literal, name index 111
hpack_case("hpack/table-size-update-above-setting", "RFC 7541 §6.3, §4.2", b"\x3f\xe2\x1f", prefix=False)  # 4097
hpack_case("hpack/table-size-update-after-field", "RFC 9113 §4.3.1, RFC 7541 §4.2", b"\x20")
hpack_case("hpack/integer-overflow", "RFC 7541 §5.1", b"\xff\xff\xff\xff\xff\xff\xff\x7f")
hpack_case("hpack/string-past-block", "RFC 7541 §5.2", b"\x00\x05x-abc\x0aonly5")
hpack_case("hpack/truncated-integer", "RFC 7541 §5.1", b"\xff")
hpack_case("hpack/huffman-eos", "RFC 7541 §5.2", b"\x00\x03x-a\x84\xff\xff\xff\xff")
hpack_case("hpack/huffman-padding-too-long", "RFC 7541 §5.2", b"\x00\x03x-a\x82\x1f\xff")
hpack_case("hpack/huffman-padding-not-ones", "RFC 7541 §5.2", b"\x00\x03x-a\x81\x18")


@case("hpack/table-size-updates-at-start", "RFC 7541 §4.2", hostile=False)
def _(c):
    enc = c.enc
    # two updates before the first field (the smallest, then the final size) are allowed
    c.send(raw(HEADERS, END_STREAM | END_HEADERS, 1, b"\x20\x3f\xe1\x1f" + enc.encode(request())))
    c.expect_response(1)


@case("hpack/dynamic-table-in-step", "RFC 7541 §2.3, §4.4", hostile=False)
def _(c):
    # every request adds fields (incremental indexing) and later ones refer to them, evicting old ones
    for i in range(20):
        sid = 1 + 2 * i
        c.headers(sid, request("GET", "/bytes/%d" % (i + 1), [("x-big-%d" % (i % 3), "v" * 900),
                                                             ("x-seq", str(i))]))
        if c.expect_response(sid) != body_bytes(i + 1):
            raise Fail("body %d" % i)


@case("hpack/never-indexed-and-huffman", "RFC 7541 §6.2.3, §5.2", hostile=False)
def _(c):
    b = c.enc.encode(request())
    b += c.enc.encode([hpack.NeverIndexedHeaderTuple("authorization", "secret")], huffman=True)
    c.send(raw(HEADERS, END_STREAM | END_HEADERS, 1, b))
    c.expect_response(1)


@case("limits/header-list-size", "§6.5.2, §10.5.1")
def _(c):
    c.next()
    limit = c.server_settings.get(MAX_HEADER_LIST_SIZE)
    if limit is None:
        raise Fail("no SETTINGS_MAX_HEADER_LIST_SIZE advertised")
    fields = [("x-h%d" % i, "h" * 1000) for i in range(limit // 1000 + 2)]
    b = c.block(request(extra=fields))
    frames = [raw(HEADERS, END_STREAM, 1, b[:8000])]
    rest = b[8000:]
    while rest:
        part, rest = rest[:8000], rest[8000:]
        frames.append(raw(CONTINUATION, 0 if rest else END_HEADERS, 1, part))
    c.send(b"".join(frames))
    status, _ = c.response(1)
    if status != 431:
        raise Fail("status %s, expected 431" % status)
    c.headers(3, request())
    c.expect_response(3)


# ==================================================================== floods and hostile peers

@case("flood/hpack-bomb", "RFC 7541 §7.3, RFC 9113 §10.5.1")
def _(c):
    # one 4 KB field enters the dynamic table, then 4,000 one-byte references to it: 16 MB decoded
    b = c.enc.encode(request()) + c.enc.encode([("x-bomb", "b" * 4000)]) + b"\xbe" * 4000
    c.send(raw(HEADERS, END_STREAM | END_HEADERS, 1, b))
    f_status, _ = c.response(1)
    if f_status != 431:
        raise Fail("status %s, expected 431" % f_status)
    # the table stayed in step: the next request, encoded against it, is served
    c.headers(3, request())
    c.expect_response(3)


@case("flood/continuation-endless", "CVE-2024-27316, §6.10")
def _(c):
    c.settle()
    c.send(raw(HEADERS, END_STREAM, 1, c.block(request())))
    frames = (raw(CONTINUATION, 0, 1, b"\x40\x03x-a\x83abc" * 1000) for _ in range(10000))
    try:
        c.send_many(frames)
    except Closed:
        pass
    c.expect_goaway([ENHANCE_YOUR_CALM, PROTOCOL_ERROR, COMPRESSION_ERROR], timeout=10)


@case("flood/continuation-empty", "CVE-2024-27316, §6.10")
def _(c):
    c.settle()
    c.send(raw(HEADERS, END_STREAM, 1, c.block(request())))
    try:
        c.send_many(raw(CONTINUATION, 0, 1) for _ in range(ARGS.flood_limit * 50))
    except Closed:
        pass
    c.expect_goaway(ENHANCE_YOUR_CALM, timeout=10)


@case("flood/rapid-reset", "CVE-2023-44487")
def _(c):
    def frames():
        for i in range(ARGS.flood_limit * 3):
            sid = 1 + 2 * i
            yield raw(HEADERS, END_STREAM | END_HEADERS, sid, c.block(request()))
            yield raw(RST_STREAM, 0, sid, struct.pack(">I", CANCEL))
    try:
        c.send_many(frames())
    except Closed:
        pass
    c.expect_goaway(ENHANCE_YOUR_CALM, timeout=10)


@case("flood/server-provoked-resets", "CVE-2025-8671 (MadeYouReset)")
def _(c):
    # each stream provokes a reset by the server (WINDOW_UPDATE of 0) instead of sending one
    def frames():
        for i in range(ARGS.flood_limit * 3):
            sid = 1 + 2 * i
            yield raw(HEADERS, END_HEADERS, sid, c.block(request("POST", "/echo")))
            yield raw(WINDOW_UPDATE, 0, sid, struct.pack(">I", 0))
    try:
        c.send_many(frames())
    except Closed:
        pass
    c.expect_goaway(ENHANCE_YOUR_CALM, timeout=10)


def control_flood(c, frame, count=None):
    try:
        c.send_many([frame] * (count or ARGS.flood_limit * 3))
    except Closed:
        pass
    c.expect_goaway(ENHANCE_YOUR_CALM, timeout=10)


@case("flood/settings", "§6.5, §10.5")
def _(c):
    control_flood(c, raw(SETTINGS, 0, 0, settings_payload([(HEADER_TABLE_SIZE, 4096)])))


@case("flood/ping", "§6.7, §10.5")
def _(c):
    control_flood(c, raw(PING, 0, 0, b"pingpong"))


@case("flood/priority", "§6.3, §10.5")
def _(c):
    control_flood(c, raw(PRIORITY, 0, 1, struct.pack(">IB", 0, 16)))


@case("flood/unknown-frames", "§5.5, §10.5")
def _(c):
    control_flood(c, raw(0xfa, 0, 0, b""))


@case("flood/empty-data", "§10.5")
def _(c):
    open_post(c, 1)
    control_flood(c, raw(DATA, 0, 1))


@case("flood/empty-headers-blocks", "§10.5")
def _(c):
    # HEADERS frames with nothing in them, each opening a stream that is malformed at once
    def frames():
        for i in range(ARGS.flood_limit * 3):
            yield raw(HEADERS, END_STREAM | END_HEADERS, 1 + 2 * i)
    try:
        c.send_many(frames())
    except Closed:
        pass
    c.expect_goaway(ENHANCE_YOUR_CALM, timeout=10)


@case("flood/window-update-stall-per-stream", "§6.9, send timeout")
def _(c):
    # the client never opens the stream's window: the server ends the stream within the send timeout
    c.send(raw(SETTINGS, 0, 0, settings_payload([(INITIAL_WINDOW_SIZE, 0)])))
    c.expect_alive()
    start = time.monotonic()
    c.headers(1, request("GET", "/bytes/100000"))
    await_headers(c, 1)
    limit = ARGS.send_timeout + 5
    c.expect_rst(1, [CANCEL, INTERNAL_ERROR, ENHANCE_YOUR_CALM, FLOW_CONTROL_ERROR], timeout=limit)
    took = time.monotonic() - start
    if took < ARGS.send_timeout * 0.8:
        raise Fail("reset after %.1fs, before the send timeout of %.1fs" % (took, ARGS.send_timeout))
    c.expect_alive()


@case("flood/window-update-stall-per-connection", "§6.9, send timeout")
def _(c):
    # stream windows open, the connection's window never: after 65,535 bytes nothing moves; the server ends it
    c.send(raw(SETTINGS, 0, 0, settings_payload([(INITIAL_WINDOW_SIZE, 1 << 20)])))
    c.expect_alive()
    c.headers(1, request("GET", "/bytes/200000"))
    await_headers(c, 1)
    read_data(c, 1, 65535)
    c.expect_error(1, [CANCEL, INTERNAL_ERROR, ENHANCE_YOUR_CALM, FLOW_CONTROL_ERROR, NO_ERROR],
                   timeout=ARGS.send_timeout + 5)


@case("flood/socket-not-read", "send timeout")
def _(c_unused):
    # the client stops reading altogether while answers are due: the server ends the connection within the
    # send timeout instead of holding it (and its buffers) for ever
    c = Conn(rcvbuf=32768)
    try:
        socket_not_read(c)
    finally:
        c.close()


# Linux TCP states (include/net/tcp_states.h): the first byte of struct tcp_info
TCP_ESTABLISHED = 1
TCP_STATE_NAMES = {1: "ESTABLISHED", 2: "SYN_SENT", 3: "SYN_RECV", 4: "FIN_WAIT1", 5: "FIN_WAIT2", 6: "TIME_WAIT",
                   7: "CLOSE", 8: "CLOSE_WAIT", 9: "LAST_ACK", 10: "LISTEN", 11: "CLOSING"}
PROBE_INTERVAL = 0.1


def tcp_state(sock):
    """Our end's TCP state as the kernel has it (TCP_INFO), read without touching the receive queue."""
    return sock.getsockopt(socket.IPPROTO_TCP, getattr(socket, "TCP_INFO", 11), 8)[0]


def socket_not_read(c):
    c.send(raw(SETTINGS, 0, 0, settings_payload([(INITIAL_WINDOW_SIZE, 1 << 30)])) +
           raw(WINDOW_UPDATE, 0, 0, struct.pack(">I", 1 << 30)))
    asked = time.monotonic()  # the server cannot stall before the answers are asked for
    for i in range(ARGS.stall_streams):
        c.headers(1 + 2 * i, request("GET", "/bytes/%d" % (8 << 20)))
    while True:  # the answers are flowing: from here on nothing is read
        f = c.next(10)
        if f is None:
            raise Fail("no DATA came")
        if isinstance(f, (GoAwayFrame, RstStreamFrame)):
            raise Fail("%s(%s)" % (type(f).__name__, err_name(f.error_code)))
        if isinstance(f, DataFrame):
            break
    stopped = time.monotonic()
    # Not reading is the point of the case, so the server's close is not looked for by reading: a read would open
    # our window again, and the server, moving again, would restart its timer. Our kernel's TCP state tells it
    # instead, but a server that closes with answers unsent leaves its FIN queued behind them, which our closed
    # window never lets through. So a few bytes go the other way now and then: a WINDOW_UPDATE of 1 on the
    # connection (no flood frame; a live server takes it, and nothing moves our way). A socket the server closed
    # answers data with a reset (RFC 1122 §4.2.2.13; a close with unread input resets at once): our state turns
    # CLOSE. The wait ends at the first sign; its bound is a few send timeouts: a write the server still gets in
    # (our kernel opens the window by a few bytes now and then, and the streams' own send timeouts, due at the
    # same time, make the server try) restarts its timer, as Nginx's send_timeout (seen: closed after 2 of them).
    limit = 3 * ARGS.send_timeout + ARGS.stall_slack
    probe = raw(WINDOW_UPDATE, 0, 0, struct.pack(">I", 1))
    probes = 0
    while True:
        state = tcp_state(c.sock)
        if state != TCP_ESTABLISHED:
            break
        if time.monotonic() - stopped > limit:
            raise Fail("connection still open %.1fs after the client stopped reading (send timeout %.1fs, %d probes;"
                       " nothing read since)" % (time.monotonic() - stopped, ARGS.send_timeout, probes))
        try:
            c.sock.sendall(probe)
            probes += 1
        except (OSError, ssl.SSLError):
            state = tcp_state(c.sock)
            break  # reset: the send saw it before the state was read again
        time.sleep(PROBE_INTERVAL)  # the poll interval of a bounded wait
    took = time.monotonic() - asked
    if ARGS.verbose:
        print("  closed (%s) %.2fs after the answers were asked for, %.2fs after reading stopped, %d probes" %
              (TCP_STATE_NAMES.get(state, state), took, time.monotonic() - stopped, probes), flush=True)
    if took < 0.8 * ARGS.send_timeout:
        raise Fail("closed %.1fs after the answers were asked for, before the send timeout of %.1fs" %
                   (took, ARGS.send_timeout))


def run():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--authority", default="localhost")
    p.add_argument("--stall-authority", default="stall.test")
    p.add_argument("--send-timeout", type=float, default=2.0)
    p.add_argument("--stall-slack", type=float, default=4.0)
    p.add_argument("--stall-streams", type=int, default=4)
    p.add_argument("--flood-limit", type=int, default=100)
    p.add_argument("--only", default=None)
    p.add_argument("--skip", default="", help="comma-separated case names not to run")
    p.add_argument("--repeat", type=int, default=1, help="run each chosen case this many times in a row")
    p.add_argument("--verbose", action="store_true")
    ARGS = p.parse_args()
    failures = []
    count = 0
    for name, ref, hostile, fn in [case for case in CASES for _ in range(ARGS.repeat)]:
        if ARGS.only and ARGS.only not in name:
            continue
        if name in [n for n in ARGS.skip.split(",") if n]:
            print("SKIP %s" % name, flush=True)
            continue
        count += 1
        started = time.monotonic()
        c = None
        try:
            c = Conn()
            fn(c)
            if hostile:
                healthy()
            print("PASS %s (%s) %.2fs" % (name, ref, time.monotonic() - started), flush=True)
        except Fail as e:
            failures.append(name)
            print("FAIL %s (%s): %s" % (name, ref, e), flush=True)
        except Closed as e:
            failures.append(name)
            print("FAIL %s (%s): %s" % (name, ref, e), flush=True)
        except Exception as e:  # noqa: BLE001 -- a broken case is a failure, not the end of the run
            failures.append(name)
            print("FAIL %s (%s): %s" % (name, ref, "".join(traceback.format_exception_only(type(e), e)).strip()),
                  flush=True)
        finally:
            if c is not None:
                c.close()
    print("TOTAL %d cases, %d passed, %d failed%s" % (count, count - len(failures), len(failures),
                                                      (": " + " ".join(failures)) if failures else ""), flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(run())
