// --access-log (to a file, or to standard output from every worker), --watch, and --socket.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FIXTURES, PyreProcess, getJson } from './pyre-process';

let dir: string;
const running: PyreProcess[] = [];
function pyre(args: string[], options?: ConstructorParameters<typeof PyreProcess>[1]): PyreProcess {
  const server = new PyreProcess(args, options);
  running.push(server);
  return server;
}
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pyre-cli-'));
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.kill()));
  fs.rmSync(dir, { recursive: true, force: true });
});

test('--access-log FILE: one common-format line per request, written by the time the process stops', async () => {
  const file = path.join(dir, 'access.log');
  const server = pyre(['handler.js', '--port', '0', '--host', '127.0.0.1', `--access-log=${file}`]);
  const port = await server.port();
  for (let i = 0; i < 5; i++) await getJson(port, `/?i=${i}`);
  server.signal('SIGTERM');
  expect((await server.exit()).code).toBe(0);
  const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
  expect(lines).toHaveLength(5);
  lines.forEach((line, i) => expect(line).toMatch(new RegExp(String.raw`^127\.0\.0\.1 - - \[[^\]]+\] "GET /\?i=${i} HTTP/1\.1" 200 \d+$`)));
});

test.each([[[]], [['--workers', '1']]])('--access-log FILE rotated (renamed, then SIGHUP; %j): the lines before go to the renamed file, the ones after to a new file', async (extra) => {
  const file = path.join(dir, 'access.log');
  const server = pyre(['handler.js', '--port', '0', '--host', '127.0.0.1', `--access-log=${file}`, ...extra]);
  const port = await server.port();
  for (let i = 0; i < 3; i++) await getJson(port, `/before/${i}`);
  // The engine writes its lines every 100 ms: wait until the last is in the file.
  const deadline = Date.now() + 5000;
  while (!(fs.existsSync(file) && fs.readFileSync(file, 'utf8').includes('/before/2')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  fs.renameSync(file, `${file}.1`);
  const from = server.lines.length;
  server.signal('SIGHUP');
  await server.line(extra.length === 0 ? /^pyre: SIGHUP: the access log is reopened/ : /^pyre: every worker queued for replacement has been replaced/, 15_000, from);
  for (let i = 0; i < 2; i++) await getJson(port, `/after/${i}`);
  server.signal('SIGTERM');
  expect((await server.exit()).code).toBe(0);
  const urls = (name: string): string[] => fs.readFileSync(name, 'utf8').trim().split('\n').map((line) => /"GET (\S+) /.exec(line)?.[1] ?? line);
  expect(urls(`${file}.1`)).toEqual(['/before/0', '/before/1', '/before/2']);
  expect(urls(file)).toEqual(['/after/0', '/after/1']);
});

test('--access-log to standard output with --access-log-format json, from two workers: whole lines', async () => {
  const server = pyre(['handler.js', '--port', '0', '--host', '127.0.0.1', '--workers', '2', '--access-log', '--access-log-format', 'json']);
  const port = await server.port();
  const pids = new Set<number>();
  for (let i = 0; i < 40; i++) pids.add((await getJson(port, `/n/${i}`)).pid);
  server.signal('SIGTERM');
  expect((await server.exit()).code).toBe(0);
  const entries = server.stdout.trim().split('\n').map((line) => JSON.parse(line) as { url: string; status: number });
  expect(entries.map((e) => e.url).sort()).toEqual(Array.from({ length: 40 }, (_, i) => `/n/${i}`).sort());
  expect(entries.every((e) => e.status === 200)).toBe(true);
  expect(pids.size).toBe(2);
});

test('--watch: a change to the entry restarts the server with the new code', async () => {
  const entry = path.join(dir, 'watched.js');
  fs.writeFileSync(entry, `module.exports = (req, res) => res.end(JSON.stringify({ pid: process.pid, kind: 'v1' }));\n`);
  const server = pyre([entry, '--port', '0', '--host', '127.0.0.1', '--watch'], { cwd: FIXTURES });
  const port = await server.port();
  expect((await getJson(port)).kind).toBe('v1');
  // The restarted process binds port 0 anew: follow its start-up line.
  const from = server.lines.length;
  fs.writeFileSync(entry, `module.exports = (req, res) => res.end(JSON.stringify({ pid: process.pid, kind: 'v2' }));\n`);
  const again = Number((await server.line(/^pyre: serving .* at http:\/\/[^ ]*:(\d+)/, 15_000, from))[1]);
  expect((await getJson(again)).kind).toBe('v2');
  server.signal('SIGTERM');
  expect((await server.exit()).code).toBe(0);
});

test.each([['app.js', []], ['handler.js', ['--workers', '2']]])('--socket: %s %j answers on a unix domain socket (with workers, a reload fails no request); the socket file is gone after exit', async (entry, extra) => {
  const socket = path.join(dir, 'app.sock');
  const server = pyre([entry, '--socket', socket, ...extra]);
  await server.line(new RegExp(`^pyre: serving .* at unix:${socket.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  const first = await getJson(socket);
  expect(first.kind).toBe(entry === 'app.js' ? 'app' : 'handler');
  if (extra.length > 0) {
    const from = server.lines.length;
    server.signal('SIGHUP');
    // Requests keep coming while both workers are replaced on the one shared socket.
    const failures: string[] = [];
    const done = server.line(/^pyre: every worker queued for replacement has been replaced/, 20_000, from);
    let replaced = false;
    void done.then(() => (replaced = true), () => (replaced = true));
    while (!replaced) await getJson(socket).catch((err: Error) => failures.push(`${err.message} ${new Date().toISOString()}`));
    await done;
    expect(failures).toEqual([]);
    expect((await getJson(socket)).pid).not.toBe(first.pid);
  }
  server.signal('SIGTERM');
  expect((await server.exit()).code).toBe(0);
  expect(fs.existsSync(socket)).toBe(false);
}, 30_000);
