// What the soak's clients do. Each scenario runs one round on its own connection(s) and returns
// how many responses it checked; a wrong or missing answer throws a SoakError naming its kind.
const crypto = require('node:crypto');
const { Connection, SoakError } = require('./client');
const { patternChecker } = require('./pattern');

const HELLO = Buffer.from('GET /hello HTTP/1.1\r\nHost: soak\r\n\r\n');
const HELLO_AND_CLOSE = Buffer.from('GET /hello HTTP/1.1\r\nHost: soak\r\nConnection: close\r\n\r\n');

const randomInt = (min, max) => min + Math.floor(Math.random() * (max - min + 1));
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

function echoRequest(body) {
  return Buffer.concat([Buffer.from(`POST /echo HTTP/1.1\r\nHost: soak\r\nContent-Length: ${body.length}\r\n\r\n`), body]);
}

function expectHello(response) {
  if (response.status !== 200 || response.body.toString() !== 'Hello, World!') {
    throw new SoakError('wrong-answer', `/hello gave ${response.status} ${JSON.stringify(response.body.toString().slice(0, 60))}`);
  }
}

function expectEcho(response, sent) {
  if (response.status !== 200 || !response.body.equals(sent)) {
    throw new SoakError('wrong-answer', `/echo of ${sent.length} bytes gave ${response.status} with ${response.body.length} bytes`);
  }
}

/** A request with what checks its answer: hello, or an echo of up to `maxBody` random bytes. */
function mixedRequest(maxBody) {
  if (Math.random() < 0.5) return { bytes: HELLO, check: expectHello };
  const body = crypto.randomBytes(randomInt(0, maxBody));
  return { bytes: echoRequest(body), check: (response) => expectEcho(response, body) };
}

/** Runs `use` on a fresh connection and always closes it. */
async function withConnection(port, use) {
  const conn = await Connection.open(port);
  try {
    return await use(conn);
  } finally {
    conn.close();
  }
}

/** Sequential requests on one keep-alive connection. */
function keepAlive(port) {
  return withConnection(port, async (conn) => {
    const rounds = randomInt(5, 40);
    for (let i = 0; i < rounds; i++) {
      const request = mixedRequest(16 * 1024);
      conn.write(request.bytes);
      request.check(await conn.response());
    }
    return rounds;
  });
}

/** One request per connection, which the server must close. */
function shortLived(port) {
  return withConnection(port, async (conn) => {
    conn.write(HELLO_AND_CLOSE);
    expectHello(await conn.response());
    await conn.closedByServer();
    return 1;
  });
}

/** Many requests in one write; the answers must come back complete and in order. */
function pipelined(port) {
  return withConnection(port, async (conn) => {
    const requests = Array.from({ length: randomInt(2, 32) }, () => mixedRequest(2048));
    conn.write(Buffer.concat(requests.map((r) => r.bytes)));
    for (const request of requests) request.check(await conn.response());
    return requests.length;
  });
}

/** A chunked upload sent in pieces over several loop turns, echoed back whole. */
function chunkedUpload(port) {
  return withConnection(port, async (conn) => {
    const body = crypto.randomBytes(randomInt(1, 256 * 1024));
    conn.write('POST /echo HTTP/1.1\r\nHost: soak\r\nTransfer-Encoding: chunked\r\n\r\n');
    for (let at = 0; at < body.length;) {
      const piece = body.subarray(at, at + randomInt(1, 32 * 1024));
      at += piece.length;
      conn.write(`${piece.length.toString(16)}\r\n`);
      conn.write(piece);
      conn.write('\r\n');
      await nextTurn();
    }
    conn.write('0\r\n\r\n');
    expectEcho(await conn.response(), body);
    return 1;
  });
}

/** A large response read slowly: the reader stops for a while after every 256 KiB. */
function slowReader(port) {
  return withConnection(port, async (conn) => {
    const size = randomInt(1, 6) * 1024 * 1024 + randomInt(0, 1000);
    const chunked = Math.random() < 0.5;
    conn.write(`GET /large?n=${size}${chunked ? '&chunked' : ''} HTTP/1.1\r\nHost: soak\r\n\r\n`);
    const checker = patternChecker();
    let sinceStop = 0;
    const sink = {
      write(chunk) {
        checker.write(chunk);
        sinceStop += chunk.length;
        if (sinceStop >= 256 * 1024) {
          sinceStop = 0;
          conn.socket.pause();
          setTimeout(() => conn.socket.resume(), randomInt(5, 40));
        }
      },
      result: checker.result,
    };
    const { status, body } = await conn.response({ sink, timeoutMs: 60_000 });
    if (status !== 200 || body.length !== size || body.badAt !== -1) {
      throw new SoakError('wrong-answer', `/large?n=${size} gave ${status}, ${body.length} bytes, first wrong byte at ${body.badAt}`);
    }
    return 1;
  });
}

/** Sends a head and part of the body, then resets: the server must just forget the request. */
function resetMidRequest(port) {
  return withConnection(port, async (conn) => {
    const length = randomInt(1024, 1024 * 1024);
    conn.write(`POST /echo HTTP/1.1\r\nHost: soak\r\nContent-Length: ${length}\r\n\r\n`);
    conn.write(crypto.randomBytes(randomInt(0, length - 1)));
    await new Promise((resolve) => setTimeout(resolve, randomInt(0, 20)));
    conn.reset();
    return 0;
  });
}

/** Asks for a large response and resets after reading part of it. */
function resetMidResponse(port) {
  return withConnection(port, async (conn) => {
    conn.write(`GET /large?n=${16 * 1024 * 1024}${Math.random() < 0.5 ? '&chunked' : ''} HTTP/1.1\r\nHost: soak\r\n\r\n`);
    await conn.receivedAtLeast(randomInt(1, 4 * 1024 * 1024));
    conn.reset();
    return 0;
  });
}

/** Scenario name -> [how many run at once, the scenario]. */
const SCENARIOS = {
  keepAlive: [2, keepAlive],
  shortLived: [1, shortLived],
  pipelined: [1, pipelined],
  chunkedUpload: [1, chunkedUpload],
  slowReader: [2, slowReader],
  resetMidRequest: [1, resetMidRequest],
  resetMidResponse: [1, resetMidResponse],
};

module.exports = { SCENARIOS };
