// writeHead's header fields on Pyre and on node:http side by side: node's validation errors,
// the value forms node accepts, and header sections Pyre remembers from one response to the
// next (compat/response-head.ts) must answer exactly as node does every time.
import type * as http from 'node:http';
import { expectSame, type Pair, send, startPair } from './differential';

type Headers = Parameters<http.ServerResponse['writeHead']>[1];

/** writeHead arguments by path: each request tries one, and reports node's error if one is thrown. */
const CASES: Record<string, () => Headers> = {
  'plain': () => ({ 'Content-Type': 'text/plain', 'Content-Length': 2 }),
  'space-in-name': () => ({ 'Bad Name': 'x' }),
  'empty-name': () => ({ '': 'x' }),
  'non-ascii-name': () => ({ 'X-Naïve': 'x' }),
  'newline-in-value': () => ({ 'X-Value': 'a\r\nInjected: yes' }),
  'nul-in-value': () => ({ 'X-Value': 'a\0b' }),
  'del-in-value': () => ({ 'X-Value': 'a\x7fb' }),
  'wide-char-in-value': () => ({ 'X-Value': 'a\u0100b' }),
  'undefined-value': () => ({ 'X-Value': undefined as unknown as string }),
  'tab-and-latin1-value': () => ({ 'X-Value': 'a\tcaf\u00e9 \u00ff' }),
  'number-values': () => ({ 'X-Int': 42, 'X-Float': 1.5, 'X-Negative': -1 }),
  'list-value': () => ({ 'X-List': ['a', 'b'], 'Set-Cookie': ['c=1', 'd=2'] }),
  'bad-item-in-list': () => ({ 'X-List': ['a', 'b\nc'] }),
  'null-and-boolean-values': () => ({ 'X-Null': null as unknown as string, 'X-Bool': true as unknown as string }),
  'flat-array': () => ['X-One', '1', 'X-Two', '2'],
  'flat-array-bad-name': () => ['X-One', '1', 'Bad Name', '2'],
  'odd-flat-array': () => ['X-One', '1', 'X-Two'],
  'pairs': () => [['X-One', '1'], ['X-Two', '2']] as unknown as Headers,
  'pairs-bad-value': () => [['X-One', '1'], ['X-Two', 'a\rb']] as unknown as Headers,
  'connection-close-field': () => ({ 'Content-Length': 2, Connection: 'close' }),
  'connection-keep-alive-field': () => ({ 'Content-Length': 2, Connection: 'keep-alive' }),
  'no-length': () => ({ 'X-Only': 'yes' }),
};

/** Header sections that differ by value only, for filling the remembered sections. */
function numbered(n: number): Headers {
  return { 'Content-Type': 'text/plain', 'X-Number': String(n), 'Content-Length': 2 };
}

function listener(): http.RequestListener {
  let calls = 0;
  let held: http.ServerResponse | null = null;
  return (req, res) => {
    const [, kind, arg] = (req.url ?? '').split('/');
    try {
      if (kind === 'case') res.writeHead(200, CASES[arg]());
      else if (kind === 'held') {
        res.writeHead(200, { 'X-Held': 'yes', 'Content-Length': 2 });
        if (arg === 'wait') {
          held = res;
          return;
        }
      } else if (kind === 'release') {
        held?.end('ok');
        held = null;
      } else if (kind === 'holding') {
        res.end(held === null ? 'no' : 'yes');
        return;
      }
      else if (kind === 'numbered') res.writeHead(200, numbered(Number(arg)));
      // The same names each time, a value that changes with every call.
      else if (kind === 'counter') res.writeHead(200, { 'X-Count': String(++calls), 'Content-Length': 2 });
      // The stored fields (setHeader) merged with writeHead's.
      else if (kind === 'merged') {
        res.setHeader('X-Set', 'first');
        res.setHeader('X-List', ['a', 'b']);
        res.writeHead(200, { 'X-Given': 'second', 'Content-Length': 2 });
      } else if (kind === 'removed-connection') {
        res.removeHeader('Connection');
        res.writeHead(200, { 'Content-Length': 2 });
      }
    } catch (err) {
      const { code, message } = err as NodeJS.ErrnoException;
      res.writeHead(500, { 'Content-Type': 'text/plain' });
      res.end(`${String(code)}: ${message}`);
      return;
    }
    res.end('ok');
  };
}

