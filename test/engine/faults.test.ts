// Faults: clients that reset, half-close or vanish, and handlers that throw. The process lives,
// the exchange learns why, later writes are dropped quietly, and the next client is served.
import { AbortReason } from '../../src/engine/binding';
import { RequestAbortedError, type Exchange } from '../../src/engine/exchange';
import type { Handler, NativeServer } from '../../src/engine/server';
import { RawClient, delay, eventually, getOnce, startServer, stopAll, withoutDate } from './helpers';

afterEach(stopAll);

/** Answers `GET /ok` (the next client's probe) and hands every other request to `handler`. */
function servingOk(handler: Handler): Handler {
  return (ex) => (ex.url === '/ok' ? ex.respond(200, 'ok') : handler(ex));
}

/** The server still answers a new client. */
async function expectServing(port: number): Promise<void> {
  expect((await getOnce(port, '/ok')).body.toString()).toBe('ok');
}

/** What happened to one exchange whose body was being read. */
interface BodyOutcome {
  /** The handler has the request. */
  started?: boolean;
  error?: unknown;
  /** Calls made on the exchange after the failure, each of which must not throw. */
  lateCalls?: string;
}

/** Reads the body; on failure, tries every response call and records that none threw. */
function readThenAnswerLate(outcome: BodyOutcome): Handler {
  return servingOk(async (ex: Exchange) => {
    outcome.started = true;
    try {
      await ex.body();
    } catch (err) {
      outcome.error = err;
      ex.respond(200, 'too late');
      ex.writeHead(200);
      ex.write('too late');
      ex.end('too late');
      ex.destroy();
      outcome.lateCalls = 'no throw';
    }
  });
}

function expectClientGone(outcome: BodyOutcome, reason: AbortReason): void {
  expect(outcome.error).toBeInstanceOf(RequestAbortedError);
  expect((outcome.error as RequestAbortedError).reason).toBe(reason);
  expect((outcome.error as RequestAbortedError).code).toBe('ECONNRESET');
  expect(outcome.lateCalls).toBe('no throw');
}

async function expectNoConnectionsLeft(server: NativeServer): Promise<void> {
  await eventually(() => server.connections === 0, 'every connection to be released');
}

