// Multi-core deployments: every worker of node's cluster binds the shared port itself
// (SO_REUSEPORT) through each of the three APIs, and `listen({ port, reusePort: true })` lets
// servers share a port anywhere.
import { spawn } from 'node:child_process';
import * as http from 'node:http';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { createServer, type Server } from '../../compat/server';
import { App } from '../../src/framework';

const ROOT = path.join(__dirname, '../..');

/** A port that was free a moment ago. */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = http.createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** `count` requests, each on a new connection, answered with a JSON body. */
async function askMany<T>(port: number, count: number): Promise<T[]> {
  const one = () =>
    new Promise<T>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve(JSON.parse(body) as T));
      }).on('error', reject);
    });
  const answers: T[] = [];
  for (let i = 0; i < count; i++) answers.push(await one());
  return answers;
}

test('listen({ port, reusePort: true }): two servers share the port and both get connections', async () => {
  const port = await freePort();
  const servers: Server[] = [1, 2].map((id) => createServer((req, res) => res.end(JSON.stringify({ id }))));
  await Promise.all(servers.map((server) => new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host: '127.0.0.1', reusePort: true }, () => resolve());
  })));
  try {
    const ids = new Set((await askMany<{ id: number }>(port, 40)).map((answer) => answer.id));
    // The kernel spreads new connections by their addresses: all 40 on one side is ~2^-39.
    expect([...ids].sort()).toEqual([1, 2]);
  } finally {
    await Promise.all(servers.map((server) => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    })));
  }
});

test('without reusePort a second server on the port gets EADDRINUSE, as on node', async () => {
  const port = await freePort();
  const first = createServer((req, res) => res.end());
  await new Promise<void>((resolve) => first.listen(port, '127.0.0.1', () => resolve()));
  try {
    const second = createServer();
    const error = await new Promise<NodeJS.ErrnoException>((resolve) => {
      second.once('error', resolve);
      second.listen(port, '127.0.0.1');
    });
    expect(error.code).toBe('EADDRINUSE');
  } finally {
    await new Promise<void>((resolve) => first.close(() => resolve()));
  }
});

/** `promise`, or a rejection after `ms` (so a test's cleanup still runs). */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((resolve, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms)));
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

const APIS = [
  ['http', 'node -r pyre-http/register, http.createServer().listen'],
  ['app', "the framework's App.listen"],
  ['serve', 'the native serve().listen'],
] as const;

test.each(APIS)('under cluster (%s: %s): both workers serve the shared port on Pyre; disconnect() lets them exit', async (api) => {
  const port = await freePort();
  const child = spawn(process.execPath, [
    '-r', path.join(ROOT, 'dist/src/register.js'),
    path.join(__dirname, 'fixtures/cluster-app.js'),
    String(port),
    api,
  ], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  try {
    const ready = new Promise<void>((resolve, reject) => {
      child.on('message', (message) => (message === 'ready' ? resolve() : reject(new Error(String(message)))));
      void exited.then((code) => reject(new Error(`the cluster exited (${code}) before listening`)));
    });
    await within(ready, 15_000, 'two workers listening');
    const answers = await askMany<{ pid: number; pyre: boolean }>(port, 40);
    expect(answers.every((answer) => answer.pyre)).toBe(true);
    expect(new Set(answers.map((answer) => answer.pid)).size).toBe(2);
    // The primary's cluster.disconnect() returns once both workers have closed and exited.
    child.send('stop');
    expect(await within(exited, 10_000, 'the cluster stopping')).toBe(0);
  } finally {
    child.kill();
  }
}, 40_000);

test('App.listen options reach the socket: ipv6Only is applied, reusePort shares the port, exclusive does not join it', async () => {
  const port = await freePort();
  const first = new App();
  const shared = await first.listen(port, '::1', { reusePort: true, backlog: 8, ipv6Only: true });
  const second = await new App().listen(port, '::1', { reusePort: true });
  try {
    // ipv6Only: the IPv4 loopback is not served on an IPv6-only socket.
    const v4 = await new Promise<string>((resolve) => {
      net.connect(port, '127.0.0.1').once('connect', () => resolve('connected')).once('error', (err: NodeJS.ErrnoException) => resolve(String(err.code)));
    });
    expect(v4).toBe('ECONNREFUSED');
    await expect(new App().listen(port, '::1', { exclusive: true })).rejects.toMatchObject({ code: 'EADDRINUSE' });
  } finally {
    await Promise.all([shared.close(), second.close()]);
  }
});
