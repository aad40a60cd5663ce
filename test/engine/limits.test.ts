// Every engine limit, crossed by one and kept by one (issue 6).
import { AbortReason } from '../../src/engine/binding';
import { RequestAbortedError, type Exchange } from '../../src/engine/exchange';
import type { Handler } from '../../src/engine/server';
import { RawClient, delay, echoTarget, eventually, getOnce, sendAndAwaitClose, startServer, stopAll } from './helpers';

afterEach(stopAll);

/** A head of exactly `length` bytes: padding goes into one X-Pad field. */
function headOfLength(length: number): string {
  const bare = 'GET / HTTP/1.1\r\nHost: t\r\nX-Pad: \r\n\r\n';
  return bare.replace('X-Pad: ', `X-Pad: ${'p'.repeat(length - bare.length)}`);
}

/** Reads the body; answers with its length, or records why it failed. */
function bodyReader(failures: unknown[]): Handler {
  return async (ex: Exchange) => {
    try {
      ex.respond(200, `got ${(await ex.body()).length}`);
    } catch (err) {
      failures.push(err);
    }
  };
}

function expectAbortedWith(failures: unknown[], reason: AbortReason): void {
  expect(failures).toHaveLength(1);
  expect(failures[0]).toBeInstanceOf(RequestAbortedError);
  expect((failures[0] as RequestAbortedError).reason).toBe(reason);
}

async function expectStatusThenClose(port: number, request: string, statusLine: string): Promise<void> {
  const { responses } = await sendAndAwaitClose(port, request);
  expect(responses.map((r) => r.statusLine)).toEqual([statusLine]);
  expect(responses[0].headers.connection).toBe('close');
  expect((await getOnce(port)).status).toBe(200);
}

describe('maxHeaderCount', () => {
  const withFields = (n: number): string => `GET / HTTP/1.1\r\nHost: t\r\n${'X-F: v\r\n'.repeat(n - 1)}\r\n`;

  test('3: three fields pass, four get 431', async () => {
    const { port } = startServer(echoTarget, { maxHeaderCount: 3 });
    const client = await RawClient.connect(port);
    client.write(withFields(3));
    expect((await client.responses(1))[0].status).toBe(200);
    client.destroy();
    await expectStatusThenClose(port, withFields(4), 'HTTP/1.1 431 Request Header Fields Too Large');
  });

  test('the default, 100: 100 fields pass, 101 get 431', async () => {
    const { port } = startServer(echoTarget);
    const client = await RawClient.connect(port);
    client.write(withFields(100));
    expect((await client.responses(1))[0].status).toBe(200);
    client.destroy();
    await expectStatusThenClose(port, withFields(101), 'HTTP/1.1 431 Request Header Fields Too Large');
  });
});

describe('maxHeaderSize', () => {
  test('a head of exactly the limit passes, one byte more gets 431', async () => {
    const { port } = startServer(echoTarget, { maxHeaderSize: 200 });
    expect(headOfLength(200)).toHaveLength(200);
    const client = await RawClient.connect(port);
    client.write(headOfLength(200));
    expect((await client.responses(1))[0].status).toBe(200);
    client.destroy();
    await expectStatusThenClose(port, headOfLength(201), 'HTTP/1.1 431 Request Header Fields Too Large');
  });

  test('an endless head is cut off at the limit without waiting for its end', async () => {
    const { port } = startServer(echoTarget, { maxHeaderSize: 1024 });
    const client = await RawClient.connect(port);
    client.write(`GET / HTTP/1.1\r\nHost: t\r\nX-Endless: ${'e'.repeat(4096)}`);
    const responses = await client.closedByServer();
    expect(responses.map((r) => r.status)).toEqual([431]);
    client.destroy();
  });
});

describe('maxUrlLength', () => {
  const target = (length: number): string => `/${'u'.repeat(length - 1)}`;

  test('a target of exactly the limit passes, one byte more gets 414', async () => {
    const { port } = startServer(echoTarget, { maxUrlLength: 20 });
    const response = await getOnce(port, target(20));
    expect(response.body.toString()).toBe(`GET ${target(20)}`);
    await expectStatusThenClose(port, `GET ${target(21)} HTTP/1.1\r\nHost: t\r\n\r\n`, 'HTTP/1.1 414 URI Too Long');
  });

  test('an endless request line gets 414', async () => {
    const { port } = startServer(echoTarget, { maxUrlLength: 100 });
    const client = await RawClient.connect(port);
    client.write(`GET ${target(5000)}`);
    const responses = await client.closedByServer();
    expect(responses.map((r) => r.status)).toEqual([414]);
    client.destroy();
  });
});

