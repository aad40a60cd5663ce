// Fastify 5 with serverFactory: node:http and Pyre side by side, answers compared byte for byte.
import * as os from 'node:os';
import * as path from 'node:path';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import { writeStaticFiles } from './express-app';
import { buildFastifyApp } from './fastify-app';
import { expectSame, type Pair, startSides } from './differential';

// @fastify/static needs content-disposition 3, which is ESM-only: jest cannot require it on
// Node 20. The CommonJS 2.x that Express ships exports the same `create`, so jest gets that one.
jest.mock('content-disposition', () => jest.requireActual('../../node_modules/express/node_modules/content-disposition'));

const staticDir = path.join(os.tmpdir(), `pyre-compat-fastify-${process.pid}`);
let pair: Pair;

beforeAll(async () => {
  writeStaticFiles(staticDir);
  pair = await startSides(async (createServer) => {
    const app = buildFastifyApp(createServer, staticDir);
    await app.listen({ port: 0, host: '127.0.0.1' });
    return { port: (app.server.address() as AddressInfo).port, close: () => app.close() };
  });
});
afterAll(() => pair.close());

describe('Fastify 5 on Pyre answers as on node:http', () => {
  test('string and JSON replies', async () => {
    expect((await expectSame(pair, { path: '/hello' })).body.toString()).toBe('Hello from Fastify');
    await expectSame(pair, { path: '/hello', headers: { connection: 'keep-alive' } });
    await expectSame(pair, { path: '/json?x=1' });
  });

  test('JSON schema: serialization and validation errors', async () => {
    const created = await expectSame(pair, { method: 'POST', path: '/users', headers: { 'content-type': 'application/json' }, body: '{"name":"Ada","age":36}' });
    expect(JSON.parse(created.body.toString())).toEqual({ id: 7, name: 'Ada' });
    expect((await expectSame(pair, { method: 'POST', path: '/users', headers: { 'content-type': 'application/json' }, body: '{"age":"old"}' })).status).toBe(400);
  });

  test('stream reply', async () => {
    expect((await expectSame(pair, { path: '/stream' })).body.toString()).toBe('one two three');
  });

  test('reply.hijack() and the raw response', async () => {
    expect((await expectSame(pair, { path: '/hijack' })).body.toString()).toBe('raw reply');
  });

  test('error and 404 handlers', async () => {
    expect((await expectSame(pair, { path: '/fail' })).status).toBe(409);
    expect((await expectSame(pair, { path: '/no/such/route' })).status).toBe(404);
  });

  test('@fastify/static with HEAD, ranges and 304', async () => {
    await expectSame(pair, { path: '/static/hello.txt' });
    await expectSame(pair, { method: 'HEAD', path: '/static/hello.txt' });
    expect((await expectSame(pair, { path: '/static/big.txt', headers: { range: 'bytes=0-9' } })).status).toBe(206);
    const first = await expectSame(pair, { path: '/static/hello.txt' });
    const etag = first.headers.find(([name]) => name === 'etag')?.[1] ?? '';
    expect((await expectSame(pair, { path: '/static/hello.txt', headers: { 'if-none-match': etag } })).status).toBe(304);
  });

  test('@fastify/multipart upload', async () => {
    const boundary = 'fastifyBoundary';
    const body = `--${boundary}\r\nContent-Disposition: form-data; name="note"\r\n\r\nhello\r\n--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.bin"\r\nContent-Type: application/octet-stream\r\n\r\n${'x'.repeat(5000)}\r\n--${boundary}--\r\n`;
    const reply = await expectSame(pair, { method: 'POST', path: '/upload', headers: { 'content-type': `multipart/form-data; boundary=${boundary}` }, body });
    expect(JSON.parse(reply.body.toString()).parts).toHaveLength(2);
  });

  // Fastify answers a malformed request from its own 'clientError' listener (a JSON 400 written
  // to the socket); Pyre lets that listener choose the answer, as node does.
  test.each([
    ['a bad request line', 'G(T / HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['an oversized header', `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`],
  ])("%s gets Fastify's own client-error answer", async (_name, request) => {
    const [onNode, onPyre] = await Promise.all([rawExchange(pair.node, request), rawExchange(pair.pyre, request)]);
    expect(onPyre).toBe(onNode);
    expect(onPyre).toMatch(/^HTTP\/1\.1 4\d\d [^\r]+\r\nContent-Length: \d+\r\nContent-Type: application\/json\r\n\r\n\{"error":/);
  });
});

/** Sends `request` on a fresh connection; everything the server sent before closing it. */
function rawExchange(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const socket = net.connect(port, '127.0.0.1', () => socket.write(request));
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (text += chunk));
    // A reset after the answer (the server closing with input unread) still counts what arrived.
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(text));
    socket.setTimeout(3000, () => reject(new Error(`no close after 3 s: ${JSON.stringify(text)}`)));
  });
}
