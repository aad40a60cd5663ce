// node:http's 'connect' event on Pyre's drop-in server: a forward proxy written for node (answer
// "200 Connection Established", then pipe both ways) tunnels through Pyre as through node:http.
// Each scenario runs on both servers; the tunnel leads to a local TCP echo server.
import * as http from 'node:http';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { createServer as createPyreServer } from '../../compat/server';

type Make = (listener?: http.RequestListener) => http.Server;
const SIDES: [string, Make][] = [
  ['node', (listener) => http.createServer(listener)],
  ['pyre', (listener) => createPyreServer(listener) as unknown as http.Server],
];

const open: (http.Server | net.Server)[] = [];
afterEach(async () => {
  for (const server of open.splice(0)) {
    if ('closeAllConnections' in server) server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

async function listen(server: http.Server | net.Server): Promise<number> {
  open.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

/** A TCP server that sends back what it gets, and ends when its peer does. */
function echoServer(): Promise<number> {
  return listen(net.createServer((socket) => socket.pipe(socket)));
}

/** node's documented forward proxy: tunnel to req.url once the upstream connection is up. */
function proxy(make: Make): http.Server {
  const server = make((_req, res) => res.end('not a tunnel'));
  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    const [host, port] = (req.url ?? '').split(':');
    const upstream = net.connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\nProxy-agent: test\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', () => client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n'));
    client.on('error', () => upstream.destroy());
  });
  return server;
}

/** Runs `scenario` on node:http and on Pyre; what each observed, node's first. */
async function onBoth<T>(scenario: (make: Make) => Promise<T>): Promise<T[]> {
  const results: T[] = [];
  for (const [, make] of SIDES) results.push(await scenario(make));
  return results;
}

const withoutDate = (text: string): string => text.replace(/\r\nDate: [^\r]*/g, '');

/** Sends `request` on a fresh connection; all the server sent until it closed the connection. */
async function sendRaw(port: number, request: string): Promise<string> {
  const client = net.connect(port, '127.0.0.1');
  client.setEncoding('latin1');
  let text = '';
  client.on('data', (chunk: string) => (text += chunk));
  client.write(request);
  await once(client, 'close');
  return text;
}