describe('clients that go away', () => {
  test.each([
    ['resets', (client: RawClient) => client.resetConnection(), AbortReason.Reset],
    ['half-closes', (client: RawClient) => client.end(), AbortReason.Closed],
    ['destroys its socket', (client: RawClient) => client.destroy(), AbortReason.Closed],
  ])('a client that %s mid-body: body() rejects, late writes are dropped, the server serves on', async (_name, leave, reason) => {
    const outcome: BodyOutcome = {};
    const { server, port } = startServer(readThenAnswerLate(outcome));
    const client = await RawClient.connect(port);
    client.write('POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\npartial body');
    // A reset before the server has read the request would leave it nothing to abort.
    await eventually(() => outcome.started === true, 'the request');
    leave(client);
    await eventually(() => outcome.lateCalls !== undefined, 'the body read to fail');
    expectClientGone(outcome, reason);
    await expectServing(port);
    await expectNoConnectionsLeft(server);
  });

  test('a client that resets mid-chunked-body: onabort fires with the reason', async () => {
    const reasons: AbortReason[] = [];
    let chunks = 0;
    const { port } = startServer(servingOk((ex) => {
      ex.ondata = () => {
        chunks += 1;
      };
      ex.onabort = (reason) => reasons.push(reason);
    }));
    const client = await RawClient.connect(port);
    client.write('POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n');
    await eventually(() => chunks === 1, 'the first chunk');
    client.resetConnection();
    await eventually(() => reasons.length === 1, 'onabort');
    expect(reasons).toEqual([AbortReason.Reset]);
    await expectServing(port);
  });

  test('a client that half-closes while its response is pending: the exchange aborts at once, as on node', async () => {
    const reasons: AbortReason[] = [];
    const { server, port } = startServer((ex) => {
      ex.onabort = (reason) => reasons.push(reason);
      setTimeout(() => ex.respond(200, 'too late'), 500);
    });
    const client = await RawClient.connect(port);
    client.write('GET / HTTP/1.1\r\nHost: t\r\n\r\n');
    await delay(20);
    client.end();
    const responses = await client.closedByServer(300);
    expect(responses).toEqual([]);
    expect(reasons).toEqual([AbortReason.Closed]);
    await expectNoConnectionsLeft(server);
  });

  test('with allowHalfOpen, a client that half-closes after its requests still gets every response', async () => {
    const { port } = startServer((ex) => void setTimeout(() => ex.respond(200, `answered ${ex.url}`), 30), { allowHalfOpen: true });
    const client = await RawClient.connect(port);
    client.write('GET /1 HTTP/1.1\r\nHost: t\r\n\r\nGET /2 HTTP/1.1\r\nHost: t\r\n\r\n');
    client.end();
    const responses = await client.closedByServer();
    expect(responses.map((r) => r.body.toString())).toEqual(['answered /1', 'answered /2']);
  });

  test('a client that vanishes mid-response: onabort fires, later writes return false without throwing', async () => {
    let aborted: AbortReason | undefined;
    let writesAfterAbort = 0;
    let lateResult: boolean | undefined;
    const { server, port } = startServer(servingOk((ex) => {
      ex.onabort = (reason) => {
        aborted = reason;
      };
      ex.writeHead(200);
      const timer = setInterval(() => {
        const ok = ex.write('tick\n');
        if (aborted !== undefined) {
          writesAfterAbort += 1;
          lateResult = ok;
        }
        if (writesAfterAbort === 3) {
          clearInterval(timer);
          ex.end('never');
        }
      }, 5);
    }));
    const client = await RawClient.connect(port);
    client.write('GET /stream HTTP/1.1\r\nHost: t\r\n\r\n');
    await eventually(() => client.bytes.includes('tick'), 'the first chunk');
    client.resetConnection();
    await eventually(() => writesAfterAbort === 3, 'writes after the abort');
    expect(aborted).toBe(AbortReason.Reset);
    expect(lateResult).toBe(false);
    await expectServing(port);
    await expectNoConnectionsLeft(server);
  });

  test('a reset with pipelined requests in flight aborts each of them', async () => {
    const held: Exchange[] = [];
    const reasons: string[] = [];
    const { port } = startServer(servingOk((ex) => {
      held.push(ex);
      ex.onabort = (reason) => reasons.push(`${ex.url}:${reason}`);
    }));
    const client = await RawClient.connect(port);
    client.write('GET /1 HTTP/1.1\r\nHost: t\r\n\r\nGET /2 HTTP/1.1\r\nHost: t\r\n\r\n');
    await eventually(() => held.length === 2, 'both requests');
    client.resetConnection();
    await eventually(() => reasons.length === 2, 'both aborts');
    expect(reasons).toEqual([`/1:${AbortReason.Reset}`, `/2:${AbortReason.Reset}`]);
    expect(() => held.forEach((ex) => ex.respond(200, 'late'))).not.toThrow();
    await expectServing(port);
  });

  test('fifty clients resetting mid-request leave no connection behind', async () => {
    const { server, port } = startServer(() => undefined);
    for (let i = 0; i < 50; i++) {
      const client = await RawClient.connect(port);
      client.write(i % 2 === 0 ? 'GET / HTTP/1.1\r\nHost: t\r\n\r\n' : 'POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nab');
      await delay(1);
      client.resetConnection();
    }
    await expectNoConnectionsLeft(server);
  });
});

