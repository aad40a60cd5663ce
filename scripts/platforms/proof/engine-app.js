// The engine's side of the HTTP/1.1 proofs (http-checks.js), run under the platform's node with
// pyre-http installed (or from the checkout). It writes one JSON line to the file its argument
// names once it listens — `{ port, node, platform, arch }`, a file because node.exe under wine
// cannot write to a Unix pipe — and `<that name>.closed` when `server.close()` has finished.
// It exits 30 s after it starts, whatever happens.
'use strict';
const fs = require('node:fs');
const { serve, HeaderBlock } = require('pyre-http');

const LARGE = 16 << 20;
const text = new HeaderBlock({ 'content-type': 'text/plain' });
/** Events the checks ask about afterwards (GET /stats). */
const stats = { drainWaits: 0, aborts: 0 };

/** The large body's byte at offset i: a pattern the client can verify without holding a copy. */
function largeChunk(offset, length) {
  const chunk = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) chunk[i] = (offset + i) % 251;
  return chunk;
}

function streamLarge(exchange) {
  exchange.writeHead(200, { 'content-type': 'application/octet-stream' }, LARGE);
  let sent = 0;
  const pump = () => {
    while (sent < LARGE) {
      const piece = largeChunk(sent, Math.min(64 << 10, LARGE - sent));
      sent += piece.length;
      if (sent === LARGE) return exchange.end(piece);
      if (!exchange.write(piece)) {
        stats.drainWaits++;
        exchange.ondrain = pump;
        return;
      }
    }
  };
  pump();
}

const routes = {
  'GET /hello': (exchange) => exchange.respond(200, `hello ${exchange.query}`, text),
  // Answers after the time asked: pipelined behind it, faster answers must still come after it.
  'GET /slow': (exchange) => setTimeout(() => exchange.respond(200, `slow ${exchange.query}`, text), Number(exchange.query)),
  'POST /echo': async (exchange) => {
    // body() rejects when the client goes before the body is complete.
    const body = await exchange.body(1 << 20).catch(() => {
      stats.aborts++;
      return null;
    });
    if (body !== null) exchange.respond(200, body, { 'content-type': 'application/octet-stream', 'x-framing': exchange.header('transfer-encoding') ?? 'length' });
  },
  'GET /chunked': (exchange) => {
    exchange.writeHead(200, text);
    exchange.write('alpha,');
    setTimeout(() => {
      exchange.write('beta,');
      exchange.end('gamma');
    }, 20);
  },
  'GET /large': streamLarge,
  'GET /stats': (exchange) => exchange.respond(200, JSON.stringify(stats), { 'content-type': 'application/json' }),
  'GET /close': (exchange) => {
    exchange.respond(200, 'closing', text);
    pathServer?.close();
    server.close(() => fs.writeFileSync(`${process.argv[2]}.closed`, 'closed'));
  },
};

let pathServer = null;

/**
 * Listening on a path: a unix domain socket, or on Windows (where node would take it for a named
 * pipe) the refusal. Returns what happened: `{ path }` to connect to, or the error's code and message.
 */
function pathListen() {
  const where = process.platform === 'win32' ? '\\\\.\\pipe\\pyre-proof' : `${process.argv[2]}.sock`;
  try {
    pathServer = serve((exchange) => exchange.respond(200, 'over a unix socket', text));
    pathServer.listen({ path: where });
    return { path: where };
  } catch (err) {
    return { code: err.code, message: err.message };
  }
}

const server = serve((exchange) => {
  const route = routes[`${exchange.method} ${exchange.path}`];
  if (route) return route(exchange);
  exchange.respond(404, 'no such route', text);
});
const { port } = server.listen({ port: 0, host: '127.0.0.1' });
const ready = { port, node: process.version, platform: process.platform, arch: process.arch, pathListen: pathListen() };
fs.writeFileSync(`${process.argv[2]}.tmp`, `${JSON.stringify(ready)}\n`);
fs.renameSync(`${process.argv[2]}.tmp`, process.argv[2]);
setTimeout(() => process.exit(0), 30000).unref();
