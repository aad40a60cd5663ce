// Clients that reset while a large response streams to them with backpressure (the pattern
// every streaming handler uses: write until write() says false, continue in ondrain). Writes to
// the dying connection must return false, never throw, and the process must serve on.
// The clients run in a child process: only a client running in parallel can reset the
// connection while the handler is inside a synchronous run of writes.
import { execFile } from 'node:child_process';
import type { Exchange } from '../../src/engine/exchange';
import { delay, getOnce, startServer, stopAll } from '../engine/helpers';

afterEach(stopAll);

const PIECE = Buffer.alloc(64 * 1024, 'x');
const SIZE = 16 * 1024 * 1024;
const CLIENTS = 500;

function streamLarge(ex: Exchange, chunked: boolean): void {
  ex.writeHead(200, { 'content-type': 'application/octet-stream' }, chunked ? -1 : SIZE);
  let sent = 0;
  const pump = (): void => {
    while (sent < SIZE) {
      if (ex.abortReason) return;
      sent += PIECE.length;
      if (!ex.write(PIECE)) {
        ex.ondrain = pump;
        return;
      }
    }
    ex.end();
  };
  pump();
}

/** The soak's resetMidResponse client, one round after another: ask for /large, read 1 B to 4 MiB, reset. */
const RESETTING_CLIENTS = `
const { SCENARIOS } = require(${JSON.stringify(require.resolve('../../bench/soak/scenarios'))});
const [port, count] = process.argv.slice(1).map(Number);
const resetMidResponse = SCENARIOS.resetMidResponse[1];
(async () => { for (let i = 0; i < count; i++) await resetMidResponse(port); })();
`;

function runClients(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['-e', RESETTING_CLIENTS, String(port), String(CLIENTS)], { timeout: 20_000 }, (err) => (err ? reject(err) : resolve()));
  });
}

test.each([['with a length', false], ['chunked', true]])(`${CLIENTS} clients reset mid-response (%s): no throw, the server serves on`, async (_name, chunked) => {
  const reported: unknown[] = [];
  const { server, port } = startServer((ex) => (ex.path === '/large' ? streamLarge(ex, chunked) : ex.respond(200, 'fine')));
  server.on('handlerError', (err: unknown) => reported.push(err));
  await runClients(port);
  await delay(100);
  expect(reported).toEqual([]);
  expect((await getOnce(port, '/ok')).body.toString()).toBe('fine');
  const start = Date.now();
  while (server.connections > 0 && Date.now() - start < 3000) await delay(10);
  expect(server.connections).toBe(0);
});