describe("'connect'", () => {
  test("node's client opens a tunnel through the proxy and talks through it", async () => {
    const echo = await echoServer();
    const observed = await onBoth(async (make) => {
      const port = await listen(proxy(make));
      const req = http.request({ host: '127.0.0.1', port, method: 'CONNECT', path: `127.0.0.1:${echo}`, agent: false });
      req.end();
      const [res, socket] = (await once(req, 'connect')) as [http.IncomingMessage, net.Socket, Buffer];
      let echoed = '';
      socket.setEncoding('latin1');
      socket.on('data', (chunk: string) => (echoed += chunk));
      socket.write('ping ');
      socket.end('pong');
      await once(socket, 'close');
      return { status: res.statusCode, message: res.statusMessage, agent: res.headers['proxy-agent'], echoed };
    });
    expect(observed[1]).toEqual(observed[0]);
    expect(observed[1]).toEqual({ status: 200, message: 'Connection Established', agent: 'test', echoed: 'ping pong' });
  });

  test('the tunnel carries bytes both ways with backpressure, byte for byte', async () => {
    const echo = await echoServer();
    const payload = Buffer.alloc(3 << 20, 'abcdefghij');
    const observed = await onBoth(async (make) => {
      const port = await listen(proxy(make));
      const client = net.connect(port, '127.0.0.1');
      client.write(`CONNECT 127.0.0.1:${echo} HTTP/1.1\r\nHost: 127.0.0.1:${echo}\r\n\r\n`);
      const chunks: Buffer[] = [];
      client.on('data', (chunk: Buffer) => chunks.push(chunk));
      await new Promise<void>((resolve) => {
        const check = (): void => {
          if (Buffer.concat(chunks).includes('\r\n\r\n')) resolve();
          else client.once('data', check);
        };
        check();
      });
      client.end(payload);
      await once(client, 'close');
      const all = Buffer.concat(chunks);
      const headEnd = all.indexOf('\r\n\r\n') + 4;
      return { head: withoutDate(all.subarray(0, headEnd).toString('latin1')), echoedSame: all.subarray(headEnd).equals(payload) };
    });
    expect(observed[1]).toEqual(observed[0]);
    expect(observed[1]).toEqual({ head: 'HTTP/1.1 200 Connection Established\r\nProxy-agent: test\r\n\r\n', echoedSame: true });
  });

  // node hands the bytes a client sends right behind the CONNECT head to the listener as `head`;
  // Pyre holds them back until the 200 and delivers them as the tunnel's first data. A listener
  // written for node (write `head` upstream, then pipe) gets every byte either way.
  test('bytes sent before the 200 arrives reach the target, in order', async () => {
    const echo = await echoServer();
    const observed = await onBoth(async (make) => {
      const port = await listen(proxy(make));
      const client = net.connect(port, '127.0.0.1');
      client.setEncoding('latin1');
      let text = '';
      client.on('data', (chunk: string) => (text += chunk));
      client.write(`CONNECT 127.0.0.1:${echo} HTTP/1.1\r\nHost: 127.0.0.1:${echo}\r\n\r\nearly\r\n\r\nbytes `);
      await new Promise((resolve) => setTimeout(resolve, 50));
      client.end('and late ones');
      await once(client, 'close');
      return withoutDate(text);
    });
    expect(observed[1]).toEqual(observed[0]);
    expect(observed[1]).toBe('HTTP/1.1 200 Connection Established\r\nProxy-agent: test\r\n\r\nearly\r\n\r\nbytes and late ones');
  });

  test("a client's reset reaches the tunnel's socket as node's ECONNRESET error, then 'close'", async () => {
    const observed = await onBoth(async (make) => {
      const server = make();
      const events: string[] = [];
      const closed = new Promise<void>((resolve) => {
        server.on('connect', (_req: http.IncomingMessage, socket: net.Socket) => {
          socket.on('error', (err: NodeJS.ErrnoException) => events.push(`error ${err.code}`));
          socket.on('close', () => {
            events.push('close');
            resolve();
          });
          socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        });
      });
      const port = await listen(server);
      const client = net.connect(port, '127.0.0.1');
      client.on('error', () => undefined);
      client.write('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n');
      await once(client, 'data');
      client.resetAndDestroy();
      await closed;
      return events;
    });
    expect(observed[1]).toEqual(observed[0]);
    expect(observed[1]).toEqual(['error ECONNRESET', 'close']);
  });

  test('a refused tunnel is an ordinary response, then the connection closes', async () => {
    const observed = await onBoth(async (make) => {
      const server = make();
      server.on('connect', (_req: http.IncomingMessage, socket: net.Socket) => {
        socket.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\nContent-Length: 0\r\n\r\n');
      });
      const port = await listen(server);
      const text = await sendRaw(port, 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n');
      return withoutDate(text).replace('\r\nConnection: close', '');
    });
    expect(observed[1]).toEqual(observed[0]);
    expect(observed[1]).toBe('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\nContent-Length: 0\r\n\r\n');
  });

  test("req as node gives it: method CONNECT, url the authority, upgrade true; 'request' not emitted", async () => {
    const observed = await onBoth(async (make) => {
      let requests = 0;
      const server = make(() => requests++);
      const seen = new Promise<unknown>((resolve) => {
        server.on('connect', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
          socket.destroy();
          resolve({ method: req.method, url: req.url, upgrade: (req as { upgrade?: boolean }).upgrade, host: req.headers.host, head: head.length });
        });
      });
      const port = await listen(server);
      const client = net.connect(port, '127.0.0.1');
      client.on('error', () => undefined);
      client.write('CONNECT db.internal:5432 HTTP/1.1\r\nHost: db.internal:5432\r\n\r\n');
      const result = await seen;
      client.destroy();
      return { ...(result as object), requests };
    });
    expect(observed[1]).toEqual(observed[0]);
    expect(observed[1]).toEqual({ method: 'CONNECT', url: 'db.internal:5432', upgrade: true, host: 'db.internal:5432', head: 0, requests: 0 });
  });

  // node closes the connection of a CONNECT nobody listens for, without a word; the engine answers 501.
  test('without a listener CONNECT is refused with 501', async () => {
    const server = createPyreServer(() => undefined);
    const port = await listen(server as unknown as http.Server);
    const text = await sendRaw(port, 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n');
    expect(text).toMatch(/^HTTP\/1\.1 501 Not Implemented\r\n/);
  });

  test('a CONNECT that is not host:port, or carries content, is refused with 400', async () => {
    const server = createPyreServer(() => undefined);
    server.on('connect', (_req: http.IncomingMessage, socket: net.Socket) => socket.destroy());
    const port = await listen(server as unknown as http.Server);
    for (const request of [
      'CONNECT /path HTTP/1.1\r\nHost: x\r\n\r\n',
      'CONNECT example.com HTTP/1.1\r\nHost: x\r\n\r\n',
      'CONNECT example.com:443 HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nbody',
    ]) {
      const text = await sendRaw(port, request);
      expect([request, text.slice(0, 24)]).toEqual([request, 'HTTP/1.1 400 Bad Request']);
    }
  });
});
