// The socket an 'upgrade' listener gets, beside node's: the same listener and the same raw
// client run against node:http and the drop-in, and what each side saw must match.
import * as http from 'node:http';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { createServer as createPyreServer } from '../../compat/server';

type UpgradeListener = (req: http.IncomingMessage, socket: Duplex & { bytesWritten?: number; resetAndDestroy?: () => void }, head: Buffer) => void;
type Make = () => http.Server;
type UpgradeSocketLike = Duplex & { resetAndDestroy(): void };

const SIDES: [string, Make][] = [
  ['node', () => http.createServer()],
  ['pyre', () => createPyreServer() as unknown as http.Server],
];

const UPGRADE = 'GET /chat HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: test\r\n\r\n';
const SWITCHED = 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: test\r\nConnection: Upgrade\r\nX-A: 1\r\nx-b:2\r\n\r\n';

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

interface Client {
  socket: net.Socket;
  /** Everything received so far. */
  text(): string;
  /** Resolves with how the connection ended: 'end' (FIN), or the error code. */
  ended: Promise<string>;
}

function connect(port: number, bytes: string, options: { allowHalfOpen?: boolean } = {}): Client {
  const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: options.allowHalfOpen ?? false });
  let text = '';
  socket.setEncoding('latin1');
  socket.on('data', (chunk: string) => {
    text += chunk;
  });
  const ended = new Promise<string>((resolve) => {
    socket.on('end', () => resolve('end'));
    socket.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
  });
  socket.write(bytes, 'latin1');
  return { socket, text: () => text, ended };
}

/** Runs `scenario` on each side with `listener` as the 'upgrade' listener; returns what each observed. */
async function onBothSides<T>(listener: (log: string[]) => UpgradeListener, scenario: (port: number, log: string[], server: http.Server) => Promise<T>): Promise<Record<string, { log: string[]; result: T }>> {
  const seen: Record<string, { log: string[]; result: T }> = {};
  for (const [side, make] of SIDES) {
    const server = make();
    const log: string[] = [];
    const sockets: Duplex[] = [];
    const upgrade = listener(log);
    server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
      sockets.push(socket);
      upgrade(req, socket, head);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const result = await scenario((server.address() as AddressInfo).port, log, server);
    // Upgraded sockets are the listener's, on node as here: closeAllConnections() leaves them.
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    seen[side] = { log, result };
  }
  return seen;
}

