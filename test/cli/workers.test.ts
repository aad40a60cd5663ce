// `pyre serve --workers`: workers share the port, a dead worker is replaced, a crash loop
// stops, --max-requests recycles workers, and SIGTERM, SIGHUP and the graceful timeout do what
// docs/DEPLOYING.md says, under steady keep-alive load from a client that counts every request.
import { availableCpus } from '../../src/cli/cpus';
import { KeepAliveLoad } from './keep-alive-load';
import { PyreProcess, getJson } from './pyre-process';

const running: PyreProcess[] = [];
async function start(args: string[]): Promise<{ server: PyreProcess; port: number; pids: number[] }> {
  const server = new PyreProcess(['--port', '0', '--host', '127.0.0.1', ...args]);
  running.push(server);
  const port = await server.port();
  // By worker number: workers 1..N are the first ones, whatever order they report in.
  const ready = server.matching(/^pyre: worker (\d+) \(pid (\d+)\) listening/).sort((a, b) => Number(a[1]) - Number(b[1]));
  return { server, port, pids: ready.map((m) => Number(m[2])) };
}
/** Loads and connection churns of the test, stopped after it whatever happened. */
const clients: { stop(): Promise<unknown> }[] = [];
function load(port: number, options: ConstructorParameters<typeof KeepAliveLoad>[1]): KeepAliveLoad {
  const started = new KeepAliveLoad(port, options).start();
  clients.push(started);
  return started;
}
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.kill()));
  await Promise.all(clients.splice(0).map((c) => c.stop()));
});

/** New connections, one request each: which worker answered. */
async function answeringPids(port: number, count: number): Promise<Map<number, number>> {
  const byPid = new Map<number, number>();
  for (let i = 0; i < count; i++) {
    const { pid } = await getJson(port);
    byPid.set(pid, (byPid.get(pid) ?? 0) + 1);
  }
  return byPid;
}

test('--workers 2: both workers answer, connections spread over them', async () => {
  const { server, port, pids } = await start(['handler.js', '--workers', '2']);
  expect(pids).toHaveLength(2);
  const byPid = await answeringPids(port, 40);
  // The kernel spreads new connections by their addresses: all 40 on one side is ~2^-39.
  expect([...byPid.keys()].sort()).toEqual([...pids].sort());
  server.signal('SIGTERM');
  expect(await server.exit()).toEqual({ code: 0, signal: null });
});

test.each(['express-listen.js', 'fastify-listen.js', 'hapi-listen.js'])('%s, a script that listens by itself, under --workers 2: each worker serves its slot\'s socket, both answer, SIGTERM exits 0', async (entry) => {
  const { server, port, pids } = await start([entry, '--workers', '2']);
  expect(pids).toHaveLength(2);
  // Its listen(PORT) took the socket the primary made for the slot (no socket of its own).
  expect(server.matching(/a socket of its own/)).toEqual([]);
  const byPid = await answeringPids(port, 40);
  expect([...byPid.keys()].sort()).toEqual([...pids].sort());
  server.signal('SIGTERM');
  expect(await server.exit()).toEqual({ code: 0, signal: null });
});

test('--workers auto starts as many workers as the CPUs this process may use', async () => {
  const { pids, server } = await start(['handler.js', '--workers', 'auto']);
  const { cpus, reason } = availableCpus();
  expect(pids).toHaveLength(cpus);
  expect((await server.line(/^pyre: serving/)).input).toContain(`(auto: ${reason})`);
});

test.each([[['--workers', '2']], [[]]])('SIGTERM under keep-alive load (%j): every request written is answered, exit 0', async (workers) => {
  const { server, port } = await start(['handler.js', ...workers]);
  const traffic = load(port, { connections: 8, reconnect: false });
  await traffic.answers(1500);
  server.signal('SIGTERM');
  const report = await traffic.ended();
  expect(await server.exit()).toEqual({ code: 0, signal: null });
  expect(report).toMatchObject({ lost: 0, refused: 0 });
  expect(report.answered).toBe(report.written);
  expect(server.lines).toContain('pyre: stopped');
});

/**
 * New connections one after another, one request each, until stopped: connections arriving
 * all the time, some of them queued in a listening socket's backlog as its worker changes.
 */
function churn(port: number): { stop(): Promise<{ answered: number; failed: string[] }> } {
  let stopping = false;
  const failed: string[] = [];
  let answered = 0;
  const loop = (async () => {
    while (!stopping) {
      try {
        await getJson(port);
        answered++;
      } catch (err) {
        failed.push(String((err as NodeJS.ErrnoException).code ?? err));
      }
    }
  })();
  const handle = {
    async stop() {
      stopping = true;
      await loop;
      return { answered, failed };
    },
  };
  clients.push(handle);
  return handle;
}

