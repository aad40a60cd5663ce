// Malformed and hostile requests (issue 3, and issue 6's smuggling list): each one gets one
// clear error response and a closed connection, and the server goes on serving.
import { AbortReason } from '../../src/engine/binding';
import { RequestAbortedError, type Exchange } from '../../src/engine/exchange';
import type { NativeServer } from '../../src/engine/server';
import { RawClient, getOnce, sendAndAwaitClose, startServer, stopServer } from './helpers';

const STATUS_LINES: Record<number, string> = {
  400: 'HTTP/1.1 400 Bad Request',
  413: 'HTTP/1.1 413 Payload Too Large',
  417: 'HTTP/1.1 417 Expectation Failed',
  501: 'HTTP/1.1 501 Not Implemented',
  505: 'HTTP/1.1 505 HTTP Version Not Supported',
};

/** What the handler saw: every request that reached it, and how body reads ended. */
interface Seen {
  requests: string[];
  bodyErrors: unknown[];
}

let server: NativeServer;
let port: number;
const seen: Seen = { requests: [], bodyErrors: [] };

async function readingHandler(ex: Exchange): Promise<void> {
  seen.requests.push(`${ex.method} ${ex.url}`);
  try {
    const body = await ex.body();
    ex.respond(200, `body ${body.length}`);
  } catch (err) {
    seen.bodyErrors.push(err);
  }
}

beforeAll(() => {
  ({ server, port } = startServer(readingHandler, { maxBodySize: 1 << 20 }));
});
afterAll(() => stopServer(server));
beforeEach(() => {
  seen.requests = [];
  seen.bodyErrors = [];
});

/**
 * Sends `request`, expects one engine error response with `status`, then the close; `reached`
 * lists the requests the handler should have seen.
 */
async function expectRefused(request: string, status: number, reached: string[] = []): Promise<void> {
  const { responses, bytes } = await sendAndAwaitClose(port, request);
  expect(responses).toHaveLength(1);
  const [response] = responses;
  expect(response.statusLine).toBe(STATUS_LINES[status]);
  expect(response.headers.connection).toBe('close');
  expect(response.headers['content-type']).toBe('text/plain; charset=utf-8');
  expect(response.body.length).toBe(Number(response.headers['content-length']));
  expect(bytes.length).toBe(response.raw.length);
  expect(seen.requests).toEqual(reached);
  // And the server still answers the next client.
  const next = await getOnce(port, '/next');
  expect(next.status).toBe(200);
}

const head = (lines: string): string => `${lines}\r\n\r\n`;

