// The same app over real sockets: the engine's fast path (app.listen) and node's http server.
import * as http from 'node:http';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import { App, Blueprint, endpoint, responses, type Request } from '../../src';

/** Requests to /wait that started, and those whose signal aborted. */
let waiting = 0;
let abortedWaits = 0;

class Api extends Blueprint {
  @endpoint('/wait')
  async wait(request: Request) {
    waiting++;
    await new Promise<void>((resolve) => request.signal.addEventListener('abort', () => resolve()));
    abortedWaits++;
    return 'never sent';
  }
  @endpoint('/hello/{name:string}')
  hello(_request: Request, name: string) {
    return `Hello, ${name}!`;
  }
  @endpoint('/users/{id:int}', { methods: ['GET', 'PUT'] })
  async user(request: Request, id: number) {
    return { id, method: request.method, body: request.method === 'PUT' ? await request.json() : null, remote: request.remoteAddress[0] };
  }
  @endpoint('/stream/{count:int}')
  stream(_request: Request, count: number) {
    async function* lines() {
      for (let i = 0; i < count; i++) yield `line ${i} ${'.'.repeat(1000)}\n`;
    }
    return new responses.StreamResponse(lines());
  }
}

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function request(port: number, method: string, path: string, body?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, agent: false, headers: body ? { 'content-type': 'application/json' } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function behavesLikeTheApp(start: (app: App) => Promise<{ port: number; close(): Promise<void> }>): void {
  const app = new App().addBlueprint(new Api());
  let server: { port: number; close(): Promise<void> };
  beforeAll(async () => {
    server = await start(app);
  });
  afterAll(() => server.close());

  test('text route with a typed parameter', async () => {
    const res = await request(server.port, 'GET', '/hello/w%C3%B6rld');
    expect([res.status, res.headers['content-type'], res.body]).toEqual([200, 'text/plain; charset=utf-8', 'Hello, wörld!']);
  });

  test('JSON route with an int parameter and a body', async () => {
    const res = await request(server.port, 'PUT', '/users/12', '{"x":1}');
    expect(JSON.parse(res.body)).toEqual({ id: 12, method: 'PUT', body: { x: 1 }, remote: expect.stringMatching(/127\.0\.0\.1$/) });
    expect((await request(server.port, 'GET', '/users/abc')).status).toBe(404);
  });

  test('405 and automatic OPTIONS and HEAD', async () => {
    const res = await request(server.port, 'DELETE', '/users/1');
    expect([res.status, res.headers.allow]).toEqual([405, 'GET, HEAD, OPTIONS, PUT']);
    expect((await request(server.port, 'OPTIONS', '/users/1')).status).toBe(204);
    const head = await request(server.port, 'HEAD', '/hello/x');
    expect([head.status, head.headers['content-length'], head.body]).toEqual([200, '9', '']);
  });

  test('request.signal aborts when the client goes away before the answer', async () => {
    const [before, abortedBefore] = [waiting, abortedWaits];
    const socket = net.connect(server.port, '127.0.0.1');
    socket.on('error', () => undefined);
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write('GET /wait HTTP/1.1\r\nHost: t\r\n\r\n');
    for (let i = 0; i < 200 && waiting === before; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    socket.end();
    for (let i = 0; i < 200 && abortedWaits === abortedBefore; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(abortedWaits).toBe(abortedBefore + 1);
  });

  test('a large streamed response arrives whole (backpressure)', async () => {
    const res = await request(server.port, 'GET', '/stream/3000');
    expect(res.body.length).toBe(3000 * 1007 + [...Array(3000).keys()].reduce((n, i) => n + String(i).length, 0));
    expect(res.body.endsWith(`line 2999 ${'.'.repeat(1000)}\n`)).toBe(true);
  });
}

describe('fast path: app.listen()', () => {
  behavesLikeTheApp(async (app) => {
    const server = await app.listen(0, '127.0.0.1');
    return { port: server.address().port, close: () => server.close() };
  });

  test('without a host it is reachable on 127.0.0.1 and ::1', async () => {
    const app = new App().addBlueprint(new Api());
    const server = await app.listen(0);
    try {
      expect((await request(server.address().port, 'GET', '/hello/v4')).body).toBe('Hello, v4!');
      const v6 = await new Promise<string>((resolve, reject) => {
        http.get({ host: '::1', port: server.address().port, path: '/hello/v6', agent: false }, (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c));
          res.on('end', () => resolve(text));
        }).on('error', reject);
      });
      expect(v6).toBe('Hello, v6!');
    } finally {
      await server.close();
    }
  });
});

describe("node's http.createServer(app.handler)", () => {
  behavesLikeTheApp(async (app) => {
    const server = http.createServer(app.handler);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return {
      port: (server.address() as AddressInfo).port,
      close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
  });
});
