'use strict';
// A SockJS echo node: one process = one node with its own sessions in memory, like a Centrifugo v3-v5 node.
// Every reply is {"node": <id>, "msg": <the message as received>}, so the client sees which node served it.
// Usage: node server.js <node-id> <port-file>; listens on 127.0.0.1 port 0 and writes the port into <port-file>.
const http = require('http');
const fs = require('fs');
const sockjs = require('sockjs');

const [nodeId, portFile] = process.argv.slice(2);
if (!nodeId || !portFile) {
  console.error('usage: node server.js <node-id> <port-file>');
  process.exit(2);
}

const echo = sockjs.createServer({
  prefix: '/connection/sockjs',
  log: (severity, line) => { if (severity === 'error') console.error(`[${nodeId}] ${line}`); },
  disconnect_delay: 5000,
  // Small, so an xhr_streaming response ends after a few echoes and the client opens the next one: a session is
  // then several streaming requests (and many xhr_send), each a new routing decision of the proxy.
  response_limit: 16 * 1024,
});
let sessions = 0;
echo.on('connection', (conn) => {
  sessions++;
  conn.on('data', (msg) => conn.write(JSON.stringify({ node: nodeId, msg })));
});

const server = http.createServer((req, res) => {
  // The proxy's active health check (GET /health, as on Centrifugo); everything else not SockJS is 404.
  if (req.url === '/health') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{}');
    return;
  }
  res.writeHead(404);
  res.end();
});
echo.installHandlers(server, { prefix: '/connection/sockjs' });

// SockJS answers a request for a session it does not know (xhr_send, a foreign poll) itself; log those so a run
// shows what unsticky routing does to the nodes.
const requests = {};
server.prependListener('request', (req, res) => {
  const transport = req.url.split('?')[0].split("/").slice(5).join('/') || 'other'; // after /connection/sockjs/s/id/
  if (/^(xhr|xhr_send|xhr_streaming)$/.test(transport)) requests[transport] = (requests[transport] || 0) + 1;
  res.on('finish', () => {
    if (res.statusCode === 404 && req.url.startsWith('/connection/sockjs/')) {
      console.error(`[${nodeId}] 404 ${req.method} ${req.url} (session not on this node)`);
    }
  });
});

server.listen(0, '127.0.0.1', () => {
  fs.writeFileSync(portFile + '.tmp', String(server.address().port));
  fs.renameSync(portFile + '.tmp', portFile);
});
process.on('SIGTERM', () => {
  console.error(`[${nodeId}] stopping: ${sessions} sessions opened here, requests ${JSON.stringify(requests)}`);
  process.exit(0);
});
