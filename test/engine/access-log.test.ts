// The engine's access log: one line per response (common log format or JSON), from every
// server of the process, written in batches.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { binding } from '../../src/engine/binding';
import { RawClient, getOnce, startServer, stopAll } from './helpers';

let dir: string;
let fd: number;
let file: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pyre-access-log-'));
  file = path.join(dir, 'access.log');
  fd = fs.openSync(file, 'a');
});

afterEach(async () => {
  binding.accessLog(-1, false);
  fs.closeSync(fd);
  fs.rmSync(dir, { recursive: true, force: true });
  await stopAll();
});

function lines(): string[] {
  binding.accessLogFlush();
  return fs.readFileSync(file, 'utf8').split('\n').filter((line) => line !== '');
}

test('common log format: a line per response with status and body bytes, refused requests included', async () => {
  const { port } = startServer((ex) => (ex.path === '/missing' ? ex.respond(404, '') : ex.respond(200, 'hello')));
  binding.accessLog(fd, false);
  await getOnce(port, '/a?b=1');
  await getOnce(port, '/missing');
  const client = await RawClient.connect(port);
  client.write('BAD REQUEST LINE\r\n\r\n');
  await client.closedByServer();
  const logged = lines();
  expect(logged).toHaveLength(3);
  const stamp = String.raw`\[\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} \+0000\]`;
  expect(logged[0]).toMatch(new RegExp(String.raw`^127\.0\.0\.1 - - ${stamp} "GET /a\?b=1 HTTP/1\.1" 200 5$`));
  expect(logged[1]).toMatch(new RegExp(String.raw`"GET /missing HTTP/1\.1" 404 -$`));
  expect(logged[2]).toMatch(new RegExp(String.raw`"-" 400 -$`));
});

test('JSON lines, for a server started before the log and after it', async () => {
  const before = startServer((ex) => ex.respond(201, 'made'));
  binding.accessLog(fd, true);
  const after = startServer(async (ex) => {
    ex.writeHead(200);
    ex.write('chunk one,');
    ex.end('two');
  });
  await getOnce(before.port, '/before');
  await getOnce(after.port, '/after');
  const [first, second] = lines().map((line) => JSON.parse(line) as Record<string, unknown>);
  expect(first).toMatchObject({ remote: '127.0.0.1', method: 'GET', url: '/before', version: '1.1', status: 201, bytes: 4 });
  expect(second).toMatchObject({ url: '/after', status: 200, bytes: 13 });
  expect(typeof first.ms).toBe('number');
  expect(first.time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
});

test('off: nothing is written; stopping the log writes what it held', async () => {
  const { port } = startServer((ex) => ex.respond(200, 'x'));
  await getOnce(port, '/unlogged');
  binding.accessLog(fd, false);
  await getOnce(port, '/logged');
  // Stopping flushes: the line is in the file without an explicit flush.
  binding.accessLog(-1, false);
  expect(fs.readFileSync(file, 'utf8')).toMatch(/^[^\n]*"GET \/logged HTTP\/1\.1" 200 1\n$/);
  await getOnce(port, '/after-stop');
  expect(lines()).toHaveLength(1);
});
