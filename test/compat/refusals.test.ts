// Refused requests, option checks and timeouts: the drop-in beside node:http, the same raw bytes
// sent to each, the answers compared byte for byte.
import * as http from 'node:http';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import { createServer as createPyreServer, type Server } from '../../compat/server';

type AnyServer = http.Server | Server;
type Make = (options: http.ServerOptions, listener?: http.RequestListener) => AnyServer;

const SIDES: [string, Make][] = [
  ['node', (options, listener) => http.createServer(options, listener)],
  ['pyre', (options, listener) => createPyreServer(options as never, listener)],
];

function listen(server: AnyServer): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

function stop(server: AnyServer): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}

/** Sends `bytes` (then ends the connection if `end`), returns all the server sent until it closed. */
function exchange(port: number, bytes: string, { end = false, timeout = 5000 } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => (end ? socket.end(bytes, 'latin1') : socket.write(bytes, 'latin1')));
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      text += chunk;
    });
    const giveUp = setTimeout(() => reject(new Error(`no close within ${timeout} ms; received ${JSON.stringify(text)}`)), timeout);
    socket.on('close', () => {
      clearTimeout(giveUp);
      resolve(text);
    });
    socket.on('error', () => undefined);
  });
}

/** What each side answers `bytes` with, on a server made with `options`. */
async function bothAnswer(bytes: string, options: http.ServerOptions = {}, setUp: (server: AnyServer) => void = () => undefined): Promise<Record<string, string>> {
  const answers: Record<string, string> = {};
  for (const [side, make] of SIDES) {
    const server = make(options, (req, res) => {
      req.resume();
      req.on('end', () => res.end('ok'));
    });
    setUp(server);
    const port = await listen(server);
    try {
      answers[side] = await exchange(port, bytes);
    } finally {
      await stop(server);
    }
  }
  return answers;
}

const CHUNKED_POST = 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n';

