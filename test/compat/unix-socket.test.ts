// node:http on a unix socket path, side by side with node's own server: listen() forms,
// address(), serving, errors, permissions, cleanup; and Express's app.listen(path) under
// pyre-http/register.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { createServer } from '../../compat/server';

const ROOT = path.resolve(__dirname, '../..');

type Kind = 'node' | 'pyre';
const KINDS: Kind[] = ['node', 'pyre'];

/** The server API both implementations share here. */
interface ServerLike {
  listen(...args: unknown[]): unknown;
  address(): unknown;
  once(event: string, listener: (...args: never[]) => void): unknown;
  close(callback?: (err?: Error) => void): unknown;
  closeAllConnections(): void;
  readonly listening: boolean;
}

function make(kind: Kind, listener?: http.RequestListener): ServerLike {
  return (kind === 'node' ? http.createServer(listener) : createServer(listener)) as unknown as ServerLike;
}

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pyre-unix-compat-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const open: ServerLike[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map(stop));
});

function stop(server: ServerLike): Promise<void> {
  if (!server.listening) return Promise.resolve();
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}

/** A fresh socket path per server kind, so both sides run the same case at once. */
function socketPath(name: string, kind: Kind): string {
  return path.join(dir, `${kind}-${name}.sock`);
}

/** Listens with `args` (the callback is added last) and resolves once 'listening' fired. */
function listen(server: ServerLike, ...args: unknown[]): Promise<void> {
  open.push(server);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(...args, () => resolve());
  });
}

/** listen() that must fail: the 'error' event's error. */
function listenError(server: ServerLike, ...args: unknown[]): Promise<NodeJS.ErrnoException> {
  return new Promise((resolve, reject) => {
    server.once('error', resolve);
    server.once('listening', () => reject(new Error('listened')));
    server.listen(...args);
  });
}

interface Answer {
  status: number;
  body: string;
  reusedSocket: boolean;
}

function request(target: string, urlPath: string, options: http.RequestOptions = {}, body?: Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: target, path: urlPath, agent: false, ...options }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), reusedSocket: req.reusedSocket }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Runs `run` once per server kind and returns both results, node's first. */
async function both<T>(run: (kind: Kind) => Promise<T>): Promise<{ node: T; pyre: T }> {
  const [node, pyre] = await Promise.all(KINDS.map(run));
  return { node, pyre };
}

/** The error fields node users look at, with the kind's own socket path made neutral. */
function errorShape(err: NodeJS.ErrnoException & { address?: string; port?: number }, kindPath: string): Record<string, unknown> {
  const neutral = (text: string | undefined): string | undefined => text?.split(kindPath).join('<path>');
  return { message: neutral(err.message), code: err.code, errno: err.errno, syscall: err.syscall, address: neutral(err.address), port: err.port };
}

