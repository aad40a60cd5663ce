// Handler failures at every point of an exchange: the client gets a 500 or a closed connection,
// the error is reported exactly once, the process and the other clients carry on.
// (test/engine/faults.test.ts has the basic cases; this covers the whole matrix and load.)
import type { Exchange } from '../../src/engine/exchange';
import type { Handler } from '../../src/engine/server';
import { RawClient, delay, getOnce, startServer, stopAll } from '../engine/helpers';

afterEach(stopAll);

async function eventually(condition: () => boolean, what: string, timeout = 3000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeout) throw new Error(`timed out waiting for ${what}`);
    await delay(5);
  }
}

/** How a failing exchange must end for the client. */
type Seen = '500' | 'cut' | 'intact';

/** Where the handler fails, and what the client must see then. */
const failures: [string, (ex: Exchange, boom: Error) => void | Promise<void>, Seen][] = [
  ['sync, before the head', (_ex, boom) => { throw boom; }, '500'],
  ['async, before the head', async (_ex, boom) => { await delay(2); throw boom; }, '500'],
  ['sync, after the head', (ex, boom) => { ex.writeHead(200); ex.write('half'); throw boom; }, 'cut'],
  ['async, after the head', async (ex, boom) => { ex.writeHead(200); ex.write('half'); await delay(2); throw boom; }, 'cut'],
  ['async, after reading the body', async (ex, boom) => { await ex.body(); throw boom; }, '500'],
  ['async, after the response', async (ex, boom) => { ex.respond(200, 'done'); await delay(2); throw boom; }, 'intact'],
];

/** The handler under test on `/fail`, a plain answer elsewhere. */
function failingOn(fail: (ex: Exchange, boom: Error) => void | Promise<void>, boom: Error): Handler {
  return (ex) => (ex.url === '/fail' ? fail(ex, boom) : ex.respond(200, 'fine'));
}

describe.each(failures)('a handler that fails %s', (_where, fail, seen) => {
  test(`the client sees: ${seen}; reported once; the process serves on`, async () => {
    const boom = new Error('boom');
    const { server, port } = startServer(failingOn(fail, boom));
    const reported: unknown[] = [];
    server.on('handlerError', (err: unknown) => reported.push(err));

    const client = await RawClient.connect(port);
    client.write('POST /fail HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nhi');
    if (seen === 'cut') {
      await client.closedByServer();
      // Never a complete chunked body: the cut must not look like a finished response.
      expect(client.bytes.toString('latin1')).not.toContain('0\r\n\r\n');
    } else {
      const [response] = await client.responses(1);
      expect(response.status).toBe(seen === '500' ? 500 : 200);
      // The connection stays usable after a 500 or a late failure.
      client.write('GET /next HTTP/1.1\r\nHost: t\r\n\r\n');
      const [, next] = await client.responses(2);
      expect(next.body.toString()).toBe('fine');
    }
    client.destroy();
    await eventually(() => reported.length > 0, 'the error to be reported');
    await delay(20);
    expect(reported).toEqual([boom]);
    expect((await getOnce(port, '/other')).body.toString()).toBe('fine');
  });
});

test('200 clients at once on failing handlers of every kind: each gets its answer, no connection is left', async () => {
  let reported = 0;
  const boom = new Error('boom under load');
  const { server, port } = startServer((ex) => {
    const [, , kind] = /^\/(\d+)\/(\d+)/.exec(ex.url) ?? [];
    const fail = failures[Number(kind)][1];
    return fail(ex, boom);
  });
  server.on('handlerError', () => { reported++; });
  const clients = await Promise.all(Array.from({ length: 200 }, () => RawClient.connect(port)));
  const outcomes = await Promise.all(clients.map(async (client, i) => {
    const kind = i % failures.length;
    client.write(`POST /${i}/${kind} HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi`);
    const responses = await client.closedByServer(10_000);
    client.destroy();
    const seen = failures[kind][2];
    if (seen === 'cut') return !client.bytes.toString('latin1').includes('0\r\n\r\n');
    return responses.length === 1 && responses[0].status === (seen === '500' ? 500 : 200);
  }));
  expect(outcomes.filter((ok) => !ok)).toEqual([]);
  await eventually(() => reported === 200, `200 reports (have ${reported})`);
  await eventually(() => server.connections === 0, 'every connection to be released');
});
