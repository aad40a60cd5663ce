// The node:http API on Pyre: server lifecycle, what handlers see on req/res, and the events
// node emits. Real sockets on 127.0.0.1.
import * as http from 'node:http';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import { pipeline, Readable } from 'node:stream';
import request from 'supertest';
import express from 'express';
import { createServer, type Server } from '../../compat/server';
import { send } from './differential';

function listening(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

function stop(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}

/** Runs one handler for the duration of `body`. */
async function withServer(handler: http.RequestListener, body: (port: number) => Promise<void>): Promise<void> {
  const server = createServer(handler);
  const port = await listening(server);
  try {
    await body(port);
  } finally {
    await stop(server);
  }
}

/** Raw bytes in, everything the server sent until it closed (or `until` matched) out. */
function rawExchange(port: number, bytes: string, until?: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(bytes));
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      text += chunk;
      if (until?.test(text)) socket.destroy();
    });
    const giveUp = setTimeout(() => socket.destroy(), 3000);
    socket.on('close', () => {
      clearTimeout(giveUp);
      resolve(text);
    });
    socket.on('error', reject);
  });
}

describe('the server', () => {
  test('listen() forms, address() valid on return, listening, close(cb)', async () => {
    const server = createServer(() => undefined);
    expect(server.listening).toBe(false);
    server.listen({ port: 0, host: '127.0.0.1' });
    const address = server.address() as AddressInfo;
    expect(address).toMatchObject({ address: '127.0.0.1', family: 'IPv4' });
    expect(address.port).toBeGreaterThan(0);
    await new Promise((resolve) => server.once('listening', resolve));
    expect(server.listening).toBe(true);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    expect(server.listening).toBe(false);

    const second = createServer(() => undefined);
    await new Promise<void>((resolve) => second.listen(String(0), '127.0.0.1', 511, () => resolve()));
    expect((second.address() as AddressInfo).port).toBeGreaterThan(0);
    await stop(second);
  });

  test('EADDRINUSE arrives as an error event, as node reports it', async () => {
    const first = createServer(() => undefined);
    const port = await listening(first);
    const second = createServer(() => undefined);
    const error = await new Promise<NodeJS.ErrnoException>((resolve) => {
      second.on('error', resolve);
      second.listen(port, '127.0.0.1');
    });
    expect(error).toMatchObject({ code: 'EADDRINUSE', syscall: 'listen', address: '127.0.0.1', port });
    expect(error.message).toBe(`listen EADDRINUSE: address already in use 127.0.0.1:${port}`);
    await stop(first);
  });

  test('close(cb) on a server that is not running reports ERR_SERVER_NOT_RUNNING', async () => {
    const server = createServer(() => undefined);
    const error = await new Promise<Error | undefined>((resolve) => server.close(resolve));
    expect((error as NodeJS.ErrnoException).code).toBe('ERR_SERVER_NOT_RUNNING');
  });

  test('timeouts are node\'s defaults and can be set', () => {
    const server = createServer(() => undefined);
    expect([server.keepAliveTimeout, server.headersTimeout, server.requestTimeout, server.timeout]).toEqual([5000, 60000, 300000, 0]);
    server.keepAliveTimeout = 1000;
    server.setTimeout(2000);
    expect([server.keepAliveTimeout, server.timeout]).toEqual([1000, 2000]);
  });

  test('supertest drives an Express app through it', async () => {
    const app = express().get('/', (_req, res) => res.json({ ok: true }));
    const server = createServer(app);
    const reply = await request(server as unknown as http.Server).get('/').expect(200);
    expect(reply.body).toEqual({ ok: true });
  });
});

