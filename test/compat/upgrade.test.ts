// node:http's 'upgrade' event on Pyre's drop-in server: the `ws` library runs on it unmodified,
// and the same WebSocket scenarios give the same results on node:http and on Pyre.
import * as http from 'node:http';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import { type ChildProcess, spawn } from 'node:child_process';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { WebSocket, WebSocketServer, type ServerOptions as WsServerOptions } from 'ws';
import { Server as SocketIoServer } from 'socket.io';
import { io as socketIoClient, type Socket as SocketIoClient } from 'socket.io-client';
import { createServer as createPyreServer, type Server as PyreServer } from '../../compat/server';

type Kind = 'node' | 'pyre';
type HttpServer = http.Server | PyreServer;

interface Side {
  server: HttpServer;
  wss: WebSocketServer;
  port: number;
  /** Close codes and reasons the server's WebSockets reported, in order. */
  serverCloses: { code: number; reason: string }[];
}

const servers: HttpServer[] = [];
const wsServers: WebSocketServer[] = [];

afterEach(async () => {
  for (const wss of wsServers.splice(0)) {
    for (const client of wss.clients) client.terminate();
    wss.close();
  }
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

function createHttpServer(kind: Kind): HttpServer {
  const listener = (req: http.IncomingMessage, res: http.ServerResponse) => res.end(`plain ${req.url}`);
  return kind === 'node' ? http.createServer(listener) : createPyreServer(listener);
}

async function listen(server: HttpServer): Promise<number> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return (server.address() as AddressInfo).port;
}

/**
 * An echo WebSocket server on `kind`'s HTTP server: `{ server }` mode by default, or noServer
 * with the app calling handleUpgrade from its own 'upgrade' listener.
 */
async function startEcho(kind: Kind, options: WsServerOptions = {}, mode: 'server' | 'noServer' = 'server'): Promise<Side> {
  const server = createHttpServer(kind);
  const wss = mode === 'server'
    ? new WebSocketServer({ ...options, server: server as http.Server })
    : new WebSocketServer({ ...options, noServer: true });
  if (mode === 'noServer') {
    server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
      if (req.url !== '/ws') {
        socket.write('HTTP/1.1 404 Not Found\r\n\r\n');
        socket.destroy();
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
    });
  }
  const side: Side = { server, wss, port: 0, serverCloses: [] };
  wss.on('connection', (ws, req) => {
    ws.on('message', (data, isBinary) => {
      const text = isBinary ? '' : data.toString();
      if (text.startsWith('close:')) return ws.close(Number(text.slice(6)), 'server-bye');
      if (text === 'ping me') return ws.ping('from-server');
      if (text === 'who') return ws.send(JSON.stringify({ url: req.url, upgrade: (req as { upgrade?: boolean }).upgrade, remote: req.socket.remoteAddress }));
      ws.send(data, { binary: isBinary });
    });
    ws.on('pong', (data) => ws.send(`server got pong ${data.toString()}`));
    ws.on('close', (code, reason) => side.serverCloses.push({ code, reason: reason.toString() }));
  });
  wsServers.push(wss);
  side.port = await listen(server);
  return side;
}

function open(port: number, urlPath = '/'): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const client = new WebSocket(`ws://127.0.0.1:${port}${urlPath}`);
    client.once('open', () => resolve(client));
    client.once('error', reject);
  });
}

function nextMessage(client: WebSocket): Promise<{ data: Buffer; binary: boolean }> {
  return new Promise((resolve) => client.once('message', (data, binary) => resolve({ data: data as Buffer, binary })));
}

function closed(client: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => client.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 300 && !condition(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(condition()).toBe(true);
}

/** The status ws's client reports when the server refuses the handshake. */
function refusal(port: number, urlPath = '/'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const client = new WebSocket(`ws://127.0.0.1:${port}${urlPath}`);
    client.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    client.once('open', () => reject(new Error('the handshake was accepted')));
    client.on('error', () => {});
  });
}

/** What the server sends for one raw request: through the blank line after a 101, else all it sends before closing. */
function rawAnswer(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let received = '';
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      if (received.startsWith('HTTP/1.1 101') && received.includes('\r\n\r\n')) socket.destroy();
    });
    socket.on('close', () => resolve(received));
    socket.on('error', reject);
    socket.setTimeout(5000, () => socket.destroy(new Error(`no close within 5 s; got ${JSON.stringify(received)}`)));
    socket.write(request);
  });
}

function get(port: number, urlPath: string, headers: http.OutgoingHttpHeaders = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: urlPath, headers, agent: false }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

