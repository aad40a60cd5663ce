// A client that goes away while its response is pending, on node:http beside Pyre with the same
// client: the application hears of it at once ('aborted'/'close' on req, res and the socket), and
// everything built on that (SSE loops, long polls, Fastify's request.signal and onRequestAbort,
// Express's res.sendFile callback) behaves as on node.
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify from 'fastify';
import { createServer as createPyreServer } from '../../compat/server';
import { closeServer, delay, listen, onBoth } from './sides';

/** How the client leaves: a FIN (end), or a reset. */
type Leave = 'end' | 'reset';
const LEAVES: Leave[] = ['end', 'reset'];

async function until(condition: () => boolean, what: string, ms = 1000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await delay(2);
  }
}

/** Connects, writes `request`, waits until `ready()`, then leaves; returns when it did. */
async function sendThenLeave(port: number, request: string, ready: () => boolean, leave: Leave): Promise<void> {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  socket.on('data', () => undefined);
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write(request);
  await until(ready, 'the server to hold the request');
  if (leave === 'end') socket.end();
  else socket.resetAndDestroy();
}

/** Records what a request, its response and its socket emit, as node emits it. */
function recordEvents(req: http.IncomingMessage, res: http.ServerResponse, events: string[]): void {
  req.on('aborted', () => events.push('req aborted'));
  req.on('error', (err: NodeJS.ErrnoException) => events.push(`req error ${err.code} ${err.message}`));
  req.on('close', () => events.push('req close'));
  res.on('close', () => events.push(`res close ${res.writableFinished ? 'finished' : 'unfinished'}`));
  res.on('finish', () => events.push('res finish'));
  req.socket.on('error', (err: NodeJS.ErrnoException) => events.push(`socket error ${err.code}`));
  req.socket.on('close', (hadError: boolean) => events.push(`socket close ${hadError}`));
}

describe('a plain handler that has not answered', () => {
  test.each(LEAVES)('the client leaves (%s): req, res and the socket hear of it at once, as on node', async (leave) => {
    const [node, pyre] = await onBoth(async (make) => {
      const events: string[] = [];
      let held: http.ServerResponse | null = null;
      const server = make((req, res) => {
        recordEvents(req, res, events);
        held = res;
      });
      const port = await listen(server);
      const left = Date.now();
      await sendThenLeave(port, 'GET /wait HTTP/1.1\r\nHost: t\r\n\r\n', () => held !== null, leave);
      await until(() => events.includes('req close') && events.some((e) => e.startsWith('socket close')), 'the close events');
      const elapsed = Date.now() - left;
      // Answering a gone client sends nothing and emits no 'finish', as on node.
      (held as unknown as http.ServerResponse).end('too late');
      await delay(20);
      await closeServer(server);
      return { events: events.sort(), prompt: elapsed < 500 };
    });
    expect(pyre).toEqual(node);
    expect(node.events).toContain('req aborted');
    expect(node.events).toContain('res close unfinished');
  });

  test('a request whose body was read to the end gets no aborted, its response still closes', async () => {
    const [node, pyre] = await onBoth(async (make) => {
      const events: string[] = [];
      let ended = false;
      const server = make((req, res) => {
        recordEvents(req, res, events);
        req.resume();
        req.on('end', () => {
          ended = true;
        });
      });
      const port = await listen(server);
      await sendThenLeave(port, 'POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc', () => ended, 'end');
      await until(() => events.some((e) => e.startsWith('socket close')), 'the socket to close');
      await closeServer(server);
      return events.sort();
    });
    expect(pyre).toEqual(node);
    expect(node).not.toContain('req aborted');
  });

  test('an upload cut off mid-body: aborted, then the ECONNRESET error and close on req', async () => {
    const [node, pyre] = await onBoth(async (make) => {
      const events: string[] = [];
      let received = 0;
      const server = make((req, res) => {
        recordEvents(req, res, events);
        req.on('data', (chunk: Buffer) => {
          received += chunk.length;
        });
      });
      const port = await listen(server);
      await sendThenLeave(port, 'POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\npartial', () => received === 7, 'reset');
      await until(() => events.includes('req close'), "req 'close'");
      await delay(20);
      await closeServer(server);
      return events.filter((e) => e.startsWith('req')).sort();
    });
    expect(pyre).toEqual(node);
    expect(node).toEqual(['req aborted', 'req close', 'req error ECONNRESET aborted']);
  });
});

