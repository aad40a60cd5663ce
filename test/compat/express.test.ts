// An unmodified Express 5 app, served by node:http and by Pyre side by side: every scripted
// request must get the same status, headers (less Date) and body bytes from both.
import * as os from 'node:os';
import * as path from 'node:path';
import { buildExpressApp, writeStaticFiles } from './express-app';
import { expectSame, type Pair, startPair } from './differential';

const staticDir = path.join(os.tmpdir(), `pyre-compat-static-${process.pid}`);
let pair: Pair;

// Express logs the errors it turns into 4xx/5xx pages; the tests check those pages instead.
const logged = jest.spyOn(console, 'error').mockImplementation(() => undefined);

beforeAll(async () => {
  writeStaticFiles(staticDir);
  pair = await startPair(() => buildExpressApp(staticDir));
});
afterAll(() => pair.close());

function multipart(boundary: string, parts: { name: string; filename?: string; type?: string; content: string }[]): string {
  let body = '';
  for (const part of parts) {
    body += `--${boundary}\r\nContent-Disposition: form-data; name="${part.name}"${part.filename ? `; filename="${part.filename}"` : ''}\r\n`;
    if (part.type) body += `Content-Type: ${part.type}\r\n`;
    body += `\r\n${part.content}\r\n`;
  }
  return `${body}--${boundary}--\r\n`;
}

describe('Express 5 on Pyre answers as on node:http', () => {
  test('plain send, keep-alive and close', async () => {
    const reply = await expectSame(pair, { path: '/hello' });
    expect(reply.body.toString()).toBe('Hello, world!');
    await expectSame(pair, { path: '/hello', headers: { connection: 'keep-alive' } });
  });

  test('HEAD of a route', async () => {
    const reply = await expectSame(pair, { method: 'HEAD', path: '/hello' });
    expect(reply.body.length).toBe(0);
  });

  test('json with query, ip and protocol', async () => {
    const reply = await expectSame(pair, { path: '/json?a=1&b=two' });
    expect(JSON.parse(reply.body.toString())).toMatchObject({ query: { a: '1', b: 'two' }, ip: '127.0.0.1', protocol: 'http' });
  });

  test('express.json body', async () => {
    const reply = await expectSame(pair, { method: 'POST', path: '/json', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'pyre', list: [1, 2, 3] }) });
    expect(reply.status).toBe(201);
  });

  test('express.json rejects malformed JSON the same way', async () => {
    const reply = await expectSame(pair, { method: 'POST', path: '/json', headers: { 'content-type': 'application/json' }, body: '{"broken":' });
    expect(reply.status).toBe(400);
  });

  test('express.urlencoded body', async () => {
    await expectSame(pair, { method: 'POST', path: '/form', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=1&b=hello%20world&a=2' });
  });

  test('a chunked request body', async () => {
    const reply = await expectSame(pair, { method: 'POST', path: '/raw', headers: { 'content-type': 'application/octet-stream', 'transfer-encoding': 'chunked' }, body: Buffer.alloc(100_000, 7) });
    expect(reply.body.length).toBe(100_005);
  });

  test('cookie-parser and res.cookie', async () => {
    const reply = await expectSame(pair, { path: '/cookies', headers: { cookie: 'a=1; b=two; signed=s%3Avalue.Yb3sOtD4yaZ8ZcDeq0j8GQZ1Ltkcm6%2Fm2rAxAcSPUdk' } });
    expect(reply.headers.filter(([name]) => name === 'set-cookie')).toHaveLength(2);
  });

  test('multer multipart upload', async () => {
    const boundary = 'pyreBoundary123';
    const body = multipart(boundary, [
      { name: 'title', content: 'holiday' },
      { name: 'avatar', filename: 'me.png', type: 'image/png', content: 'PNGDATA' },
      { name: 'docs', filename: 'a.txt', type: 'text/plain', content: 'first doc' },
    ]);
    const reply = await expectSame(pair, { method: 'POST', path: '/upload', headers: { 'content-type': `multipart/form-data; boundary=${boundary}` }, body });
    expect(JSON.parse(reply.body.toString()).files).toHaveLength(2);
  });

  test('compression', async () => {
    const reply = await expectSame(pair, { path: '/compressed', headers: { 'accept-encoding': 'gzip' } });
    expect(reply.headers).toContainEqual(['content-encoding', 'gzip']);
  });

  test('server-sent events', async () => {
    const reply = await expectSame(pair, { path: '/events' });
    expect(reply.body.toString()).toContain('data: tick 3');
  });

  test('res.sendFile and res.download', async () => {
    await expectSame(pair, { path: '/file' });
    await expectSame(pair, { path: '/download' });
  });

  test('redirects', async () => {
    await expectSame(pair, { path: '/redirect' });
    await expectSame(pair, { path: '/redirect-permanent' });
  });

  test('sendStatus, including 204 and 304', async () => {
    for (const code of [200, 204, 304, 404, 418, 500]) await expectSame(pair, { path: `/status/${code}` });
  });

  test('request headers, duplicates and array response headers', async () => {
    await expectSame(pair, { path: '/headers', headers: { 'x-dup': ['one', 'two'], 'X-Custom': 'Value', cookie: 'a=1' } });
  });

  test('piping a file stream into res', async () => {
    const reply = await expectSame(pair, { path: '/stream' });
    expect(reply.body.length).toBe(88_000);
  });

  test('thrown, async and custom errors', async () => {
    expect((await expectSame(pair, { path: '/throw' })).status).toBe(500);
    expect((await expectSame(pair, { path: '/async-throw' })).status).toBe(503);
    expect((await expectSame(pair, { path: '/custom-error' })).status).toBe(418);
    expect((await expectSame(pair, { path: '/nowhere' })).status).toBe(404);
    expect(logged).toHaveBeenCalledWith(expect.objectContaining({ message: 'thrown on purpose' }));
  });

  test('express.static: GET, HEAD, index, ranges, conditional', async () => {
    await expectSame(pair, { path: '/hello.txt' });
    await expectSame(pair, { method: 'HEAD', path: '/hello.txt' });
    await expectSame(pair, { path: '/' });
    expect((await expectSame(pair, { path: '/big.txt', headers: { range: 'bytes=10-99' } })).status).toBe(206);
    expect((await expectSame(pair, { path: '/big.txt', headers: { range: 'bytes=999999-' } })).status).toBe(416);
    const first = await expectSame(pair, { path: '/hello.txt' });
    const etag = first.headers.find(([name]) => name === 'etag')?.[1] ?? '';
    expect((await expectSame(pair, { path: '/hello.txt', headers: { 'if-none-match': etag } })).status).toBe(304);
  });
});