/**
 * The WebSocket scenario the differential test runs on both servers: everything the client
 * observes, in order.
 */
async function scenario(port: number, large: Buffer): Promise<unknown[]> {
  const seen: unknown[] = [];
  const client = await open(port, '/chat?x=1');
  client.send('who');
  seen.push(JSON.parse((await nextMessage(client)).data.toString()));
  client.send('hello');
  const text = await nextMessage(client);
  seen.push([text.binary, text.data.toString()]);
  client.send(Buffer.from([0, 1, 2, 255]));
  const binary = await nextMessage(client);
  seen.push([binary.binary, [...binary.data]]);
  client.send(large);
  const echoed = await nextMessage(client);
  seen.push(['large echoed intact', echoed.data.equals(large)]);
  const pong = new Promise<string>((resolve) => client.once('pong', (data) => resolve(data.toString())));
  client.ping('from-client');
  seen.push(['pong', await pong]);
  client.send('ping me');
  seen.push((await nextMessage(client)).data.toString());
  client.send('close:4002');
  seen.push(await closed(client));
  return seen;
}

describe.each<Kind>(['pyre', 'node'])('ws on %s', (kind) => {
  test('echoes text and binary messages; req is the upgrade request', async () => {
    const { port } = await startEcho(kind);
    const client = await open(port, '/chat?x=1');
    client.send('who');
    expect(JSON.parse((await nextMessage(client)).data.toString())).toEqual({ url: '/chat?x=1', upgrade: true, remote: '127.0.0.1' });
    client.send('hello');
    expect(await nextMessage(client)).toEqual({ data: Buffer.from('hello'), binary: false });
    client.send(Buffer.from([1, 2, 3]));
    expect(await nextMessage(client)).toEqual({ data: Buffer.from([1, 2, 3]), binary: true });
    client.close();
    expect(await closed(client)).toEqual({ code: 1005, reason: '' });
  });

  test('a 1 MiB message goes both ways intact', async () => {
    const { port } = await startEcho(kind);
    const client = await open(port);
    const large = randomBytes(1 << 20);
    client.send(large);
    const echoed = await nextMessage(client);
    expect(echoed.binary).toBe(true);
    expect(echoed.data.equals(large)).toBe(true);
    client.close();
    await closed(client);
  });

  test('ping and pong both ways', async () => {
    const { port } = await startEcho(kind);
    const client = await open(port);
    const pong = new Promise<string>((resolve) => client.once('pong', (data) => resolve(data.toString())));
    client.ping('p1');
    expect(await pong).toBe('p1');
    client.send('ping me');
    expect((await nextMessage(client)).data.toString()).toBe('server got pong from-server');
    client.terminate();
  });

  test('close codes and reasons reach the other side, whichever side closes', async () => {
    const side = await startEcho(kind);
    const first = await open(side.port);
    first.close(4001, 'client-bye');
    expect(await closed(first)).toEqual({ code: 4001, reason: 'client-bye' });
    await until(() => side.serverCloses.length === 1);
    expect(side.serverCloses[0]).toEqual({ code: 4001, reason: 'client-bye' });

    const second = await open(side.port);
    second.send('close:4002');
    expect(await closed(second)).toEqual({ code: 4002, reason: 'server-bye' });
    await until(() => side.serverCloses.length === 2);
    expect(side.serverCloses[1]).toEqual({ code: 4002, reason: 'server-bye' });
  });

  test('a client that disconnects abruptly is seen as closed (1006)', async () => {
    const side = await startEcho(kind);
    const client = await open(side.port);
    client.send('hello');
    await nextMessage(client);
    client.terminate();
    await until(() => side.serverCloses.length === 1);
    expect(side.serverCloses[0]).toEqual({ code: 1006, reason: '' });
    expect(side.wss.clients.size).toBe(0);
  });

  test("a refused handshake gives the client ws's status and body, and the connection closes", async () => {
    const { port } = await startEcho(kind, { verifyClient: () => false });
    expect(await refusal(port)).toEqual({ status: 401, body: 'Unauthorized' });
    // Not a WebSocket request (no key): ws answers 400 itself.
    const answer = await rawAnswer(port, 'GET / HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(answer).toMatch(/\r\nConnection: close\r\n/);
    expect(answer.endsWith('\r\n\r\nMissing or invalid Sec-WebSocket-Key header')).toBe(true);
  });

  test("noServer mode: the app's 'upgrade' listener hands the socket to handleUpgrade, or refuses it", async () => {
    const { port } = await startEcho(kind, {}, 'noServer');
    const client = await open(port, '/ws');
    client.send('via handleUpgrade');
    expect((await nextMessage(client)).data.toString()).toBe('via handleUpgrade');
    client.close(1000);
    expect((await closed(client)).code).toBe(1000);
    // Written with socket.write() and destroyed at once, as raw handlers do.
    expect((await refusal(port, '/elsewhere')).status).toBe(404);
  });

  test('plain HTTP requests on the same server are still served, with a WebSocket open', async () => {
    const { port } = await startEcho(kind);
    const client = await open(port);
    expect(await get(port, '/page')).toEqual({ status: 200, body: 'plain /page' });
    client.send('still here');
    expect((await nextMessage(client)).data.toString()).toBe('still here');
    client.close();
    await closed(client);
  });
});

test("an upgrade request goes to 'request' when nothing listens for 'upgrade', as on node", async () => {
  const answers: Record<Kind, unknown> = { node: null, pyre: null };
  for (const kind of ['node', 'pyre'] as const) {
    const server = createHttpServer(kind);
    let upgradeFlag: unknown;
    server.removeAllListeners('request');
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      upgradeFlag = (req as { upgrade?: boolean }).upgrade;
      res.end(`plain ${req.url}`);
    });
    const port = await listen(server);
    try {
      const reply = await get(port, '/up', { Connection: 'Upgrade', Upgrade: 'websocket' });
      answers[kind] = { ...reply, upgradeFlag };
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }
  expect(answers.pyre).toEqual({ status: 200, body: 'plain /up', upgradeFlag: false });
  expect(answers.pyre).toEqual(answers.node);
});