// The engine stops reading a connection while a request is pending in several states (the
// request asked to close, the pipeline is full, the body reader paused, unsent output above the
// high-water mark): the peer's end or reset must still abort the exchanges at once.
describe('clients that go away while the engine is not reading', () => {
  /** Holds every request unanswered and records its aborts. */
  function holding(options = {}): { port: number; held: Exchange[]; reasons: string[]; server: NativeServer } {
    const held: Exchange[] = [];
    const reasons: string[] = [];
    const { server, port } = startServer(servingOk((ex) => {
      held.push(ex);
      ex.onabort = (reason) => reasons.push(`${ex.url}:${reason}`);
    }), options);
    return { port, held, reasons, server };
  }

  test.each([
    ['Connection: close', 'GET /a HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n'],
    ['HTTP/1.0', 'GET /a HTTP/1.0\r\n\r\n'],
  ])('a request that asked to close (%s): the client\'s end aborts it', async (_name, request) => {
    const { port, held, reasons, server } = holding();
    const client = await RawClient.connect(port);
    client.write(request);
    await eventually(() => held.length === 1, 'the request');
    client.end();
    await eventually(() => reasons.length === 1, 'the abort', 500);
    expect(reasons).toEqual([`/a:${AbortReason.Closed}`]);
    await expectNoConnectionsLeft(server);
  });

  test('a request that asked to close, then bytes that will never be parsed, then the end: it aborts', async () => {
    const { port, held, reasons } = holding();
    const client = await RawClient.connect(port);
    client.write('GET /a HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n');
    await eventually(() => held.length === 1, 'the request');
    client.write('GET /never HTTP/1.1\r\nHost: t\r\n\r\n'.repeat(300));
    client.end();
    await eventually(() => reasons.length === 1, 'the abort', 500);
    expect(reasons).toEqual([`/a:${AbortReason.Closed}`]);
  });

  test('a request that asked to close: a reset aborts it with the reason Reset', async () => {
    const { port, held, reasons } = holding();
    const client = await RawClient.connect(port);
    client.write('GET /a HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n');
    await eventually(() => held.length === 1, 'the request');
    client.resetConnection();
    await eventually(() => reasons.length === 1, 'the abort', 500);
    expect(reasons).toEqual([`/a:${AbortReason.Reset}`]);
  });

  test('a full pipeline (maxPipelined) with a request left unread: the end aborts every exchange', async () => {
    const { port, held, reasons, server } = holding({ maxPipelined: 2 });
    const client = await RawClient.connect(port);
    client.write('GET /1 HTTP/1.1\r\nHost: t\r\n\r\nGET /2 HTTP/1.1\r\nHost: t\r\n\r\nGET /3 HTTP/1.1\r\nHost: t\r\n\r\n');
    await eventually(() => held.length === 2, 'two requests');
    client.end();
    await eventually(() => reasons.length === 2, 'both aborts', 500);
    expect(reasons).toEqual([`/1:${AbortReason.Closed}`, `/2:${AbortReason.Closed}`]);
    expect(held.map((ex) => ex.url)).toEqual(['/1', '/2']);
    await expectNoConnectionsLeft(server);
  });

  test('a paused body reader: the client\'s end mid-body aborts the exchange', async () => {
    const reasons: AbortReason[] = [];
    let chunks = 0;
    const { port } = startServer((ex) => {
      ex.onabort = (reason) => reasons.push(reason);
      ex.ondata = () => {
        chunks++;
        ex.pause();
      };
    });
    const client = await RawClient.connect(port);
    client.write('POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\nfirst');
    await eventually(() => chunks === 1, 'the first chunk');
    client.end();
    await eventually(() => reasons.length === 1, 'the abort', 500);
    expect(reasons).toEqual([AbortReason.Closed]);
  });

  test('output above the high-water mark to a client that does not read: its reset aborts the stream', async () => {
    const reasons: AbortReason[] = [];
    let blocked = false;
    const { port } = startServer((ex) => {
      ex.onabort = (reason) => reasons.push(reason);
      ex.writeHead(200);
      const chunk = Buffer.alloc(64 * 1024, 120);
      while (ex.write(chunk));
      blocked = true;
    }, { highWaterMark: 16 * 1024 });
    const client = await RawClient.connect(port);
    client.write('GET / HTTP/1.1\r\nHost: t\r\n\r\n');
    await eventually(() => blocked, 'the stream to block');
    client.resetConnection();
    await eventually(() => reasons.length === 1, 'the abort', 500);
    expect(reasons).toEqual([AbortReason.Reset]);
  });

  test('Exchange.signal aborts with the reason when the client goes away, and never once the response is complete', async () => {
    const signals: AbortSignal[] = [];
    const { port } = startServer((ex) => {
      signals.push(ex.signal);
      if (ex.url === '/quick') ex.respond(200, 'quick');
    });
    const quick = await getOnce(port, '/quick');
    expect(quick.body.toString()).toBe('quick');
    const client = await RawClient.connect(port);
    client.write('GET /held HTTP/1.1\r\nHost: t\r\n\r\n');
    await eventually(() => signals.length === 2, 'the held request');
    const aborted = new Promise<unknown>((resolve) => signals[1].addEventListener('abort', () => resolve(signals[1].reason)));
    client.end();
    const reason = await aborted;
    expect(reason).toBeInstanceOf(RequestAbortedError);
    expect((reason as RequestAbortedError).reason).toBe(AbortReason.Closed);
    expect(signals[0].aborted).toBe(false);
  });
});

