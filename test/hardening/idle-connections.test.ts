// 10,000 concurrent idle keep-alive connections, each after one request: the memory each costs
// the server, Pyre beside node:http. Servers and clients run in their own processes (the fd
// limit is raised for them where the system allows); only sane bounds are asserted.
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { ask, spawnNode, TS_HOOK } from './fixtures/child';

const CONNECTIONS = 10_000;
/** Descriptors a process needs for the connections, plus node's own. */
const FDS_NEEDED = CONNECTIONS + 200;
const FIXTURES = path.join(__dirname, 'fixtures');
/** More than this per idle connection would mean a buffer held per connection. */
const SANE_BYTES_PER_CONNECTION = 64 * 1024;

const hardLimit = Number(execFileSync('sh', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).trim().replace('unlimited', 'Infinity'));

interface Sample {
  rss: number;
  connections: number;
}

async function perConnection(kind: 'pyre' | 'node'): Promise<{ bytes: number; before: Sample; after: Sample }> {
  const server = spawnNode(FDS_NEEDED, ['-r', TS_HOOK, '--expose-gc', path.join(FIXTURES, 'idle-server.js'), kind]);
  const clients = spawnNode(FDS_NEEDED, [path.join(FIXTURES, 'idle-clients.js')]);
  try {
    const { port } = await ask<{ port: number }>(server);
    const before = await ask<Sample>(server, 'measure');
    const { opened, answered } = await ask<{ opened: number; answered: number }>(clients, { port, count: CONNECTIONS });
    expect({ opened, answered }).toEqual({ opened: CONNECTIONS, answered: CONNECTIONS });
    const after = await ask<Sample>(server, 'measure');
    expect(after.connections).toBe(CONNECTIONS);
    return { bytes: (after.rss - before.rss) / CONNECTIONS, before, after };
  } finally {
    clients.kill();
    server.kill();
  }
}

const runnable = hardLimit >= FDS_NEEDED;
(runnable ? test : test.skip)(`memory per idle connection, ${CONNECTIONS} connections: Pyre beside node:http`, async () => {
  const pyre = await perConnection('pyre');
  const node = await perConnection('node');
  const kib = (bytes: number): string => `${(bytes / 1024).toFixed(2)} KiB`;
  const mib = (bytes: number): string => `${(bytes / 1048576).toFixed(1)} MiB`;
  console.log([
    `idle connections: ${CONNECTIONS}, server RSS after a full GC`,
    `  pyre:      ${kib(pyre.bytes)} per connection (RSS ${mib(pyre.before.rss)} -> ${mib(pyre.after.rss)})`,
    `  node:http: ${kib(node.bytes)} per connection (RSS ${mib(node.before.rss)} -> ${mib(node.after.rss)})`,
  ].join('\n'));
  for (const { bytes } of [pyre, node]) {
    expect(bytes).toBeGreaterThan(0);
    expect(bytes).toBeLessThan(SANE_BYTES_PER_CONNECTION);
  }
}, 60_000);
if (!runnable) console.warn(`idle-connections: skipped, the hard fd limit (${hardLimit}) is below the ${FDS_NEEDED} needed`);
