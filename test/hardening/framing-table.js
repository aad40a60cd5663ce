// Prints, as Markdown rows for docs/LIMITS.md, what Pyre and node:http each answer to every
// framing case of RFC 9112 sections 2-7 (raw bytes on a fresh connection to each server):
//   node -r ./bench/lib/ts-hook.js test/hardening/framing-table.js
// Both apps read the whole body and answer `200 <body length>`, so a 200 means "accepted".
const http = require('node:http');
const net = require('node:net');
const { serve } = require('../../src/engine/server.ts');

/** How long to wait for an answer before calling it "no answer". */
const WAIT_MS = 1000;
const POST = 'POST / HTTP/1.1\r\nHost: x\r\n';
const CHUNKED = `${POST}Transfer-Encoding: chunked\r\n\r\n`;

/**
 * [rule (RFC 9112 section), what the RFC asks of a server, request bytes, whether answering it
 * 2xx breaks the RFC]. */
const CASES = [
  ['Content-Length and Transfer-Encoding together (6.1, 6.3)', 'reject (or drop CL), close', `${POST}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, true],
  ['two Content-Length fields that differ (6.3)', 'reject 400', `${POST}Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!`, true],
  ['Content-Length list that differs, `5, 6` (6.3)', 'reject 400', `${POST}Content-Length: 5, 6\r\n\r\nhello!`, true],
  ['Content-Length list of one value, `5, 5` (RFC 9110 8.6)', 'accept as 5, or reject', `${POST}Content-Length: 5, 5\r\n\r\nhello`, false],
  ['Content-Length with a sign, `+5` (RFC 9110 8.6)', 'reject 400', `${POST}Content-Length: +5\r\n\r\nhello`, true],
  ['Content-Length not decimal, `0x5`', 'reject 400', `${POST}Content-Length: 0x5\r\n\r\nhello`, true],
  ['Content-Length past 2^64, `99999999999999999999`', 'reject 400', `${POST}Content-Length: 99999999999999999999\r\n\r\n`, true],
  ['Transfer-Encoding not ending in chunked, `chunked, gzip` (6.3)', 'reject 400, close', `${POST}Transfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n`, true],
  ['a coding before chunked, `gzip, chunked` (6.1)', 'decode, or 501', `${POST}Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n`, true],
  ['chunked twice, `chunked, chunked` (6.1)', 'reject 400', `${POST}Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n`, true],
  ['chunked in odd case and OWS, ` ChUnKeD ` (6.1, 5.6.1)', 'accept', `${POST}Transfer-Encoding:  ChUnKeD \r\n\r\n5\r\nhello\r\n0\r\n\r\n`, false],
  ['chunked misspelt, `chunked_`', 'reject 400 or 501', `${POST}Transfer-Encoding: chunked_\r\n\r\n0\r\n\r\n`, true],
  ['chunked quoted, `"chunked"`', 'reject 400', `${POST}Transfer-Encoding: "chunked"\r\n\r\n0\r\n\r\n`, true],
  ['Transfer-Encoding with a vertical tab, `\\vchunked`', 'reject 400', `${POST}Transfer-Encoding: \x0bchunked\r\n\r\n0\r\n\r\n`, true],
  ['Transfer-Encoding in an HTTP/1.0 request (6.1)', 'treat framing as faulty, close after', 'POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n', false],
  ['chunk size past 64 bits, 17 hex digits (7.1)', 'reject 400', `${CHUNKED}10000000000000005\r\nhello\r\n0\r\n\r\n`, true],
  ['chunk size not hex, `5g` (7.1)', 'reject 400', `${CHUNKED}5g\r\nhello\r\n0\r\n\r\n`, true],
  ['chunk size with `0x` prefix (7.1)', 'reject 400', `${CHUNKED}0x5\r\nhello\r\n0\r\n\r\n`, true],
  ['chunk size with a space before CRLF, `5 ` (7.1)', 'reject 400', `${CHUNKED}5 \r\nhello\r\n0\r\n\r\n`, true],
  ['chunk size negative, `-5` (7.1)', 'reject 400', `${CHUNKED}-5\r\nhello\r\n0\r\n\r\n`, true],
  ['chunk extension of 5000 bytes (7.1.1)', 'may limit (servers ought to)', `${CHUNKED}5;${'a'.repeat(5000)}\r\nhello\r\n0\r\n\r\n`, false],
  ['chunk extensions of 17000 bytes (7.1.1)', 'may limit (servers ought to)', `${CHUNKED}5;${'a'.repeat(17000)}\r\nhello\r\n0\r\n\r\n`, false],
  ['chunk extension, short, `5;a=b` (7.1.1)', 'accept, ignore', `${CHUNKED}5;a=b\r\nhello\r\n0\r\n\r\n`, false],
  ['chunk extension with a quoted value, `5;a="b;c"` (7.1.1)', 'accept, ignore', `${CHUNKED}5;a="b;c"\r\nhello\r\n0\r\n\r\n`, false],
  ['chunk extension with an unbalanced quote, `5;a="b` (7.1.1)', 'reject 400', `${CHUNKED}5;a="b\r\nhello\r\n0\r\n\r\n`, true],
  ['chunk size followed by a bare `;` (7.1.1)', 'reject 400', `${CHUNKED}5;\r\nhello\r\n0\r\n\r\n`, true],
  ['chunk data not followed by CRLF (7.1)', 'reject 400', `${CHUNKED}5\r\nhelloXX0\r\n\r\n`, true],
  ['chunk lines ended by bare LF (7.1, 2.2)', 'reject 400', `${CHUNKED}5\nhello\n0\n\n`, true],
  ['trailer section with a field (7.1.2)', 'accept', `${CHUNKED}5\r\nhello\r\n0\r\nX-Sum: 1\r\n\r\n`, false],
  ['obs-fold in a header field (5.2)', 'reject 400 (or replace with SP)', 'GET / HTTP/1.1\r\nHost: x\r\nX: a\r\n b\r\n\r\n', true],
  ['bare CR in a header value (2.2)', 'reject 400', 'GET / HTTP/1.1\r\nHost: x\r\nX: a\rb\r\n\r\n', true],
  ['lines ended by bare LF (2.2)', 'may accept; reject is safer', 'GET / HTTP/1.1\nHost: x\n\n', false],
  ['whitespace between field name and colon (5.1)', 'reject 400', 'GET / HTTP/1.1\r\nHost : x\r\n\r\n', true],
  ['whitespace before the first header field (2.2)', 'reject 400 (or ignore the line)', 'GET / HTTP/1.1\r\n X: y\r\nHost: x\r\n\r\n', true],
  ['NUL in a header value (5.5)', 'reject 400', 'GET / HTTP/1.1\r\nHost: x\r\nX: a\x00b\r\n\r\n', true],
  ['NUL in a header name (5.1)', 'reject 400', 'GET / HTTP/1.1\r\nHost: x\r\nX\x00Y: a\r\n\r\n', true],
  ['NUL in the request-target (3.2)', 'reject 400', 'GET /a\x00b HTTP/1.1\r\nHost: x\r\n\r\n', true],
  ['absolute-form target (3.2.2)', 'accept', 'GET http://x/abs HTTP/1.1\r\nHost: x\r\n\r\n', false],
  ['asterisk-form with OPTIONS (3.2.4)', 'accept', 'OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n', false],
  ['asterisk-form with GET (3.2.4)', 'reject 400', 'GET * HTTP/1.1\r\nHost: x\r\n\r\n', true],
  ['authority-form with CONNECT (3.2.3)', 'serve, or 501 if not a proxy', 'CONNECT x:443 HTTP/1.1\r\nHost: x:443\r\n\r\n', false],
  ['HTTP/0.9 request line `GET /` (2.3)', 'reject 400 (no 0.9 support)', 'GET /\r\n\r\n', true],
  ['unknown version HTTP/1.2 (2.3)', 'serve as 1.1, or 505', 'GET / HTTP/1.2\r\nHost: x\r\n\r\n', false],
  ['unknown major version HTTP/2.0 over HTTP/1 (2.3)', 'reject 505', 'GET / HTTP/2.0\r\nHost: x\r\n\r\n', true],
  ['malformed version `HTTP/1.1x`', 'reject 400', 'GET / HTTP/1.1x\r\nHost: x\r\n\r\n', true],
  ['two spaces in the request line (3)', 'reject 400, or split on whitespace (MAY)', 'GET  / HTTP/1.1\r\nHost: x\r\n\r\n', false],
  ['HTTP/1.1 without Host (3.2)', 'reject 400', 'GET / HTTP/1.1\r\n\r\n', true],
  ['two Host fields (3.2)', 'reject 400', 'GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n', true],
  ['Host with a space, `x y` (3.2)', 'reject 400', 'GET / HTTP/1.1\r\nHost: x y\r\n\r\n', true],
  ['Host whose port is not all digits, `x:8o` (3.2, RFC 3986 3.2.3)', 'reject 400', 'GET / HTTP/1.1\r\nHost: x:8o\r\n\r\n', true],
  ['empty lines before the request line (2.2)', 'accept (ignore at least one)', '\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n', false],
];

function answerWithLength(readBody, respond) {
  return readBody().then((body) => respond(200, String(body.length)), () => undefined);
}

function startPyre() {
  const server = serve((ex) => answerWithLength(() => ex.body(), (status, text) => ex.respond(status, text)));
  return { port: server.listen({ host: '127.0.0.1', port: 0 }).port, close: () => { server.close(); server.closeAllConnections(); } };
}

function startNode() {
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    answerWithLength(() => new Promise((resolve, reject) => { req.on('end', () => resolve(Buffer.concat(chunks))); req.on('error', reject); }),
      (status, text) => { res.statusCode = status; res.end(text); });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    port: server.address().port,
    close: () => { server.close(); server.closeAllConnections(); },
  })));
}

/** The first response's status code (with "+close" if the server then closed), or what happened instead. */
function outcome(port, bytes) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(Buffer.from(bytes, 'latin1')));
    let received = '';
    const finish = (closed) => {
      clearTimeout(timer);
      socket.destroy();
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(received);
      if (status) resolve(closed ? `${status[1]}, closed` : status[1]);
      else resolve(closed ? 'closed, no answer' : 'no answer');
    };
    const timer = setTimeout(() => finish(false), WAIT_MS);
    socket.on('data', (chunk) => { received += chunk.toString('latin1'); });
    socket.on('error', () => undefined);
    socket.on('close', () => finish(true));
  });
}

/** Flags a 2xx where the RFC forbids accepting the request. */
function note(strict, answer) {
  return strict && answer.startsWith('2') ? ' **accepts what the RFC forbids**' : '';
}

async function main() {
  const pyre = startPyre();
  const node = await startNode();
  const rows = await Promise.all(CASES.map(async ([rule, rfc, bytes, strict]) => {
    const [p, n] = await Promise.all([outcome(pyre.port, bytes), outcome(node.port, bytes)]);
    return `| ${rule} | ${rfc} | ${p}${note(strict, p)} | ${n}${note(strict, n)} |`;
  }));
  console.log('| rule (RFC 9112 section) | RFC asks | Pyre | node:http 20 |\n|---|---|---|---|');
  console.log(rows.join('\n'));
  pyre.close();
  node.close();
}

main();