describe('request heads refused before the handler runs', () => {
  test.each<[string, string, number]>([
    // Framing: Content-Length and Transfer-Encoding (RFC 9112 section 6).
    ['Content-Length with Transfer-Encoding', head('POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nTransfer-Encoding: chunked'), 400],
    ['Transfer-Encoding with Content-Length', head('POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nContent-Length: 5'), 400],
    ['differing duplicate Content-Length fields', head('POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nContent-Length: 6'), 400],
    ['differing comma-listed Content-Length', head('POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5, 6'), 400],
    ['Content-Length with a sign', head('POST / HTTP/1.1\r\nHost: t\r\nContent-Length: +5'), 400],
    ['negative Content-Length', head('POST / HTTP/1.1\r\nHost: t\r\nContent-Length: -1'), 400],
    ['hex Content-Length', head('POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 0x5'), 400],
    ['empty Content-Length', head('POST / HTTP/1.1\r\nHost: t\r\nContent-Length: '), 400],
    ['Content-Length past 64 bits', head('POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 99999999999999999999'), 400],
    ['Transfer-Encoding not ending in chunked', head('POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked, gzip'), 400],
    ['Transfer-Encoding: gzip alone', head('POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip'), 400],
    ['Transfer-Encoding: identity', head('POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: identity'), 400],
    ['chunked twice in one field', head('POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked, chunked'), 400],
    ['chunked twice in two fields', head('POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked'), 400],
    ['chunked spelled xchunked', head('POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: xchunked'), 400],
    ['chunked with a space inside', head('POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chun ked'), 400],
    ['chunked with parameters', head('POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked;q=1'), 400],
    ['chunked in quotes', head('POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: "chunked"'), 400],
    ['chunked after a vertical tab', head('POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: \x0bchunked'), 400],
    ['empty Transfer-Encoding', head('POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: '), 400],
    ['Transfer-Encoding in HTTP/1.0', head('POST / HTTP/1.0\r\nTransfer-Encoding: chunked'), 400],
    ['an unsupported coding before chunked', head('POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked'), 501],
    // Field syntax (RFC 9112 section 5).
    ['obs-fold', head('GET / HTTP/1.1\r\nHost: t\r\nX-Folded: a\r\n b'), 400],
    ['obs-fold with a tab', head('GET / HTTP/1.1\r\nHost: t\r\nX-Folded: a\r\n\tb'), 400],
    ['bare LF ending a header line', head('GET / HTTP/1.1\r\nHost: t\nX: a'), 400],
    ['bare LF everywhere', 'GET / HTTP/1.1\nHost: t\n\n', 400],
    ['bare CR inside a value', head('GET / HTTP/1.1\r\nHost: t\r\nX: a\rb'), 400],
    ['bare CR ending a header line', head('GET / HTTP/1.1\r\nHost: t\rX: a'), 400],
    ['space before the colon', head('GET / HTTP/1.1\r\nHost : t'), 400],
    ['tab before the colon', head('GET / HTTP/1.1\r\nHost\t: t'), 400],
    ['space inside a field name', head('GET / HTTP/1.1\r\nHost: t\r\nX Y: z'), 400],
    ['a line without a colon', head('GET / HTTP/1.1\r\nHost: t\r\nNoColon'), 400],
    ['empty field name', head('GET / HTTP/1.1\r\nHost: t\r\n: v'), 400],
    ['NUL in a value', head('GET / HTTP/1.1\r\nHost: t\r\nX: a\0b'), 400],
    ['NUL in a name', head('GET / HTTP/1.1\r\nHost: t\r\nX\0: b'), 400],
    ['NUL in the target', head('GET /a\0b HTTP/1.1\r\nHost: t'), 400],
    ['NUL in the method', head('G\0T / HTTP/1.1\r\nHost: t'), 400],
    ['DEL in the target', head('GET /\x7f HTTP/1.1\r\nHost: t'), 400],
    // Request line (RFC 9112 section 3).
    ['invalid method character', head('G@T / HTTP/1.1\r\nHost: t'), 400],
    ['method with a slash', head('GE/T / HTTP/1.1\r\nHost: t'), 400],
    ['empty method', head(' / HTTP/1.1\r\nHost: t'), 400],
    ['two spaces after the method', head('GET  / HTTP/1.1\r\nHost: t'), 400],
    ['a relative target', head('GET foo HTTP/1.1\r\nHost: t'), 400],
    ['asterisk-form with GET', head('GET * HTTP/1.1\r\nHost: t'), 400],
    ['non-ASCII in the target', head('GET /caf\xe9 HTTP/1.1\r\nHost: t'), 400],
    ['a space inside the target', head('GET /a b HTTP/1.1\r\nHost: t'), 400],
    ['absolute-form with an unknown scheme', head('GET ftp://example.com/ HTTP/1.1\r\nHost: t'), 400],
    ['absolute-form without an authority', head('GET http:///a HTTP/1.1\r\nHost: t'), 400],
    ['authority-form with CONNECT', head('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443'), 501],
    ['HTTP/0.9 (no version)', 'GET /\r\n\r\n', 400],
    ['HTTP/1.2', head('GET / HTTP/1.2\r\nHost: t'), 505],
    ['HTTP/2.0 in an HTTP/1 head', head('GET / HTTP/2.0\r\nHost: t'), 505],
    ['HTTP/3.0', head('GET / HTTP/3.0\r\nHost: t'), 505],
    ['lower-case protocol name', head('GET / http/1.1\r\nHost: t'), 400],
    ['a protocol that is not HTTP', head('GET / FOO/1.1\r\nHost: t'), 400],
    ['a version with two digits', head('GET / HTTP/1.10\r\nHost: t'), 400],
    ['trailing garbage after the version', head('GET / HTTP/1.1 x\r\nHost: t'), 400],
    ['binary garbage', '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n', 400],
    // Host (RFC 9112 section 3.2).
    ['HTTP/1.1 without Host', head('GET / HTTP/1.1\r\nAccept: */*'), 400],
    ['two Host fields', head('GET / HTTP/1.1\r\nHost: a\r\nHost: b'), 400],
    ['a Host with a space', head('GET / HTTP/1.1\r\nHost: a b'), 400],
    ['a Host with a slash', head('GET / HTTP/1.1\r\nHost: a/b'), 400],
    ['a Host whose port is not all digits', head('GET / HTTP/1.1\r\nHost: example.com:80x'), 400],
    ['a Host that is a URL', head('GET / HTTP/1.1\r\nHost: http://example.com'), 400],
    // Expectations (RFC 9110 section 10.1.1).
    ['an unknown expectation', head('POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nExpect: 200-ok'), 417],
  ])('%s', async (_name, request, status) => {
    await expectRefused(request, status);
  });

  test('earlier pipelined requests are answered first, in order, then the error', async () => {
    const { responses } = await sendAndAwaitClose(
      port,
      'GET /ok HTTP/1.1\r\nHost: t\r\n\r\nGET / HTTP/1.1\r\nHost: t\r\nX: a\r\n b\r\n\r\nGET /never HTTP/1.1\r\nHost: t\r\n\r\n',
    );
    expect(responses.map((r) => r.statusLine)).toEqual(['HTTP/1.1 200 OK', 'HTTP/1.1 400 Bad Request']);
    expect(seen.requests).toEqual(['GET /ok']);
  });

  test('a request that smuggles a second one in a conflicting body is refused whole', async () => {
    const smuggled = 'GET /admin HTTP/1.1\r\nHost: t\r\n\r\n';
    const request =
      `POST / HTTP/1.1\r\nHost: t\r\nContent-Length: ${smuggled.length + 5}\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${smuggled}`;
    const { responses } = await sendAndAwaitClose(port, request);
    expect(responses.map((r) => r.status)).toEqual([400]);
    expect(seen.requests).toEqual([]);
  });
});

