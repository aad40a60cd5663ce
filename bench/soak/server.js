// The app the soak drives: a Pyre fast-path server in a child process (run with ts-hook).
//   GET  /hello                 -> "Hello, World!"
//   POST /echo                  -> the request body (Content-Length or chunked)
//   GET  /large?n=BYTES[&chunked] -> BYTES of pattern() streamed with backpressure
// Prints "listening <port>" once bound; SIGTERM closes gracefully and exits 0.
const { serve } = require('../../src/engine/server.ts');
const { RequestAbortedError } = require('../../src/engine/exchange.ts');
const { PATTERN } = require('./pattern');

const TEXT = { 'content-type': 'text/plain' };
const BINARY = { 'content-type': 'application/octet-stream' };

/** Streams `size` bytes, writing again only once the engine says its buffer drained. */
function streamLarge(exchange, size, chunked) {
  exchange.writeHead(200, BINARY, chunked ? -1 : size);
  let sent = 0;
  const pump = () => {
    while (sent < size) {
      if (exchange.abortReason) return;
      const piece = PATTERN.subarray(0, Math.min(PATTERN.length, size - sent));
      sent += piece.length;
      if (!exchange.write(piece)) {
        exchange.ondrain = pump;
        return;
      }
    }
    exchange.end();
  };
  pump();
}

async function handle(exchange) {
  const path = exchange.path;
  if (path === '/hello') return exchange.respond(200, 'Hello, World!', TEXT);
  if (path === '/echo') {
    try {
      return exchange.respond(200, await exchange.body(), BINARY);
    } catch (err) {
      // A client that resets mid-upload is part of the soak, not a server error.
      if (err instanceof RequestAbortedError) return undefined;
      throw err;
    }
  }
  if (path === '/large') {
    const query = new URLSearchParams(exchange.query);
    return streamLarge(exchange, Number(query.get('n')), query.has('chunked'));
  }
  return exchange.respond(404, 'not found', TEXT);
}

const server = serve(handle);
const { port } = server.listen({ host: '127.0.0.1', port: 0 });
console.log(`listening ${port}`);

process.on('SIGTERM', () => {
  server.close(() => process.exit(0));
  // Connections the soak left open must not hold the exit back.
  setTimeout(() => server.closeAllConnections(), 2000).unref();
});
