// Connection-level behaviour, side by side with node:http: one socket per connection, the
// 'connection' event, graceful-shutdown tracking, sendDate, timeouts and 'clientError'. Every
// scenario runs on both servers and must observe the same thing. Real sockets on 127.0.0.1.
import * as http from 'node:http';
import * as net from 'node:net';
import express from 'express';
import { createServer as createPyreServer } from '../../compat/server';
import { closeServer, delay, listen, type Make, onBoth } from './sides';

/** A raw client connection: what it received so far, and whether the server closed it. */
class RawClient {
  text = '';
  closedByServer = false;
  readonly closed: Promise<void>;
  private readonly socket: net.Socket;
  private onData: (() => void) | null = null;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      this.text += chunk;
      this.onData?.();
    });
    socket.on('error', () => undefined);
    this.closed = new Promise((resolve) => socket.on('close', () => resolve()));
    socket.on('end', () => {
      this.closedByServer = true;
    });
  }

  static connect(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () => resolve(new RawClient(socket)));
      socket.once('error', reject);
    });
  }

  write(text: string): void {
    this.socket.write(text);
  }

  /** Resolves once `count` responses (status lines) have arrived. */
  responses(count: number, ms = 3000): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if ((this.text.match(/HTTP\/1\.1 \d{3}/g) ?? []).length >= count) {
          clearTimeout(giveUp);
          this.onData = null;
          resolve();
        }
      };
      const giveUp = setTimeout(() => reject(new Error(`fewer than ${count} responses in ${ms} ms: ${JSON.stringify(this.text)}`)), ms);
      this.onData = check;
      check();
    });
  }

  /** Resolves once the server has closed the connection (rejects after `ms`). */
  async serverClosed(ms = 3000): Promise<void> {
    let giveUp: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_resolve, reject) => {
      giveUp = setTimeout(() => reject(new Error(`connection still open after ${ms} ms`)), ms);
    });
    try {
      await Promise.race([this.closed, late]);
    } finally {
      clearTimeout(giveUp);
    }
  }

  destroy(): void {
    this.socket.destroy();
  }
}

const GET = (path: string, extra = ''): string => `GET ${path} HTTP/1.1\r\nHost: x\r\n${extra}\r\n`;

