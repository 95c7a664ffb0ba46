'use strict';
// Prints a TCP port on 127.0.0.1 that the OS had free a moment ago.
const s = require('net').createServer().listen(0, '127.0.0.1', () => {
  console.log(s.address().port);
  s.close();
});