let pair: Pair;
beforeAll(async () => {
  pair = await startPair(listener);
});
afterAll(() => pair.close());

describe('writeHead fields answer as on node:http', () => {
  test.each(Object.keys(CASES))('%s, three times over (the later ones from remembered sections)', async (name) => {
    for (let i = 0; i < 3; i++) await expectSame(pair, { path: `/case/${name}` });
    await expectSame(pair, { path: `/case/${name}`, headers: { connection: 'keep-alive' } });
  });

  test('invalid fields throw node\'s own errors', async () => {
    const codes: Record<string, string> = {
      'space-in-name': 'ERR_INVALID_HTTP_TOKEN',
      'empty-name': 'ERR_INVALID_HTTP_TOKEN',
      'non-ascii-name': 'ERR_INVALID_HTTP_TOKEN',
      'flat-array-bad-name': 'ERR_INVALID_HTTP_TOKEN',
      'newline-in-value': 'ERR_INVALID_CHAR',
      'nul-in-value': 'ERR_INVALID_CHAR',
      'del-in-value': 'ERR_INVALID_CHAR',
      'wide-char-in-value': 'ERR_INVALID_CHAR',
      'bad-item-in-list': 'ERR_INVALID_CHAR',
      'pairs-bad-value': 'ERR_INVALID_CHAR',
      'undefined-value': 'ERR_HTTP_INVALID_HEADER_VALUE',
      'odd-flat-array': 'ERR_INVALID_ARG_VALUE',
    };
    for (const [name, code] of Object.entries(codes)) {
      const reply = await expectSame(pair, { path: `/case/${name}` });
      expect(reply.body.toString()).toMatch(new RegExp(`^${code}: `));
    }
  });

  test('a value that changes each time, and setHeader fields merged in', async () => {
    for (let i = 0; i < 3; i++) {
      const reply = await expectSame(pair, { path: '/counter' });
      expect(reply.headers).toContainEqual(['x-count', expect.stringMatching(/^\d+$/)]);
      await expectSame(pair, { path: '/merged', headers: { connection: 'keep-alive' } });
      // (On a connection the client closes, the engine names the close where node leaves it out.)
      await expectSame(pair, { path: '/removed-connection', headers: { connection: 'keep-alive' } });
    }
  });

  test('more sections than are remembered, in turn, and back to the first', async () => {
    for (let round = 0; round < 2; round++) {
      for (let n = 0; n < 12; n++) {
        const reply = await expectSame(pair, { path: `/numbered/${n}` });
        expect(reply.headers).toContainEqual(['x-number', String(n)]);
      }
    }
    await expectSame(pair, { path: '/case/plain' });
  });

  test('the same fields on a connection that stays open and on one that closes', async () => {
    for (const connection of ['keep-alive', 'close', 'keep-alive', 'close']) {
      const reply = await send(pair.pyre, { path: '/case/plain', headers: { connection } });
      expect(reply.headers).toContainEqual(['connection', connection]);
      await expectSame(pair, { path: '/case/plain', headers: { connection } });
    }
  });

  test('a remembered section forgotten while its response is still open', async () => {
    await expectSame(pair, { path: '/held/now' });
    await expectSame(pair, { path: '/held/now' });
    const waiting = send(pair.pyre, { path: '/held/wait' });
    // Once the handler holds the response, twelve other sections push its section out.
    for (let tries = 0; tries < 100 && (await send(pair.pyre, { path: '/holding' })).body.toString() === 'no'; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    for (let n = 100; n < 112; n++) await send(pair.pyre, { path: `/numbered/${n}` });
    await send(pair.pyre, { path: '/release' });
    const reply = await waiting;
    expect(reply.headers).toEqual(expect.arrayContaining([['x-held', 'yes'], ['content-length', '2']]));
    expect(reply.body.toString()).toBe('ok');
  });
});