describe('patterns built on the close', () => {
  test.each(LEAVES)('an SSE stream stops writing when the client leaves (%s)', async (leave) => {
    const [node, pyre] = await onBoth(async (make) => {
      let timer: NodeJS.Timeout | null = null;
      let stopped = false;
      let writes = 0;
      const server = make((req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        timer = setInterval(() => {
          res.write(`data: ${writes++}\n\n`);
        }, 5);
        res.on('close', () => {
          clearInterval(timer as NodeJS.Timeout);
          stopped = true;
        });
      });
      const port = await listen(server);
      await sendThenLeave(port, 'GET /events HTTP/1.1\r\nHost: t\r\nAccept: text/event-stream\r\n\r\n', () => writes >= 3, leave);
      await until(() => stopped, 'the stream to stop');
      await closeServer(server);
      return stopped;
    });
    expect([node, pyre]).toEqual([true, true]);
  });

  test.each(LEAVES)('a long poll (Connection: close, as a proxy sends it) is dropped when the client leaves (%s)', async (leave) => {
    const [node, pyre] = await onBoth(async (make) => {
      const waiting = new Set<http.ServerResponse>();
      let timedOut = 0;
      const server = make((req, res) => {
        waiting.add(res);
        const timeout = setTimeout(() => {
          timedOut++;
          res.end('{"events":[]}');
        }, 2000);
        res.on('close', () => {
          clearTimeout(timeout);
          waiting.delete(res);
        });
      });
      const port = await listen(server);
      await sendThenLeave(port, 'GET /poll HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n', () => waiting.size === 1, leave);
      await until(() => waiting.size === 0, 'the poll to be dropped');
      await closeServer(server);
      return { waiting: waiting.size, timedOut };
    });
    expect(pyre).toEqual(node);
    expect(node).toEqual({ waiting: 0, timedOut: 0 });
  });

  test.each(LEAVES)("Fastify's request.signal and onRequestAbort fire when the client leaves (%s)", async (leave) => {
    const [node, pyre] = await onBoth(async (make) => {
      const heard: string[] = [];
      let handling = false;
      const app = Fastify({ serverFactory: (handler) => make(handler) });
      app.addHook('onRequestAbort', async (request) => {
        heard.push(`onRequestAbort ${request.url}`);
      });
      app.get('/slow', async (request) => {
        handling = true;
        await new Promise<void>((resolve) => request.signal.addEventListener('abort', () => resolve()));
        heard.push('signal aborted');
        return 'never sent';
      });
      await app.listen({ port: 0, host: '127.0.0.1' });
      const port = (app.server.address() as AddressInfo).port;
      await sendThenLeave(port, 'GET /slow HTTP/1.1\r\nHost: t\r\n\r\n', () => handling, leave);
      await until(() => heard.length === 2, 'both notifications');
      await app.close();
      return heard.sort();
    });
    expect(pyre).toEqual(node);
    expect(node).toEqual(['onRequestAbort /slow', 'signal aborted']);
  });

  test("Express's res.sendFile callback hears the abort of a client that stops reading and resets", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pyre-abort-'));
    const file = path.join(dir, 'big.bin');
    fs.writeFileSync(file, Buffer.alloc(16 * 1024 * 1024, 97));
    try {
      const [node, pyre] = await onBoth(async (make) => {
        let outcome: string | null = null;
        let started = false;
        const app = express();
        app.get('/big', (_req, res) => {
          started = true;
          res.sendFile(file, (err?: NodeJS.ErrnoException) => {
            outcome = err ? `${err.code} ${err.message}` : 'sent';
          });
        });
        const server = make(app);
        const port = await listen(server);
        // The client never reads: output backs up, then it resets with data unread.
        const socket = net.connect(port, '127.0.0.1');
        socket.on('error', () => undefined);
        await new Promise((resolve) => socket.once('connect', resolve));
        socket.pause();
        socket.write('GET /big HTTP/1.1\r\nHost: t\r\n\r\n');
        await until(() => started, 'the request');
        await delay(50);
        socket.resetAndDestroy();
        await until(() => outcome !== null, 'the sendFile callback');
        await closeServer(server);
        return outcome;
      });
      expect(pyre).toEqual(node);
      expect(node).toBe('ECONNABORTED Request aborted');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** Sends `request` and ends the client's side with it; what arrived by the server's close. */
async function sendAndEnd(port: number, request: string): Promise<string> {
  const socket = net.connect(port, '127.0.0.1');
  let text = '';
  socket.setEncoding('latin1');
  socket.on('data', (chunk: string) => {
    text += chunk;
  });
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.end(request);
  await new Promise((resolve) => socket.once('close', resolve));
  return text;
}

describe('half-close', () => {
  test("a client that ends its side after a request answered at once gets the answer; one still pending is dropped, as on node", async () => {
    const [node, pyre] = await onBoth(async (make) => {
      const server = make((req, res) => {
        if (req.url === '/now') res.end('now');
        else setTimeout(() => res.end('later'), 100);
      });
      const port = await listen(server);
      const got: string[] = [];
      for (const url of ['/now', '/later']) {
        const text = await sendAndEnd(port, `GET ${url} HTTP/1.1\r\nHost: t\r\n\r\n`);
        got.push(`${url}: ${text.split('\r\n\r\n')[1] ?? '(nothing)'}`);
      }
      await closeServer(server);
      return got;
    });
    expect(pyre).toEqual(node);
    expect(node).toEqual(['/now: now', '/later: (nothing)']);
  });

  test('pyre: server.httpAllowHalfOpen = true answers a request whose client has ended its side', async () => {
    const server = createPyreServer((_req, res) => void setTimeout(() => res.end('later'), 50));
    server.httpAllowHalfOpen = true;
    const port = await listen(server as unknown as http.Server);
    const text = await sendAndEnd(port, 'GET / HTTP/1.1\r\nHost: t\r\n\r\n');
    expect(text.split('\r\n\r\n')[1]).toBe('later');
    await closeServer(server as unknown as http.Server);
  });
});