describe('accepted spellings', () => {
  test.each([
    ['chunked in mixed case', 'ChUnKeD'],
    ['chunked with surrounding whitespace', ' \tchunked\t '],
  ])('%s', async (_name, coding) => {
    const client = await RawClient.connect(port);
    client.write(`POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: ${coding}\r\n\r\n3\r\nabc\r\n0\r\n\r\n`);
    const [response] = await client.responses(1);
    expect(response.body.toString()).toBe('body 3');
    client.destroy();
  });

  test('identical duplicate Content-Length values stand for one', async () => {
    const client = await RawClient.connect(port);
    client.write('POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3, 3\r\nContent-Length: 3\r\n\r\nabc');
    const [response] = await client.responses(1);
    expect(response.body.toString()).toBe('body 3');
    client.destroy();
  });
});

describe('chunked bodies refused after the head was accepted', () => {
  const post = 'POST /up HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n';

  test.each<[string, string]>([
    ['a non-hex chunk size', 'xyz\r\nabc\r\n0\r\n\r\n'],
    ['a negative chunk size', '-5\r\nhello\r\n0\r\n\r\n'],
    ['a 0x-prefixed chunk size', '0x5\r\nhello\r\n0\r\n\r\n'],
    ['whitespace after the chunk size', '5 \r\nhello\r\n0\r\n\r\n'],
    ['whitespace before the chunk size', ' 5\r\nhello\r\n0\r\n\r\n'],
    ['an empty chunk size line', '\r\nhello\r\n0\r\n\r\n'],
    ['a chunk size that overflows (16 hex digits)', '1000000000000000\r\nx\r\n0\r\n\r\n'],
    ['a chunk size of 2^64 - 1', 'ffffffffffffffff\r\nx\r\n0\r\n\r\n'],
    ['a control character in a chunk extension', '3;a\x01b\r\nabc\r\n0\r\n\r\n'],
    ['a bare ; after the chunk size', '3;\r\nabc\r\n0\r\n\r\n'],
    ['a chunk extension value left empty', '3;a=\r\nabc\r\n0\r\n\r\n'],
    ['an unbalanced quote in a chunk extension', '3;a="b\r\nabc\r\n0\r\n\r\n'],
    ['chunk data longer than its size (no CRLF after it)', '5\r\nhelloXX\r\n0\r\n\r\n'],
    ['chunk data followed by a bare LF', '5\r\nhello\n0\r\n\r\n'],
    ['a chunk size line ended by a bare LF', '5\nhello\r\n0\r\n\r\n'],
    ['a chunk size line ended by a bare CR', '5\rhello\r\n0\r\n\r\n'],
    ['an invalid trailer field name', '0\r\nBad Name: v\r\n\r\n'],
    ['a bare LF inside the trailers', '0\r\nX: a\nY: b\r\n\r\n'],
  ])('%s: 400, close, and the body reader rejects', async (_name, body) => {
    await expectRefused(post + body, 400, ['POST /up']);
    expect(seen.bodyErrors).toHaveLength(1);
    expect(seen.bodyErrors[0]).toBeInstanceOf(RequestAbortedError);
    expect((seen.bodyErrors[0] as RequestAbortedError).reason).toBe(AbortReason.BadBody);
  });

  test('chunk extensions past 16 KiB on one chunk line: 413, close, and the body reader rejects', async () => {
    await expectRefused(`${post}1;${'a'.repeat(16384)}\r\nx\r\n0\r\n\r\n`, 413, ['POST /up']);
    expect(seen.bodyErrors).toHaveLength(1);
  });

  test('an unbalanced quote is refused as soon as its line ends, with the rest of the body not yet sent', async () => {
    const client = await RawClient.connect(port);
    client.write(`${post}5;name="open\r\n`);
    const [response] = await client.closedByServer(1000);
    expect(response.status).toBe(400);
  });

  test('chunk extensions just under 16 KiB, quoted values included, are accepted', async () => {
    const client = await RawClient.connect(port);
    client.write(`${post}1;${'a'.repeat(16000)}="q\\"uoted; ok"\r\nx\r\n0\r\n\r\n`);
    const [response] = await client.responses(1);
    expect(response.body.toString()).toBe('body 1');
    client.destroy();
  });
});
