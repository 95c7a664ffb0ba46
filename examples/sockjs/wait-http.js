'use strict';
// Waits (bounded) until GET <url> answers 200. Usage: node wait-http.js <url> <timeout-ms>
const http = require('http');
const [url, timeoutMs] = [process.argv[2], Number(process.argv[3] || 30000)];
const deadline = Date.now() + timeoutMs;
(function attempt() {
  const req = http.get(url, { agent: false, timeout: 2000 }, (res) => {
    res.resume();
    if (res.statusCode === 200) process.exit(0);
    retry(`status ${res.statusCode}`);
  });
  req.on('timeout', () => req.destroy(new Error('timeout')));
  req.on('error', (e) => retry(e.message));
  function retry(why) {
    if (Date.now() > deadline) {
      console.error(`gave up waiting for ${url}: ${why}`);
      process.exit(1);
    }
    setTimeout(attempt, 100);
  }
})();
