'use strict';
// The real sockjs-client (its node transports: http.request for xhr-*, no browser) against a SockJS URL.
// Opens SESSIONS sessions at once with one forced transport; each sends MESSAGES messages one after another (one
// xhr_send each) and checks every echo byte for byte and which node served it.
// Usage: node client.js <base-url> <xhr-streaming|xhr-polling> <sticky|unsticky> [sessions] [messages]
//   sticky:   exit 0 only if every session got all its echoes exactly, each session from one node, and the
//             sessions spread over all --nodes nodes (default 3).
//   unsticky: report what happened; exit 0 only if some session broke or was served by more than one node
//             (what the proxy's SockJS stickiness is there to prevent).
const SockJS = require('sockjs-client');

const [base, transport, expect] = process.argv.slice(2, 5);
const SESSIONS = Number(process.argv[5] || 30);
const MESSAGES = Number(process.argv[6] || 5);
const NODES = Number(process.env.NODES || 3);
const SESSION_TIMEOUT_MS = Number(process.env.SESSION_TIMEOUT_MS || 20000);
if (!base || !['xhr-streaming', 'xhr-polling'].includes(transport) || !['sticky', 'unsticky'].includes(expect)) {
  console.error('usage: node client.js <base-url> <xhr-streaming|xhr-polling> <sticky|unsticky> [sessions] [messages]');
  process.exit(2);
}

// Payloads that a proxy could break: non-ASCII (multi-byte UTF-8), characters SockJS escapes (U+2028, U+0000,
// U+FFFF), JSON quoting, and one message larger than a proxy's chunk (64 KiB).
function message(s, i) {
  const tails = [
    'plain ascii',
    // Longer than the nodes' 16 KiB response_limit: the xhr_streaming response ends after it and the client opens
    // another, a new request the proxy must route to the same node again.
    'big: ' + 'abcdefghijklmnopqrstuvwxyz0123456789'.repeat(1821), // 65 KiB
    'utf-8: é ß 漢字 😀',
    'escaped: \u2028\u2029\u0000\u001f\ufeff\uffff',
    'json: "quoted" \\back\\slash {"a":[1,2]}',
  ];
  return `s${s}#${i} ${tails[i % tails.length]}`;
}

function runSession(s) {
  return new Promise((resolve) => {
    let sessionId = null;
    const nodes = [];
    let next = 0;
    let done = false;
    const finish = (ok, why) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      try { sock.close(); } catch (e) { /* closing a broken session */ }
      resolve({ s, sessionId, ok, why, nodes });
    };
    const timer = setTimeout(() => finish(false, `timeout after ${SESSION_TIMEOUT_MS} ms (${next} echoes)`),
      SESSION_TIMEOUT_MS);
    const sock = new SockJS(base, null, {
      transports: [transport],
      sessionId: () => { sessionId = 'e2e' + s + '-' + Math.random().toString(36).slice(2, 10); return sessionId; },
    });
    sock.onopen = () => {
      if (sock.transport !== transport) return finish(false, `transport ${sock.transport}, not ${transport}`);
      sock.send(message(s, next));
    };
    sock.onmessage = (e) => {
      let reply;
      try { reply = JSON.parse(e.data); } catch (err) { return finish(false, `not JSON: ${String(e.data).slice(0, 80)}`); }
      const want = message(s, next);
      if (reply.msg !== want) {
        return finish(false, `echo ${next} differs: ${reply.msg && reply.msg.length} chars, want ${want.length}`);
      }
      nodes.push(reply.node);
      next++;
      if (next === MESSAGES) return finish(true, 'ok');
      sock.send(message(s, next));
    };
    sock.onclose = (e) => finish(false, `closed ${e.code} ${e.reason} after ${next} echoes`);
  });
}

(async () => {
  const started = Date.now();
  const results = await Promise.all(Array.from({ length: SESSIONS }, (_, s) => runSession(s)));
  const perNode = {};
  let complete = 0;
  let oneNode = 0;
  const problems = [];
  for (const r of results) {
    const distinct = [...new Set(r.nodes)];
    if (r.ok) complete++;
    if (r.ok && distinct.length === 1) {
      oneNode++;
      perNode[distinct[0]] = (perNode[distinct[0]] || 0) + 1;
    }
    if (!r.ok || distinct.length !== 1) {
      problems.push(`  session ${r.sessionId}: ${r.why}; echoes from [${r.nodes.join(',')}]`);
    }
  }
  const nodesUsed = Object.keys(perNode).length;
  console.log(`${transport} ${expect}: ${SESSIONS} sessions x ${MESSAGES} messages in ${Date.now() - started} ms: ` +
    `${complete} complete (every echo byte-exact), ${oneNode} complete on one node; sessions per node ` +
    JSON.stringify(perNode));
  problems.slice(0, 10).forEach((p) => console.log(p));
  if (problems.length > 10) console.log(`  ... ${problems.length - 10} more`);
  let pass;
  if (expect === 'sticky') {
    pass = oneNode === SESSIONS && nodesUsed === NODES;
    if (nodesUsed !== NODES) console.log(`  FAIL: sessions on ${nodesUsed} nodes, want all ${NODES}`);
  } else {
    pass = oneNode < SESSIONS;
    console.log(pass ? `  as expected without stickiness: ${SESSIONS - oneNode} of ${SESSIONS} sessions broke or spread`
      : '  FAIL: every session stayed whole on one node even without stickiness');
  }
  console.log(pass ? 'PASS' : 'FAIL');
  process.exit(pass ? 0 : 1);
})();