describe('what handlers see', () => {
  test('req and res are node\'s classes; req carries node\'s fields', async () => {
    let seen: Record<string, unknown> = {};
    await withServer((req, res) => {
      seen = {
        isIncoming: req instanceof http.IncomingMessage,
        isResponse: res instanceof http.ServerResponse,
        method: req.method,
        url: req.url,
        version: [req.httpVersion, req.httpVersionMajor, req.httpVersionMinor],
        host: req.headers.host !== undefined,
        dup: req.headers['x-dup'],
        distinct: req.headersDistinct['x-dup'],
        remote: [req.socket.remoteAddress, typeof req.socket.remotePort, req.socket.remoteFamily],
        local: req.socket.localAddress,
        sameSocket: req.socket === res.socket && req.connection === req.socket,
        encrypted: (req.socket as unknown as { encrypted: boolean }).encrypted,
      };
      res.end('ok');
    }, async (port) => {
      await send(port, { path: '/a/b?c=d', headers: { 'x-dup': ['1', '2'] } });
    });
    expect(seen).toEqual({
      isIncoming: true, isResponse: true, method: 'GET', url: '/a/b?c=d', version: ['1.1', 1, 1], host: true,
      dup: '1, 2', distinct: ['1', '2'], remote: ['127.0.0.1', 'number', 'IPv4'], local: '127.0.0.1', sameSocket: true, encrypted: false,
    });
  });

  test('joinDuplicateHeaders and maxHeadersCount', async () => {
    let seen: unknown[] = [];
    const server = createServer({ joinDuplicateHeaders: true }, (req, res) => {
      seen = [req.headers['x-a'], req.rawHeaders.length];
      res.end();
    });
    server.maxHeadersCount = 2;
    const port = await listening(server);
    await send(port, { path: '/', headers: { 'x-a': ['1', '2'] } });
    await stop(server);
    // node's client sends the X-A lines before Host: both X-A survive the cut at two fields, joined.
    expect(seen).toEqual(['1, 2', 4]);
  });

  test('request bodies: on(data), for await, pipe with backpressure', async () => {
    await withServer(async (req, res) => {
      if (req.url === '/iterate') {
        let size = 0;
        for await (const chunk of req) size += (chunk as Buffer).length;
        res.end(String(size));
      } else {
        req.pipe(res);
      }
    }, async (port) => {
      const big = Buffer.alloc(3_000_000, 1);
      expect((await send(port, { method: 'POST', path: '/iterate', body: big })).body.toString()).toBe('3000000');
      const echoed = await send(port, { method: 'POST', path: '/pipe', body: big });
      expect(echoed.body.equals(big)).toBe(true);
      expect(echoed.headers).toContainEqual(['transfer-encoding', 'chunked']);
    });
  });

  test('res header API, writeHead forms and node\'s validation errors', async () => {
    const errors: unknown[] = [];
    await withServer((req, res) => {
      res.setHeader('X-One', '1');
      res.appendHeader('X-List', 'a');
      res.appendHeader('X-List', 'b');
      errors.push(res.getHeader('x-one'), res.hasHeader('X-ONE'), res.getHeaderNames());
      try {
        res.setHeader('X-Bad', 'line\r\nbreak');
      } catch (err) {
        errors.push((err as NodeJS.ErrnoException).code);
      }
      try {
        res.setHeader('Bad Name', 'x');
      } catch (err) {
        errors.push((err as NodeJS.ErrnoException).code);
      }
      res.removeHeader('X-One');
      if (req.url === '/array') res.writeHead(202, 'Fine', ['X-Arr', 'v']);
      else res.writeHead(201, { 'X-Obj': 'v' });
      errors.push(res.headersSent);
      try {
        res.setHeader('X-Late', '1');
      } catch (err) {
        errors.push((err as NodeJS.ErrnoException).code);
      }
      res.end('done');
    }, async (port) => {
      const obj = await send(port, { path: '/obj' });
      expect(obj.status).toBe(201);
      expect(obj.headers).toEqual(expect.arrayContaining([['x-list', 'a'], ['x-list', 'b'], ['x-obj', 'v']]));
      expect(obj.headers.find(([name]) => name === 'x-one')).toBeUndefined();
      const arr = await send(port, { path: '/array' });
      expect(arr.status).toBe(202);
      expect(arr.headers).toContainEqual(['x-arr', 'v']);
    });
    expect(errors.slice(0, 7)).toEqual(['1', true, ['x-one', 'x-list'], 'ERR_INVALID_CHAR', 'ERR_INVALID_HTTP_TOKEN', true, 'ERR_HTTP_HEADERS_SENT']);
  });

  test('write/end callbacks, finish and close events, writableEnded/Finished', async () => {
    const events: string[] = [];
    await withServer((_req, res) => {
      res.on('finish', () => events.push(`finish ${String(res.writableFinished)}`));
      res.on('close', () => events.push('close'));
      res.write('a', () => events.push('write cb'));
      res.end('b', () => events.push('end cb'));
      events.push(`ended ${String(res.writableEnded)}`);
    }, async (port) => {
      expect((await send(port, { path: '/' })).body.toString()).toBe('ab');
      await new Promise((resolve) => setTimeout(resolve, 20));
    });
    expect(events).toEqual(['ended true', 'write cb', 'finish true', 'end cb', 'close']);
  });

  test('a request never read as a stream still reads and ends as one, before or after the response', async () => {
    const events: string[] = [];
    let finished: () => void = () => undefined;
    const done = new Promise<void>((resolve) => { finished = resolve; });
    await withServer(async (req, res) => {
      if (req.url === '/iterate') {
        const chunks: Buffer[] = [];
        for await (const chunk of req) chunks.push(chunk as Buffer);
        res.end(`read ${chunks.length} ${String(req.complete)} ${String(req.readableEnded)}`);
      } else if (req.url === '/listen-first') {
        req.on('end', () => events.push('end before response'));
        res.end('listened');
      } else {
        res.end('untouched');
        // Looked at only after the response: 'end' and 'close' still come, as after node's dump.
        setTimeout(() => {
          events.push(`complete ${String(req.complete)}`);
          req.on('end', () => events.push('end after response'));
          req.on('close', () => {
            events.push('close after response');
            finished();
          });
        }, 10);
      }
    }, async (port) => {
      expect((await send(port, { path: '/iterate' })).body.toString()).toBe('read 0 true true');
      expect((await send(port, { path: '/listen-first' })).body.toString()).toBe('listened');
      expect((await send(port, { path: '/untouched' })).body.toString()).toBe('untouched');
      await done;
    });
    expect(events).toEqual(['end before response', 'complete true', 'end after response', 'close after response']);
  });

  test("a response nobody listens to is closed when end() returns; listeners still get 'close' a tick later", async () => {
    const states: string[] = [];
    await withServer((req, res) => {
      if (req.url === '/quiet') {
        res.end('quiet');
        states.push(`quiet ${String(res.writableFinished)} ${String(res.destroyed)} ${String(res.closed)}`);
      } else {
        res.on('close', () => states.push(`close ${String(res.destroyed)}`));
        res.end('heard');
        states.push(`heard ${String(res.destroyed)}`);
      }
    }, async (port) => {
      expect((await send(port, { path: '/quiet' })).body.toString()).toBe('quiet');
      expect((await send(port, { path: '/heard' })).body.toString()).toBe('heard');
      await new Promise((resolve) => setTimeout(resolve, 20));
    });
    expect(states).toEqual(['quiet true true true', 'heard false', 'close true']);
  });

  test('pipeline(stream, res) and HEAD without a body', async () => {
    await withServer((_req, res) => {
      pipeline(Readable.from(['x'.repeat(100_000), 'y'.repeat(100_000)]), res, () => undefined);
    }, async (port) => {
      expect((await send(port, { path: '/' })).body.length).toBe(200_000);
      const head = await send(port, { method: 'HEAD', path: '/' });
      expect(head.body.length).toBe(0);
    });
  });

  test('a client that goes away: aborted on req, close on req and res', async () => {
    const events: string[] = [];
    let done: () => void = () => undefined;
    const finished = new Promise<void>((resolve) => { done = resolve; });
    await withServer((req, res) => {
      req.on('aborted', () => events.push('req aborted'));
      req.on('close', () => events.push('req close'));
      res.on('close', () => {
        events.push(`res close ${String(res.writableFinished)}`);
        done();
      });
      res.write('partial');
    }, async (port) => {
      await rawExchange(port, 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc', /partial/);
      await finished;
    });
    expect(events).toEqual(expect.arrayContaining(['req aborted', 'req close', 'res close false']));
  });

  test('checkContinue and writeContinue', async () => {
    const server = createServer(() => undefined);
    server.on('checkContinue', (req: http.IncomingMessage, res: http.ServerResponse) => {
      res.writeContinue();
      let body = '';
      req.on('data', (chunk: Buffer) => { body += chunk.toString(); });
      req.on('end', () => res.end(`got ${body}`));
    });
    const port = await listening(server);
    const text = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () => socket.write('POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 4\r\nConnection: close\r\n\r\n'));
      let received = '';
      socket.setEncoding('latin1');
      socket.on('data', (chunk: string) => {
        received += chunk;
        if (received.includes('100 Continue') && !received.includes('got')) socket.write('body');
      });
      socket.on('close', () => resolve(received));
      socket.on('error', reject);
    });
    await stop(server);
    expect(text).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK\r\n/);
    expect(text.endsWith('got body')).toBe(true);
  });

  test('HTTP/1.0: no chunking, the connection closes after a body of unknown length', async () => {
    await withServer((_req, res) => {
      res.write('one ');
      res.end('two');
    }, async (port) => {
      const text = await rawExchange(port, 'GET / HTTP/1.0\r\n\r\n');
      expect(text).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
      expect(text).toMatch(/Connection: close\r\n/);
      expect(text).not.toMatch(/Transfer-Encoding/);
      expect(text.endsWith('\r\n\r\none two')).toBe(true);
    });
  });
});