describe('one socket per connection', () => {
  test('every request on a keep-alive connection has the same req.socket === res.socket, closed once', async () => {
    const observed = await onBoth(async (make) => {
      const perSocket = new WeakMap<object, number>();
      const sockets: object[] = [];
      let closes = 0;
      const server = make((req, res) => {
        const socket = req.socket;
        if (!perSocket.has(socket)) {
          sockets.push(socket);
          socket.on('close', () => closes++);
        }
        const count = (perSocket.get(socket) ?? 0) + 1;
        perSocket.set(socket, count);
        res.end(`${count} ${String(res.socket === socket)}`);
      });
      const port = await listen(server);
      const first = await RawClient.connect(port);
      for (let i = 1; i <= 3; i++) {
        first.write(GET('/'));
        await first.responses(i);
      }
      const second = await RawClient.connect(port);
      second.write(GET('/'));
      await second.responses(1);
      first.destroy();
      second.destroy();
      await Promise.all([first.closed, second.closed]);
      await delay(50);
      const bodies = [...first.text.matchAll(/\r\n\r\n(\d true)/g)].map((m) => m[1]);
      await closeServer(server);
      return { bodies, secondBody: /\r\n\r\n(\d true)/.exec(second.text)?.[1], distinctSockets: sockets.length, closes };
    });
    expect(observed[1]).toEqual(observed[0]);
    expect(observed[1]).toEqual({ bodies: ['1 true', '2 true', '3 true'], secondBody: '1 true', distinctSockets: 2, closes: 2 });
  });

  test('pipelined requests share the socket too', async () => {
    const observed = await onBoth(async (make) => {
      const seen = new Set<object>();
      const server = make((req, res) => {
        seen.add(req.socket);
        res.end('ok');
      });
      const port = await listen(server);
      const client = await RawClient.connect(port);
      client.write(GET('/a') + GET('/b') + GET('/c'));
      await client.responses(3);
      client.destroy();
      await closeServer(server);
      return seen.size;
    });
    expect(observed).toEqual([1, 1]);
  });

  test('each request reads its own body, even after a later request on the connection has arrived', async () => {
    const observed = await onBoth(async (make) => {
      const server = make((req, res) => {
        // Read only later: by then the next pipelined request has been parsed.
        setTimeout(() => {
          const chunks: Buffer[] = [];
          req.on('data', (chunk: Buffer) => chunks.push(chunk));
          req.on('end', () => res.end(`${req.url ?? ''}=${Buffer.concat(chunks).toString()};`));
        }, 30);
      });
      const port = await listen(server);
      const client = await RawClient.connect(port);
      const post = (path: string, body: string): string => `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
      client.write(post('/one', 'first') + post('/two', 'second') + GET('/three'));
      await client.responses(3);
      client.destroy();
      await closeServer(server);
      return [...client.text.matchAll(/\r\n\r\n(\/\w+=\w*);/g)].map((m) => m[1]);
    });
    expect(observed[1]).toEqual(observed[0]);
    expect(observed[1]).toEqual(['/one=first', '/two=second', '/three=']);
  });

  test('sockets are let go when their connections close', async () => {
    const server = createPyreServer((_req, res) => res.end('ok'));
    const port = await listen(server as unknown as http.Server);
    const closes: Promise<void>[] = [];
    server.on('connection', (socket: net.Socket) => closes.push(new Promise((resolve) => socket.once('close', () => resolve()))));
    for (let i = 0; i < 50; i++) {
      const client = await RawClient.connect(port);
      client.write(GET('/', 'Connection: close\r\n'));
      await client.serverClosed();
    }
    await Promise.all(closes);
    expect(closes).toHaveLength(50);
    // What the server holds for connections: nothing once they are gone.
    expect((server as unknown as { sockets: { open: Map<number, unknown> } }).sockets.open.size).toBe(0);
    await closeServer(server as unknown as http.Server);
  });
});

describe("the 'connection' event", () => {
  test('emitted once per connection, with the socket its requests then see, even before any request', async () => {
    const observed = await onBoth(async (make) => {
      const connected: object[] = [];
      const requestSockets = new Set<object>();
      const server = make((req, res) => {
        requestSockets.add(req.socket);
        res.end('ok');
      });
      server.on('connection', (socket) => connected.push(socket));
      const port = await listen(server);
      const clients = await Promise.all([1, 2, 3, 4].map(() => RawClient.connect(port)));
      const silent = await RawClient.connect(port);
      for (const client of clients) client.write(GET('/'));
      await Promise.all(clients.map((client) => client.responses(1)));
      await delay(50);
      const result = {
        connections: connected.length,
        requestSocketsWereAnnounced: [...requestSockets].every((socket) => connected.includes(socket)),
        requestSockets: requestSockets.size,
      };
      for (const client of [...clients, silent]) client.destroy();
      await closeServer(server);
      return result;
    });
    expect(observed[1]).toEqual(observed[0]);
    expect(observed[1]).toEqual({ connections: 5, requestSocketsWereAnnounced: true, requestSockets: 4 });
  });

  test('graceful shutdown: tracked sockets destroyed, the in-flight request aborts, close fires', async () => {
    const observed = await onBoth(async (make) => {
      const tracked = new Set<net.Socket>();
      const events: string[] = [];
      let inFlight: http.ServerResponse | undefined;
      const server = make((req, res) => {
        if (req.url === '/slow') {
          inFlight = res;
          req.on('close', () => events.push('req close'));
          res.on('close', () => events.push(`res close, finished ${String(res.writableFinished)}`));
          return;
        }
        res.end('ok');
      });
      server.on('connection', (socket: net.Socket) => {
        tracked.add(socket);
        socket.on('close', () => tracked.delete(socket));
      });
      const port = await listen(server);
      const idle = await Promise.all([1, 2, 3].map(() => RawClient.connect(port)));
      for (const client of idle) client.write(GET('/'));
      await Promise.all(idle.map((client) => client.responses(1)));
      const busy = await RawClient.connect(port);
      busy.write(GET('/slow'));
      while (inFlight === undefined) await delay(10);
      const tracking = tracked.size;
      const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of tracked) socket.destroy();
      await serverClosed;
      await Promise.all([...idle, busy].map((client) => client.serverClosed()));
      await delay(20);
      return { tracking, left: tracked.size, events: events.sort() };
    });
    expect(observed[1]).toEqual(observed[0]);
    expect(observed[1]).toEqual({ tracking: 4, left: 0, events: ['req close', 'res close, finished false'] });
  });

  test('socket.end() on an idle connection closes it', async () => {
    const observed = await onBoth(async (make) => {
      let closed = false;
      const server = make((req, res) => {
        res.on('finish', () => setTimeout(() => req.socket.end(), 20));
        res.end('ok');
        req.socket.on('close', () => {
          closed = true;
        });
      });
      const port = await listen(server);
      const client = await RawClient.connect(port);
      client.write(GET('/'));
      await client.responses(1);
      await client.serverClosed();
      await delay(20);
      await closeServer(server);
      return { closed, closedByServer: client.closedByServer };
    });
    expect(observed).toEqual([{ closed: true, closedByServer: true }, { closed: true, closedByServer: true }]);
  });

  test('on Pyre, socket.end() during a response lets it finish, then closes', async () => {
    const server = createPyreServer((req, res) => {
      req.socket.end();
      setTimeout(() => res.end('late'), 20);
    });
    const port = await listen(server as unknown as http.Server);
    const client = await RawClient.connect(port);
    client.write(GET('/'));
    await client.serverClosed();
    expect(client.text).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*Connection: close\r\n[\s\S]*\r\n\r\nlate$/);
    await closeServer(server as unknown as http.Server);
  });
});

describe('res.sendDate', () => {
  test('false leaves Date out of complete and streamed responses; the default sends it', async () => {
    const observed = await onBoth(async (make) => {
      const server = make((req, res) => {
        if (req.url !== '/default') res.sendDate = false;
        if (req.url === '/streamed') {
          res.write('a');
          res.end('b');
        } else {
          res.end('ab');
        }
      });
      const port = await listen(server);
      const dates: Record<string, boolean> = {};
      for (const path of ['/default', '/complete', '/streamed']) {
        const client = await RawClient.connect(port);
        client.write(GET(path, 'Connection: close\r\n'));
        await client.serverClosed();
        dates[path] = /\r\nDate: /i.test(client.text.split('\r\n\r\n')[0]);
      }
      await closeServer(server);
      return dates;
    });
    expect(observed[1]).toEqual(observed[0]);
    expect(observed[1]).toEqual({ '/default': true, '/complete': false, '/streamed': false });
  });
});

describe('timeouts', () => {
  test("server.setTimeout: 'timeout' with the socket, for a silent connection and a slow request", async () => {
    const observed = await onBoth(async (make) => {
      const requestSockets: object[] = [];
      const timedOut: object[] = [];
      const server = make((req) => {
        requestSockets.push(req.socket);
      });
      server.setTimeout(150, (socket: net.Socket) => {
        timedOut.push(socket);
        socket.destroy();
      });
      const port = await listen(server);
      const slow = await RawClient.connect(port);
      slow.write(GET('/'));
      const silent = await RawClient.connect(port);
      await Promise.all([slow.serverClosed(), silent.serverClosed()]);
      const result = { timeouts: timedOut.length, slowSocketTimedOut: timedOut.includes(requestSockets[0]), answered: slow.text };
      await closeServer(server);
      return result;
    });
    expect(observed[1]).toEqual(observed[0]);
    expect(observed[1]).toEqual({ timeouts: 2, slowSocketTimedOut: true, answered: '' });
  });

  test('socket.setTimeout(ms, cb) and no server listener: cb runs, the socket is destroyed, the response closes', async () => {
    const observed = await onBoth(async (make) => {
      const events: string[] = [];
      const server = make((req, res) => {
        req.socket.setTimeout(100, () => events.push('timeout'));
        res.on('close', () => events.push(`res close, finished ${String(res.writableFinished)}`));
        setTimeout(() => res.end('late'), 400);
      });
      const port = await listen(server);
      const client = await RawClient.connect(port);
      client.write(GET('/'));
      await client.serverClosed();
      await delay(20);
      await closeServer(server);
      return { events, answered: client.text };
    });
    expect(observed[1]).toEqual(observed[0]);
    expect(observed[1]).toEqual({ events: ['timeout', 'res close, finished false'], answered: '' });
  });

  test('traffic keeps a connection from timing out', async () => {
    const observed = await onBoth(async (make) => {
      let timeouts = 0;
      const server = make((_req, res) => res.end('ok'));
      server.setTimeout(200, () => timeouts++);
      const port = await listen(server);
      const client = await RawClient.connect(port);
      for (let i = 1; i <= 4; i++) {
        client.write(GET('/'));
        await client.responses(i);
        await delay(100);
      }
      const result = timeouts;
      client.destroy();
      await closeServer(server);
      return result;
    });
    expect(observed).toEqual([0, 0]);
  });
});

describe("'clientError'", () => {
  const cases: [string, string, string][] = [
    ['an oversized header', `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 'HPE_HEADER_OVERFLOW'],
    ['a bad request line', 'G(T / HTTP/1.1\r\nHost: x\r\n\r\n', 'HPE_INVALID_METHOD'],
  ];
  test.each(cases)('%s: emitted with the code node gives, rawPacket a Buffer; the listener\'s answer is what the client gets', async (_name, bytes, code) => {
    const observed = await onBoth(async (make) => {
      const errors: { code: unknown; rawPacket: boolean; message: string }[] = [];
      let requests = 0;
      const server = make(() => requests++);
      server.on('clientError', (err: NodeJS.ErrnoException & { rawPacket?: unknown }, socket: net.Socket) => {
        errors.push({ code: err.code, rawPacket: Buffer.isBuffer(err.rawPacket), message: err.message.split(':')[0] });
        // node's documented pattern.
        if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\n\r\n');
      });
      const port = await listen(server);
      const client = await RawClient.connect(port);
      client.write(bytes);
      await client.serverClosed();
      await closeServer(server);
      return { errors, requests, text: client.text };
    });
    expect(observed[1]).toEqual(observed[0]);
    expect(observed[1]).toEqual({ errors: [{ code, rawPacket: true, message: 'Parse Error' }], requests: 0, text: 'HTTP/1.1 400 Bad Request\r\n\r\n' });
  });

  type Answer = (err: Error, socket: net.Socket) => void;
  const body = '{"error":"Bad Request","message":"Client Error","statusCode":400}';
  const answers: [string, Answer, string][] = [
    // Fastify's default clientError handler.
    ['write, then destroy', (err, socket) => {
      if (socket.writable) socket.write(`HTTP/1.1 400 Bad Request\r\nContent-Length: ${body.length}\r\nContent-Type: application/json\r\n\r\n${body}`);
      socket.destroy(err);
    }, `HTTP/1.1 400 Bad Request\r\nContent-Length: ${body.length}\r\nContent-Type: application/json\r\n\r\n${body}`],
    ['several writes and a Buffer, then end', (_err, socket) => {
      socket.write('HTTP/1.1 431 ', 'latin1');
      socket.write(Buffer.from('Too Big\r\nContent-Length: 2\r\n\r\n'));
      socket.end('no');
    }, 'HTTP/1.1 431 Too Big\r\nContent-Length: 2\r\n\r\nno'],
    ['destroy without a word', (_err, socket) => socket.destroy(), ''],
    ['end without a word', (_err, socket) => socket.end(), ''],
  ];
  test.each(answers)('the listener chooses the answer (%s), as on node', async (_name, answer, expected) => {
    const observed = await onBoth(async (make) => {
      const server = make(() => undefined);
      server.on('clientError', answer);
      const port = await listen(server);
      const client = await RawClient.connect(port);
      client.write(cases[0][1]);
      await client.serverClosed();
      await closeServer(server);
      return client.text;
    });
    expect(observed[1]).toEqual(observed[0]);
    expect(observed[1]).toBe(expected);
  });

  // node writes the listener's answer straight to the socket and ends it, so a pipelined
  // response still queued behind the first is lost (the client gets /one, then the 400). Here
  // every request ahead of the refused one is answered first.
  test('a refused request behind pipelined ones is answered in its turn (node drops the queued /two)', async () => {
    const server = createPyreServer((req, res) => res.end(`answer to ${req.url}`));
    server.on('clientError', (_err: Error, socket: net.Socket) => socket.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
    const port = await listen(server as unknown as http.Server);
    const client = await RawClient.connect(port);
    client.write(`${GET('/one')}${GET('/two')}G(T / HTTP/1.1\r\nHost: x\r\n\r\n`);
    await client.serverClosed();
    await closeServer(server as unknown as http.Server);
    expect(client.text.match(/HTTP\/1\.1 \d{3}|answer to \/(?:one|two)/g)).toEqual(['HTTP/1.1 200', 'answer to /one', 'HTTP/1.1 200', 'answer to /two', 'HTTP/1.1 400']);
    expect(client.text).toMatch(/\r\n\r\nanswer to \/twoHTTP\/1\.1 400 Bad Request\r\n\r\n$/);
  });

  test("a listener that neither writes nor closes leaves the engine's answer (node would leave the connection open)", async () => {
    const server = createPyreServer(() => undefined);
    let socket: net.Socket | undefined;
    server.on('clientError', (_err: Error, s: net.Socket) => {
      socket = s;
    });
    const port = await listen(server as unknown as http.Server);
    const client = await RawClient.connect(port);
    client.write(cases[1][1]);
    await client.serverClosed();
    expect(client.text).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    // Too late to answer: the socket no longer takes writes.
    expect(socket?.writable).toBe(false);
    expect(socket?.write('HTTP/1.1 400 Late\r\n\r\n')).toBe(false);
    await closeServer(server as unknown as http.Server);
  });

  test('a request timeout is a clientError too, and the listener answers it', async () => {
    const server = createPyreServer({ headersTimeout: 150, requestTimeout: 150 }, () => undefined);
    const codes: unknown[] = [];
    server.on('clientError', (err: NodeJS.ErrnoException, socket: net.Socket) => {
      codes.push(err.code);
      socket.end('HTTP/1.1 408 Too Slow\r\nConnection: close\r\n\r\n');
    });
    const port = await listen(server as unknown as http.Server);
    const client = await RawClient.connect(port);
    client.write('GET / HTTP/1.1\r\nHost: x\r\n');
    await client.serverClosed();
    expect(codes).toEqual(['ERR_HTTP_REQUEST_TIMEOUT']);
    expect(client.text).toBe('HTTP/1.1 408 Too Slow\r\nConnection: close\r\n\r\n');
    await closeServer(server as unknown as http.Server);
  });

  test("a fault in a request's body was answered by the engine: the listener's writes send nothing and do not throw", async () => {
    const server = createPyreServer((req) => req.resume());
    const seen: unknown[] = [];
    server.on('clientError', (err: NodeJS.ErrnoException, socket: net.Socket) => {
      seen.push(err.code, socket.writable && socket.write('HTTP/1.1 400 Mine\r\n\r\n'));
      socket.destroy();
    });
    const port = await listen(server as unknown as http.Server);
    const client = await RawClient.connect(port);
    client.write('POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n');
    await client.serverClosed();
    expect(seen).toEqual(['HPE_INVALID_CHUNK_SIZE', false]);
    expect(client.text).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    await closeServer(server as unknown as http.Server);
  });

  test('without a listener the engine answers and nothing is emitted', async () => {
    const server = createPyreServer(() => undefined);
    const port = await listen(server as unknown as http.Server);
    const client = await RawClient.connect(port);
    client.write(cases[0][1]);
    await client.serverClosed();
    expect(client.text).toMatch(/^HTTP\/1\.1 431 /);
    await closeServer(server as unknown as http.Server);
  });
});

describe('server.maxRequestsPerSocket', () => {
  const withoutDate = (text: string): string => text.replace(/\r\nDate: [^\r]*/g, '');

  /** On both servers, with maxRequestsPerSocket `limit`: `requests` sent in turn on one connection; the answers less Date. */
  const inTurn = (limit: number, listener: http.RequestListener, requests: string[]): Promise<[string, string]> => onBoth(async (make) => {
    const server = make(listener);
    (server as http.Server).maxRequestsPerSocket = limit;
    const port = await listen(server);
    const client = await RawClient.connect(port);
    for (const [i, request] of requests.entries()) {
      client.write(request);
      await client.responses(i + 1);
    }
    const text = withoutDate(client.text);
    client.destroy();
    await closeServer(server);
    return text;
  });

  test('responses count down with Keep-Alive max; the last allowed says close, as on node', async () => {
    const observed = await inTurn(2, (req, res) => res.end(`answer to ${req.url}`), [GET('/one'), GET('/two')]);
    expect(observed[1]).toEqual(observed[0]);
    expect(observed[1]).toMatch(/^HTTP\/1\.1 200 OK\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5, max=2\r\n.*answer to \/oneHTTP\/1\.1 200 OK\r\nConnection: close\r\n/s);
  });

  // node says close on the last allowed response but keeps the connection, answering what comes
  // after 503 (with 'dropRequest'); Pyre closes the connection as the response says.
  test('after the last allowed response the connection closes', async () => {
    const server = createPyreServer((req, res) => res.end('ok'));
    server.maxRequestsPerSocket = 1;
    const port = await listen(server as unknown as http.Server);
    const client = await RawClient.connect(port);
    client.write(GET('/'));
    await client.serverClosed();
    expect(withoutDate(client.text)).toMatch(/^HTTP\/1\.1 200 OK\r\nConnection: close\r\n/);
    await closeServer(server as unknown as http.Server);
  });

  test('pipelined requests past the limit are never read, so never handled or dropped', async () => {
    const server = createPyreServer((req, res) => setTimeout(() => res.end(`answer to ${req.url}`), 20));
    server.maxRequestsPerSocket = 2;
    let dropped = 0;
    server.on('dropRequest', () => dropped++);
    const port = await listen(server as unknown as http.Server);
    const client = await RawClient.connect(port);
    client.write(`${GET('/one')}${GET('/two')}${GET('/three')}`);
    await client.serverClosed();
    expect(dropped).toBe(0);
    expect(client.text.match(/HTTP\/1\.1 \d{3}|answer to \/(?:one|two|three)|Connection: [\w-]+/g)).toEqual(
      ['HTTP/1.1 200', 'Connection: keep-alive', 'answer to /one', 'HTTP/1.1 200', 'Connection: close', 'answer to /two'],
    );
    await closeServer(server as unknown as http.Server);
  });

  test('the limit can change while the server runs; Express apps get it too', async () => {
    const app = express();
    app.get('/', (_req, res) => {
      res.send('ok');
    });
    const server = createPyreServer(app);
    expect(server.maxRequestsPerSocket).toBe(0);
    server.maxRequestsPerSocket = 3;
    expect(server.maxRequestsPerSocket).toBe(3);
    const port = await listen(server as unknown as http.Server);
    const first = await RawClient.connect(port);
    first.write(GET('/'));
    await first.responses(1);
    expect(first.text).toMatch(/Keep-Alive: timeout=5, max=3\r\n/);
    server.maxRequestsPerSocket = 0;
    const second = await RawClient.connect(port);
    second.write(GET('/'));
    await second.responses(1);
    expect(second.text).toMatch(/Keep-Alive: timeout=5\r\n/);
    first.destroy();
    second.destroy();
    await closeServer(server as unknown as http.Server);
  });

  test('HTTP/1.0 requests are not counted, as in node', async () => {
    const request = 'GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n';
    const observed = await inTurn(1, (_req, res) => res.setHeader('Content-Length', 2).end('ok'), [request, request]);
    expect(observed[1]).toEqual(observed[0]);
    expect(observed[1]).not.toMatch(/close/);
    expect(observed[1]).toMatch(/Keep-Alive: timeout=5, max=1\r\n.*Keep-Alive: timeout=5, max=1\r\n/s);
  });
});
