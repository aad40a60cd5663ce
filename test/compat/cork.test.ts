// res.cork()/uncork() and strictContentLength: run side by side on node:http and Pyre.
import type * as http from 'node:http';
import { expectSame, send, startPair, type Pair } from './differential';

let pair: Pair;
const errors: { node: string[]; pyre: string[] } = { node: [], pyre: [] };

beforeAll(async () => {
  let side = 0;
  pair = await startPair(() => {
    const seen = side++ === 0 ? errors.node : errors.pyre;
    return (req: http.IncomingMessage, res: http.ServerResponse) => {
      if (req.url === '/corked') {
        // Writes between cork() and uncork() go out together; the body is the same either way.
        res.setHeader('content-type', 'text/plain');
        res.cork();
        res.write('one ');
        res.write('two ');
        process.nextTick(() => {
          res.uncork();
          res.end('three');
        });
        return;
      }
      if (req.url === '/strict') {
        res.strictContentLength = true;
        res.setHeader('content-length', '10');
        try {
          res.end('short');
        } catch (err) {
          // As on node: the head is stored but the message cannot be finished; cut it.
          seen.push((err as NodeJS.ErrnoException).code ?? String(err));
          res.destroy();
        }
        return;
      }
      res.end('?');
    };
  });
});

afterAll(() => pair.close());

test('cork() and uncork() around writes: the same chunked body as node', async () => {
  const reply = await expectSame(pair, { path: '/corked' });
  expect(reply.body.toString()).toBe('one two three');
});

test('strictContentLength: a body shorter than Content-Length throws node\'s error', async () => {
  const outcome = (port: number) => send(port, { path: '/strict' }).then((r) => `status ${r.status}`, (err: NodeJS.ErrnoException) => err.code);
  const [fromNode, fromPyre] = await Promise.all([outcome(pair.node), outcome(pair.pyre)]);
  expect(fromPyre).toBe(fromNode);
  expect(errors.pyre).toEqual(errors.node);
  expect(errors.node).toEqual(['ERR_HTTP_CONTENT_LENGTH_MISMATCH']);
});
