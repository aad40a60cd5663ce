// Response classes, headers validation, cookies, streams and files.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { App, Blueprint, endpoint, Headers, responses } from '../../src';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pyre-files-'));
const file = path.join(dir, 'report.txt');
fs.writeFileSync(file, '0123456789abcdefghij');

class Kinds extends Blueprint {
  @endpoint('/html')
  html() {
    return new responses.HTMLResponse('<p>hi</p>', { status: 201, headers: { 'x-a': ['1', '2'] } });
  }
  @endpoint('/redirect')
  redirect() {
    return new responses.RedirectResponse('/elsewhere', { status: 301 });
  }
  @endpoint('/iterable')
  iterable() {
    async function* parts() {
      yield 'a';
      yield Buffer.from('b');
      yield new Uint8Array([99]);
    }
    return new responses.StreamResponse(parts(), { headers: { 'content-type': 'text/plain' } });
  }
  @endpoint('/readable')
  readable() {
    return new responses.StreamResponse(Readable.from(['x', 'y', 'z']));
  }
  @endpoint('/file')
  file() {
    return new responses.FileResponse(file);
  }
  @endpoint('/download')
  download() {
    return new responses.FileResponse(file, { download: 'résumé.txt' });
  }
  @endpoint('/missing')
  missing() {
    return new responses.FileResponse(path.join(dir, 'nope.txt'));
  }
  @endpoint('/cookies')
  cookies() {
    return new responses.TextResponse('ok')
      .setCookie('a', '1', { maxAge: 60, path: '/', domain: 'example.com', httpOnly: true, secure: true, sameSite: 'None', partitioned: true, expires: new Date(Date.UTC(2030, 0, 1)) })
      .deleteCookie('old', { path: '/x' });
  }
}

describe('responses', () => {
  const app = new App().addBlueprint(new Kinds());

  test('HTML with status and multi-valued headers; redirect', async () => {
    const html = await app.inject('/html');
    expect([html.statusCode, html.headers['content-type'], html.headers['x-a'], html.body]).toEqual([201, 'text/html; charset=utf-8', ['1', '2'], '<p>hi</p>']);
    const redirect = await app.inject('/redirect');
    expect([redirect.statusCode, redirect.headers.location]).toEqual([301, '/elsewhere']);
    expect(() => new responses.RedirectResponse('/x', { status: 200 })).toThrow(/3xx/);
  });

  test('streams from async iterables and Readables', async () => {
    const iterable = await app.inject('/iterable');
    expect([iterable.headers['transfer-encoding'], iterable.headers['content-type'], iterable.body]).toEqual(['chunked', 'text/plain', 'abc']);
    expect((await app.inject('/readable')).body).toBe('xyz');
  });

  test('files: type, validators, conditional GET, ranges, HEAD, download, 404', async () => {
    const full = await app.inject('/file');
    expect(full.statusCode).toBe(200);
    expect(full.body).toBe('0123456789abcdefghij');
    expect(full.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(full.headers['content-length']).toBe('20');
    expect(full.headers['accept-ranges']).toBe('bytes');
    expect(full.headers['last-modified']).toBe(fs.statSync(file).mtime.toUTCString());
    const etag = full.headers.etag as string;
    expect(etag).toMatch(/^W\/"/);

    expect((await app.inject({ url: '/file', headers: { 'if-none-match': etag } })).statusCode).toBe(304);
    expect((await app.inject({ url: '/file', headers: { 'if-modified-since': full.headers['last-modified'] as string } })).statusCode).toBe(304);

    const range = await app.inject({ url: '/file', headers: { range: 'bytes=2-5' } });
    expect([range.statusCode, range.headers['content-range'], range.body]).toEqual([206, 'bytes 2-5/20', '2345']);
    const suffix = await app.inject({ url: '/file', headers: { range: 'bytes=-3' } });
    expect([suffix.statusCode, suffix.body]).toEqual([206, 'hij']);
    const open = await app.inject({ url: '/file', headers: { range: 'bytes=18-' } });
    expect(open.body).toBe('ij');
    const unsatisfiable = await app.inject({ url: '/file', headers: { range: 'bytes=50-60' } });
    expect([unsatisfiable.statusCode, unsatisfiable.headers['content-range']]).toEqual([416, 'bytes */20']);

    const head = await app.inject({ method: 'HEAD', url: '/file' });
    expect([head.statusCode, head.headers['content-length'], head.body]).toEqual([200, '20', '']);
    const download = await app.inject('/download');
    expect(download.headers['content-disposition']).toBe(`attachment; filename="r_sum_.txt"; filename*=UTF-8''r%C3%A9sum%C3%A9.txt`);
    expect((await app.inject('/missing')).statusCode).toBe(404);
  });

  test('cookies with every attribute, and deletion', async () => {
    const res = await app.inject('/cookies');
    expect(res.headers['set-cookie']).toEqual([
      'a=1; Expires=Tue, 01 Jan 2030 00:00:00 GMT; Max-Age=60; Domain=example.com; Path=/; Secure; HttpOnly; SameSite=None; Partitioned',
      'old=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/x',
    ]);
    const response = new responses.TextResponse('x');
    expect(() => response.setCookie('bad name', 'v')).toThrow(/invalid cookie name/);
    expect(() => response.setCookie('a', 'semi;colon')).toThrow(/invalid value/);
    expect(() => response.setCookie('a', 'v', { path: '/\r\nx' })).toThrow(/invalid path/);
    expect(() => response.setCookie('a', 'v', { sameSite: 'None' })).toThrow(/requires secure/);
    expect(() => response.setCookie('a', 'v', { partitioned: true })).toThrow(/requires secure/);
  });

  test('headers are validated when set, case-insensitive and multi-valued', () => {
    const headers = new Headers({ 'Content-Type': 'text/plain' });
    expect(headers.get('content-type')).toBe('text/plain');
    headers.append('Vary', 'a').append('vary', 'b');
    expect(headers.get('VARY')).toBe('a, b');
    expect(headers.getAll('vary')).toEqual(['a', 'b']);
    expect(() => headers.set('x', 'a\r\nSet-Cookie: evil=1')).toThrow(/Invalid character/);
    expect(() => headers.set('x', 'nul\0')).toThrow(/Invalid character/);
    expect(() => headers.append('bad name', 'v')).toThrow(/valid HTTP token/);
    expect(() => new responses.TextResponse('x', { headers: { 'x-y': 'a\nb' } })).toThrow(/Invalid character/);
    expect(() => new responses.TextResponse('x', { status: 1000 })).toThrow(/invalid response status/);
    expect(headers.delete('vary')).toBe(true);
    expect([...headers]).toEqual([['content-type', 'text/plain']]);
  });
});
