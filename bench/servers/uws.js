// uWebSockets.js: the hello routes, the two framework routes (the last with an integer
// parameter), request bodies read with onData, and large answers from a Buffer and streamed
// from a file with tryEnd/onWritable backpressure.
const fs = require('node:fs');
const uWS = require('@trufflesuite/uws-js-unofficial');
const fixtures = require('../lib/fixtures');

// The package falls back to a slow pure-node imitation when its binary does not load; that
// would not be uWS at all, so refuse to run (the fallback has no SSLApp).
if (typeof uWS.SSLApp !== 'function') {
  console.error('uws: the native uWebSockets.js binary did not load on this Node');
  process.exit(1);
}

const BUFFERS = { '64k': fixtures.body('64k'), '1m': fixtures.body('1m') };
const FILES = { '64k': fixtures.file('64k'), '1m': fixtures.file('1m') };

/** Calls `done(chunks)` with the whole body; onData's ArrayBuffers are only lent, so each is copied. */
function readBody(res, done) {
  const chunks = [];
  res.onAborted(() => { res.aborted = true; });
  res.onData((chunk, isLast) => {
    chunks.push(Buffer.from(chunk.slice(0)));
    if (isLast) done(chunks);
  });
}

function json(res, value) {
  res.cork(() => res.writeHeader('Content-Type', 'application/json').end(JSON.stringify(value)));
}

/** A file streamed with backpressure: a chunk the socket did not take is retried on onWritable. */
function stream(res, file) {
  const size = fs.statSync(file).size;
  const source = fs.createReadStream(file);
  res.onAborted(() => source.destroy());
  source.on('data', (chunk) => {
    const start = res.getWriteOffset();
    let ok;
    let done;
    res.cork(() => {
      [ok, done] = res.tryEnd(chunk, size);
    });
    if (done) return source.destroy();
    if (ok) return undefined;
    source.pause();
    res.onWritable((offset) => {
      let retryOk;
      let retryDone;
      res.cork(() => {
        [retryOk, retryDone] = res.tryEnd(chunk.subarray(offset - start), size);
      });
      if (retryDone) source.destroy();
      else if (retryOk) source.resume();
      return retryOk;
    });
    return undefined;
  });
}

uWS.App()
  .get('/', (res) => {
    res.writeHeader('Content-Type', 'text/plain').end('Hello, World!');
  })
  .get('/hello/:name', (res, req) => {
    res.writeHeader('Content-Type', 'text/plain').end(`Hello, ${req.getParameter(0)}!`);
  })
  .get('/users/:id', (res, req) => {
    const id = Number(req.getParameter(0));
    if (!Number.isInteger(id)) {
      res.writeStatus('404 Not Found').end();
      return;
    }
    res.writeHeader('Content-Type', 'application/json').end(JSON.stringify({ id, name: `User ${id}` }));
  })
  .post('/echo', (res) => {
    readBody(res, (chunks) => json(res, { ...JSON.parse(Buffer.concat(chunks).toString('utf8')), echoed: true }));
  })
  .post('/upload', (res) => {
    let bytes = 0;
    res.onAborted(() => { res.aborted = true; });
    res.onData((chunk, isLast) => {
      bytes += chunk.byteLength;
      if (isLast) json(res, { bytes });
    });
  })
  .get('/buffer/:size', (res, req) => {
    const buffer = BUFFERS[req.getParameter(0)];
    if (buffer === undefined) return void res.writeStatus('404 Not Found').end();
    res.writeHeader('Content-Type', 'application/octet-stream').end(buffer);
  })
  .get('/stream/:size', (res, req) => {
    const file = FILES[req.getParameter(0)];
    if (file === undefined) return void res.writeStatus('404 Not Found').end();
    res.writeHeader('Content-Type', 'application/octet-stream');
    stream(res, file);
  })
  .listen('127.0.0.1', Number(process.env.PORT), (listenSocket) => {
    if (!listenSocket) {
      console.error(`uws: could not listen on port ${process.env.PORT}`);
      process.exit(1);
    }
  });
