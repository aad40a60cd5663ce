// HTTP/1.0 and 1.1 semantics of the engine (RFC 9112), over real sockets.
import type { Exchange } from '../../src/engine/exchange';
import { IMF_FIXDATE, RawClient, delay, echoTarget, getOnce, startServer, stopAll, withoutDate } from './helpers';

afterEach(stopAll);

/** Answers with the request body, echoed once it has fully arrived. */
async function echoBody(ex: Exchange): Promise<void> {
  const body = await ex.body();
  ex.respond(200, body, { 'x-trailers': JSON.stringify(ex.rawTrailers()) });
}

describe('keep-alive and Connection', () => {
  test('HTTP/1.1 keeps the connection open by default: two requests, exact bytes', async () => {
    const { port } = startServer((ex) => ex.respond(200, 'hi', { 'content-type': 'text/plain' }));
    const client = await RawClient.connect(port);
    client.write('GET /1 HTTP/1.1\r\nHost: t\r\n\r\n');
    const [first] = await client.responses(1);
    expect(withoutDate(first)).toBe('HTTP/1.1 200 OK\r\nDate: <date>\r\ncontent-type: text/plain\r\nContent-Length: 2\r\n\r\nhi');
    client.write('GET /2 HTTP/1.1\r\nHost: t\r\n\r\n');
    const [, second] = await client.responses(2);
    expect(withoutDate(second)).toBe(withoutDate(first));
    expect(await client.stillOpenAfter(50)).toBe(true);
    client.destroy();
  });

  test('HTTP/1.1 with Connection: close gets Connection: close and a closed connection', async () => {
    const { port } = startServer(echoTarget);
    const client = await RawClient.connect(port);
    client.write('GET /bye HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n');
    const [response] = await client.closedByServer();
    expect(withoutDate(response)).toBe('HTTP/1.1 200 OK\r\nDate: <date>\r\ncontent-type: text/plain\r\nContent-Length: 8\r\nConnection: close\r\n\r\nGET /bye');
  });

  test('HTTP/1.0 closes by default', async () => {
    const { port } = startServer(echoTarget);
    const client = await RawClient.connect(port);
    client.write('GET /old HTTP/1.0\r\n\r\n');
    const [response] = await client.closedByServer();
    expect(response.headers.connection).toBe('close');
    expect(response.body.toString()).toBe('GET /old');
  });

  test('HTTP/1.0 with Connection: keep-alive stays open and says so', async () => {
    const { port } = startServer(echoTarget);
    const client = await RawClient.connect(port);
    client.write('GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
    const [first] = await client.responses(1);
    expect(withoutDate(first)).toBe('HTTP/1.1 200 OK\r\nDate: <date>\r\ncontent-type: text/plain\r\nContent-Length: 6\r\nConnection: keep-alive\r\n\r\nGET /a');
    client.write('GET /b HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
    const [, second] = await client.responses(2);
    expect(second.body.toString()).toBe('GET /b');
    expect(await client.stillOpenAfter(50)).toBe(true);
    client.destroy();
  });

  test('a response that says Connection: close closes the connection', async () => {
    const { port } = startServer((ex) => ex.respond(200, 'x', { connection: 'close' }));
    const client = await RawClient.connect(port);
    client.write('GET / HTTP/1.1\r\nHost: t\r\n\r\n');
    const [response] = await client.closedByServer();
    expect(response.rawHeaders.filter(([n]) => n.toLowerCase() === 'connection')).toEqual([['connection', 'close']]);
  });

  test('leading empty lines before a request line are ignored', async () => {
    const { port } = startServer(echoTarget);
    const client = await RawClient.connect(port);
    client.write('\r\nGET /after-blank HTTP/1.1\r\nHost: t\r\n\r\n');
    const [response] = await client.responses(1);
    expect(response.body.toString()).toBe('GET /after-blank');
    client.destroy();
  });
});

describe('pipelining', () => {
  test('answers in request order even when handlers finish out of order', async () => {
    const delays: Record<string, number> = { '/slow': 80, '/fast': 0, '/mid': 30 };
    const finished: string[] = [];
    const { port } = startServer((ex) => {
      setTimeout(() => {
        finished.push(ex.url);
        ex.respond(200, ex.url);
      }, delays[ex.url]);
    });
    const client = await RawClient.connect(port);
    client.write(['/slow', '/fast', '/mid'].map((p) => `GET ${p} HTTP/1.1\r\nHost: t\r\n\r\n`).join(''));
    const responses = await client.responses(3);
    expect(finished).toEqual(['/fast', '/mid', '/slow']);
    expect(responses.map((r) => r.body.toString())).toEqual(['/slow', '/fast', '/mid']);
    client.destroy();
  });

  test('streamed pipelined responses do not interleave', async () => {
    const { port } = startServer((ex) => {
      ex.writeHead(200);
      ex.write(`${ex.url}:1 `);
      setTimeout(() => ex.end(`${ex.url}:2`), ex.url === '/a' ? 50 : 0);
    });
    const client = await RawClient.connect(port);
    client.write('GET /a HTTP/1.1\r\nHost: t\r\n\r\nGET /b HTTP/1.1\r\nHost: t\r\n\r\n');
    const responses = await client.responses(2);
    expect(responses.map((r) => r.body.toString())).toEqual(['/a:1 /a:2', '/b:1 /b:2']);
    client.destroy();
  });

  test('a pipelined request with Connection: close is the last one answered', async () => {
    const seen: string[] = [];
    const { port } = startServer((ex) => {
      seen.push(ex.url);
      ex.respond(200, ex.url);
    });
    const client = await RawClient.connect(port);
    client.write('GET /1 HTTP/1.1\r\nHost: t\r\n\r\nGET /2 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\nGET /3 HTTP/1.1\r\nHost: t\r\n\r\n');
    const responses = await client.closedByServer();
    expect(responses.map((r) => r.body.toString())).toEqual(['/1', '/2']);
    expect(responses[1].headers.connection).toBe('close');
    expect(seen).toEqual(['/1', '/2']);
  });

  test('pipelined requests with bodies are each given their own body', async () => {
    const { port } = startServer(echoBody);
    const client = await RawClient.connect(port);
    client.write(
      'POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc' +
        'POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nde\r\n0\r\n\r\n' +
        'POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\n\r\nf',
    );
    const responses = await client.responses(3);
    expect(responses.map((r) => r.body.toString())).toEqual(['abc', 'de', 'f']);
    client.destroy();
  });
});

describe('request bodies', () => {
  test('Content-Length body, split across several writes', async () => {
    const { port } = startServer(echoBody);
    const client = await RawClient.connect(port);
    client.write('POST /up HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\n\r\nhel');
    await delay(20);
    client.write('lo wo');
    await delay(20);
    client.write('rld');
    const [response] = await client.responses(1);
    expect(response.body.toString()).toBe('hello world');
    client.destroy();
  });

  test('a large Content-Length body arrives whole', async () => {
    const payload = Buffer.alloc(3 * 1024 * 1024, 'abcdefgh');
    const { port } = startServer(async (ex) => {
      const body = await ex.body();
      ex.respond(200, `${body.length} ${body.equals(payload)}`);
    });
    const client = await RawClient.connect(port);
    client.write(`PUT / HTTP/1.1\r\nHost: t\r\nContent-Length: ${payload.length}\r\n\r\n`);
    client.write(payload);
    const [response] = await client.responses(1, 10000);
    expect(response.body.toString()).toBe(`${payload.length} true`);
    client.destroy();
  });

  test('chunked body with extensions and trailers (rawTrailers)', async () => {
    const { port } = startServer(echoBody);
    const client = await RawClient.connect(port);
    client.write(
      'POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n' +
        '5;name=value\r\nhello\r\n6;a;b="quoted; text"\r\n world\r\n0;last\r\nX-Checksum: abc\r\nX-Other: 1\r\n\r\n',
    );
    const [response] = await client.responses(1);
    expect(response.body.toString()).toBe('hello world');
    expect(JSON.parse(response.headers['x-trailers'])).toEqual(['X-Checksum', 'abc', 'X-Other', '1']);
    client.destroy();
  });

  test('chunked body trickled one byte at a time', async () => {
    const { port } = startServer(echoBody);
    const client = await RawClient.connect(port);
    client.write('POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n');
    for (const byte of 'a\r\n0123456789\r\n0\r\nT: v\r\n\r\n') {
      client.write(byte);
      await delay(1);
    }
    const [response] = await client.responses(1);
    expect(response.body.toString()).toBe('0123456789');
    expect(JSON.parse(response.headers['x-trailers'])).toEqual(['T', 'v']);
    client.destroy();
  });

  test('an empty chunked body', async () => {
    const { port } = startServer(echoBody);
    const client = await RawClient.connect(port);
    client.write('POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n');
    const [response] = await client.responses(1);
    expect(response.headers['content-length']).toBe('0');
    client.destroy();
  });

  test('a body the handler never reads is skipped: the next request still parses', async () => {
    const { port } = startServer(echoTarget);
    const client = await RawClient.connect(port);
    client.write('POST /ignored HTTP/1.1\r\nHost: t\r\nContent-Length: 6\r\n\r\nGET /x');
    client.write('GET /next HTTP/1.1\r\nHost: t\r\n\r\n');
    const responses = await client.responses(2);
    expect(responses.map((r) => r.body.toString())).toEqual(['POST /ignored', 'GET /next']);
    client.destroy();
  });
});

describe('responses', () => {
  test('streamed response is chunked, with trailers, exact bytes', async () => {
    const { port } = startServer((ex) => {
      ex.writeHead(200, { 'content-type': 'text/plain' });
      ex.write('ab');
      ex.write(Buffer.from('cde'));
      ex.end('f', { 'x-trailer': 'done' });
    });
    const client = await RawClient.connect(port);
    client.write('GET / HTTP/1.1\r\nHost: t\r\n\r\n');
    const [response] = await client.responses(1);
    expect(withoutDate(response)).toBe(
      'HTTP/1.1 200 OK\r\nDate: <date>\r\ncontent-type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n' +
        '2\r\nab\r\n3\r\ncde\r\n1\r\nf\r\n0\r\nx-trailer: done\r\n\r\n',
    );
    client.destroy();
  });

  test('streamed response with a declared length is not chunked', async () => {
    const { port } = startServer((ex) => {
      ex.writeHead(200, {}, 6);
      ex.write('abc');
      setTimeout(() => ex.end('def'), 10);
    });
    const client = await RawClient.connect(port);
    client.write('GET / HTTP/1.1\r\nHost: t\r\n\r\n');
    const [response] = await client.responses(1);
    expect(withoutDate(response)).toBe('HTTP/1.1 200 OK\r\nDate: <date>\r\nContent-Length: 6\r\n\r\nabcdef');
    expect(await client.stillOpenAfter(30)).toBe(true);
    client.destroy();
  });

  test('HTTP/1.0 client gets a close-delimited streamed response', async () => {
    const { port } = startServer((ex) => {
      ex.writeHead(200);
      ex.write('part1 ');
      setTimeout(() => ex.end('part2'), 10);
    });
    const client = await RawClient.connect(port);
    client.write('GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
    const [response] = await client.closedByServer();
    expect(withoutDate(response)).toBe('HTTP/1.1 200 OK\r\nDate: <date>\r\nConnection: close\r\n\r\npart1 part2');
  });

  test('HEAD gets the headers of GET and no body; the connection stays usable', async () => {
    const { port } = startServer((ex) => ex.respond(200, 'hello', { 'content-type': 'text/plain' }));
    const client = await RawClient.connect(port);
    client.expectHead(0);
    client.write('HEAD / HTTP/1.1\r\nHost: t\r\n\r\nGET / HTTP/1.1\r\nHost: t\r\n\r\n');
    const [head, get] = await client.responses(2);
    expect(withoutDate(head)).toBe('HTTP/1.1 200 OK\r\nDate: <date>\r\ncontent-type: text/plain\r\nContent-Length: 5\r\n\r\n');
    expect(get.body.toString()).toBe('hello');
    client.destroy();
  });

  test('HEAD with a streamed response sends no body bytes', async () => {
    const { port } = startServer((ex) => {
      ex.writeHead(200);
      ex.write('never sent');
      ex.end();
    });
    const client = await RawClient.connect(port);
    client.expectHead(0);
    client.write('HEAD / HTTP/1.1\r\nHost: t\r\n\r\nGET /x HTTP/1.1\r\nHost: t\r\n\r\n');
    const [head, get] = await client.responses(2);
    expect(withoutDate(head)).toBe('HTTP/1.1 200 OK\r\nDate: <date>\r\n\r\n');
    expect(get.body.toString()).toBe('never sent');
    client.destroy();
  });

  test.each([204, 304])('%i carries no body and no framing headers', async (status) => {
    const { port } = startServer((ex) => (ex.url === '/empty' ? ex.respond(status, 'dropped') : ex.respond(200, 'next')));
    const client = await RawClient.connect(port);
    client.write('GET /empty HTTP/1.1\r\nHost: t\r\n\r\nGET /n HTTP/1.1\r\nHost: t\r\n\r\n');
    const [empty, next] = await client.responses(2);
    const reason = status === 204 ? 'No Content' : 'Not Modified';
    expect(withoutDate(empty)).toBe(`HTTP/1.1 ${status} ${reason}\r\nDate: <date>\r\n\r\n`);
    expect(next.body.toString()).toBe('next');
    client.destroy();
  });

  test('Date is IMF-fixdate, close to now, and shared by responses in the same second', async () => {
    const { port } = startServer(echoTarget);
    const client = await RawClient.connect(port);
    client.write('GET / HTTP/1.1\r\nHost: t\r\n\r\nGET / HTTP/1.1\r\nHost: t\r\n\r\n');
    const before = Date.now();
    const [a, b] = await client.responses(2);
    expect(a.headers.date).toMatch(IMF_FIXDATE);
    expect(Math.abs(Date.parse(a.headers.date) - before)).toBeLessThan(2000);
    // Pipelined and answered in one turn: the cached value is the same.
    expect(b.headers.date).toBe(a.headers.date);
    client.destroy();
  });

  test('Date moves on once the wall clock reaches the next second', async () => {
    const { port } = startServer(echoTarget);
    const client = await RawClient.connect(port);
    client.write('GET / HTTP/1.1\r\nHost: t\r\n\r\n');
    const [first] = await client.responses(1);
    // Wait until just past the next whole second of the wall clock.
    await delay(1050 - (Date.now() % 1000));
    client.write('GET / HTTP/1.1\r\nHost: t\r\n\r\n');
    const [, second] = await client.responses(2);
    expect(Date.parse(second.headers.date) - Date.parse(first.headers.date)).toBeGreaterThanOrEqual(1000);
    expect(Date.parse(second.headers.date)).toBeLessThanOrEqual(Date.now());
    client.destroy();
  });

  test('a Date header set by the handler replaces the engine\'s', async () => {
    const { port } = startServer((ex) => ex.respond(200, '', { date: 'Sun, 06 Nov 1994 08:49:37 GMT' }));
    const response = await getOnce(port);
    expect(response.rawHeaders.filter(([n]) => n.toLowerCase() === 'date')).toEqual([['date', 'Sun, 06 Nov 1994 08:49:37 GMT']]);
  });
});

describe('Expect: 100-continue', () => {
  test('100 Continue is sent when the handler reads the body, then the final response', async () => {
    const { port } = startServer(echoBody);
    const client = await RawClient.connect(port);
    client.write('POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n');
    const [interim] = await client.responses(1);
    expect(interim.raw.toString()).toBe('HTTP/1.1 100 Continue\r\n\r\n');
    client.write('data');
    const [, final] = await client.responses(2);
    expect(final.status).toBe(200);
    expect(final.body.toString()).toBe('data');
    client.destroy();
  });

  test('a handler that answers without reading sends no 100 and closes the connection', async () => {
    const { port } = startServer((ex) => ex.respond(413, 'no thanks'));
    const client = await RawClient.connect(port);
    client.write('POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\nExpect: 100-continue\r\n\r\n');
    const responses = await client.closedByServer();
    expect(responses).toHaveLength(1);
    expect(responses[0].status).toBe(413);
    expect(responses[0].headers.connection).toBe('close');
  });

  test('an expectation other than 100-continue is refused with 417', async () => {
    const { port } = startServer(echoTarget);
    const client = await RawClient.connect(port);
    client.write('POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nExpect: something-else\r\n\r\nx');
    const [response] = await client.closedByServer();
    expect(response.status).toBe(417);
    expect((await getOnce(port)).status).toBe(200);
  });
});

describe('request targets', () => {
  test.each([
    ['absolute-form', 'GET http://example.com/a/b?c=d HTTP/1.1\r\nHost: example.com\r\n\r\n', 'GET http://example.com/a/b?c=d'],
    ['asterisk-form with OPTIONS', 'OPTIONS * HTTP/1.1\r\nHost: t\r\n\r\n', 'OPTIONS *'],
    ['percent-encoded origin-form', 'GET /a%20b/%E2%82%AC?q=%26 HTTP/1.1\r\nHost: t\r\n\r\n', 'GET /a%20b/%E2%82%AC?q=%26'],
    ['HTTP/1.0 without Host', 'GET /ten HTTP/1.0\r\n\r\n', 'GET /ten'],
  ])('%s is accepted and passed on as received', async (_name, request, expected) => {
    const { port } = startServer(echoTarget);
    const client = await RawClient.connect(port);
    client.write(request);
    const [response] = await client.responses(1);
    expect(response.status).toBe(200);
    expect(response.body.toString()).toBe(expected);
    client.destroy();
  });

  test('headers are read lazily, in order and case as received', async () => {
    const { port } = startServer((ex) => ex.respond(200, JSON.stringify([ex.rawHeaders(), ex.header('x-multi')])));
    const client = await RawClient.connect(port);
    client.write('GET / HTTP/1.1\r\nHost: t\r\nX-Multi: a\r\nx-multi: b\r\nX-Latin: caf\xe9\r\n\r\n');
    const [response] = await client.responses(1);
    expect(JSON.parse(response.body.toString())).toEqual([['Host', 't', 'X-Multi', 'a', 'x-multi', 'b', 'X-Latin', 'caf\xe9'], 'a, b']);
    client.destroy();
  });
});
