// Response heads beside node's, byte for byte (the Date value aside): where Date goes, the
// Connection and Keep-Alive lines, 204/304 framing, the status fixed by writeHead(), a 101 on an
// ordinary request. The same handler and the same raw requests go to node:http and the drop-in.
import * as http from 'node:http';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import { createServer as createPyreServer } from '../../compat/server';

const SIDES: [string, (listener: http.RequestListener) => http.Server][] = [
  ['node', (listener) => http.createServer(listener)],
  ['pyre', (listener) => createPyreServer(listener) as unknown as http.Server],
];

/** Everything the server sends for `bytes` until it closes (or 1 s passes), Date values blanked. */
function exchange(port: number, bytes: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(bytes));
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      text += chunk;
    });
    const done = (): void => resolve(text.replace(/\r\nDate: [^\r]*/g, '\r\nDate: <date>'));
    const timer = setTimeout(() => socket.destroy(), 1000);
    socket.on('close', () => {
      clearTimeout(timer);
      done();
    });
    socket.on('error', () => undefined);
  });
}

async function bothSend(listener: http.RequestListener, bytes: string): Promise<Record<string, string>> {
  const seen: Record<string, string> = {};
  for (const [side, make] of SIDES) {
    const server = make(listener);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    seen[side] = await exchange((server.address() as AddressInfo).port, bytes);
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  return seen;
}

const GET = 'GET / HTTP/1.1\r\nHost: x\r\n\r\n';
const GET_CLOSE = 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n';

describe('response heads as node writes them', () => {
  test.each<[string, http.RequestListener, string]>([
    ['writeHead fields, then Date, then Connection and Keep-Alive', (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain', 'X-A': '1' });
      res.end('hello');
    }, GET],
    ['setHeader fields and an implicit head', (_req, res) => {
      res.setHeader('X-B', ['1', '2']);
      res.end('hello');
    }, GET_CLOSE],
    ['a Keep-Alive field of the handler\'s own is the only one', (_req, res) => {
      res.setHeader('Keep-Alive', 'timeout=1');
      res.end('hello');
    }, GET],
    ['a streamed response', (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.write('a');
      res.end('b');
    }, GET],
    ['a 204 that says it is chunked: no chunks, and the connection closes', (_req, res) => {
      res.writeHead(204, { 'Transfer-Encoding': 'chunked' });
      res.end();
    }, GET],
    ['a 304 that says it is chunked', (_req, res) => {
      res.writeHead(304, { 'Transfer-Encoding': 'chunked' });
      res.end();
    }, GET],
    ['statusCode changed after writeHead() changes nothing sent', (_req, res) => {
      res.writeHead(200, { 'X-A': '1' });
      res.statusCode = 201;
      res.end('ok');
    }, GET_CLOSE],
    ['a 101 on an ordinary request is sent, bodiless, and the connection goes on', (_req, res) => {
      res.statusCode = 101;
      res.end();
    }, `${GET}${GET_CLOSE}`],
    ['sendDate = false', (_req, res) => {
      res.sendDate = false;
      res.end('x');
    }, GET_CLOSE],
  ])('%s', async (_name, listener, bytes) => {
    const seen = await bothSend(listener, bytes);
    expect(seen.pyre).toBe(seen.node);
  });
});
