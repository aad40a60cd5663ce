// req.headers, rawHeaders and headersDistinct on Pyre and on node:http side by side, for the same
// raw request bytes: node's merge rules for repeated fields (lists joined with ', ', Cookie with
// '; ', Set-Cookie gathered in an array, other known fields keeping the first), names in any case,
// joinDuplicateHeaders, maxHeadersCount, and the order in which the getters are used.
import * as http from 'node:http';
import * as net from 'node:net';
import { createServer as createPyreServer, type ServerOptions } from '../../compat/server';
import { close, listen, type ServerLike } from './differential';

/** What a handler reports of its request, by path: the getters in the order the path names. */
function report(req: http.IncomingMessage): unknown {
  switch (req.url) {
    case '/headers':
      return { headers: req.headers, raw: req.rawHeaders };
    case '/raw-first':
      return { raw: req.rawHeaders, headers: req.headers };
    case '/distinct-first':
      return { distinct: req.headersDistinct, headers: req.headers, raw: req.rawHeaders };
    case '/assigned':
      req.headers = { assigned: 'yes' };
      return { headers: req.headers, raw: req.rawHeaders };
    case '/twice':
      return { same: req.headers === req.headers, keys: Object.keys(req.headers) };
    default:
      return { headers: req.headers, trailers: req.trailers };
  }
}

function listener(req: http.IncomingMessage, res: http.ServerResponse): void {
  const body = JSON.stringify(report(req));
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/** Sends `head` (the request's header lines) on its own connection; the reply's body. */
function exchange(port: number, path: string, head: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(`GET ${path} HTTP/1.1\r\n${head}Connection: close\r\n\r\n`));
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => { text += chunk; });
    socket.on('error', reject);
    socket.on('close', () => resolve(text.slice(text.indexOf('\r\n\r\n') + 4)));
  });
}

type Create = (listener: http.RequestListener) => ServerLike;

async function both<T>(options: ServerOptions, maxHeadersCount: number | null, run: (ports: [number, number]) => Promise<T>): Promise<T> {
  const creators: Create[] = [(l) => http.createServer(options, l), (l) => createPyreServer(options, l)];
  const servers = creators.map((create) => {
    const server = create(listener);
    if (maxHeadersCount !== null) (server as unknown as { maxHeadersCount: number }).maxHeadersCount = maxHeadersCount;
    return server;
  });
  try {
    const [node, pyre] = await Promise.all(servers.map(listen));
    return await run([node, pyre]);
  } finally {
    await Promise.all(servers.map(close));
  }
}

const REPEATED = [
  'Host: example.test',
  'Set-Cookie: a=1', 'SET-COOKIE: b=2', 'set-cookie: c=3',
  'Cookie: x=1', 'cookie: y=2', 'COOKIE: z=3',
  'Content-Type: text/plain', 'content-type: text/html',
  'Content-type: application/json',
  'X-Custom: one', 'x-custom: two', 'X-CUSTOM: three',
  'Accept: text/html', 'ACCEPT: */*',
  'Authorization: Basic a', 'authorization: Basic b',
  'User-Agent: first', 'User-agent: second',
  'X-Forwarded-For: 10.0.0.1', 'x-forwarded-for: 10.0.0.2',
  'Cache-Control: no-cache', 'cache-control: max-age=0',
  'Date: Thu, 01 Jan 1970 00:00:00 GMT', 'date: again',
  'If-Match: "a"', 'IF-MATCH: "b"',
  'Max-Forwards: 1', 'max-forwards: 2',
  'X-Empty:', 'X-Empty: filled',
  'X-Spaces:   padded value \t ',
  'Proxy-Authorization: p1', 'proxy-authorization: p2',
].map((line) => `${line}\r\n`).join('');

const PATHS = ['/headers', '/raw-first', '/distinct-first', '/assigned', '/twice', '/trailers'];

/** What a report holds, less rawHeaders when `withRaw` is false. */
function seen(body: string, withRaw: boolean): unknown {
  const parsed = JSON.parse(body) as Record<string, unknown>;
  if (!withRaw) delete parsed.raw;
  return parsed;
}

async function expectSameEverywhere(options: ServerOptions, maxHeadersCount: number | null, head: string): Promise<void> {
  // With maxHeadersCount node keeps every raw field and merges only the first ones; Pyre's
  // rawHeaders holds those first ones only (see docs/COMPAT.md), so rawHeaders is left out then.
  const withRaw = maxHeadersCount === null;
  await both(options, maxHeadersCount, async ([node, pyre]) => {
    for (const path of PATHS) {
      const [fromNode, fromPyre] = await Promise.all([exchange(node, path, head), exchange(pyre, path, head)]);
      expect({ path, seen: seen(fromPyre, withRaw) }).toEqual({ path, seen: seen(fromNode, withRaw) });
    }
  });
}

describe('request headers as node builds them', () => {
  test('repeated fields of every kind, names in any case', async () => {
    await expectSameEverywhere({}, null, REPEATED);
  });

  test('joinDuplicateHeaders', async () => {
    await expectSameEverywhere({ joinDuplicateHeaders: true }, null, REPEATED);
  });

  test('maxHeadersCount cuts the fields before they are merged', async () => {
    await expectSameEverywhere({}, 5, REPEATED);
    await expectSameEverywhere({ joinDuplicateHeaders: true }, 3, REPEATED);
  });

  test('a single Host field', async () => {
    await expectSameEverywhere({}, null, 'Host: example.test\r\n');
  });
});