test('differential: the same WebSocket scenario observes the same on node:http and Pyre', async () => {
  const large = randomBytes(1 << 20);
  const node = await startEcho('node');
  const pyre = await startEcho('pyre');
  const [fromNode, fromPyre] = [await scenario(node.port, large), await scenario(pyre.port, large)];
  expect(fromPyre).toEqual(fromNode);
  expect(fromPyre[fromPyre.length - 1]).toEqual({ code: 4002, reason: 'server-bye' });
  await until(() => node.serverCloses.length === 1 && pyre.serverCloses.length === 1);
  expect(pyre.serverCloses).toEqual(node.serverCloses);
  // Byte for byte, but for the Date Pyre's engine always sends: the 101 head, and ws's own 400.
  const handshake = 'GET / HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n'
    + 'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n';
  const withoutKey = 'GET / HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n';
  for (const request of [handshake, withoutKey]) {
    const [a, b] = await Promise.all([node.port, pyre.port].map(async (port) => (await rawAnswer(port, request)).replace(/\r\nDate: [^\r]*/, '')));
    expect(b).toMatch(/^HTTP\/1\.1 (101|400) /);
    expect(b).toBe(a);
  }
  // Refused handshakes too.
  const refusals = await Promise.all([node, pyre].map(async (side) => {
    side.wss.options.verifyClient = (_info, done) => done(false, 403, 'Go away');
    return refusal(side.port);
  }));
  expect(refusals[1]).toEqual({ status: 403, body: 'Go away' });
  expect(refusals[1]).toEqual(refusals[0]);
});

