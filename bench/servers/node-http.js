// node:http, the baseline every ratio is taken against.
const http = require('node:http');

/** The hello handler, shared with pyre-compat.js so both run the very same code. */
function hello(req, res) {
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': 13 });
  res.end('Hello, World!');
}

if (require.main === module) {
  http.createServer(hello).listen(Number(process.env.PORT), '127.0.0.1');
}

module.exports = hello;