describe('handlers that throw', () => {
  const internalError = 'HTTP/1.1 500 Internal Server Error\r\nDate: <date>\r\ncontent-type: text/plain; charset=utf-8\r\nContent-Length: 21\r\n\r\nInternal Server Error';

  /** Starts a server whose handler is `handler`, collecting 'handlerError' events. */
  function failing(handler: Handler): { port: number; errors: unknown[] } {
    const errors: unknown[] = [];
    const { server, port } = startServer(handler);
    server.on('handlerError', (err: unknown) => errors.push(err));
    return { port, errors };
  }

  test('a synchronous throw gets a 500; the connection and process carry on', async () => {
    const boom = new Error('sync boom');
    const { port, errors } = failing((ex) => {
      if (ex.url === '/throw') throw boom;
      ex.respond(200, 'fine');
    });
    const client = await RawClient.connect(port);
    client.write('GET /throw HTTP/1.1\r\nHost: t\r\n\r\nGET /ok HTTP/1.1\r\nHost: t\r\n\r\n');
    const [failed, ok] = await client.responses(2);
    expect(withoutDate(failed)).toBe(internalError);
    expect(ok.body.toString()).toBe('fine');
    expect(errors).toEqual([boom]);
    client.destroy();
  });

  test('an async rejection gets a 500', async () => {
    const boom = new Error('async boom');
    const { port, errors } = failing(async () => {
      await delay(5);
      throw boom;
    });
    const response = await getOnce(port);
    expect(withoutDate(response)).toBe(internalError);
    expect(errors).toEqual([boom]);
  });

  test('a throw after the head was sent cuts the connection; the next client is served', async () => {
    const { port, errors } = failing(servingOk((ex) => {
      ex.writeHead(200);
      ex.write('half');
      throw new Error('mid-stream boom');
    }));
    const client = await RawClient.connect(port);
    client.write('GET / HTTP/1.1\r\nHost: t\r\n\r\n');
    await client.closedByServer();
    // Whatever got out, the chunked body never ends: the client cannot take it for complete.
    expect(client.bytes.toString('latin1')).not.toContain('0\r\n\r\n');
    expect(errors).toHaveLength(1);
    await expectServing(port);
  });

  test('without a handlerError listener the error is logged once', async () => {
    const logged = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const { port } = startServer(() => {
        throw new Error('logged boom');
      });
      expect((await getOnce(port)).status).toBe(500);
      expect(logged).toHaveBeenCalledTimes(1);
      expect(String(logged.mock.calls[0])).toContain('logged boom');
    } finally {
      logged.mockRestore();
    }
  });
});
