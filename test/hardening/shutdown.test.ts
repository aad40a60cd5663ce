// Graceful shutdown under load: close() while requests are in flight (being handled, queued
// behind others on pipelined connections, or still uploading) loses none of them.
import * as net from 'node:net';
import { RawClient, delay, startServer } from '../engine/helpers';
import { KeepAliveLoad } from '../cli/keep-alive-load';

const CONNECTIONS = 40;
const PIPELINED = 3;

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => { socket.destroy(); resolve(false); });
    socket.once('error', () => resolve(true));
  });
}

test(`close() with ${CONNECTIONS * PIPELINED} requests in flight answers every one, then closes`, async () => {
  let dispatched = 0;
  const { server, port } = startServer((ex) => {
    dispatched++;
    // Answers come back over the next 20–120 ms, long after close().
    setTimeout(() => ex.respond(200, `answer to ${ex.url}`), 20 + Math.random() * 100);
  });
  const clients = await Promise.all(Array.from({ length: CONNECTIONS }, () => RawClient.connect(port)));
  clients.forEach((client, c) => {
    const requests = Array.from({ length: PIPELINED }, (_, r) => `GET /${c}/${r} HTTP/1.1\r\nHost: t\r\n\r\n`);
    client.write(requests.join(''));
  });
  while (dispatched < CONNECTIONS) await delay(2);

  let closed = false;
  server.close(() => { closed = true; });
  const answers = await Promise.all(clients.map(async (client, c) => {
    const responses = await client.closedByServer(10_000);
    return responses.map((r) => `${r.status} ${r.body.toString()}`).join(',');
  }));
  answers.forEach((answer, c) => {
    expect(answer).toBe(Array.from({ length: PIPELINED }, (_, r) => `200 answer to /${c}/${r}`).join(','));
  });
  const start = Date.now();
  while (!closed && Date.now() - start < 3000) await delay(5);
  expect(closed).toBe(true);
  expect(server.connections).toBe(0);
  expect(await refused(port)).toBe(true);
});

test('close() while a request body is still uploading: the upload completes and is answered', async () => {
  const { server, port } = startServer(async (ex) => ex.respond(200, await ex.body()));
  const client = await RawClient.connect(port);
  client.write('POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nhello');
  await delay(50);
  const closing = new Promise<void>((resolve) => server.close(() => resolve()));
  await delay(50);
  client.write('world');
  const [response] = await client.closedByServer();
  expect(response.status).toBe(200);
  expect(response.body.toString()).toBe('helloworld');
  await closing;
});

test('close() closes idle keep-alive connections at once, without waiting for their timeout', async () => {
  const { server, port } = startServer((ex) => ex.respond(200, 'ok'), { keepAliveTimeout: 60_000 });
  const idle = await Promise.all(Array.from({ length: 10 }, () => RawClient.connect(port)));
  for (const client of idle) client.write('GET / HTTP/1.1\r\nHost: t\r\n\r\n');
  await Promise.all(idle.map((client) => client.responses(1)));
  const started = Date.now();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  expect(Date.now() - started).toBeLessThan(2000);
  await Promise.all(idle.map((client) => client.closedByServer()));
});

test('close() under steady keep-alive load: every request the client wrote is answered, the last on each connection with Connection: close', async () => {
  // Each connection sends its next request as soon as an answer is in, so at close() most of
  // them are idle for the server while the client is writing its next request. Connections
  // idle past the grace close without a last answer; the others' last answer says close.
  const { server, port } = startServer((ex) => ex.respond(200, JSON.stringify({ pid: process.pid })));
  const load = new KeepAliveLoad(port, { connections: 8, reconnect: false }).start();
  await load.answers(2000);
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  const report = await load.ended();
  await closed;
  expect(report).toMatchObject({ lost: 0, refused: 0 });
  expect(report.answered).toBe(report.written);
  expect(report.closes).toBeGreaterThan(0);
});

test('close() with a keep-alive client idle after its answer: closed after the 100 ms grace, not its keep-alive timeout', async () => {
  const { server, port } = startServer((ex) => ex.respond(200, 'ok'), { keepAliveTimeout: 60_000 });
  const client = await RawClient.connect(port);
  client.write('GET / HTTP/1.1\r\nHost: t\r\n\r\n');
  await client.responses(1);
  const started = Date.now();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  const took = Date.now() - started;
  expect(took).toBeGreaterThanOrEqual(50);
  expect(took).toBeLessThan(1000);
  await client.closedByServer();
});

test('close() just after a connection was accepted, before its first request arrived: the request is answered, with Connection: close', async () => {
  // A client's connect() returns once the connection is queued, and its request follows; a
  // server that stops at that moment has accepted a connection whose request is on its way.
  const { server, port } = startServer((ex) => ex.respond(200, 'ok'));
  const client = await RawClient.connect(port);
  while (server.connections === 0) await delay(2);
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  await delay(30);
  client.write('GET / HTTP/1.1\r\nHost: t\r\n\r\n');
  const [response] = await client.closedByServer();
  expect(response?.status).toBe(200);
  expect(response.headers.connection).toBe('close');
  await closed;
});

test('close() with a connection accepted that never sends a request: closed after the 100 ms grace', async () => {
  const { server, port } = startServer((ex) => ex.respond(200, 'ok'));
  const client = await RawClient.connect(port);
  while (server.connections === 0) await delay(2);
  const started = Date.now();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  const took = Date.now() - started;
  expect(took).toBeGreaterThanOrEqual(50);
  expect(took).toBeLessThan(1000);
  expect(await client.closedByServer()).toEqual([]);
});