describe('refused requests are answered as node answers them, byte for byte', () => {
  test.each<[string, string, string]>([
    ['a malformed request line', 'Oopsie-doopsie\r\n\r\n', 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n'],
    ['Content-Length with Transfer-Encoding', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n'],
    ['a header section past 16 KiB', `GET / HTTP/1.1\r\nHost: x\r\nCookie: ${'a'.repeat(17000)}\r\n\r\n`, 'HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n\r\n'],
    ['chunk extensions past 16 KiB', `${CHUNKED_POST}2;${'a'.repeat(17000)}\r\nAA\r\n0\r\n\r\n`, 'HTTP/1.1 413 Payload Too Large\r\nConnection: close\r\n\r\n'],
    ['an unbalanced quote in a chunk extension', `${CHUNKED_POST}2;a="b\r\nAA\r\n0\r\n\r\n`, 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n'],
    ['a bare ; after the chunk size', `${CHUNKED_POST}2;\r\nAA\r\n0\r\n\r\n`, 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n'],
  ])('%s', async (_name, bytes, expected) => {
    const answers = await bothAnswer(bytes);
    expect(answers).toEqual({ node: expected, pyre: expected });
  });

  test('a target longer than 8 KiB but within the 16 KiB head is served, as node serves it', async () => {
    const answers = await bothAnswer(`GET /${'a'.repeat(10_000)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    expect(answers.pyre.split('\r\n')[0]).toBe('HTTP/1.1 200 OK');
    expect(answers.node.split('\r\n')[0]).toBe('HTTP/1.1 200 OK');
  });

  test('a connection that sends nothing gets node\'s 408 once requestTimeout has passed since its accept', async () => {
    const options = { requestTimeout: 400, headersTimeout: 0, connectionsCheckingInterval: 100 } as http.ServerOptions;
    const answers = await bothAnswer('', options);
    expect(answers).toEqual({ node: 'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n', pyre: 'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n' });
  });

  test('headersTimeout defaults to the smaller of 60 s and requestTimeout, as in node', () => {
    for (const [, make] of SIDES) {
      expect(make({ requestTimeout: 20_000 }).headersTimeout).toBe(20_000);
      expect(make({ requestTimeout: 100_000 }).headersTimeout).toBe(60_000);
      expect(make({}).headersTimeout).toBe(60_000);
    }
  });
});

describe('insecureHTTPParser relaxes what node relaxes, and no framing rule', () => {
  const controlCharacter = 'GET / HTTP/1.1\r\nHost: x\r\nContent-Type: text/te\x08t\r\nConnection: close\r\n\r\n';

  test('a control character in a header value: refused by default, taken with insecureHTTPParser, as in node', async () => {
    expect(await bothAnswer(controlCharacter)).toEqual({
      node: 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n', pyre: 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n',
    });
    const relaxed = await bothAnswer(controlCharacter, { insecureHTTPParser: true });
    expect(relaxed.node.split('\r\n')[0]).toBe('HTTP/1.1 200 OK');
    expect(relaxed.pyre.split('\r\n')[0]).toBe('HTTP/1.1 200 OK');
  });

  test("Express's own tests' Host: http://example.com is taken with insecureHTTPParser (node takes any Host)", async () => {
    const answers = await bothAnswer('GET / HTTP/1.1\r\nHost: http://example.com\r\nConnection: close\r\n\r\n', { insecureHTTPParser: true });
    expect(answers.pyre.split('\r\n')[0]).toBe('HTTP/1.1 200 OK');
    expect(answers.node.split('\r\n')[0]).toBe('HTTP/1.1 200 OK');
  });

  test.each<[string, string]>([
    ['Content-Length with Transfer-Encoding', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
    ['a NUL in a value', 'GET / HTTP/1.1\r\nHost: x\r\nX: a\x00b\r\n\r\n'],
    ['two Host fields', 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n'],
    ['a bare LF ending a line', 'GET / HTTP/1.1\r\nHost: x\nX: a\r\n\r\n'],
  ])('still refused with insecureHTTPParser (node lets some of these through): %s', async (_name, bytes) => {
    const server = createPyreServer({ insecureHTTPParser: true } as never, (_req, res) => res.end('ok'));
    const port = await listen(server);
    expect(await exchange(port, bytes)).toBe('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    await stop(server);
  });
});

describe("'clientError' as node emits it", () => {
  async function clientErrors(bytes: string, end: boolean): Promise<Record<string, object>> {
    const seen: Record<string, object> = {};
    for (const [side, make] of SIDES) {
      const server = make({}, () => undefined);
      server.on('clientError', (err: Error & { code: string; bytesParsed?: number; rawPacket?: Buffer }, socket: net.Socket) => {
        seen[side] = { message: err.message, code: err.code, bytesParsed: err.bytesParsed, rawPacket: err.rawPacket?.toString('latin1') };
        socket.end('HTTP/1.1 400 Bad Request\r\n\r\n');
      });
      const port = await listen(server);
      const answer = await exchange(port, bytes, { end });
      expect({ side, answer }).toEqual({ side, answer: 'HTTP/1.1 400 Bad Request\r\n\r\n' });
      await stop(server);
    }
    return seen;
  }

  test.each<[string, string]>([
    ['an unknown method word', 'Oopsie-doopsie\r\n'],
    ['a request line without a version', 'FOO /\r\n'],
    ['a method node does not know', 'XYZ / HTTP/1.1\r\n\r\n'],
    ['a bad character in the method', 'G@T / HTTP/1.1\r\n\r\n'],
  ])('%s: code, message, bytesParsed and rawPacket as node gives them', async (_name, bytes) => {
    const seen = await clientErrors(bytes, true);
    expect(seen.pyre).toEqual(seen.node);
  });

  test('a head cut short by the client\'s end: HPE_INVALID_EOF_STATE, as node', async () => {
    const seen = await clientErrors('GET / HTTP/1.1\r\nContent-Length:', true);
    expect(seen.node).toMatchObject({ code: 'HPE_INVALID_EOF_STATE', message: 'Parse Error' });
    expect(seen.pyre).toEqual(seen.node);
  });
});

describe('arguments and properties checked as node checks them', () => {
  function thrown(run: () => unknown): object | string {
    try {
      run();
    } catch (err) {
      const { name, code, message } = err as Error & { code?: string };
      return { name, code, message };
    }
    return 'no throw';
  }

  test.each<[string, unknown[]]>([
    ['a string for options', ['nonsense']],
    ['a number for options', [42]],
    ['a listener that is not a function', [{}, 42]],
    ['a fractional requestTimeout', [{ requestTimeout: 1.5 }]],
    ['a string headersTimeout', [{ headersTimeout: '10' }]],
    ['headersTimeout above requestTimeout', [{ headersTimeout: 10_000, requestTimeout: 1000 }]],
    ['a negative keepAliveTimeout', [{ keepAliveTimeout: -1 }]],
    ['a non-boolean requireHostHeader', [{ requireHostHeader: 1 }]],
  ])('createServer with %s throws node\'s error', (_name, args) => {
    const node = thrown(() => (http.createServer as (...a: unknown[]) => unknown)(...args));
    const pyre = thrown(() => (createPyreServer as (...a: unknown[]) => unknown)(...args));
    expect(node).not.toBe('no throw');
    expect(pyre).toEqual(node);
  });

  test('timeout properties take what node takes (Infinity, fractions, null) and keep it', async () => {
    const server = createPyreServer((_req, res) => res.end('ok'));
    for (const [name, value] of [['keepAliveTimeout', Infinity], ['keepAliveTimeout', 65000.5], ['headersTimeout', null], ['requestTimeout', 0]] as const) {
      (server as unknown as Record<string, unknown>)[name] = value;
      expect((server as unknown as Record<string, unknown>)[name]).toBe(value);
    }
    const port = await listen(server);
    const answer = await exchange(port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(answer.split('\r\n')[0]).toBe('HTTP/1.1 200 OK');
    await stop(server);
  });

  test('serve() with a handler that is not a function throws at once', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { serve } = require('../../src/engine/server') as typeof import('../../src/engine/server');
    expect(thrown(() => serve(42 as never))).toMatchObject({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
  });

  test('an unknown host name is the lookup\'s ENOTFOUND on \'error\', as in node', async () => {
    const errors: Record<string, object> = {};
    for (const [side, make] of SIDES) {
      const server = make({});
      errors[side] = await new Promise((resolve) => {
        server.once('error', (err: NodeJS.ErrnoException & { hostname?: string }) => resolve({ code: err.code, syscall: err.syscall, hostname: err.hostname }));
        server.listen(0, 'no-such-host.invalid');
      });
    }
    expect(errors.pyre).toEqual(errors.node);
    expect(errors.node).toMatchObject({ code: 'ENOTFOUND', syscall: 'getaddrinfo' });
  });
});
