#!/usr/bin/python3
"""WebSocket over HTTP/2 (RFC 8441) through centrigate, with the python-h2 package.

Usage: h2_websocket.py MODE HOST PORT [ARG]
  echo      SETTINGS_ENABLE_CONNECT_PROTOCOL, an extended CONNECT, masked frames (small and 100 KiB+) echoed
            byte-exact by the node; then prints READY and waits for the node-side drain: a close 1001 must come.
  refused   the node answers the upgrade 403: the client must see :status 403 and its body.
  malformed extended CONNECTs without :path / :scheme / :authority: RST_STREAM(PROTOCOL_ERROR); plain CONNECT and
            :protocol other than websocket: 501.
  ends      the node's close frame and FIN reach the client (END_STREAM); the client's RST_STREAM closes the
            node's connection (the JUnit side checks, then writes a line to stdin).
  idle      a silent tunnel is ended by --tunnel-idle-timeout (RST_STREAM), the connection serves the next one.
  many N    N WebSocket streams at once on one connection, each echoing its own messages.
  admission-drain  one WebSocket stream opened, a second one left waiting for its admission slot
            (--max-handshake-rate); the JUnit side drains the proxy: the waiting one must be answered (its status,
            retry-after, END_STREAM or RST_STREAM are printed for the JUnit side to judge).
Prints one line per step; exits non-zero (with the reason on stderr) at the first failure. Every wait is bounded.
"""
import os
import socket
import ssl
import sys
import time

import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.settings

TIMEOUT = 30.0


def fail(why):
    sys.stderr.write("FAIL: " + why + "\n")
    sys.stderr.flush()
    sys.exit(1)


