// What is measured: each case is one request (method, path, body) with the exact answer every
// server must give before it is loaded, and the load it is measured under.
const fixtures = require('./fixtures');

const textAnswer = (text) => ({ type: 'text/plain', matches: (body) => body.toString('utf8') === text, shows: text });
const jsonAnswer = (value) => {
  const expected = JSON.stringify(value);
  const shows = expected.length > 80 ? `${expected.slice(0, 77)}...` : expected;
  return { type: 'application/json', matches: (body) => sameJson(body, expected), shows };
};
const bytesAnswer = (bytes, what) => ({ type: '', matches: (body) => body.equals(bytes), shows: what });

function sameJson(body, expected) {
  try {
    return JSON.stringify(JSON.parse(body.toString('utf8'))) === expected;
  } catch {
    return false;
  }
}

/** The three hello-world cases every earlier issue was measured on; GET / also pipelined. */
const HELLO = { id: 'hello', title: 'GET / hello', method: 'GET', url: '/', answer: textAnswer('Hello, World!'), pipelined: true };
const HELLO_NAME = { id: 'hello-name', title: 'GET /hello/:name', method: 'GET', url: '/hello/world', answer: textAnswer('Hello, world!'), pipelined: true };
const USER = { id: 'user', title: 'GET /users/:id', method: 'GET', url: '/users/42', answer: jsonAnswer({ id: 42, name: 'User 42' }), pipelined: true };

const ORDER = fixtures.order();
/** 1: a JSON document posted, parsed, one field added, sent back. */
const JSON_ECHO = {
  id: 'json-echo',
  title: 'POST JSON echo 1.5 KB',
  method: 'POST',
  url: '/echo',
  body: Buffer.from(JSON.stringify(ORDER)),
  contentType: 'application/json',
  answer: jsonAnswer(fixtures.echoed(ORDER)),
};
/** 2: an upload read as a stream and counted; the answer is the count. */
const UPLOAD = {
  id: 'upload-256k',
  title: 'POST 256 KiB upload, counted',
  method: 'POST',
  url: '/upload',
  body: fixtures.upload(),
  contentType: 'application/octet-stream',
  answer: jsonAnswer({ bytes: fixtures.UPLOAD_SIZE }),
};

/** 3: large responses from one Buffer in memory, and streamed from a file. */
const bytesCase = (name, source) => ({
  id: `${source}-${name}`,
  title: `GET ${name === '1m' ? '1 MiB' : '64 KiB'} ${source === 'buffer' ? 'from a Buffer' : 'streamed from a file'}`,
  method: 'GET',
  url: `/${source}/${name}`,
  answer: bytesAnswer(fixtures.body(name), `the ${fixtures.SIZES[name]} fixture bytes`),
});
const BUFFER_64K = bytesCase('64k', 'buffer');
const BUFFER_1M = bytesCase('1m', 'buffer');
const STREAM_64K = bytesCase('64k', 'stream');
const STREAM_1M = bytesCase('1m', 'stream');

/** 4: a 1 MiB file from each framework's static file serving. */
const STATIC_1M = {
  id: 'static-1m',
  title: 'GET static file 1 MiB',
  method: 'GET',
  url: '/static/1m.bin',
  answer: bytesAnswer(fixtures.body('1m'), 'the 1 MiB fixture file'),
};

/**
 * 5: hello world over 10,000 keep-alive connections, and the memory each idle one costs. The
 * loaded case runs three times as long as the others, so that accepting the 10,000 connections
 * at its start weighs less in its CPU per request.
 */
const MANY_CONNECTIONS = 10_000;
const HELLO_10K = {
  ...HELLO, id: 'hello-10k', title: `GET / hello, ${MANY_CONNECTIONS / 1000}k connections`, pipelined: false, connections: MANY_CONNECTIONS, durationFactor: 3,
};
const IDLE_10K = { ...HELLO, id: 'idle-10k', title: `${MANY_CONNECTIONS / 1000}k idle keep-alive connections`, pipelined: false, idle: MANY_CONNECTIONS };

/** 7: an Express app of 50 routes with express.json() and two header-setting middleware. */
const APP_GET = {
  id: 'app-get',
  title: 'Express app, GET route 37 of 50',
  method: 'GET',
  url: '/api/resource37/42',
  answer: jsonAnswer({ resource: 37, id: 42, name: 'Resource 37 item 42' }),
};
const APP_POST = {
  id: 'app-post',
  title: 'Express app, POST JSON (express.json())',
  method: 'POST',
  url: '/api/orders',
  body: JSON_ECHO.body,
  contentType: 'application/json',
  answer: jsonAnswer(fixtures.echoed(ORDER)),
};

/** In report and chart order. */
const CASES = [HELLO, HELLO_NAME, USER, JSON_ECHO, UPLOAD, BUFFER_64K, BUFFER_1M, STREAM_64K, STREAM_1M, STATIC_1M,
  HELLO_10K, IDLE_10K, APP_GET, APP_POST];

module.exports = {
  CASES, HELLO, HELLO_NAME, USER, JSON_ECHO, UPLOAD, BUFFER_64K, BUFFER_1M, STREAM_64K, STREAM_1M, STATIC_1M,
  HELLO_10K, IDLE_10K, APP_GET, APP_POST, MANY_CONNECTIONS,
};
