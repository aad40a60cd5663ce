// node:http, the baseline every ratio is taken against. The handler is shared with
// pyre-compat.js, so both run the very same code.
const fs = require('node:fs');
const http = require('node:http');
const fixtures = require('../lib/fixtures');

const BUFFERS = { '/buffer/64k': fixtures.body('64k'), '/buffer/1m': fixtures.body('1m') };
const FILES = { '/stream/64k': fixtures.file('64k'), '/stream/1m': fixtures.file('1m') };

function hello(req, res) {
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': 13 });
  res.end('Hello, World!');
}

function json(res, value) {
  const text = JSON.stringify(value);
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** POST /echo: the body read with on('data')/on('end'), parsed, one field added, sent back. */
function echo(req, res) {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => json(res, { ...JSON.parse(Buffer.concat(chunks).toString('utf8')), echoed: true }));
}

/** POST /upload: the body counted as it streams in. */
function upload(req, res) {
  let bytes = 0;
  req.on('data', (chunk) => { bytes += chunk.length; });
  req.on('end', () => json(res, { bytes }));
}

function octets(res, length) {
  res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': length });
}

function handle(req, res) {
  const { url } = req;
  if (url === '/') return hello(req, res);
  if (req.method === 'POST' && url === '/echo') return echo(req, res);
  if (req.method === 'POST' && url === '/upload') return upload(req, res);
  const buffer = BUFFERS[url];
  if (buffer !== undefined) {
    octets(res, buffer.length);
    return res.end(buffer);
  }
  const file = FILES[url];
  if (file !== undefined) {
    octets(res, fs.statSync(file).size);
    return fs.createReadStream(file).pipe(res);
  }
  res.writeHead(404).end();
}

if (require.main === module) {
  http.createServer(handle).listen(Number(process.env.PORT), '127.0.0.1');
}

module.exports = handle;
