// `pyre serve <entry>`: each kind of entry is recognised and answers; mistakes are one line and
// a non-zero exit.
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { PyreProcess, ROOT, getJson } from './pyre-process';

const running: PyreProcess[] = [];
function pyre(args: string[], options?: ConstructorParameters<typeof PyreProcess>[1]): PyreProcess {
  const process = new PyreProcess(args, options);
  running.push(process);
  return process;
}
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.kill()));
});

const SCRIPT = /a script that listens by itself/;
const KINDS = [
  ['script.js', 'script', SCRIPT],
  ['express-listen.js', 'express-script', SCRIPT],
  ['fastify-listen.js', 'fastify-script', SCRIPT],
  ['koa-listen.js', 'koa-script', SCRIPT],
  ['hapi-listen.js', 'hapi-script', SCRIPT],
  ['app.js', 'app', /a framework App from the default export/],
  ['setup.js', 'setup', /a framework setup\(app\)/],
  ['handler.js', 'handler', /a \(req, res\) handler from module\.exports/],
  ['express.js', 'express', /a \(req, res\) handler from module\.exports/],
  ['koa.js', 'koa', /a Koa app from module\.exports/],
  ['handler.mjs', 'esm', /a \(req, res\) handler from the default export/],
] as const;

test.each(KINDS)('%s is served as %s and answers; SIGTERM stops it with exit 0', async (entry, kind, how) => {
  const server = pyre([entry, '--port', '0', '--host', '127.0.0.1']);
  const port = await server.port();
  expect((await server.line(/^pyre: serving/)).input).toMatch(how);
  const answer = await getJson<{ pid: number; kind: string; pyre?: boolean }>(port);
  expect(answer).toMatchObject({ pid: server.child.pid, kind });
  // The script's own server (http.createServer, also inside Express, Fastify, Koa and hapi)
  // runs on Pyre (pyre-http/register).
  if (how === SCRIPT) expect(answer.pyre).toBe(true);
  server.signal('SIGTERM');
  expect(await server.exit()).toEqual({ code: 0, signal: null });
});

test('--keep-alive-timeout reaches the server pyre makes for a handler', async () => {
  const server = pyre(['handler.js', '--port', '0', '--host', '127.0.0.1', '--keep-alive-timeout', '0.3']);
  const port = await server.port();
  const socket = net.connect(port, '127.0.0.1');
  socket.write('GET / HTTP/1.1\r\nHost: t\r\n\r\n');
  const started = Date.now();
  await new Promise((resolve) => socket.once('close', resolve).resume());
  // Closed by the server after about 0.3 s idle (its sweep runs every 75 ms), not the default 5 s.
  expect(Date.now() - started).toBeGreaterThanOrEqual(250);
  expect(Date.now() - started).toBeLessThan(2000);
});

test('PORT is what --port says, and the port a script actually listens on is reported', async () => {
  const server = pyre(['script.js', '--port', '0']);
  const port = await server.port();
  expect(port).toBeGreaterThan(0);
  expect((await getJson(port)).kind).toBe('script');
});

test('--register serves the entry as a script even though it exports a handler', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pyre-register-'));
  const file = path.join(dir, 'both.js');
  fs.writeFileSync(file, `
    const handler = (req, res) => res.end(JSON.stringify({ pid: process.pid, kind: 'own listen' }));
    require('node:http').createServer(handler).listen(Number(process.env.PORT), '127.0.0.1');
    module.exports = (req, res) => res.end('exported');
  `);
  try {
    const server = pyre([file, '--port', '0', '--register']);
    expect((await getJson(await server.port())).kind).toBe('own listen');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('pyre --version and pyre --help', () => {
  const run = (arg: string) => spawnSync(process.execPath, [path.join(ROOT, 'dist/src/cli/main.js'), arg], { encoding: 'utf8' });
  expect(run('--version').stdout.trim()).toBe((require('../../package.json') as { version: string }).version);
  expect(run('--help').stdout).toMatch(/^usage: pyre serve <entry> \[options\]/);
  const unknown = run('deploy');
  expect(unknown.status).toBe(2);
  expect(unknown.stderr).toMatch(/^pyre: unknown command deploy\n/);
});

describe('errors: one line, non-zero exit', () => {
  async function failure(args: string[]): Promise<{ code: number | null; lines: string[] }> {
    const server = pyre(args);
    const { code } = await server.exit();
    return { code, lines: server.lines.filter((line) => line !== '') };
  }

  test('an entry that does not exist', async () => {
    const { code, lines } = await failure(['missing.js']);
    expect(code).toBe(1);
    expect(lines).toEqual([expect.stringMatching(/^pyre: cannot find the entry missing\.js \(no file .*missing\.js\)$/)]);
  });

  test('an entry that exports nothing servable and does not listen', async () => {
    const { code, lines } = await failure(['nothing.js', '--port', '0']);
    expect(code).toBe(1);
    expect(lines).toEqual(['pyre: nothing.js exports nothing to serve and did not listen within 5 s: export a framework App or setup(app), a (req, res) handler, or listen in the script']);
  }, 20_000);

  test.each([[[]], [['--workers', '2']]])('a port in use (%j)', async (extra) => {
    const taken = net.createServer().listen(0, '127.0.0.1');
    await new Promise((resolve) => taken.once('listening', resolve));
    const { port } = taken.address() as net.AddressInfo;
    try {
      const { code, lines } = await failure(['handler.js', '--port', String(port), '--host', '127.0.0.1', ...extra]);
      expect(code).toBe(1);
      expect(lines).toEqual([`pyre: cannot listen on 127.0.0.1:${port}: address already in use (EADDRINUSE)`]);
    } finally {
      taken.close();
    }
  });

  test('a TypeScript entry node cannot run by itself', async () => {
    const { code, lines } = await failure(['typed.ts', '--port', '0']);
    expect(code).toBe(1);
    expect(lines).toEqual([expect.stringMatching(/^pyre: typed\.ts is TypeScript, which this node does not run by itself: compile it and serve the \.js, or start node with a loader/)]);
  });

  test('a bad option', async () => {
    const { code, lines } = await failure(['handler.js', '--workers', 'many']);
    expect(code).toBe(2);
    expect(lines[0]).toBe('pyre: --workers needs a whole number >= 1, got "many"');
  });
});
