// server.emit('connection', socket) on node:http beside Pyre: a net.Socket accepted by another
// server, and a Duplex that is no socket at all, are served as the server's own connections, with
// its listeners; the bytes that come back are node's, byte for byte (Date removed).
import * as http from 'node:http';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { closeServer, delay, type Make, onBoth } from './sides';

/** An app using the server's request, checkContinue and upgrade paths. */
function serve(make: Make): http.Server {
  const server = make((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => {
      body += chunk.toString();
    });
    req.on('end', () => res.end(`${req.method} ${req.url} ${body} via ${req.socket.constructor.name === 'Socket' ? 'socket' : 'stream'}`));
  });
  const wss = new WebSocketServer({ server });
  wss.on('connection', (ws) => ws.on('message', (data) => ws.send(`echo ${data.toString()}`)));
  return server;
}

/** Both ends of an in-memory connection: what one writes, the other reads. */
function duplexPair(): [Duplex, Duplex] {
  const make = (): Duplex & { peer?: Duplex } => new Duplex({
    read() {},
    write(chunk: Buffer, _encoding, callback) {
      (this as Duplex & { peer: Duplex }).peer.push(chunk);
      callback();
    },
    final(callback) {
      (this as Duplex & { peer: Duplex }).peer.push(null);
      callback();
    },
  });
  const a = make();
  const b = make();
  a.peer = b;
  b.peer = a;
  return [a, b];
}

const REQUESTS = 'GET /one HTTP/1.1\r\nHost: t\r\n\r\nPOST /two HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\nbody';

describe("server.emit('connection', socket)", () => {
  test('a net.Socket another server accepted: keep-alive, pipelining, bodies, as on node', async () => {
    const [node, pyre] = await onBoth(async (make) => {
      const server = serve(make);
      const front = net.createServer((socket) => server.emit('connection', socket));
      await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
      const client = net.connect((front.address() as AddressInfo).port, '127.0.0.1');
      let text = '';
      client.setEncoding('latin1');
      client.on('data', (chunk: string) => {
        text += chunk;
      });
      client.write(REQUESTS);
      for (let i = 0; i < 100 && !text.includes('/two'); i++) await delay(5);
      client.destroy();
      await new Promise((resolve) => front.close(resolve));
      await closeServer(server);
      return text.replace(/\r\nDate: [^\r]*/g, '');
    });
    expect(pyre).toBe(node);
    expect(node).toMatch(/GET \/one {2}via socket.*POST \/two body via socket$/s);
  });

  test('any Duplex: served as node serves it', async () => {
    const [node, pyre] = await onBoth(async (make) => {
      const server = serve(make);
      const [serverEnd, clientEnd] = duplexPair();
      let text = '';
      clientEnd.on('data', (chunk: Buffer) => {
        text += chunk.toString('latin1');
      });
      server.emit('connection', serverEnd);
      clientEnd.write(REQUESTS);
      for (let i = 0; i < 100 && !text.includes('/two'); i++) await delay(5);
      clientEnd.end();
      await closeServer(server);
      return text.replace(/\r\nDate: [^\r]*/g, '');
    });
    expect(pyre).toBe(node);
    expect(node).toMatch(/GET \/one {2}via stream.*POST \/two body via stream$/s);
  });

  test("a WebSocket upgrade on a handed-in socket reaches the server's 'upgrade' listener (ws)", async () => {
    const [node, pyre] = await onBoth(async (make) => {
      const server = serve(make);
      const front = net.createServer((socket) => server.emit('connection', socket));
      await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
      const ws = new WebSocket(`ws://127.0.0.1:${(front.address() as AddressInfo).port}/`);
      const reply = await new Promise<string>((resolve, reject) => {
        ws.on('open', () => ws.send('hi'));
        ws.on('message', (data) => resolve(data.toString()));
        ws.on('error', reject);
      });
      ws.terminate();
      await new Promise((resolve) => front.close(resolve));
      await closeServer(server);
      return reply;
    });
    expect(pyre).toBe(node);
    expect(node).toBe('echo hi');
  });
});