describe("raw 'upgrade' handling on the socket itself", () => {
  const shoutRequest = 'GET /shout HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: shout\r\n\r\n';

  /** A non-ws protocol: 101 written by hand, then every byte echoed upper-cased until the peer ends. */
  async function startShout(): Promise<number> {
    const server = createHttpServer('pyre');
    server.on('upgrade', (_req: http.IncomingMessage, socket: net.Socket) => {
      socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: shout\r\nConnection: Upgrade\r\n\r\n');
      socket.on('data', (chunk: Buffer) => socket.write(chunk.toString('latin1').toUpperCase()));
      socket.on('end', () => socket.end('BYE'));
    });
    return listen(server);
  }

  test('the head written by the listener starts raw mode; the peer ending its side ends ours', async () => {
    const port = await startShout();
    const socket = net.connect(port, '127.0.0.1');
    let received = '';
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      if (received.endsWith('HELLO')) socket.end();
    });
    const closedSocket = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.write(shoutRequest);
    await until(() => received.includes('\r\n\r\n'));
    expect(received).toMatch(/^HTTP\/1\.1 101 Switching Protocols\r\n/);
    expect(received).toMatch(/\r\nUpgrade: shout\r\nConnection: Upgrade\r\n/);
    socket.write('hello');
    await closedSocket;
    expect(received.endsWith('\r\n\r\nHELLOBYE')).toBe(true);
  });

  test('flow control both ways: a listener that does not read stops the peer, one that writes ahead waits for drain', async () => {
    const upload = 4 << 20;
    const download = 8 << 20;
    const server = createHttpServer('pyre');
    server.on('upgrade', (_req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
      socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: shout\r\nConnection: Upgrade\r\n\r\n');
      let writable = true;
      for (let sent = 0; sent < download; sent += 1 << 16) writable = socket.write(Buffer.alloc(1 << 16, 0x61));
      const heldBack = !writable;
      // Nothing read for a while: the client's upload backs up.
      socket.pause();
      setTimeout(() => {
        // What came behind the request is `head`, the rest 'data'.
        let got = head.length;
        socket.on('data', (chunk: Buffer) => (got += chunk.length));
        socket.on('end', () => socket.end(`|got ${got} held back ${heldBack}`));
        socket.resume();
      }, 200);
    });
    const port = await listen(server);
    const client = net.connect(port, '127.0.0.1');
    client.write(shoutRequest);
    client.end(Buffer.alloc(upload, 0x62));
    // The client reads nothing at first either.
    client.pause();
    await new Promise((r) => setTimeout(r, 100));
    const chunks: Buffer[] = [];
    client.on('data', (chunk: Buffer) => chunks.push(chunk));
    client.resume();
    await new Promise((resolve) => client.on('close', resolve));
    const received = Buffer.concat(chunks).toString('latin1');
    const body = received.slice(received.indexOf('\r\n\r\n') + 4);
    expect(body.length).toBe(download + `|got ${upload} held back true`.length);
    expect(body.endsWith(`|got ${upload} held back true`)).toBe(true);
  });

  test('socket.setTimeout emits timeout after idleness, as on a net.Socket', async () => {
    const server = createHttpServer('pyre');
    const timedOut = new Promise<number>((resolve) => {
      server.on('upgrade', (_req: http.IncomingMessage, socket: net.Socket) => {
        const since = Date.now();
        socket.setTimeout(100, () => {
          resolve(Date.now() - since);
          socket.destroy();
        });
      });
    });
    const port = await listen(server);
    const answer = rawAnswer(port, shoutRequest);
    expect(await timedOut).toBeGreaterThanOrEqual(90);
    expect(await answer).toBe('');
  });
});

test("socket.io's WebSocket transport, directly and upgraded from long-polling", async () => {
  const server = createHttpServer('pyre');
  const ioServer = new SocketIoServer(server as http.Server);
  ioServer.on('connection', (socket) => socket.on('echo', (text: string, ack: (reply: string) => void) => ack(`${text}!`)));
  const port = await listen(server);
  const clients: SocketIoClient[] = [];
  try {
    const direct = socketIoClient(`http://127.0.0.1:${port}`, { transports: ['websocket'] });
    const upgraded = socketIoClient(`http://127.0.0.1:${port}`);
    clients.push(direct, upgraded);
    const upgradedTo = new Promise<string>((resolve) => upgraded.io.engine.once('upgrade', (transport: { name: string }) => resolve(transport.name)));
    expect(await direct.emitWithAck('echo', 'hi')).toBe('hi!');
    expect(direct.io.engine.transport.name).toBe('websocket');
    expect(await upgradedTo).toBe('websocket');
    expect(await upgraded.emitWithAck('echo', 'after upgrade')).toBe('after upgrade!');
  } finally {
    for (const client of clients) client.close();
    ioServer.close();
  }
});

describe('ws under pyre-http/register, in its own process', () => {
  let child: ChildProcess;
  let port: number;
  let checks: Record<string, unknown>;

  beforeAll(async () => {
    const root = path.resolve(__dirname, '../..');
    child = spawn(process.execPath, [
      '-r', path.join(root, 'bench/lib/ts-hook.js'),
      '-r', path.join(root, 'src/register.ts'),
      path.join(__dirname, 'fixtures/register-ws.js'),
    ], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    ({ port, checks } = await new Promise<{ port: number; checks: Record<string, unknown> }>((resolve, reject) => {
      child.once('message', (message) => resolve(message as { port: number; checks: Record<string, unknown> }));
      child.once('exit', (code) => reject(new Error(`the app exited (${code}) before listening`)));
    }));
  }, 20_000);
  afterAll(() => {
    child.kill();
  });

  test("new WebSocketServer({ port }) creates its server through http.createServer: Pyre's, and it echoes", async () => {
    expect(checks.servedByPyre).toBe(true);
    const client = await open(port);
    client.send('over register');
    expect((await nextMessage(client)).data.toString()).toBe('over register');
    client.close();
    expect((await closed(client)).code).toBe(1005);
  });
});