describe('maxBodySize', () => {
  const withLength = (body: string): string => `POST / HTTP/1.1\r\nHost: t\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
  const chunked = (...chunks: string[]): string =>
    `POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n${chunks.map((c) => `${c.length.toString(16)}\r\n${c}\r\n`).join('')}0\r\n\r\n`;

  test('Content-Length: the limit passes, one more gets 413 before the handler runs', async () => {
    const failures: unknown[] = [];
    let calls = 0;
    const read = bodyReader(failures);
    const { port } = startServer((ex) => {
      calls += 1;
      return read(ex);
    }, { maxBodySize: 10 });
    const client = await RawClient.connect(port);
    client.write(withLength('0123456789'));
    expect((await client.responses(1))[0].body.toString()).toBe('got 10');
    client.destroy();
    await expectStatusThenClose(port, withLength('0123456789A'), 'HTTP/1.1 413 Payload Too Large');
    expect(calls).toBe(2); // the first request and getOnce's: never the refused one
    expect(failures).toEqual([]);
  });

  test('chunked: the limit passes, one more gets 413 and the body reader rejects', async () => {
    const failures: unknown[] = [];
    const { port } = startServer(bodyReader(failures), { maxBodySize: 10 });
    const client = await RawClient.connect(port);
    client.write(chunked('01234', '56789'));
    expect((await client.responses(1))[0].body.toString()).toBe('got 10');
    client.destroy();
    await expectStatusThenClose(port, chunked('012345', '6789A'), 'HTTP/1.1 413 Payload Too Large');
    expectAbortedWith(failures, AbortReason.BadBody);
  });
});

describe('headersTimeout', () => {
  test('slowloris: a client trickling its head is answered 408 and cut off', async () => {
    let calls = 0;
    const { port } = startServer(() => {
      calls += 1;
    }, { headersTimeout: 300 });
    const client = await RawClient.connect(port);
    const started = Date.now();
    client.write('GET / HTTP/1.1\r\n');
    const trickle = 'X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
    for (let i = 0; i < trickle.length && !client.closed; i++) {
      client.write(trickle[i]);
      await delay(50);
    }
    const responses = await client.closedByServer();
    const elapsed = Date.now() - started;
    expect(responses.map((r) => r.statusLine)).toEqual(['HTTP/1.1 408 Request Timeout']);
    expect(responses[0].headers.connection).toBe('close');
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(2000);
    expect(calls).toBe(0);
  });

  test('a head trickled within the timeout is served', async () => {
    const { port } = startServer(echoTarget, { headersTimeout: 300 });
    const client = await RawClient.connect(port);
    for (const piece of ['GET /in-time HTTP/1.1\r\n', 'Host: t\r\n', '\r\n']) {
      client.write(piece);
      await delay(60);
    }
    expect((await client.responses(1))[0].body.toString()).toBe('GET /in-time');
    client.destroy();
  });

  test('a connection that never sends a byte is closed, without a response', async () => {
    const { port } = startServer(echoTarget, { headersTimeout: 300 });
    const client = await RawClient.connect(port);
    const responses = await client.closedByServer();
    expect(responses).toEqual([]);
    expect(client.bytes.length).toBe(0);
    expect((await getOnce(port)).status).toBe(200);
  });
});

describe('requestTimeout', () => {
  test('a body trickled past the timeout gets 408, the body reader rejects', async () => {
    const failures: unknown[] = [];
    const { port } = startServer(bodyReader(failures), { requestTimeout: 400, headersTimeout: 0 });
    const client = await RawClient.connect(port);
    client.write('POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n');
    for (let i = 0; i < 100 && !client.closed; i++) {
      client.write('b');
      await delay(50);
    }
    const responses = await client.closedByServer();
    expect(responses.map((r) => r.statusLine)).toEqual(['HTTP/1.1 408 Request Timeout']);
    expectAbortedWith(failures, AbortReason.Timeout);
    expect((await getOnce(port)).status).toBe(200);
  });

  test('a body that arrives within the timeout is served', async () => {
    const failures: unknown[] = [];
    const { port } = startServer(bodyReader(failures), { requestTimeout: 400, headersTimeout: 0 });
    const client = await RawClient.connect(port);
    client.write('POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\n');
    for (const byte of 'body') {
      client.write(byte);
      await delay(40);
    }
    expect((await client.responses(1))[0].body.toString()).toBe('got 4');
    expect(failures).toEqual([]);
    client.destroy();
  });
});

describe('keepAliveTimeout', () => {
  test('an idle keep-alive connection is closed after the timeout', async () => {
    const { port } = startServer(echoTarget, { keepAliveTimeout: 300 });
    const client = await RawClient.connect(port);
    client.write('GET / HTTP/1.1\r\nHost: t\r\n\r\n');
    await client.responses(1);
    const idleFrom = Date.now();
    const responses = await client.closedByServer();
    expect(responses).toHaveLength(1);
    expect(Date.now() - idleFrom).toBeGreaterThanOrEqual(250);
  });

  test('a request within the timeout reuses the connection', async () => {
    const { port } = startServer(echoTarget, { keepAliveTimeout: 300 });
    const client = await RawClient.connect(port);
    client.write('GET /1 HTTP/1.1\r\nHost: t\r\n\r\n');
    await client.responses(1);
    await delay(150);
    client.write('GET /2 HTTP/1.1\r\nHost: t\r\n\r\n');
    const [, second] = await client.responses(2);
    expect(second.body.toString()).toBe('GET /2');
    client.destroy();
  });
});

describe('maxPipelined', () => {
  /** A handler that holds every exchange until the test answers it. */
  function holding(): { handler: Handler; held: Exchange[] } {
    const held: Exchange[] = [];
    return { held, handler: (ex) => void held.push(ex) };
  }

  test('2: a third pipelined request waits until one is answered; all come back in order', async () => {
    const { handler, held } = holding();
    const { port } = startServer(handler, { maxPipelined: 2 });
    const client = await RawClient.connect(port);
    client.write([1, 2, 3, 4].map((n) => `GET /${n} HTTP/1.1\r\nHost: t\r\n\r\n`).join(''));
    await delay(100);
    expect(held.map((ex) => ex.url)).toEqual(['/1', '/2']);
    held[0].respond(200, held[0].url);
    await delay(100);
    expect(held.map((ex) => ex.url)).toEqual(['/1', '/2', '/3']);
    for (const ex of held.slice(1)) ex.respond(200, ex.url);
    await delay(100);
    held[3].respond(200, held[3].url);
    const responses = await client.responses(4);
    expect(responses.map((r) => r.body.toString())).toEqual(['/1', '/2', '/3', '/4']);
    client.destroy();
  });

  test('2: two pipelined requests are both dispatched at once', async () => {
    const { handler, held } = holding();
    const { port } = startServer(handler, { maxPipelined: 2 });
    const client = await RawClient.connect(port);
    client.write('GET /a HTTP/1.1\r\nHost: t\r\n\r\nGET /b HTTP/1.1\r\nHost: t\r\n\r\n');
    await delay(100);
    expect(held.map((ex) => ex.url)).toEqual(['/a', '/b']);
    for (const ex of held) ex.respond(200, ex.url);
    expect((await client.responses(2)).map((r) => r.body.toString())).toEqual(['/a', '/b']);
    client.destroy();
  });
});

describe('maxConnections', () => {
  test('2: a third connection is closed at once; the first two are served; a freed slot is reused', async () => {
    const { server, port } = startServer(echoTarget, { maxConnections: 2 });
    const first = await RawClient.connect(port);
    const second = await RawClient.connect(port);
    for (const client of [first, second]) {
      client.write('GET / HTTP/1.1\r\nHost: t\r\n\r\n');
      expect((await client.responses(1))[0].status).toBe(200);
    }
    const third = await RawClient.connect(port);
    third.write('GET / HTTP/1.1\r\nHost: t\r\n\r\n');
    expect(await third.closedByServer()).toEqual([]);
    expect(third.bytes.length).toBe(0);
    third.destroy();

    first.destroy();
    await eventually(() => server.connections === 1, 'the first connection to be released');
    expect((await getOnce(port)).status).toBe(200);
    second.destroy();
  });
});

describe('maxRequestsPerConnection', () => {
  test('3: the third request is answered with Connection: close and nothing after it is read; HTTP/1.0 requests do not count', async () => {
    const seen: string[] = [];
    const { port } = startServer((ex) => {
      seen.push(ex.url);
      echoTarget(ex);
    }, { maxRequestsPerConnection: 3 });
    const client = await RawClient.connect(port);
    client.write('GET /old HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
    expect((await client.responses(1))[0].headers.connection).toBe('keep-alive');
    const get = (path: string): string => `GET ${path} HTTP/1.1\r\nHost: t\r\n\r\n`;
    client.write(get('/1') + get('/2') + get('/3') + get('/4'));
    const responses = await client.closedByServer();
    expect(responses.map((r) => [r.body.toString(), r.headers.connection])).toEqual([
      ['GET /old', 'keep-alive'], ['GET /1', undefined], ['GET /2', undefined], ['GET /3', 'close'],
    ]);
    expect(seen).toEqual(['/old', '/1', '/2', '/3']);
  });

  test('must be an integer >= 0', () => {
    expect(() => startServer(echoTarget, { maxRequestsPerConnection: -1 })).toThrow(/maxRequestsPerConnection must be an integer >= 0/);
  });
});
