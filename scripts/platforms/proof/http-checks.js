// HTTP/1.1 proofs of an installed pyre-http on one platform's node, sent from here over real
// loopback sockets: the engine (engine-app.js) and an unmodified Express app on the drop-in
// (express-app.js under `-r pyre-http/register`). Every check compares exact answers, and every
// wait is bounded. wine.js runs them against node.exe under wine; test/package runs them here.
//
//   proveHttp({ runner, appDir, check })
//     runner   { command, args, env } that starts the platform's node (args before the script)
//     appDir   where pyre-http (and express) resolve from: an installed app, or the checkout
//     check    (name, ok, detail) => void, called once per check
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const STEP_MS = 15000;
const LARGE = 16 << 20;

/** Rejects after `ms` with a message naming what was awaited. */
function within(ms, what, promise) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves true when `promise` settles within `ms`, false otherwise (leaving no timer behind). */
function settlesWithin(promise, ms) {
  return within(ms, '', promise.then(() => true)).catch(() => false);
}

/**
 * A raw client connection that parses the responses it receives (length-delimited, chunked, or
 * up to the close), keeping each one's raw chunk framing.
 */
class Client {
  /** `target`: a loopback port, or a unix socket path. */
  constructor(target) {
    this.socket = typeof target === 'string' ? net.connect(target) : net.connect(target, '127.0.0.1');
    this.buf = Buffer.alloc(0);
    this.responses = [];
    this.waiters = [];
    this.ended = false;
    this.error = null;
    this.connected = new Promise((resolve, reject) => {
      this.socket.once('connect', resolve);
      this.socket.once('error', reject);
    });
    this.socket.on('data', (data) => {
      this.buf = Buffer.concat([this.buf, data]);
      this.parse();
    });
    this.closed = new Promise((resolve) => this.socket.once('close', resolve));
    this.socket.on('end', () => {
      this.ended = true;
      this.parse();
      this.wake();
    });
    this.socket.on('error', (err) => {
      this.error = err;
      this.wake();
    });
  }

  write(data) {
    this.socket.write(data);
  }

  wake() {
    for (const waiter of this.waiters.splice(0)) waiter();
  }

  parse() {
    for (;;) {
      const head = this.buf.indexOf('\r\n\r\n');
      if (head < 0) return;
      const lines = this.buf.subarray(0, head).toString('latin1').split('\r\n');
      const [, status] = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0]) ?? [];
      const headers = {};
      for (const line of lines.slice(1)) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
      }
      let rest = this.buf.subarray(head + 4);
      let body;
      let chunks;
      if (headers['transfer-encoding'] === 'chunked') {
        chunks = [];
        let at = 0;
        for (;;) {
          const eol = rest.indexOf('\r\n', at);
          if (eol < 0) return;
          const size = parseInt(rest.subarray(at, eol).toString('latin1'), 16);
          if (rest.length < eol + 2 + size + 2) return;
          if (size === 0) {
            rest = rest.subarray(eol + 4);
            break;
          }
          chunks.push(rest.subarray(eol + 2, eol + 2 + size));
          at = eol + 2 + size + 2;
        }
        body = Buffer.concat(chunks);
      } else if (headers['content-length'] !== undefined) {
        const length = Number(headers['content-length']);
        if (rest.length < length) return;
        body = rest.subarray(0, length);
        rest = rest.subarray(length);
      } else {
        if (!this.ended) return;
        body = rest;
        rest = Buffer.alloc(0);
      }
      this.responses.push({ status: Number(status), headers, body, chunks });
      this.buf = rest;
      this.wake();
    }
  }

  /** The next response, within `ms`. */
  next(ms = STEP_MS) {
    return within(ms, 'a response', new Promise((resolve, reject) => {
      const look = () => {
        if (this.responses.length > 0) return resolve(this.responses.shift());
        if (this.ended || this.error) return reject(this.error ?? new Error('the server closed the connection'));
        this.waiters.push(look);
      };
      look();
    }));
  }

  /** True when the server closes the connection within `ms`, false when it stays open. */
  closesWithin(ms) {
    return settlesWithin(this.closed, ms);
  }

  destroy() {
    this.socket.destroy();
  }
}

function get(urlPath, extra = '') {
  return `GET ${urlPath} HTTP/1.1\r\nHost: proof\r\n${extra}\r\n`;
}

