// server.close() under keep-alive load, closeIdleConnections() and closeAllConnections(), on
// node:http beside Pyre with the same clients. The rolling-restart scenario counts every request
// a client wrote and every answer it read: none may be lost.
import * as http from 'node:http';
import * as net from 'node:net';
import { createServer as createPyreServer } from '../../compat/server';
import { delay, listen, type Make, SIDES } from './sides';

function closed(server: http.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** One response's head and body, read off a raw connection. */
interface Answer {
  head: string;
  body: string;
}

/** Splits complete Content-Length-framed responses off the front of `text`. */
function takeAnswers(text: string): { answers: Answer[]; rest: string } {
  const answers: Answer[] = [];
  for (;;) {
    const end = text.indexOf('\r\n\r\n');
    if (end === -1) break;
    const head = text.slice(0, end);
    const length = Number(/\r\ncontent-length: (\d+)/i.exec(head)?.[1] ?? 0);
    if (text.length < end + 4 + length) break;
    answers.push({ head, body: text.slice(end + 4, end + 4 + length) });
    text = text.slice(end + 4 + length);
  }
  return { answers, rest: text };
}

/**
 * A keep-alive client that sends its next request as soon as the previous answer is read, and
 * moves to `target()` when an answer says `Connection: close` (or the server closes between
 * requests), as a client behind a rolling restart does. Counts what it wrote and what it read.
 */
class LoadClient {
  written = 0;
  answered = 0;
  /** Requests written on a connection that closed before answering them. */
  lost = 0;
  /** Ports of the connections it used, in order. */
  readonly ports: number[] = [];
  private stopped = false;
  private readonly done: Promise<void>;
  private finish: () => void = () => undefined;

  constructor(private readonly target: () => number) {
    this.done = new Promise((resolve) => {
      this.finish = resolve;
    });
    this.connect();
  }

  private connect(): void {
    if (this.stopped) return this.finish();
    const port = this.target();
    this.ports.push(port);
    const socket = net.connect(port, '127.0.0.1');
    let text = '';
    let outstanding = 0;
    let closing = false;
    const send = (): void => {
      if (this.stopped || closing) return void socket.end();
      socket.write(`GET /${this.written} HTTP/1.1\r\nHost: t\r\n\r\n`);
      this.written++;
      outstanding++;
    };
    socket.setEncoding('latin1');
    socket.on('connect', send);
    socket.on('data', (chunk: string) => {
      const { answers, rest } = takeAnswers(text + chunk);
      text = rest;
      for (const answer of answers) {
        this.answered++;
        outstanding--;
        if (/\r\nconnection: close/i.test(answer.head)) closing = true;
      }
      if (answers.length > 0) send();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.lost += outstanding;
      this.connect();
    });
  }

  stop(): Promise<void> {
    this.stopped = true;
    return this.done;
  }
}

// Pyre only: node's close() destroys connections it sees as idle, also those whose next request
// is already on its way (this scenario loses up to one request per client there), and keeps
// answering the others with `Connection: keep-alive`, so its old server never drains under load.
describe('server.close() under keep-alive load (rolling restart)', () => {
  test('no request written is lost; the old server drains and closes while the load goes on', async () => {
    const make = (listener: http.RequestListener) => createPyreServer(listener) as unknown as http.Server;
    // Answers come at varied moments, so close() finds connections mid-request and between requests.
    const answerSoon: http.RequestListener = (req, res) => {
      const answer = (): void => void res.end(`answer to ${req.url}`);
      if (Number(req.url?.slice(1)) % 3 === 0) setImmediate(answer);
      else setTimeout(answer, 1);
    };
    const old = make(answerSoon);
    const next = make(answerSoon);
    const [oldPort, nextPort] = [await listen(old), await listen(next)];
    let current = oldPort;
    const clients = Array.from({ length: 8 }, () => new LoadClient(() => current));
    await delay(150);
    current = nextPort;
    let oldClosedAt: number | null = null;
    const oldClosed = closed(old).then(() => {
      oldClosedAt = Date.now();
    });
    await delay(250);
    const loadEnded = Date.now();
    await Promise.all(clients.map((c) => c.stop()));
    old.closeAllConnections();
    await oldClosed;
    next.closeAllConnections();
    await closed(next);

    const written = clients.reduce((n, c) => n + c.written, 0);
    const answered = clients.reduce((n, c) => n + c.answered, 0);
    const lost = clients.reduce((n, c) => n + c.lost, 0);
    expect(written).toBeGreaterThan(100);
    expect({ lost, unanswered: written - answered }).toEqual({ lost: 0, unanswered: 0 });
    // Every response after close() said Connection: close: each client moved to the new server
    // at once, and the old one closed while the load was still running.
    expect(oldClosedAt).not.toBeNull();
    expect(oldClosedAt as unknown as number).toBeLessThan(loadEnded);
    for (const client of clients) expect(client.ports.slice(-1)).toEqual([nextPort]);
  });
});

/** A raw keep-alive connection that records what it reads and whether the server closed it. */
async function rawConnection(port: number): Promise<{ socket: net.Socket; text: () => string; isClosed: () => boolean }> {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  let text = '';
  let isClosed = false;
  socket.setEncoding('latin1');
  socket.on('data', (chunk: string) => {
    text += chunk;
  });
  socket.on('error', () => undefined);
  socket.on('close', () => {
    isClosed = true;
  });
  return { socket, text: () => text, isClosed: () => isClosed };
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 3000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(5);
  }
}