describe('listen() on a unix socket path, differential against node:http', () => {
  test.each([
    ['listen(path, cb)', (p: string) => [p]],
    ['listen(path, backlog, cb)', (p: string) => [p, 16]],
    ['listen({ path }, cb)', (p: string) => [{ path: p }]],
    ['listen({ path, backlog }, cb)', (p: string) => [{ path: p, backlog: 16 }]],
  ])('%s: address() is the path string', async (name, args) => {
    const result = await both(async (kind) => {
      const target = socketPath(name.replace(/\W+/g, '-'), kind);
      const server = make(kind, (req, res) => res.end('ok'));
      await listen(server, ...args(target));
      return { address: server.address() === target, body: (await request(target, '/')).body };
    });
    expect(result.pyre).toEqual(result.node);
    expect(result.pyre).toEqual({ address: true, body: 'ok' });
  });

  test("req.socket's addresses and ports are node's for a unix socket (none)", async () => {
    const described = (value: unknown): unknown => (value === undefined ? '<undefined>' : value);
    const result = await both(async (kind) => {
      const target = socketPath('socket-info', kind);
      await listen(
        make(kind, (req, res) => {
          const s = req.socket;
          const fields = { remoteAddress: s.remoteAddress, remotePort: s.remotePort, remoteFamily: s.remoteFamily, localAddress: s.localAddress, localPort: s.localPort };
          res.end(JSON.stringify({ fields, address: s.address() }, (_, v: unknown) => described(v)));
        }),
        target,
      );
      return JSON.parse((await request(target, '/')).body) as unknown;
    });
    expect(result.pyre).toEqual(result.node);
  });

  test('keep-alive: a second request reuses the connection; a body upload arrives intact', async () => {
    const upload = Buffer.alloc(300_000, 'abcdefghij');
    const result = await both(async (kind) => {
      const target = socketPath('keep-alive', kind);
      await listen(
        make(kind, (req, res) => {
          let size = 0;
          req.on('data', (chunk: Buffer) => (size += chunk.length));
          req.on('end', () => res.end(`${req.method} ${req.url} ${size}`));
        }),
        target,
      );
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      try {
        const first = await request(target, '/a', { agent });
        const second = await request(target, '/b', { agent, method: 'POST' }, upload);
        return [first, second];
      } finally {
        agent.destroy();
      }
    });
    expect(result.pyre).toEqual(result.node);
    expect(result.pyre).toEqual([
      { status: 200, body: 'GET /a 0', reusedSocket: false },
      { status: 200, body: `POST /b ${upload.length}`, reusedSocket: true },
    ]);
  });

  test('a path in use: the same EADDRINUSE error event as node, and the path is left alone', async () => {
    const result = await both(async (kind) => {
      const target = socketPath('in-use', kind);
      await listen(make('node'), target);
      const server = make(kind);
      const err = await listenError(server, target);
      return { error: errorShape(err, target), listening: server.listening, address: server.address() === target, stillSocket: fs.statSync(target).isSocket() };
    });
    expect(result.pyre).toEqual(result.node);
    expect(result.pyre.error).toMatchObject({ message: 'listen EADDRINUSE: address already in use <path>', code: 'EADDRINUSE', port: -1 });
  });

  test('a path in a missing directory: the same error event as node (EACCES, as libuv reports it)', async () => {
    const result = await both(async (kind) => {
      const target = path.join(dir, `no-such-dir-${kind}`, 'x.sock');
      return errorShape(await listenError(make(kind), target), target);
    });
    expect(result.pyre).toEqual(result.node);
    expect(result.pyre.code).toBe('EACCES');
  });

  test('invalid path options throw what node throws', () => {
    for (const options of [{ path: '' }, { path: '8080' }, { path: 5 }]) {
      const thrown = KINDS.map((kind) => {
        try {
          make(kind).listen(options);
          return null;
        } catch (err) {
          return { code: (err as NodeJS.ErrnoException).code, message: (err as Error).message, type: (err as Error).constructor.name };
        }
      });
      expect(thrown[1]).toEqual(thrown[0]);
      expect(thrown[1]?.code).toBe('ERR_INVALID_ARG_VALUE');
    }
  });

  test('readableAll / writableAll give the socket file the same mode as node', async () => {
    const cases = [{}, { readableAll: true }, { writableAll: true }, { readableAll: true, writableAll: true }];
    const result = await both(async (kind) =>
      Promise.all(
        cases.map(async (access, i) => {
          const target = socketPath(`mode-${i}`, kind);
          await listen(make(kind), { path: target, ...access });
          return (fs.statSync(target).mode & 0o777).toString(8);
        }),
      ),
    );
    expect(result.pyre).toEqual(result.node);
    expect(new Set(result.pyre).size).toBeGreaterThan(1);
  });

  test('close() removes the socket file, as node does; address() still names the path, as in node', async () => {
    const result = await both(async (kind) => {
      const target = socketPath('close', kind);
      const server = make(kind, (req, res) => res.end('bye'));
      await listen(server, target);
      const served = (await request(target, '/')).body;
      await stop(server);
      return { served, exists: fs.existsSync(target), addressIsPath: server.address() === target };
    });
    expect(result.pyre).toEqual(result.node);
    expect(result.pyre).toEqual({ served: 'bye', exists: false, addressIsPath: true });
  });
});

describe('node -r pyre-http/register: Express app.listen(path)', () => {
  test('serves on the socket, address() is the path, and the file is removed on close', async () => {
    const target = path.join(dir, 'express.sock');
    const child = spawn(process.execPath, [
      '-r', path.join(ROOT, 'bench/lib/ts-hook.js'),
      '-r', path.join(ROOT, 'src/register.ts'),
      path.join(__dirname, 'fixtures/register-express-unix.js'),
      target,
    ], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      const started = await new Promise<{ address: unknown }>((resolve, reject) => {
        child.once('message', (message) => resolve(message as { address: unknown }));
        void exited.then((code) => reject(new Error(`the app exited (${code}) before listening`)));
      });
      expect(started.address).toBe(target);
      const answer = await new Promise<{ socket: unknown; body: string }>((resolve, reject) => {
        http.get({ socketPath: target, path: '/', agent: false }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (body += chunk));
          res.on('end', () => resolve({ socket: res.headers['x-socket'], body }));
        }).on('error', reject);
      });
      expect(answer.socket).toBe('pyre');
      expect(JSON.parse(answer.body)).toEqual({ ip: null, remoteAddress: null });
      child.send('close');
      expect(await exited).toBe(0);
      expect(fs.existsSync(target)).toBe(false);
    } finally {
      child.kill();
    }
  }, 20_000);
});