function post(urlPath, body, type = 'application/octet-stream') {
  return `POST ${urlPath} HTTP/1.1\r\nHost: proof\r\nContent-Type: ${type}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

function same(actual, expected) {
  return JSON.stringify(actual) === JSON.stringify(expected);
}

/** What a response is, for a check's detail: status, body (cut short) and the given headers. */
function show(response, ...names) {
  const body = response.body.length > 80 ? `${response.body.length} bytes` : JSON.stringify(response.body.toString('latin1'));
  return `${response.status} ${body} ${names.map((n) => `${n}=${response.headers[n]}`).join(' ')}`;
}

/** The large response's byte at each offset (engine-app.js writes the same pattern). */
function isLargePattern(body) {
  if (body.length !== LARGE) return false;
  for (let i = 0; i < body.length; i++) if (body[i] !== i % 251) return false;
  return true;
}

/** A unix domain socket serves; on Windows, listening on a path is refused with a clear error. */
async function pathChecks(ready, check) {
  const result = ready.pathListen;
  if (ready.platform === 'win32') {
    check('engine: listen({ path }) on Windows is refused with ENOTSUP, naming what to use instead',
      result.code === 'ENOTSUP' && result.message.startsWith('listen ENOTSUP: ') && result.message.includes('listen on a TCP port'), JSON.stringify(result));
    return;
  }
  if (result.path === undefined) return check('engine: listen({ path }) serves a unix domain socket', false, JSON.stringify(result));
  const client = new Client(result.path);
  client.write(get('/'));
  const response = await client.next();
  client.destroy();
  check('engine: listen({ path }) serves a unix domain socket', response.status === 200 && response.body.toString() === 'over a unix socket', show(response));
}

async function engineChecks(port, check, closedFile) {
  const stats = async () => {
    const client = new Client(port);
    client.write(get('/stats'));
    const response = await client.next();
    client.destroy();
    return JSON.parse(response.body.toString());
  };

  // Keep-alive: three requests, one at a time, on one connection that stays open.
  const alive = new Client(port);
  const answers = [];
  for (const n of [1, 2, 3]) {
    alive.write(get(`/hello?${n}`));
    answers.push(await alive.next());
  }
  check('engine: three requests in turn on one keep-alive connection',
    same(answers.map((r) => [r.status, r.body.toString(), r.headers['content-length'], r.headers['content-type'], r.headers.connection]),
      [1, 2, 3].map((n) => [200, `hello ${n}`, String(`hello ${n}`.length), 'text/plain', undefined])) && !(await alive.closesWithin(200)),
    answers.map((r) => show(r, 'connection')).join('; '));

  // Pipelining: a slow answer first, then faster ones, all in one write: answered in order.
  alive.write(get('/slow?150') + get('/hello?fast') + post('/echo', 'abc'));
  const piped = [await alive.next(), await alive.next(), await alive.next()];
  check('engine: three pipelined requests answered in request order (the slow first one first)',
    same(piped.map((r) => [r.status, r.body.toString()]), [[200, 'slow 150'], [200, 'hello fast'], [200, 'abc']]),
    piped.map((r) => show(r)).join('; '));

  // Request bodies: by Content-Length, and chunked in pieces written apart.
  alive.write(post('/echo', 'hello world'));
  const byLength = await alive.next();
  alive.write('POST /echo HTTP/1.1\r\nHost: proof\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel');
  await sleep(50);
  alive.write('lo\r\n6\r\n world\r\n');
  await sleep(50);
  alive.write('0\r\n\r\n');
  const chunkedBody = await alive.next();
  const upload = Buffer.alloc(300 * 1024);
  for (let i = 0; i < upload.length; i++) upload[i] = (i * 7) % 256;
  alive.write('POST /echo HTTP/1.1\r\nHost: proof\r\nTransfer-Encoding: chunked\r\n\r\n');
  for (let at = 0; at < upload.length; at += 10000) {
    const piece = upload.subarray(at, at + 10000);
    alive.write(`${piece.length.toString(16)}\r\n`);
    alive.write(piece);
    alive.write('\r\n');
  }
  alive.write('0\r\n\r\n');
  const bigUpload = await alive.next();
  check('engine: request bodies by Content-Length and chunked (in pieces; 300 KiB in 10 kB chunks) echoed exactly',
    byLength.status === 200 && byLength.body.toString() === 'hello world' && byLength.headers['x-framing'] === 'length'
      && chunkedBody.status === 200 && chunkedBody.body.toString() === 'hello world' && chunkedBody.headers['x-framing'] === 'chunked'
      && bigUpload.status === 200 && bigUpload.body.equals(upload),
    [show(byLength, 'x-framing'), show(chunkedBody, 'x-framing'), show(bigUpload)].join('; '));

  // A chunked response written in three pieces, the last two later.
  alive.write(get('/chunked'));
  const chunked = await alive.next();
  check('engine: a response without a length goes out chunked, its pieces as written',
    chunked.status === 200 && chunked.headers['transfer-encoding'] === 'chunked' && chunked.headers['content-length'] === undefined
      && chunked.body.toString() === 'alpha,beta,gamma' && chunked.chunks.length >= 2 && chunked.chunks[0].toString() === 'alpha,',
    `${show(chunked, 'transfer-encoding')} chunks ${JSON.stringify(chunked.chunks.map(String))}`);

  // A 16 MiB response to a client that stops reading for a second: the engine waits for drain.
  const large = new Client(port);
  large.write(get('/large'));
  large.socket.pause();
  await sleep(1000);
  large.socket.resume();
  const big = await large.next(60000);
  large.destroy();
  const { drainWaits } = await stats();
  check('engine: a 16 MiB response to a client that paused reading arrives whole, the writer having waited for drain',
    big.status === 200 && big.headers['content-length'] === String(LARGE) && isLargePattern(big.body) && drainWaits > 0,
    `${show(big, 'content-length')}, pattern ${isLargePattern(big.body) ? 'intact' : 'WRONG'}, waited for drain ${drainWaits} times`);

  // Hostile requests: refused with 400 and the connection closed.
  for (const [what, bytes, reason] of [
    ['Content-Length with Transfer-Encoding (smuggling)', 'POST /echo HTTP/1.1\r\nHost: proof\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      'both Content-Length and Transfer-Encoding\n'],
    ['a header line without a colon', 'GET /hello HTTP/1.1\r\nHost: proof\r\nno colon here\r\n\r\n', 'invalid header field name\n'],
  ]) {
    const hostile = new Client(port);
    hostile.write(bytes);
    const refused = await hostile.next();
    const closes = await hostile.closesWithin(5000);
    hostile.destroy();
    check(`engine: ${what} refused with 400 and the connection closed`,
      refused.status === 400 && refused.body.toString() === reason && refused.headers.connection === 'close' && closes,
      `${show(refused, 'connection')}, closed ${closes}`);
  }

  // A client that resets mid-body: its exchange aborts, and the server goes on serving.
  const reset = new Client(port);
  await reset.connected;
  reset.write('POST /echo HTTP/1.1\r\nHost: proof\r\nContent-Length: 100000\r\n\r\n');
  reset.write(Buffer.alloc(1000, 'x'));
  await sleep(200);
  reset.socket.resetAndDestroy();
  await sleep(300);
  const after = await stats();
  alive.destroy();
  const other = new Client(port);
  other.write(get('/hello?after-reset'));
  const still = await other.next();
  check('engine: a client reset mid-body aborts its exchange; other connections are served on',
    after.aborts === 1 && still.status === 200 && still.body.toString() === 'hello after-reset',
    `aborts ${after.aborts}, then ${show(still)}`);

  // server.close(): the asking connection gets its answer (made before close() was called) and is
  // closed, so is an idle keep-alive one, new connections are refused, and close's callback runs.
  const idle = other;
  const closer = new Client(port);
  closer.write(get('/close'));
  const closing = await closer.next();
  const closerCloses = await closer.closesWithin(5000);
  const idleCloses = await idle.closesWithin(5000);
  const refused = await new Promise((resolve) => {
    const probe = net.connect(port, '127.0.0.1');
    probe.on('connect', () => {
      probe.destroy();
      resolve('accepted');
    });
    probe.on('error', (err) => resolve(err.code));
  });
  let called = false;
  for (let i = 0; i < 50 && !called; i++) {
    called = fs.existsSync(closedFile);
    if (!called) await sleep(100);
  }
  closer.destroy();
  check("engine: server.close() answers the request in flight, closes the idle keep-alive connection, refuses new ones, calls back",
    closing.status === 200 && closing.body.toString() === 'closing' && closerCloses && idleCloses && refused === 'ECONNREFUSED' && called,
    `${show(closing)}, then closed ${closerCloses}; idle closed ${idleCloses}; new connection ${refused}; callback ${called}`);
  idle.destroy();
}

async function expressChecks(port, check, report) {
  check('Express: an unmodified app under -r pyre-http/register gets a Pyre server', report.onPyre === true, JSON.stringify(report));
  const client = new Client(port);
  client.write(get('/users/7?x=1'));
  const user = await client.next();
  client.write(post('/users', '{"name":"ada"}', 'application/json'));
  const created = await client.next();
  client.write(get('/old'));
  const moved = await client.next();
  client.write(get('/nowhere'));
  const missing = await client.next();
  const open = !(await client.closesWithin(200));
  client.destroy();
  check('Express: route params and query, JSON body, redirect, 404, all on one keep-alive connection',
    user.status === 200 && user.body.toString() === '{"id":"7","query":{"x":"1"}}' && user.headers['content-type'] === 'application/json; charset=utf-8'
      && created.status === 201 && created.body.toString() === '{"created":"ada"}'
      && moved.status === 301 && moved.headers.location === '/users/1'
      && missing.status === 404 && missing.body.toString() === 'no GET /nowhere' && open,
    [show(user, 'content-type'), show(created), show(moved, 'location'), show(missing)].join('; ') + `; kept open ${open}`);
}

/** A free loopback port (for the Express app, which listens where PORT says). */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Starts `args` under the runner in appDir; resolves the child once `file` exists (its JSON). */
async function start(runner, appDir, args, file, log, env = {}, timeoutMs = 120000) {
  const out = fs.openSync(log, 'w');
  const child = spawn(runner.command, [...runner.args, ...args], { cwd: appDir, env: { ...process.env, ...runner.env, ...env }, stdio: ['ignore', out, out] });
  fs.closeSync(out);
  const started = Date.now();
  for (;;) {
    if (fs.existsSync(file)) return { child, ready: JSON.parse(fs.readFileSync(file, 'utf8')), seconds: (Date.now() - started) / 1000 };
    if (child.exitCode !== null || child.signalCode !== null || Date.now() - started > timeoutMs) {
      child.kill('SIGKILL');
      throw new Error(`${args.join(' ')} did not start (${child.exitCode ?? child.signalCode ?? 'timed out'}): ${fs.readFileSync(log, 'utf8').slice(-2000)}`);
    }
    await sleep(100);
  }
}

/** Resolves true when the child exits within `ms`; kills it otherwise. */
function exitsWithin(child, ms) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return settlesWithin(new Promise((resolve) => child.once('exit', resolve)), ms)
    .then((exited) => {
      if (!exited) child.kill('SIGKILL');
      return exited;
    });
}

/** The proof scripts where appDir resolves pyre-http: in place in the checkout, else copied into it. */
function proofDir(appDir) {
  const pkg = path.join(appDir, 'package.json');
  if (fs.existsSync(pkg) && JSON.parse(fs.readFileSync(pkg, 'utf8')).name === 'pyre-http') return __dirname;
  const dir = path.join(appDir, 'pyre-proof');
  fs.mkdirSync(dir, { recursive: true });
  for (const file of ['engine-app.js', 'express-app.js', 'which-server.js']) fs.copyFileSync(path.join(__dirname, file), path.join(dir, file));
  return dir;
}

async function proveHttp({ runner, appDir, check }) {
  const scripts = proofDir(appDir);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'pyre-http-proof-'));
  try {
    const ready = path.join(work, 'engine.json');
    const engine = await start(runner, appDir, [path.join(scripts, 'engine-app.js'), ready], ready, path.join(work, 'engine.log'));
    try {
      check(`engine app runs on ${engine.ready.platform} ${engine.ready.arch}, Node ${engine.ready.node}`, true, `listening after ${engine.seconds.toFixed(1)} s`);
      await pathChecks(engine.ready, check);
      await engineChecks(engine.ready.port, check, `${ready}.closed`);
      check('engine app exits by itself once server.close() is done', await exitsWithin(engine.child, 10000));
    } finally {
      engine.child.kill('SIGKILL');
    }
    const report = path.join(work, 'express.json');
    const port = await freePort();
    const express = await start(runner, appDir, ['-r', 'pyre-http/register', '-r', path.join(scripts, 'which-server.js'), path.join(scripts, 'express-app.js')],
      report, path.join(work, 'express.log'), { PORT: String(port), PROOF_SERVER_FILE: report });
    try {
      await expressChecks(express.ready.port, check, express.ready);
    } finally {
      express.child.kill('SIGKILL');
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

module.exports = { proveHttp };