describe("the 'upgrade' socket beside node's", () => {
  test('the bytes the listener writes go out exactly as written: no Date, nothing reordered or added', async () => {
    const seen = await onBothSides(() => (_req, socket) => {
      socket.write(SWITCHED);
      socket.write('raw bytes');
    }, async (port) => {
      const client = connect(port, UPGRADE);
      for (let i = 0; i < 100 && !client.text().endsWith('raw bytes'); i++) await delay(10);
      client.socket.destroy();
      return client.text();
    });
    expect(seen.node.result).toBe(`${SWITCHED}raw bytes`);
    expect(seen.pyre.result).toBe(seen.node.result);
  });

  test('bytes sent right behind the request are `head`, what follows is \'data\'; \'end\' comes though nobody reads', async () => {
    const seen = await onBothSides((log) => (_req, socket, head) => {
      log.push(`head ${head.toString()}`);
      socket.write(SWITCHED);
      socket.on('end', () => {
        log.push('end');
        socket.end();
      });
      setTimeout(() => socket.on('data', (chunk: Buffer) => log.push(`data ${chunk.toString()}`)), 100);
    }, async (port, log) => {
      const client = connect(port, `${UPGRADE}first`);
      await delay(50);
      client.socket.end('second');
      const ended = await client.ended;
      for (let i = 0; i < 100 && !log.includes('end'); i++) await delay(10);
      return ended;
    });
    expect(seen.node).toEqual({ log: ['head first', 'data second', 'end'], result: 'end' });
    expect(seen.pyre).toEqual(seen.node);
  });

  test("'end' comes at the peer's end though nobody reads, and end() after the 101 is a half-close", async () => {
    const seen = await onBothSides((log) => (_req, socket) => {
      socket.write(SWITCHED);
      socket.on('end', () => {
        log.push('end');
        socket.end('bye');
      });
      socket.on('close', () => log.push('close'));
    }, async (port, log) => {
      const client = connect(port, UPGRADE, { allowHalfOpen: true });
      await delay(50);
      client.socket.end();
      const ended = await client.ended;
      for (let i = 0; i < 100 && !log.includes('close'); i++) await delay(10);
      return { ended, text: client.text() };
    });
    expect(seen.node).toEqual({ log: ['end', 'close'], result: { ended: 'end', text: `${SWITCHED}bye` } });
    expect(seen.pyre).toEqual(seen.node);
  });

  test('after end() the peer can still send, and its bytes arrive; the socket closes once the peer ends too', async () => {
    const seen = await onBothSides((log) => (_req, socket) => {
      socket.end(SWITCHED);
      socket.on('data', (chunk: Buffer) => log.push(`data ${chunk.toString()}`));
      socket.on('end', () => log.push('end'));
      socket.on('close', () => log.push('close'));
    }, async (port, log) => {
      const client = connect(port, UPGRADE, { allowHalfOpen: true });
      const ended = await client.ended;
      client.socket.write('late');
      for (let i = 0; i < 100 && log.length === 0; i++) await delay(10);
      client.socket.end();
      for (let i = 0; i < 100 && !log.includes('close'); i++) await delay(10);
      return { ended, text: client.text() };
    });
    expect(seen.node).toEqual({ log: ['data late', 'end', 'close'], result: { ended: 'end', text: SWITCHED } });
    expect(seen.pyre).toEqual(seen.node);
  });

  test("a refused handshake, then the client goes: 'end' and 'close' on the socket, and server.close(cb) calls back", async () => {
    const seen = await onBothSides((log) => (_req, socket) => {
      socket.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n');
      socket.on('end', () => log.push('end'));
      socket.on('close', () => log.push('close'));
    }, async (port, log, server) => {
      const client = connect(port, UPGRADE);
      for (let i = 0; i < 100 && client.text() === ''; i++) await delay(10);
      client.socket.destroy();
      for (let i = 0; i < 100 && !log.includes('close'); i++) await delay(10);
      // close() must call back with the connection gone (nothing closes it for us here).
      const closed = await Promise.race([new Promise<string>((resolve) => server.close(() => resolve('called back'))), delay(2000).then(() => 'no callback')]);
      server.listen(0, '127.0.0.1');
      return { text: client.text(), closed };
    });
    expect(seen.node).toEqual({ log: ['end', 'close'], result: { text: 'HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n', closed: 'called back' } });
    expect(seen.pyre).toEqual(seen.node);
  });

  test('a FIN right behind the request is heard before the listener answers', async () => {
    const seen = await onBothSides((log) => (_req, socket) => {
      socket.on('end', () => log.push('end'));
      setTimeout(() => {
        log.push('answering');
        socket.end(SWITCHED);
      }, 200);
    }, async (port, log) => {
      const client = connect(port, '', { allowHalfOpen: true });
      client.socket.end(UPGRADE);
      await client.ended;
      return client.text();
    });
    expect(seen.node).toEqual({ log: ['end', 'answering'], result: SWITCHED });
    expect(seen.pyre).toEqual(seen.node);
  });

  test("an upgrade request without Host reaches the 'upgrade' listener", async () => {
    const seen = await onBothSides((log) => (req, socket) => {
      log.push(`upgrade ${req.headers.host}`);
      socket.end(SWITCHED);
    }, async (port) => {
      const client = connect(port, 'GET / HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: test\r\n\r\n');
      await client.ended;
      return client.text();
    });
    expect(seen.node).toEqual({ log: ['upgrade undefined'], result: SWITCHED });
    expect(seen.pyre).toEqual(seen.node);
  });

  test('bytesWritten counts what was written, as node counts it', async () => {
    const seen = await onBothSides((log) => (_req, socket) => {
      log.push(`before ${socket.bytesWritten}`);
      socket.write(SWITCHED);
      log.push(`buffered ${socket.bytesWritten}`);
      socket.write('abc', () => {
        log.push(`after ${socket.bytesWritten}`);
        socket.end();
      });
    }, async (port) => {
      const client = connect(port, UPGRADE);
      return client.ended;
    });
    const total = SWITCHED.length + 3;
    expect(seen.node).toEqual({ log: ['before 0', `buffered ${SWITCHED.length}`, `after ${total}`], result: 'end' });
    expect(seen.pyre).toEqual(seen.node);
  });

  test('resetAndDestroy() resets the connection, as node documents it (node 20 itself sends a FIN on an upgraded socket)', async () => {
    const server = createPyreServer();
    server.on('upgrade', (_req, socket: UpgradeSocketLike) => socket.write(SWITCHED, () => socket.resetAndDestroy()));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const client = connect((server.address() as AddressInfo).port, UPGRADE);
    expect(await client.ended).toBe('ECONNRESET');
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
});