test('SIGHUP under keep-alive load: every worker replaced, no request lost, no connection refused', async () => {
  const { server, port, pids } = await start(['handler.js', '--workers', '2']);
  // Reconnecting after every close, so connections keep arriving while listeners change hands.
  const traffic = load(port, { connections: 8, reconnect: true });
  const arrivals = [churn(port), churn(port)];
  await traffic.answers(1000);
  const from = server.lines.length;
  server.signal('SIGHUP');
  await server.line(/^pyre: every worker queued for replacement has been replaced/, 20_000, from);
  const churned = await Promise.all(arrivals.map((c) => c.stop()));
  expect(churned.flatMap((c) => c.failed)).toEqual([]);
  expect(churned.reduce((sum, c) => sum + c.answered, 0)).toBeGreaterThan(0);
  const fresh = server.matching(/^pyre: worker \d+ \(pid (\d+)\) listening/).map((m) => Number(m[1])).slice(2);
  expect(fresh).toHaveLength(2);
  // The load goes on against the new workers only.
  await traffic.answers(1000);
  const report = await traffic.stop();
  expect(report).toMatchObject({ lost: 0, refused: 0 });
  for (const pid of fresh) expect(pids).not.toContain(pid);
  const now = await answeringPids(port, 20);
  for (const pid of now.keys()) expect(fresh).toContain(pid);
  // The old workers were drained: their last answers said Connection: close.
  expect(report.closes).toBeGreaterThan(0);
}, 40_000);

test('kill -9 of a worker: it is replaced, and only its own in-flight requests fail', async () => {
  const { server, port, pids } = await start(['handler.js', '--workers', '2']);
  const traffic = load(port, { connections: 8, reconnect: true });
  await traffic.answers(1000);
  const [victim, survivor] = pids;
  const from = server.lines.length;
  // Worker 1 dies.
  process.kill(victim, 'SIGKILL');
  await server.line(new RegExp(`^pyre: worker 1 \\(pid ${victim}\\) was killed by SIGKILL; starting another in \\d+ ms`), 10_000, from);
  const replacement = Number((await server.line(/^pyre: worker 3 \(pid (\d+)\) listening/, 10_000, from))[1]);
  await traffic.answers(500);
  const report = await traffic.stop();
  // At most one request in flight per connection, and only on connections the victim served;
  // connections that reached its socket meanwhile waited there for its successor.
  expect(report.lost).toBeLessThanOrEqual(8);
  for (const pid of report.lostOn) expect(pid).toBe(victim);
  expect(report.refused).toBe(0);
  expect(report.answersByPid.get(survivor)).toBeGreaterThan(0);
  // New connections reach both the survivor and the replacement.
  expect([...(await answeringPids(port, 40)).keys()].sort()).toEqual([survivor, replacement].sort());
}, 30_000);

test('--max-requests recycles workers one at a time, without a lost request', async () => {
  const { server, port, pids } = await start(['handler.js', '--workers', '2', '--max-requests', '400']);
  const traffic = load(port, { connections: 4, reconnect: true });
  const recycled = await server.line(/^pyre: worker \d+ \(pid (\d+)\) has read \d+ requests \(--max-requests 400\): replacing it/, 20_000);
  const successor = Number((await server.line(/^pyre: worker [34] \(pid (\d+)\) listening/, 20_000))[1]);
  await traffic.until(() => (traffic.answersBy(successor) > 0), 'an answer from the successor');
  const report = await traffic.stop();
  expect(report).toMatchObject({ lost: 0, refused: 0 });
  expect(pids).toContain(Number(recycled[1]));
  expect(pids).not.toContain(successor);
}, 30_000);

test.each([[['--workers', '2']], [[]]])('the graceful timeout (%j) cuts what is left, says how many requests, exits non-zero', async (workers) => {
  const { server, port } = await start(['handler.js', ...workers, '--graceful-timeout', '0.5']);
  // Two requests that are never answered, on two connections.
  const hanging = [getJson(port, '/hang').catch(() => 'cut'), getJson(port, '/hang').catch(() => 'cut')];
  await new Promise((resolve) => setTimeout(resolve, 200));
  server.signal('SIGTERM');
  expect(await server.exit()).toEqual({ code: 1, signal: null });
  expect(await Promise.all(hanging)).toEqual(['cut', 'cut']);
  expect(server.lines).toContain('pyre: graceful timeout (0.5 s): cut 2 requests still in flight');
});

test('a second SIGINT exits at once', async () => {
  const { server, port } = await start(['handler.js', '--workers', '2']);
  void getJson(port, '/hang').catch(() => undefined);
  await new Promise((resolve) => setTimeout(resolve, 200));
  server.signal('SIGINT');
  await server.line(/^pyre: SIGINT: draining/);
  server.signal('SIGINT');
  expect(await server.exit(3000)).toEqual({ code: 130, signal: null });
});

test('a crash loop stops after a bounded number of restarts, with a clear line and a non-zero exit', async () => {
  const server = new PyreProcess(['crash.js', '--port', '0', '--workers', '1']);
  running.push(server);
  const { code } = await server.exit(30_000);
  expect(code).toBe(1);
  expect(server.matching(/exited with code 3; starting another in \d+ ms$/)).toHaveLength(5);
  expect(server.lines).toContainEqual(expect.stringMatching(/exited with code 3; the workers of slot 1 died 6 times in a row within 10 s of starting: giving up$/));
}, 40_000);