describe('closing connections', () => {
  /** An idle keep-alive connection (answered once) and a busy one (its request unanswered). */
  async function idleAndBusy(make: Make) {
    const pending: http.ServerResponse[] = [];
    const resClosed: string[] = [];
    const server = make((req, res) => {
      res.on('close', () => resClosed.push(`${req.url} ${res.writableFinished ? 'finished' : 'unfinished'}`));
      if (req.url === '/slow') pending.push(res);
      else res.end('quick');
    });
    const port = await listen(server);
    const idle = await rawConnection(port);
    idle.socket.write('GET /quick HTTP/1.1\r\nHost: t\r\n\r\n');
    await until(() => idle.text().endsWith('quick'), 'the first answer');
    const busy = await rawConnection(port);
    busy.socket.write('GET /slow HTTP/1.1\r\nHost: t\r\n\r\n');
    await until(() => pending.length === 1, 'the slow request');
    return { server, idle, busy, pending, resClosed };
  }

  test.each(SIDES)('%s: closeIdleConnections() closes the idle connection at once and leaves the busy one', async (_side, make) => {
    const { server, idle, busy, pending } = await idleAndBusy(make);
    server.closeIdleConnections();
    await until(() => idle.isClosed(), 'the idle connection to close');
    await delay(20);
    expect(busy.isClosed()).toBe(false);
    pending[0].end('slow');
    await until(() => busy.text().endsWith('slow'), 'the slow answer');
    expect(busy.text()).toMatch(/\r\nConnection: keep-alive\r\n/);
    await delay(20);
    expect(busy.isClosed()).toBe(false);
    server.closeAllConnections();
    await closed(server);
  });

  test.each(SIDES)('%s: closeAllConnections() closes the busy connection too; its response closes unfinished', async (_side, make) => {
    const { server, idle, busy, resClosed } = await idleAndBusy(make);
    server.closeAllConnections();
    await until(() => idle.isClosed() && busy.isClosed(), 'both connections to close');
    await until(() => resClosed.length === 2, "both responses' 'close'");
    expect(resClosed).toEqual(['/quick finished', '/slow unfinished']);
    expect(busy.text()).toBe('');
    await closed(server);
  });

  test('pyre: after close(), the busy connection is answered with Connection: close and closes; the close callback follows', async () => {
    const { server, idle, busy, pending } = await idleAndBusy((listener) => createPyreServer(listener) as unknown as http.Server);
    let closeCalled = false;
    server.close(() => {
      closeCalled = true;
    });
    await until(() => idle.isClosed(), 'the idle connection to close');
    expect(busy.isClosed()).toBe(false);
    expect(closeCalled).toBe(false);
    pending[0].end('slow');
    await until(() => busy.isClosed(), 'the busy connection to close after its answer');
    expect(busy.text()).toMatch(/^HTTP\/1\.1 200 OK\r\n.*\r\nConnection: close\r\n.*\r\n\r\nslow$/s);
    await until(() => closeCalled, 'the close callback');
  });

  test('pyre: a request already sent on an idle connection when close() runs is answered, with Connection: close', async () => {
    const server = createPyreServer((req, res) => res.end(`answer to ${req.url}`));
    const port = await listen(server as unknown as http.Server);
    const client = await rawConnection(port);
    client.socket.write('GET /first HTTP/1.1\r\nHost: t\r\n\r\n');
    await until(() => client.text().endsWith('answer to /first'), 'the first answer');
    // Written in the same tick as close(): the request is in the kernel, not yet read.
    client.socket.write('GET /second HTTP/1.1\r\nHost: t\r\n\r\n');
    const done = closed(server as unknown as http.Server);
    await until(() => client.isClosed(), 'the connection to close');
    const { answers } = takeAnswers(client.text());
    expect(answers.map((a) => a.body)).toEqual(['answer to /first', 'answer to /second']);
    expect(answers[1].head).toMatch(/\r\nConnection: close(\r\n|$)/);
    await done;
  });
});