def say(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def ws_frame(opcode, payload, fin=True):
    """A masked client frame (RFC 6455 §5.2)."""
    head = bytearray([(0x80 if fin else 0) | opcode])
    n = len(payload)
    if n < 126:
        head.append(0x80 | n)
    elif n < 65536:
        head.append(0x80 | 126)
        head += n.to_bytes(2, "big")
    else:
        head.append(0x80 | 127)
        head += n.to_bytes(8, "big")
    key = os.urandom(4)
    head += key
    if n:
        mask = (key * (n // 4 + 1))[:n]
        payload = (int.from_bytes(payload, "big") ^ int.from_bytes(mask, "big")).to_bytes(n, "big")
    return bytes(head) + payload


def parse_frames(buf):
    """Complete frames at the front of buf as (fin, opcode, payload); the rest stays in buf."""
    frames = []
    while True:
        if len(buf) < 2:
            return frames
        b0, b1 = buf[0], buf[1]
        if b1 & 0x80:
            fail("server frame masked")
        n = b1 & 0x7F
        p = 2
        if n == 126:
            if len(buf) < 4:
                return frames
            n = int.from_bytes(buf[2:4], "big")
            p = 4
        elif n == 127:
            if len(buf) < 10:
                return frames
            n = int.from_bytes(buf[2:10], "big")
            p = 10
        if len(buf) < p + n:
            return frames
        frames.append((bool(b0 & 0x80), b0 & 0x0F, bytes(buf[p:p + n])))
        del buf[:p + n]


class GracefulH2Connection(h2.connection.H2Connection):
    """python-h2 4.1 closes its connection state at any GOAWAY and then refuses every frame; RFC 9113 §6.8 lets the
    streams up to the GOAWAY's last stream id run on (a server's drain), so a GOAWAY is only recorded here."""

    def _receive_goaway_frame(self, frame):
        event = h2.events.ConnectionTerminated()
        event.error_code = h2.errors._error_code_from_int(frame.error_code)
        event.last_stream_id = frame.last_stream_id
        event.additional_data = frame.additional_data if frame.additional_data else None
        return [], [event]


class Stream:
    def __init__(self, sid):
        self.id = sid
        self.status = None
        self.headers = {}
        self.data = bytearray()
        self.ended = False
        self.reset = None
        self.out = bytearray()
        self.end_after_out = False
        self.messages = []
        self.partial = bytearray()
        self.close_code = None

    def take_messages(self):
        for fin, opcode, payload in parse_frames(self.data):
            if opcode == 8:
                self.close_code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
                continue
            if opcode in (9, 10):
                continue
            self.partial += payload
            if fin:
                self.messages.append(bytes(self.partial))
                self.partial = bytearray()


class Client:
    def __init__(self, host, port):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE  # the test certificate is self-signed
        ctx.set_alpn_protocols(["h2"])
        raw = socket.create_connection((host, port), timeout=TIMEOUT)
        self.sock = ctx.wrap_socket(raw, server_hostname=host)
        if self.sock.selected_alpn_protocol() != "h2":
            fail("ALPN chose " + str(self.sock.selected_alpn_protocol()))
        self.authority = "%s:%d" % (host, port)
        config = h2.config.H2Configuration(client_side=True, header_encoding="utf-8",
                                           validate_outbound_headers=False, normalize_outbound_headers=False)
        self.conn = GracefulH2Connection(config=config)
        self.conn.initiate_connection()
        # Our receive window large enough to hold a few echoes, so the proxy's sending is paced by our updates.
        self.conn.increment_flow_control_window(1 << 20)
        self.streams = {}
        self.settings = None
        self.goaway = None
        self.eof = False
        self.flush()

    def flush(self):
        data = self.conn.data_to_send()
        if data:
            self.sock.sendall(data)

    def send_pending(self):
        for s in self.streams.values():
            while s.out and s.reset is None:
                n = min(len(s.out), self.conn.local_flow_control_window(s.id), self.conn.max_outbound_frame_size)
                if n <= 0:
                    break
                self.conn.send_data(s.id, bytes(s.out[:n]))
                del s.out[:n]
            if not s.out and s.end_after_out and s.reset is None:
                s.end_after_out = False
                self.conn.end_stream(s.id)
        self.flush()

    def pump(self, done, what, timeout=TIMEOUT):
        deadline = time.monotonic() + timeout
        while not done():
            self.send_pending()
            if done():
                return
            if self.eof:
                fail("connection closed while waiting for " + what)
            left = deadline - time.monotonic()
            if left <= 0:
                fail("timed out waiting for " + what)
            self.sock.settimeout(min(left, 1.0))
            try:
                data = self.sock.recv(1 << 16)
            except socket.timeout:
                continue
            except (ssl.SSLError, OSError) as e:
                self.eof = True
                if done():
                    return
                fail("socket error while waiting for %s: %s" % (what, e))
            if not data:
                self.eof = True
                continue
            for ev in self.conn.receive_data(data):
                self.event(ev)
            self.flush()

    def event(self, ev):
        if isinstance(ev, h2.events.RemoteSettingsChanged):
            if self.settings is None:
                self.settings = {int(k): v.new_value for k, v in ev.changed_settings.items()}
        elif isinstance(ev, h2.events.ResponseReceived):
            s = self.streams[ev.stream_id]
            s.headers = dict(ev.headers)
            s.status = s.headers.get(":status")
        elif isinstance(ev, h2.events.DataReceived):
            s = self.streams[ev.stream_id]
            s.data += ev.data
            s.take_messages()
            self.conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
        elif isinstance(ev, h2.events.StreamEnded):
            self.streams[ev.stream_id].ended = True
        elif isinstance(ev, h2.events.StreamReset):
            self.streams[ev.stream_id].reset = int(ev.error_code)
        elif isinstance(ev, h2.events.ConnectionTerminated):
            self.goaway = int(ev.error_code)

    def request(self, headers, end_stream=False):
        sid = self.conn.get_next_available_stream_id()
        s = Stream(sid)
        self.streams[sid] = s
        self.conn.send_headers(sid, headers, end_stream=end_stream)
        self.flush()
        return s

    def websocket(self, path, extra=()):
        return self.request([(":method", "CONNECT"), (":protocol", "websocket"), (":scheme", "https"),
                             (":path", path), (":authority", self.authority), ("sec-websocket-version", "13"),
                             ("origin", "https://example.test")] + list(extra))

    def check_settings(self):
        self.pump(lambda: self.settings is not None, "the server's SETTINGS")
        if self.settings.get(h2.settings.SettingCodes.ENABLE_CONNECT_PROTOCOL) != 1:
            fail("no SETTINGS_ENABLE_CONNECT_PROTOCOL=1 in " + str(self.settings))
        say("SETTINGS_ENABLE_CONNECT_PROTOCOL 1")


def open_ws(c, path, extra=()):
    s = c.websocket(path, extra)
    c.pump(lambda: s.status is not None or s.reset is not None, "the answer to the extended CONNECT")
    if s.status != "200":
        fail("extended CONNECT answered %s (reset %s)" % (s.status, s.reset))
    if "sec-websocket-accept" in s.headers or "upgrade" in s.headers or "connection" in s.headers:
        fail("HTTP/1.1 upgrade fields in the 200: " + str(s.headers))
    return s


def payloads(seed, sizes):
    out = []
    for i, n in enumerate(sizes):
        if i == 0:
            out.append((1, ("hello %d" % seed).encode()))
        else:
            b = bytes(((seed * 131 + i * 17 + k * 7) & 0xFF) for k in range(min(n, 4096)))
            out.append((2, (b * (n // len(b) + 1))[:n]))
    return out


def echo_through(c, streams_and_messages, what):
    for s, messages in streams_and_messages:
        for opcode, payload in messages:
            s.out += ws_frame(opcode, payload)
    c.send_pending()
    c.pump(lambda: all(len(s.messages) >= len(m) or s.reset is not None or s.ended
                       for s, m in streams_and_messages), what, timeout=60)
    for s, messages in streams_and_messages:
        got = s.messages[:len(messages)]
        if len(got) != len(messages):
            fail("stream %d: %d of %d echoes (reset %s, ended %s)" % (s.id, len(got), len(messages), s.reset,
                                                                       s.ended))
        for (opcode, payload), echoed in zip(messages, got):
            if echoed != payload:
                fail("stream %d: echo of %d bytes differs" % (s.id, len(payload)))


def mode_echo(c):
    c.check_settings()
    s = open_ws(c, "/connection/websocket?cf_ws=1")
    say("STATUS 200")
    messages = payloads(1, [0, 125, 126, 65535, 65536, 100 * 1024, 300 * 1024, 1024 * 1024])
    echo_through(c, [(s, messages)], "the echoes")
    say("ECHO OK %d" % sum(len(p) for _, p in messages))
    say("READY")
    c.pump(lambda: s.close_code is not None or s.reset is not None or s.ended, "a close frame on drain", timeout=60)
    if s.close_code is None:
        fail("no close frame (reset %s, ended %s)" % (s.reset, s.ended))
    say("CLOSE %d" % s.close_code)
    # The closing handshake's answer, then our half of the stream ends.
    s.out += ws_frame(8, s.close_code.to_bytes(2, "big"))
    s.end_after_out = True
    c.send_pending()
    c.pump(lambda: s.ended or s.reset is not None or c.goaway is not None and c.eof, "the stream's end")
    say("END ended=%s reset=%s goaway=%s" % (s.ended, s.reset, c.goaway))


def mode_refused(c):
    c.check_settings()
    s = c.websocket("/connection/websocket")
    c.pump(lambda: s.ended or s.reset is not None, "the refusal")
    if s.status != "403":
        fail("refused upgrade answered %s (reset %s)" % (s.status, s.reset))
    say("REFUSED %s %s" % (s.status, bytes(s.data).decode("latin-1").strip()))


def mode_malformed(c):
    c.check_settings()
    base = {":method": "CONNECT", ":protocol": "websocket", ":scheme": "https", ":path": "/connection/websocket",
            ":authority": c.authority}
    for missing in (":path", ":scheme", ":authority"):
        headers = [(k, v) for k, v in base.items() if k != missing] + [("sec-websocket-version", "13")]
        s = c.request(headers)
        c.pump(lambda: s.reset is not None or s.status is not None, "the answer without " + missing)
        if s.reset != 1:
            fail("extended CONNECT without %s: status %s, reset %s, not PROTOCOL_ERROR" % (missing, s.status,
                                                                                          s.reset))
        say("MALFORMED %s RST_STREAM %d" % (missing, s.reset))
    s = c.request([(":method", "CONNECT"), (":protocol", "chat"), (":scheme", "https"), (":path", "/x"),
                   (":authority", c.authority)])
    c.pump(lambda: s.reset is not None or s.status is not None, "the answer to :protocol chat")
    if s.status != "501":
        fail(":protocol chat answered %s (reset %s)" % (s.status, s.reset))
    say("PROTOCOL chat %s" % s.status)
    s = c.request([(":method", "CONNECT"), (":authority", "example.test:443")])
    c.pump(lambda: s.reset is not None or s.status is not None, "the answer to a plain CONNECT")
    if s.status != "501":
        fail("plain CONNECT answered %s (reset %s)" % (s.status, s.reset))
    say("CONNECT %s" % s.status)
    # The connection is still good: a WebSocket stream works after the refusals.
    ws = open_ws(c, "/connection/websocket")
    echo_through(c, [(ws, payloads(7, [0, 1000]))], "an echo after the refusals")
    say("AFTER OK")


def mode_many(c, n):
    c.check_settings()
    streams = [c.websocket("/connection/websocket?n=%d" % i) for i in range(n)]
    c.pump(lambda: all(s.status is not None or s.reset is not None for s in streams), "%d answers" % n)
    bad = [(s.id, s.status, s.reset) for s in streams if s.status != "200"]
    if bad:
        fail("streams not opened: " + str(bad[:5]))
    say("OPEN %d" % n)
    echo_through(c, [(s, payloads(i + 2, [0, 1000, 70 * 1024])) for i, s in enumerate(streams)],
                 "%d streams' echoes" % n)
    say("MANY OK %d" % n)


def mode_ends(c):
    """The node's close reaches the client as its close frame and END_STREAM; a client's RST_STREAM ends the node's
    connection (the JUnit test watches the node); a client's END_STREAM is the node's FIN."""
    c.check_settings()
    a = open_ws(c, "/connection/websocket?a")
    a.out += ws_frame(1, b"close:4000")
    c.send_pending()
    c.pump(lambda: a.close_code is not None or a.reset is not None, "the node's close frame")
    if a.close_code != 4000:
        fail("node's close: code %s, reset %s" % (a.close_code, a.reset))
    a.out += ws_frame(8, (4000).to_bytes(2, "big"))
    a.end_after_out = True
    c.send_pending()
    c.pump(lambda: a.ended or a.reset is not None, "the end of the node's side")
    if not a.ended:
        fail("node's close ended the stream with RST_STREAM %s, not END_STREAM" % a.reset)
    say("NODE CLOSE 4000 END_STREAM")
    b = open_ws(c, "/connection/websocket?b")
    echo_through(c, [(b, payloads(3, [0]))], "an echo before the reset")
    say("RESET READY")
    c.conn.reset_stream(b.id, 8)  # CANCEL
    c.flush()
    sys.stdin.readline()  # the JUnit test saw the node's connection end
    d = open_ws(c, "/connection/websocket?d")
    echo_through(c, [(d, payloads(4, [0, 200 * 1024]))], "an echo on a later stream")
    say("LATER OK")


def mode_idle(c):
    """A tunnel silent in both directions is ended by the proxy's tunnel idle timeout, the connection lives on."""
    c.check_settings()
    s = open_ws(c, "/connection/websocket?idle")
    echo_through(c, [(s, payloads(5, [0]))], "an echo before going quiet")
    started = time.monotonic()
    c.pump(lambda: s.reset is not None or s.ended, "the idle timeout", timeout=60)
    say("IDLE reset=%s ended=%s after=%.1f" % (s.reset, s.ended, time.monotonic() - started))
    t = open_ws(c, "/connection/websocket?after")
    echo_through(c, [(t, payloads(6, [0]))], "an echo on the same connection after the idle timeout")
    say("AFTER OK")


def mode_admission_drain(c):
    """An extended CONNECT that waits for its admission slot when the proxy drains gets an answer at once: printed
    as it came (the JUnit test wants 503, retry-after and END_STREAM, as an HTTP/1.1 upgrade gets)."""
    c.check_settings()
    open_ws(c, "/connection/websocket?first")
    say("FIRST 200")
    s = c.websocket("/connection/websocket?waiting")
    say("WAITING %d" % s.id)
    c.pump(lambda: s.ended or s.reset is not None, "the waiting stream's answer", timeout=60)
    say("ANSWER status=%s retry-after=%s ended=%s reset=%s" % (s.status, s.headers.get("retry-after"), s.ended,
                                                                s.reset))


def main():
    mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    c = Client(host, port)
    if mode == "echo":
        mode_echo(c)
    elif mode == "refused":
        mode_refused(c)
    elif mode == "malformed":
        mode_malformed(c)
    elif mode == "idle":
        mode_idle(c)
    elif mode == "ends":
        mode_ends(c)
    elif mode == "many":
        mode_many(c, int(sys.argv[4]))
    elif mode == "admission-drain":
        mode_admission_drain(c)
    else:
        fail("unknown mode " + mode)
    say("DONE")


if __name__ == "__main__":
    main()
