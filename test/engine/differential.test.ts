// Differential test: the same well-formed requests, sent byte for byte to Pyre's fast path and
// to node's http, with the same application logic written for each; the answers must agree on
// status line, headers (less Date, Connection and Keep-Alive), body and trailers.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Exchange } from '../../src/engine/exchange';
import { sendAndAwaitClose, startServer, stopAll, type ParsedResponse } from './helpers';

/** The application, once: what to answer for a request. */
type Answer =
  | { kind: 'whole'; status: number; headers: Record<string, string>; body?: string }
  | { kind: 'stream'; pieces: string[]; trailers?: Record<string, string> };

function answer(method: string, url: string, httpVersion: string, probe: string | undefined, body: Buffer): Answer {
  if (url === '/stream') return { kind: 'stream', pieces: ['a', 'bb', 'ccc'] };
  if (url === '/trailers') return { kind: 'stream', pieces: ['data'], trailers: { 'x-digest': 'abc' } };
  const status = /^\/status\/(\d{3})$/.exec(url);
  if (status) return { kind: 'whole', status: Number(status[1]), headers: {}, body: Number(status[1]) >= 400 ? 'nope' : undefined };
  return {
    kind: 'whole',
    status: 200,
    headers: { 'content-type': 'application/json', 'x-custom': 'yes' },
    body: JSON.stringify({ method, url, httpVersion, probe, body: body.toString('latin1') }),
  };
}

function pyreHandler(ex: Exchange): void {
  void ex.body().then((body) => {
    const reply = answer(ex.method, ex.url, ex.httpVersion, ex.header('x-probe'), body);
    if (reply.kind === 'whole') return ex.respond(reply.status, reply.body, reply.headers);
    ex.writeHead(200, { 'content-type': 'text/plain' });
    for (const piece of reply.pieces) ex.write(piece);
    ex.end(undefined, reply.trailers);
  });
}

function nodeHandler(req: http.IncomingMessage, res: http.ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const probe = req.headers['x-probe'];
    const reply = answer(req.method ?? '', req.url ?? '', req.httpVersion, Array.isArray(probe) ? probe.join(', ') : probe, Buffer.concat(chunks));
    if (reply.kind === 'whole') {
      res.statusCode = reply.status;
      for (const [name, value] of Object.entries(reply.headers)) res.setHeader(name, value);
      res.end(reply.body);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain' });
    for (const piece of reply.pieces) res.write(piece);
    if (reply.trailers) res.addTrailers(reply.trailers);
    res.end();
  });
}

const IGNORED = new Set(['date', 'connection', 'keep-alive']);

/** What must agree: the status line, the headers that matter (sorted), body and trailers. */
function comparable(response: ParsedResponse, leaveOut: string[] = []): object {
  return {
    statusLine: response.statusLine,
    headers: response.rawHeaders
      .map(([name, value]) => `${name.toLowerCase()}: ${value}`)
      .filter((line) => !IGNORED.has(line.slice(0, line.indexOf(':'))) && !leaveOut.includes(line))
      .sort(),
    body: response.body.toString('latin1'),
    trailers: response.trailers,
  };
}

let pyrePort: number;
let nodeServer: http.Server;
let nodePort: number;

beforeAll(async () => {
  pyrePort = startServer(pyreHandler).port;
  nodeServer = http.createServer(nodeHandler);
  await new Promise<void>((resolve) => nodeServer.listen(0, '127.0.0.1', resolve));
  nodePort = (nodeServer.address() as AddressInfo).port;
});

afterAll(async () => {
  await stopAll();
  await new Promise<void>((resolve) => nodeServer.close(() => resolve()));
});

// Every request ends its connection (Connection: close, or HTTP/1.0), so each side's complete
// answer is whatever arrived before the close.
const close = 'Connection: close\r\n';
// The third column: headers Pyre sends where node sends none, on purpose. Node omits
// Content-Length on a HEAD response and on an HTTP/1.0 response it frames by the close; RFC 9110
// section 8.6 lets a server send it in both (for HEAD, the length GET would have had), and it
// lets a 1.0 client tell a complete body from a cut one.
const requests: [string, string, string[]?][] = [
  ['GET /', `GET / HTTP/1.1\r\nHost: t\r\n${close}\r\n`],
  ['GET with a query and percent-encoding', `GET /p%20q/r?x=1&y=%26 HTTP/1.1\r\nHost: t\r\n${close}\r\n`],
  ['HEAD', `HEAD /head HTTP/1.1\r\nHost: t\r\n${close}\r\n`, ['content-length: 61']],
  ['POST with Content-Length', `POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\n${close}\r\nhello world`],
  ['POST chunked with extensions and trailers', `POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n${close}\r\n5;e=1\r\nhello\r\n1\r\n!\r\n0\r\nX-T: 1\r\n\r\n`],
  ['PUT with an empty body', `PUT /empty HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n${close}\r\n`],
  ['DELETE', `DELETE /thing/1 HTTP/1.1\r\nHost: t\r\n${close}\r\n`],
  ['OPTIONS *', `OPTIONS * HTTP/1.1\r\nHost: t\r\n${close}\r\n`],
  ['absolute-form', `GET http://t/abs?q HTTP/1.1\r\nHost: t\r\n${close}\r\n`],
  ['repeated request header', `GET /probe HTTP/1.1\r\nHost: t\r\nX-Probe: a\r\nX-Probe: b\r\n${close}\r\n`],
  ['HTTP/1.0 GET', 'GET /ten HTTP/1.0\r\n\r\n', ['content-length: 59']],
  ['HTTP/1.0 streamed (close-delimited)', 'GET /stream HTTP/1.0\r\n\r\n'],
  ['HTTP/1.1 streamed (chunked)', `GET /stream HTTP/1.1\r\nHost: t\r\n${close}\r\n`],
  ['chunked response with trailers', `GET /trailers HTTP/1.1\r\nHost: t\r\n${close}\r\n`],
  ['204', `GET /status/204 HTTP/1.1\r\nHost: t\r\n${close}\r\n`],
  ['304', `GET /status/304 HTTP/1.1\r\nHost: t\r\n${close}\r\n`],
  ['404 with a body', `GET /status/404 HTTP/1.1\r\nHost: t\r\n${close}\r\n`],
  ['Expect: 100-continue', `POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: 100-continue\r\n${close}\r\nbody`],
];

test.each(requests)('%s: Pyre answers as node does', async (_name, request, pyreExtra = []) => {
  const head = request.startsWith('HEAD ');
  const [pyre, node] = await Promise.all([pyrePort, nodePort].map(async (port) => (await sendAndAwaitClose(port, request, head)).responses));
  expect(pyre.length).toBeGreaterThan(0);
  for (const extra of pyreExtra) expect(pyre[0].rawHeaders.map(([n, v]) => `${n.toLowerCase()}: ${v}`)).toContain(extra);
  expect(pyre.map((r) => comparable(r, pyreExtra))).toEqual(node.map((r) => comparable(r)));
});
